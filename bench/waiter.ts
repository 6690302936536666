/**
 * Waiter benchmark: N processes wait on one migration Job served by the fake API server
 * (test/support/fake-api-server.ts); the harness then marks the Job Complete (or Failed) and
 * measures how long each process takes to exit, and how many API requests each made while waiting.
 *
 * `npm run bench:waiter -- --help` lists the options. Timings are printed, never asserted.
 */
import { ChildProcess, spawn } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { cpus, loadavg, tmpdir } from 'os';
import { join } from 'path';
import { performance } from 'perf_hooks';
import { migrationWaiterScript } from '../src/constructs/waiter-script';
import { FakeApiServer, FULL_ACCESS, waiterClientEnv } from '../test/support/fake-api-server';

const NS = 'bench';
const JOB = 'web-migration-4f2a9c';
const TOKEN = 'bench-token';

/**
 * Keeps the last line process `i` printed (stdout or stderr) in `lastLines`. Its ISO timestamp says
 * when the process decided to exit, whatever the harness's own event loop was doing when the exit was
 * reported (it serves the API for every process).
 */
function keepLastLine(child: ChildProcess, i: number, lastLines: Map<number, string>): void {
  const keep = (chunk: Buffer) => {
    const lines = chunk.toString().trim().split('\n');
    lastLines.set(i, lines[lines.length - 1]);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
}

/** Milliseconds from `t0Epoch` to each process's decision (its last line's timestamp), in order. */
function decidedSince(t0Epoch: number, processes: Iterable<number>, lastLines: Map<number, string>): number[] {
  return [...processes].map((i) => Date.parse((lastLines.get(i) ?? '').split(' ')[0]) - t0Epoch).sort((a, b) => a - b);
}

/**
 * What each implementation runs. Besides the library's waiter, two emulations for comparison:
 * k8s-wait-for polls the Job every WAIT_TIME=2 s with a new kubectl process (so a new connection),
 * and `kubectl wait --for=condition=complete` LISTs then WATCHes, ignoring Failed.
 */
const POLL_EMULATION = `
const https = require('https'); const fs = require('fs'); const e = process.env;
const ca = fs.readFileSync(e.WAITER_CA_FILE);
function poll() {
  const token = fs.readFileSync(e.WAITER_TOKEN_FILE, 'utf8').trim();
  const req = https.request({ host: e.KUBERNETES_SERVICE_HOST, port: e.KUBERNETES_SERVICE_PORT, ca, agent: false,
    path: '/apis/batch/v1/namespaces/' + e.WAITER_NAMESPACE + '/jobs/' + e.MIGRATION_JOB, headers: { Authorization: 'Bearer ' + token } }, (res) => {
    let text = ''; res.on('data', (d) => (text += d));
    res.on('end', () => {
      const job = JSON.parse(text); const s = job.status || {};
      if ((s.succeeded || 0) > 0 && !s.active) { console.log(new Date().toISOString() + ' complete'); process.exit(0); }
      setTimeout(poll, 2000);
    });
  });
  req.on('error', () => setTimeout(poll, 2000)); req.end();
}
poll();
`;

const WATCH_EMULATION = `
const https = require('https'); const fs = require('fs'); const e = process.env;
const ca = fs.readFileSync(e.WAITER_CA_FILE); const token = fs.readFileSync(e.WAITER_TOKEN_FILE, 'utf8').trim();
const base = '/apis/batch/v1/namespaces/' + e.WAITER_NAMESPACE + '/jobs?fieldSelector=metadata.name%3D' + e.MIGRATION_JOB;
const get = (path, onData, onEnd) => https.request({ host: e.KUBERNETES_SERVICE_HOST, port: e.KUBERNETES_SERVICE_PORT, ca, path,
  headers: { Authorization: 'Bearer ' + token } }, (res) => { res.setEncoding('utf8'); res.on('data', onData); res.on('end', onEnd || (() => {})); }).end();
const complete = (job) => ((job && job.status && job.status.conditions) || []).some((c) => c.type === 'Complete' && c.status === 'True');
const done = () => { console.log(new Date().toISOString() + ' complete'); process.exit(0); };
let text = '';
get(base, (d) => (text += d), () => {
  const list = JSON.parse(text);
  if (complete(list.items[0])) done();
  let buffer = '';
  get(base + '&watch=1&resourceVersion=' + list.metadata.resourceVersion, (d) => {
    buffer += d; let nl;
    while ((nl = buffer.indexOf('\\n')) >= 0) { const ev = JSON.parse(buffer.slice(0, nl)); buffer = buffer.slice(nl + 1); if (complete(ev.object)) done(); }
  });
});
`;

interface Impl {
  readonly name: string;
  readonly args: () => string[];
  /** Whether it is waiting: its watch is open, or it has made its first poll. */
  readonly waiting: (server: FakeApiServer, n: number) => boolean;
  readonly exitsOnFailure: boolean;
}

const IMPLS: Impl[] = [
  { name: 'migration-waiter', args: () => ['-e', migrationWaiterScript(), 'job'], waiting: (s, n) => s.openWatches('jobs') >= n, exitsOnFailure: true },
  { name: 'k8s-wait-for (emulated)', args: () => ['-e', POLL_EMULATION], waiting: (s, n) => s.count('get', 'jobs') >= n, exitsOnFailure: false },
  { name: 'kubectl wait (emulated)', args: () => ['-e', WATCH_EMULATION], waiting: (s, n) => s.openWatches('jobs') >= n, exitsOnFailure: false },
];

interface Options {
  sizes: number[];
  /** Rounds per (implementation, N, outcome); their samples are pooled. */
  reps: number;
  idleSeconds: number;
  impls: string[];
  /** How long an implementation that ignores Failed gets before it counts as "waits forever". */
  failureGraceSeconds: number;
  /** Numbers of migration pods queued behind a running one, for the queue rounds. */
  queueSizes: number[];
  /** Numbers of waiting processes for the API-server restart rounds (migration-waiter only). */
  restartSizes: number[];
  restartDownSeconds: number;
  restartForbiddenSeconds: number;
}

interface Round {
  impl: string;
  n: number;
  outcome: 'Complete' | 'Failed';
  /** Processes started, over all rounds pooled here. */
  started: number;
  exited: number;
  /** Milliseconds from setting the condition to each process's exit, as the harness saw it. */
  latencies: number[];
  /** Milliseconds from setting the condition to the timestamp of each process's last log line. */
  decided: number[];
  requestsPerPodPerSecond?: number;
  rssMb?: number;
  startupSeconds: number;
}

const HELP = `npm run bench:waiter -- [options]
  --sizes 1,50,200          numbers of waiting processes N (each uses about 45 MB; 0 to skip)
  --reps 1                  rounds per waiter, N and outcome, pooled (the idle load is measured in the first)
  --idle-seconds 10         how long to count requests while nothing changes
  --impls migration-waiter,k8s-wait-for,kubectl-wait
  --failure-grace-seconds 5 how long a waiter that ignores Failed is given to exit
  --restart-sizes 1,50      N for the API-server restart rounds (migration-waiter only; 0 to skip)
  --restart-down-seconds 8  how long the restarting server refuses connections
  --restart-forbidden-seconds 1  then how long it answers 403 to allowed requests
  --queue-sizes 1,20        N releases' migration pods queued behind one that runs (queue mode; 0 to skip)`;

function parseArgs(argv: string[]): Options {
  const options: Options = {
    sizes: [1, 50, 200],
    reps: 1,
    idleSeconds: 10,
    impls: IMPLS.map((i) => i.name),
    failureGraceSeconds: 5,
    restartSizes: [1, 50],
    queueSizes: [1, 20],
    restartDownSeconds: 8,
    restartForbiddenSeconds: 1,
  };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--sizes': options.sizes = value.split(',').map(Number).filter((n) => n > 0); i++; break;
      case '--reps': options.reps = Number(value); i++; break;
      case '--idle-seconds': options.idleSeconds = Number(value); i++; break;
      case '--impls': options.impls = value.split(',').map((v) => IMPLS.find((impl) => impl.name.startsWith(v))!.name); i++; break;
      case '--failure-grace-seconds': options.failureGraceSeconds = Number(value); i++; break;
      case '--restart-sizes': options.restartSizes = value.split(',').map(Number).filter((n) => n > 0); i++; break;
      case '--restart-down-seconds': options.restartDownSeconds = Number(value); i++; break;
      case '--restart-forbidden-seconds': options.restartForbiddenSeconds = Number(value); i++; break;
      case '--queue-sizes': options.queueSizes = value.split(',').map(Number).filter((n) => n > 0); i++; break;
      default: console.log(HELP); process.exit(argv[i] === '--help' ? 0 : 1);
    }
  }
  return options;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, seconds: number, what: string): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(50);
  }
}

