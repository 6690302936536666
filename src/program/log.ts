/**
 * Logging and exit. Every line is `<ISO time> migration-waiter: <text>`; failures and warnings go
 * to stderr. Once the program has decided how to end, nothing more is written.
 */

/** The program's name, at the start of every log line and in its User-Agent. */
export const PROGRAM = 'migration-waiter';

let finishing = false;

/** Whether finish() was called: every loop of the program stops at its next turn. */
export function finished(): boolean {
  return finishing;
}

function stamp(text: string): string {
  return `${new Date().toISOString()} ${PROGRAM}: ${text}\n`;
}

export function log(text: string): void {
  if (!finishing) process.stdout.write(stamp(text));
}

export function warn(text: string): void {
  if (!finishing) process.stderr.write(stamp(text));
}

// Exits once the line is written: a pipe to the container runtime may still hold it, and the last
// line is the one `kubectl logs` readers need. Failures and warnings go to stderr. Returns a promise
// that never settles, so an async caller that awaits it goes no further.
export function finish(code: number, text: string): Promise<never> {
  if (!finishing) {
    finishing = true;
    const stream = code === 0 && !text.startsWith('WARNING') ? process.stdout : process.stderr;
    stream.write(stamp(text), () => process.exit(code));
    setTimeout(() => process.exit(code), 1000);
  }
  return new Promise(() => {});
}
