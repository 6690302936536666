/** The program's settings from its environment (see README.md next to this file). */
import { finish } from './log';

export const env = process.env;

/** The `timeoutSeconds` of each watch, after which it is renewed. */
export const WATCH_SECONDS = Number(env.WAITER_WATCH_SECONDS) || 240;

/** The period of the "still waiting" log lines and of the ledger re-reads. */
export const RECHECK_MS = (Number(env.WAITER_RECHECK_SECONDS) || 30) * 1000;

/**
 * The value of the environment variable `name`; exits 2 when it is unset or empty (the returned
 * empty string is then never used: callers check finished() before going on).
 */
export function required(name: string): string {
  const value = env[name];
  if (!value) void finish(2, `environment variable ${name} is not set (see src/program/README.md)`);
  return value ?? '';
}

/** The whole number >= `min` in the environment variable `name` (`fallback` when unset); exits 2 on anything else. */
export function count(name: string, fallback: number, min: number): number {
  const value = env[name] === undefined || env[name] === '' ? fallback : Number(env[name]);
  if (!Number.isInteger(value) || value < min) void finish(2, `${name} must be a whole number >= ${min}, got ${JSON.stringify(env[name])}`);
  return value;
}
