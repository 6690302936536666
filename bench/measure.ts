/**
 * One benchmark measurement, run by bench/synth.ts in a fresh child process as
 * `node measure.js '<ChildRequest as JSON>'`. It prints one `BENCH_RESULT {...}` line.
 */
import { buildApps, Impl, synthesize } from './workload';

export interface ChildRequest {
  /** `both`: alternate lib and hand runs in this one process (see measureInterleaved). */
  readonly impl: Impl | 'both';
  readonly layout: string;
  readonly n: number;
  /** One run, no warm-up: for the CPU profile, which must show only the measured synthesis. */
  readonly cold?: boolean;
}

export interface ChildResult {
  /** Wall time, build + synthYaml, median over the inner iterations. */
  readonly totalMs: number;
  readonly buildMs: number;
  readonly synthMs: number;
  /** CPU time (user + system, all threads) of build + synthYaml, median over the inner iterations. */
  readonly cpuMs: number;
  readonly iterations: number;
  /** process.resourceUsage().maxRSS: the child's peak RSS over warm-up and measured runs. */
  readonly peakRssMb: number;
  /** RSS once the modules are loaded, before anything is built. */
  readonly baseRssMb: number;
  readonly yamlBytes: number;
  readonly objects: number;
}

export interface InterleavedResult {
  readonly libMs: number;
  readonly handMs: number;
  readonly pairs: number;
}

export const RESULT_MARKER = 'BENCH_RESULT ';

// Until V8 has optimized the hot paths, a one-service synthesis is dominated by compilation; both
// implementations are warmed for at least this long so that the ratio compares steady-state code.
const MIN_WARMUP_MS = 500;
// Short runs are repeated until they add up to this, so that timer resolution does not decide the
// figures at N=1.
const MIN_MEASURED_MS = 300;
// Timed time, both sides together, of an interleaved measurement.
const MIN_INTERLEAVED_MS = 2000;
const MAX_ITERATIONS = 100;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

interface Run {
  buildMs: number;
  synthMs: number;
  cpuMs: number;
  yaml: string[];
}

function runOnce(impl: Impl, layout: string, n: number): Run {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const apps = buildApps(impl, layout, n);
  const t1 = performance.now();
  const yaml = synthesize(apps);
  const t2 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  return { buildMs: t1 - t0, synthMs: t2 - t1, cpuMs: (cpu.user + cpu.system) / 1000, yaml };
}

export function measure(req: ChildRequest & { impl: Impl }): ChildResult {
  const baseRss = process.memoryUsage().rss;
  if (!req.cold) {
    // Capped at 100 services: the warm-up never exceeds the measured workload, so it cannot raise
    // the peak RSS above what the measured run reaches by itself, and the slow layouts stay affordable.
    const warmN = Math.min(req.n, 100);
    let warmed = 0;
    do {
      const r = runOnce(req.impl, req.layout, warmN);
      warmed += r.buildMs + r.synthMs;
    } while (warmed < MIN_WARMUP_MS);
  }
  // No forced GC before the timed runs: a full gc() leaves V8 measurably slower for the runs that
  // follow (N=100 in one process: 500 ms without, 640 ms right after gc()), slower even than a
  // cold process, so it would measure the collector's side effects. The fresh child per
  // measurement is what keeps one measurement's garbage out of another's.
  const runs: Run[] = [];
  let spent = 0;
  do {
    const r = runOnce(req.impl, req.layout, req.n);
    runs.push(r);
    spent += r.buildMs + r.synthMs;
  } while (!req.cold && spent < MIN_MEASURED_MS && runs.length < MAX_ITERATIONS);
  const yaml = runs[runs.length - 1].yaml;
  return {
    totalMs: median(runs.map((r) => r.buildMs + r.synthMs)),
    buildMs: median(runs.map((r) => r.buildMs)),
    synthMs: median(runs.map((r) => r.synthMs)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
    iterations: runs.length,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    baseRssMb: baseRss / 1024 / 1024,
    yamlBytes: yaml.reduce((sum, y) => sum + y.length, 0),
    objects: yaml.reduce((sum, y) => sum + (y.match(/^kind: /gm)?.length ?? 0), 0),
  };
}

/**
 * Both implementations in one process, run after run. Separate processes of the same workload
 * differ by up to +-30% (JIT and heap-sizing decisions, other load), which swamps a 10% target at
 * small N; run by run in one process, those effects hit both sides alike.
 */
export function measureInterleaved(req: ChildRequest): InterleavedResult {
  const warmN = Math.min(req.n, 100);
  let warmed = 0;
  do {
    warmed += runOnce('lib', req.layout, warmN).synthMs + runOnce('hand', req.layout, warmN).synthMs;
  } while (warmed < 2 * MIN_WARMUP_MS);
  const lib: number[] = [];
  const hand: number[] = [];
  let spent = 0;
  while (lib.length < 3 || (spent < MIN_INTERLEAVED_MS && lib.length < MAX_ITERATIONS)) {
    for (const impl of lib.length % 2 === 0 ? ['lib', 'hand'] as const : ['hand', 'lib'] as const) {
      const r = runOnce(impl, req.layout, req.n);
      (impl === 'lib' ? lib : hand).push(r.buildMs + r.synthMs);
      spent += r.buildMs + r.synthMs;
    }
  }
  return { libMs: median(lib), handMs: median(hand), pairs: lib.length };
}

if (require.main === module) {
  const req: ChildRequest = JSON.parse(process.argv[2]);
  const result = req.impl === 'both' ? measureInterleaved(req) : measure({ ...req, impl: req.impl });
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`);
}
