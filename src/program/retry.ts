/**
 * The one retry policy of this program, and the grace window for 401 and 403.
 */
import { describe, ProgramError } from './errors';
import { log, warn } from './log';

// How long 401 and 403 answers are taken for a restarting API server (whose authorizer has not
// caught up yet) rather than for missing RBAC: counted from the last answer that was not an error.
let graceMs = 60000;
let lastContact = Date.now();

/** Sets the grace window (WAITER_GRACE_SECONDS, in ms). */
export function setGraceMs(ms: number): void {
  graceMs = ms;
}

/** Notes an answer that shows the API server up and authorizing: the grace window starts again. */
export function contact(now: number = Date.now()): void {
  lastContact = now;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// The one retry policy of this program: 0.5-1.5 s between attempts, 1 s on average, whatever
// failed and however often. It never grows, so a pod sees a restarted API server within about
// 1 s; the jitter spreads hundreds of pods' attempts over that second instead of in step, and
// each pod makes at most about one attempt per second while the server is down.
export function retryDelayMs(): number {
  return 500 + Math.random() * 1000;
}

// Whether an error is worth another attempt: connection errors, 5xx, 429 and anything else the
// server may stop saying, except 401 and 403 once they have lasted past the grace window.
export function retryable(err: ProgramError, now: number = Date.now()): boolean {
  if (err.status === 401 || err.status === 403) return now - lastContact <= graceMs;
  return true;
}

/** Logs the problems of one subject: report() each failed attempt, over() after each good answer. */
export interface ProblemLog {
  report(err: ProgramError): void;
  over(): void;
}

// Logs each distinct problem once (not once per attempt), and once that it is over.
export function problemLog(subject: string): ProblemLog {
  let current = '';
  return {
    report(err) {
      const key = String(err.status || err.code || err.message);
      if (key === current) return;
      current = key;
      const denied = err.status === 401 || err.status === 403;
      const final = ` (an API server that is starting denies requests for a moment; after ${graceMs / 1000} s without a good answer this is final)`;
      warn(`${subject}: ${describe(err)}; retrying about once a second${denied ? final : ''}`);
    },
    over() {
      if (current) log(`${subject}: the API server answers again`);
      current = '';
    },
  };
}
