/**
 * A process of the library's waiter program, as a pod runs it, with its output and exit for tests.
 */
import { ChildProcess, spawn } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { FakeApiServer, waiterClientEnv } from './fake-api-server';
import { migrationWaiterScript } from '../../src/constructs/waiter-script';

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

/**
 * A fake API server, a scratch folder with the pod's token, and the processes of the program that a
 * test starts, all set up before each test of the calling scope and stopped after it.
 */
export class ProgramHarness {
  public server!: FakeApiServer;
  public dir!: string;
  private processes: ProgramProcess[] = [];

  constructor(private readonly namespace: string, token: string, prefix: string) {
    beforeEach(async () => {
      this.server = await FakeApiServer.start();
      this.dir = mkdtempSync(join(tmpdir(), prefix));
      writeFileSync(join(this.dir, 'token'), `${token}\n`);
    });
    afterEach(async () => {
      for (const p of this.processes) p.child.kill('SIGKILL');
      await Promise.all(this.processes.map((p) => p.exited));
      this.processes = [];
      await this.server.close();
      rmSync(this.dir, { recursive: true, force: true });
    });
  }

  /** Where the program is, as the ConfigMap volume would hold it. */
  public get program(): string {
    return join(this.dir, 'migration-waiter.js');
  }

  /** Runs the embedded program as a pod does, `node <path> <args>`, with the pod's client environment and `env`. */
  public start(args: string[], env: Record<string, string>): ProgramProcess {
    writeFileSync(this.program, migrationWaiterScript());
    const child = spawn(process.execPath, [this.program, ...args], {
      env: { ...waiterClientEnv(this.server.port, join(this.dir, 'token'), this.namespace), ...env },
    });
    const started = new ProgramProcess(child);
    this.processes.push(started);
    return started;
  }
}