function rssMb(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    kb += match ? Number(match[1]) : 0;
  }
  return kb / 1024 / pids.length;
}

async function runRound(impl: Impl, n: number, outcome: Round['outcome'], options: Options, dir: string, measureIdle: boolean): Promise<Round> {
  const server = await FakeApiServer.start();
  server.tokens.set(TOKEN, FULL_ACCESS);
  server.apply('jobs', NS, { metadata: { name: JOB }, spec: { template: { spec: { containers: [{ name: 'migrate', image: 'app:v2' }] } } }, status: { active: 1 } });
  const exits = new Map<number, number>();
  const closed = new Set<number>();
  const lastLines = new Map<number, string>();
  const children: ChildProcess[] = [];
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const child = spawn(process.execPath, impl.args(), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...waiterClientEnv(server.port, join(dir, 'token'), NS), MIGRATION_JOB: JOB },
    });
    child.on('exit', () => exits.set(i, performance.now()));
    // 'exit' may come before the last output is read; 'close' comes after it.
    child.on('close', () => closed.add(i));
    keepLastLine(child, i, lastLines);
    children.push(child);
  }
  const round: Round = { impl: impl.name, n, outcome, started: n, exited: 0, latencies: [], decided: [], startupSeconds: 0 };
  try {
    await until(() => impl.waiting(server, n), 300, `${n} waiting processes`);
    round.startupSeconds = (performance.now() - started) / 1000;
    if (outcome === 'Complete' && measureIdle) {
      // Let the last starters settle, then count requests over a quiet period.
      await sleep(2000);
      round.rssMb = rssMb(children.map((c) => c.pid!));
      const before = server.count();
      await sleep(options.idleSeconds * 1000);
      round.requestsPerPodPerSecond = (server.count() - before) / n / options.idleSeconds;
    }
    // A random phase: a poller's latency depends on when the change lands between two polls.
    await sleep(Math.random() * 2000);
    const t0 = performance.now();
    const t0Epoch = Date.now();
    if (outcome === 'Complete') server.setJobCondition(NS, JOB, 'Complete');
    else server.setJobCondition(NS, JOB, 'Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    const grace = outcome === 'Failed' && !impl.exitsOnFailure ? options.failureGraceSeconds : 60;
    await until(() => exits.size === n, grace, 'every process to exit').catch(() => undefined);
    await until(() => [...exits.keys()].every((i) => closed.has(i)), 10, 'the output of every exited process').catch(() => undefined);
    round.exited = exits.size;
    round.latencies = [...exits.values()].map((t) => t - t0).sort((a, b) => a - b);
    round.decided = decidedSince(t0Epoch, exits.keys(), lastLines);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((r) => c.on('exit', r))));
    await server.close();
  }
  return round;
}

