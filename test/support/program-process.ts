/**
 * A process of the library's waiter program, as a pod runs it, with its output and exit for tests.
 */
import { ChildProcess } from 'child_process';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls a condition; a guard against hanging, not a timing assertion. */
export async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}

export class ProgramProcess {
  public stdout = '';
  public stderr = '';
  public readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(public readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  public get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  public get lines(): string[] {
    return (this.stdout + this.stderr).split('\n').filter((line) => line);
  }

  public async output(pattern: RegExp): Promise<void> {
    await until(`output matching ${pattern}`, () => pattern.test(this.stdout + this.stderr) || !this.running);
    if (!pattern.test(this.stdout + this.stderr)) throw new Error(`exited without ${pattern}:\n${this.stdout}${this.stderr}`);
  }

  public async exitCode(): Promise<number | null> {
    return (await this.exited).code;
  }
}