/**
 * Preloaded into each waiter of a restart round (NODE_OPTIONS=--require): appends the time of every
 * outgoing connection attempt to $BENCH_CONNECT_LOG, since a server that is down cannot count them.
 */
const CONNECT_COUNTER = `
const net = require('net'); const fs = require('fs'); const file = process.env.BENCH_CONNECT_LOG;
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) { fs.appendFileSync(file, Date.now() + '\\n'); return connect.apply(this, args); };
`;

interface RestartRound {
  /** Waiting processes per round. */
  readonly size: number;
  /** Rounds pooled here, and processes over all of them. */
  rounds: number;
  n: number;
  exited: number;
  /** Processes that exited non-zero (a waiter that gave up during the restart). */
  failed: number;
  /** Connection attempts per second of each process while the server refused connections. */
  attemptRates: number[];
  /** Milliseconds from the completion to the timestamp of each process's last log line. */
  decided: number[];
  latencies: number[];
}

/**
 * N waiters watch a running Job; the server restarts (refuses connections, then answers 403 for a
 * moment, then serves with a new resourceVersion history); the Job completes the moment it serves
 * again. Measures how often each waiter tried while the server was down and how long after the
 * completion each one exited.
 */
async function runRestartRound(n: number, options: Options, dir: string): Promise<RestartRound> {
  const server = await FakeApiServer.start();
  server.tokens.set(TOKEN, FULL_ACCESS);
  server.apply('jobs', NS, { metadata: { name: JOB }, spec: { template: { spec: { containers: [{ name: 'migrate', image: 'app:v2' }] } } }, status: { active: 1 } });
  const counter = join(dir, 'count-connects.js');
  writeFileSync(counter, CONNECT_COUNTER);
  const exits = new Map<number, { at: number; code: number | null }>();
  const lastLines = new Map<number, string>();
  const children: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    writeFileSync(join(dir, `connects-${i}`), '');
    const child = spawn(process.execPath, ['-e', migrationWaiterScript(), 'job'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...waiterClientEnv(server.port, join(dir, 'token'), NS),
        MIGRATION_JOB: JOB,
        NODE_OPTIONS: `--require ${counter}`,
        BENCH_CONNECT_LOG: join(dir, `connects-${i}`),
      },
    });
    child.on('exit', (code) => exits.set(i, { at: performance.now(), code }));
    keepLastLine(child, i, lastLines);
    children.push(child);
  }
  const round: RestartRound = { size: n, rounds: 1, n, exited: 0, failed: 0, attemptRates: [], decided: [], latencies: [] };
  try {
    await until(() => server.openWatches('jobs') >= n, 300, `${n} waiting processes`);
    await sleep(1000 + Math.random() * 1000);
    await server.restart({ downMs: options.restartDownSeconds * 1000, forbiddenMs: options.restartForbiddenSeconds * 1000 });
    const t0 = performance.now();
    const t0Epoch = Date.now();
    server.setJobCondition(NS, JOB, 'Complete');
    await until(() => exits.size === n, 60, 'every process to exit').catch(() => undefined);
    await sleep(200);
    round.exited = exits.size;
    round.failed = [...exits.values()].filter((e) => e.code !== 0).length;
    round.latencies = [...exits.values()].map((e) => e.at - t0).sort((a, b) => a - b);
    round.decided = decidedSince(t0Epoch, exits.keys(), lastLines);
    const down = server.restartPhases.find((p) => p.phase === 'down')!.at;
    const up = server.restartPhases.find((p) => p.phase === 'forbidding')!.at;
    round.attemptRates = children.map((_, i) => {
      const times = readFileSync(join(dir, `connects-${i}`), 'utf8').split('\n').filter((l) => l).map(Number);
      return times.filter((t) => t > down && t < up).length / ((up - down) / 1000);
    }).sort((a, b) => a - b);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((r) => c.on('exit', r))));
    await server.close();
  }
  return round;
}

function restartTable(rounds: RestartRound[]): string {
  const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const spread = (r: RestartRound, values: number[]) => (r.exited === r.n && values.every(Number.isFinite)
    ? [ms(quantile(values, 0.5)), ms(quantile(values, 0.95)), ms(values[values.length - 1])]
    : ['-', '-', '-']);
  const header = ['waiter', 'N', 'rounds', 'exited', 'exit != 0', 'attempts/s mean', 'attempts/s max', 'log p50', 'log p95', 'log max', 'exit p50', 'exit p95', 'exit max'];
  const rows = rounds.map((r) => [
    'migration-waiter', String(r.size), String(r.rounds), `${r.exited}/${r.n}`, String(r.failed),
    (r.attemptRates.reduce((a, b) => a + b, 0) / r.attemptRates.length).toFixed(2), r.attemptRates[r.attemptRates.length - 1].toFixed(2),
    ...spread(r, r.decided), ...spread(r, r.latencies),
  ]);
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((cells) => cells[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** One queue round: N migration pods of N later releases queued behind a running migration. */
interface QueueRound {
  readonly n: number;
  /** Requests per queued pod per second while the earlier migration runs. */
  readonly requestsPerPodPerSecond: number;
  /** From the earlier migration's pod ending to the next release's decision (its last log line), and to its exit, ms. */
  readonly decided: number;
  readonly exited: number;
  /** Requests from the earlier pod's end to the next release's exit (its confirming lists, and the others' events). */
  readonly requestsToStart: number;
}

const QUEUE_LABELS = { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/managed-by': 'cdk8s', 'app.kubernetes.io/component': 'migration' };
const QUEUE_SELECTOR = 'app.kubernetes.io/name=web,app.kubernetes.io/managed-by=cdk8s,app.kubernetes.io/component in (migration,post-migration)';

async function runQueueRound(n: number, options: Options, dir: string): Promise<QueueRound> {
  const server = await FakeApiServer.start();
  server.tokens.set(TOKEN, FULL_ACCESS);
  const stamp = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const release = (i: number) => `web-migration-r${String(i).padStart(4, '0')}`;
  for (let i = 0; i <= n; i++) {
    const name = release(i);
    server.apply('jobs', NS, { metadata: { name, creationTimestamp: stamp(600 - i), labels: QUEUE_LABELS }, status: { startTime: stamp(600 - i), active: 1 } });
    server.apply('pods', NS, {
      metadata: { name: `${name}-pod`, labels: { ...QUEUE_LABELS, 'batch.kubernetes.io/job-name': name } },
      spec: { nodeName: 'node-1' },
      status: { phase: i === 0 ? 'Running' : 'Pending' },
    });
  }
  const program = join(dir, 'migration-waiter.js');
  writeFileSync(program, migrationWaiterScript());
  const lastLines = new Map<number, string>();
  const exits = new Map<number, number>();
  const children: ChildProcess[] = [];
  for (let i = 1; i <= n; i++) {
    const child = spawn(process.execPath, [program, 'queue'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...waiterClientEnv(server.port, join(dir, 'token'), NS),
        MIGRATION_JOB: release(i),
        MIGRATION_SELECTOR: QUEUE_SELECTOR,
        POD_NAME: `${release(i)}-pod`,
        QUEUE_TIMEOUT_SECONDS: '3600',
      },
    });
    child.on('exit', () => exits.set(i, performance.now()));
    keepLastLine(child, i, lastLines);
    children.push(child);
  }
  try {
    await until(() => server.openWatches('pods') >= n && [...lastLines.values()].filter((l) => l.includes('waiting for its turn behind')).length >= n, 300, `${n} queued pods`);
    await sleep(1000);
    const before = server.count();
    await sleep(options.idleSeconds * 1000);
    const requestsPerPodPerSecond = (server.count() - before) / n / options.idleSeconds;
    await sleep(Math.random() * 1000);
    const atEnd = server.count();
    const t0 = performance.now();
    const t0Epoch = Date.now();
    // The earlier migration's pod ends; the Job controller then marks the Job Complete.
    server.endPod(NS, `${release(0)}-pod`, 'Succeeded');
    server.setJobCondition(NS, release(0), 'Complete');
    await until(() => exits.has(1), 60, 'the next release to start');
    await until(() => (lastLines.get(1) ?? '').includes('its turn'), 10, 'its last line');
    return {
      n,
      requestsPerPodPerSecond,
      decided: decidedSince(t0Epoch, [1], lastLines)[0],
      exited: exits.get(1)! - t0,
      requestsToStart: server.count() - atEnd,
    };
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((r) => c.on('exit', r))));
    await server.close();
  }
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

function row(r: Round): string[] {
  const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const spread = (values: number[]) => (r.exited === r.started && values.every(Number.isFinite)
    ? [ms(quantile(values, 0.5)), ms(quantile(values, 0.95)), ms(values[values.length - 1])]
    : ['-', '-', '-']);
  return [
    r.impl, String(r.n), r.outcome, `${r.exited}/${r.started}`, ...spread(r.decided), ...spread(r.latencies),
    r.requestsPerPodPerSecond === undefined ? '' : r.requestsPerPodPerSecond.toFixed(3),
    r.rssMb === undefined ? '' : r.rssMb.toFixed(0),
    r.startupSeconds.toFixed(1),
  ];
}

function table(rows: string[][]): string {
  const header = ['waiter', 'N', 'outcome', 'exited', 'log p50', 'log p95', 'log max', 'exit p50', 'exit p95', 'exit max', 'req/pod/s idle', 'RSS MB', 'startup s'];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((cells) => cells[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'waiter-bench-'));
  writeFileSync(join(dir, 'token'), TOKEN);
  console.log(`Node ${process.version}, ${cpus().length} CPUs (${cpus()[0].model}), load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const rows: string[][] = [];
  try {
    for (const n of options.sizes) {
      for (const impl of IMPLS.filter((i) => options.impls.includes(i.name))) {
        for (const outcome of ['Complete', 'Failed'] as const) {
          const round = await runRound(impl, n, outcome, options, dir, true);
          for (let rep = 1; rep < options.reps; rep++) {
            const more = await runRound(impl, n, outcome, options, dir, false);
            round.started += more.started;
            round.exited += more.exited;
            round.latencies = [...round.latencies, ...more.latencies].sort((a, b) => a - b);
            round.decided = [...round.decided, ...more.decided].sort((a, b) => a - b);
          }
          rows.push(row(round));
          console.log(table(rows.slice(-1)).split('\n')[2]);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (rows.length > 0) {
    console.log(`\nLatencies in ms from the harness setting the condition: "log" to the timestamp of each process's last
log line (when it decided to exit), "exit" to its exit as the harness saw it (the harness also serves the API).
"exited" counts the processes that exited (within ${options.failureGraceSeconds} s of Failed for waiters that ignore it).
req/pod/s idle: requests to the fake API server per waiting process per second over ${options.idleSeconds} s with nothing changing.\n`);
    console.log(table(rows));
  }
  if (options.restartSizes.length > 0) {
    const restarts: RestartRound[] = [];
    const restartDir = mkdtempSync(join(tmpdir(), 'waiter-bench-restart-'));
    writeFileSync(join(restartDir, 'token'), TOKEN);
    try {
      for (const n of options.restartSizes) {
        for (let rep = 0; rep < options.reps; rep++) {
          const round = await runRestartRound(n, options, restartDir);
          const pooled = restarts.find((r) => r.size === n);
          if (!pooled) {restarts.push(round);} else {
            pooled.rounds += 1;
            pooled.n += round.n;
            pooled.exited += round.exited;
            pooled.failed += round.failed;
            pooled.attemptRates = [...pooled.attemptRates, ...round.attemptRates].sort((a, b) => a - b);
            pooled.decided = [...pooled.decided, ...round.decided].sort((a, b) => a - b);
            pooled.latencies = [...pooled.latencies, ...round.latencies].sort((a, b) => a - b);
          }
        }
      }
    } finally {
      rmSync(restartDir, { recursive: true, force: true });
    }
    console.log(`\nAPI-server restart: refused for ${options.restartDownSeconds} s, then 403 to allowed requests for ${options.restartForbiddenSeconds} s,
then serving with a new resourceVersion history; the Job completes the moment it serves again. Rounds are pooled.
attempts/s: connection attempts per process per second while connections were refused (mean and max over processes).
Latencies in ms from the completion ("log": the timestamp of the last log line; "exit": the exit as the harness saw it).\n`);
    console.log(restartTable(restarts));
  }
  if (options.queueSizes.length > 0) {
    const queueDir = mkdtempSync(join(tmpdir(), 'waiter-bench-queue-'));
    writeFileSync(join(queueDir, 'token'), TOKEN);
    console.log(`\nQueue: N migration pods of N later releases wait for their turn behind one that runs; its pod then ends
and its Job completes. "start" is from the earlier pod's end to the next release's decision (its last log line) and
to its exit; req/pod/s queued counts requests per queued pod per second over ${options.idleSeconds} s while the earlier one runs;
requests to start counts every request from the earlier pod's end to that exit (all N pods). Rounds: ${options.reps}.\n`);
    const header = ['N', 'rounds', 'req/pod/s queued', 'start log p50', 'start log max', 'start exit p50', 'start exit max', 'requests to start (max)'];
    const queueRows: string[][] = [];
    try {
      for (const n of options.queueSizes) {
        const rounds: QueueRound[] = [];
        for (let rep = 0; rep < options.reps; rep++) rounds.push(await runQueueRound(n, options, queueDir));
        const decided = rounds.map((r) => r.decided).sort((a, b) => a - b);
        const exited = rounds.map((r) => r.exited).sort((a, b) => a - b);
        queueRows.push([String(n), String(rounds.length), Math.max(...rounds.map((r) => r.requestsPerPodPerSecond)).toFixed(3),
          quantile(decided, 0.5).toFixed(1), decided[decided.length - 1].toFixed(1),
          quantile(exited, 0.5).toFixed(1), exited[exited.length - 1].toFixed(1),
          String(Math.max(...rounds.map((r) => r.requestsToStart)))]);
      }
    } finally {
      rmSync(queueDir, { recursive: true, force: true });
    }
    const all = [header, ...queueRows];
    const widths = header.map((_, i) => Math.max(...all.map((cells) => cells[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
    console.log([line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...queueRows.map(line)].join('\n'));
  }
  console.log(`\nload average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
