/**
 * Synthesis benchmark: MigratedService against the same resources written by hand with
 * cdk8s-plus-28 (bench/hand-written.ts). `npm run bench -- --help` lists the options.
 *
 * Every measurement runs in a fresh child process (bench/measure.ts), so that its peak RSS belongs
 * to that measurement alone and garbage or JIT state left by one run cannot favour the next.
 */
import { spawnSync } from 'child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { cpus, loadavg, tmpdir } from 'os';
import { join } from 'path';
import * as ts from 'typescript';
import { ChildRequest, ChildResult, InterleavedResult, median, RESULT_MARKER } from './measure';
import { buildApps, Impl, MAIN_LAYOUTS, validLayout } from './workload';

interface Options {
  sizes: number[];
  reps: number;
  layouts: string[];
  /** Repetitions for a (layout, N) whose first run took longer than `mediumMs`. */
  mediumReps: number;
  mediumMs: number;
  /** Repetitions for a (layout, N) whose first run took longer than `slowMs`. */
  slowReps: number;
  slowMs: number;
  /** Services in the structure comparison; 0 skips it. */
  structuresSize: number;
  structures: string[];
  structuresReps: number;
  /** Processes that interleave lib and hand runs, for a (layout, N) whose run is under a second. */
  interleavedReps: number;
  /** Charts in the profiled chart-per-service run; 0 skips it. */
  profileSize: number;
}

const DEFAULTS: Options = {
  sizes: [1, 10, 100, 1000],
  reps: 5,
  layouts: MAIN_LAYOUTS,
  mediumReps: 3,
  mediumMs: 10_000,
  slowReps: 1,
  slowMs: 20_000,
  structuresSize: 1000,
  structures: ['one-chart', 'group-100', 'group-10', 'chart-per-service', 'app-per-service'],
  structuresReps: 1,
  interleavedReps: 3,
  profileSize: 300,
};

const HELP = `npm run bench -- [options]
  --sizes 1,10,100,1000   numbers of services N
  --layouts one-chart,chart-per-service
                          also: group-<G> (charts of G services), app-per-service (one App per chart)
  --reps 5                repetitions per (layout, N); each is one lib and one hand run, alternating
  --medium-reps 3         repetitions when the first run takes longer than --medium-ms (10000)
  --slow-reps 1           repetitions when the first run takes longer than --slow-ms (20000)
  --structures-size 1000  N for the structure comparison (library only); 0 skips it
  --structures one-chart,group-100,group-10,chart-per-service,app-per-service
  --structures-reps 1     repetitions of structure rows not already measured above
  --interleaved-reps 3    processes alternating lib and hand runs, per (layout, N) whose run is under 1 s
                          (one process up to --slow-ms, none beyond)
  --profile-size 300      charts in the CPU-profiled chart-per-service run; 0 skips it
  --quick                 sizes 1,10,100, 3 reps, structures and profile at N=100 (about two minutes)`;

const REPO = join(__dirname, '..');

/**
 * Transpiles src/ and bench/ to plain JavaScript once, so that the children run what users run
 * (compiled JavaScript) and neither pay for nor carry the TypeScript compiler: ts-node in every
 * child would add more than a second and tens of MB of RSS to each measurement.
 */
function compileToTemp(): string {
  const out = mkdtempSync(join(tmpdir(), 'cdk8s-bench-'));
  // The construct library and what it shares with the CLIs; the program runs in pods, not here.
  for (const dir of ['src', 'src/constructs', 'src/shared', 'bench']) {
    mkdirSync(join(out, dir), { recursive: true });
    for (const file of readdirSync(join(REPO, dir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))) {
      const js = ts.transpileModule(readFileSync(join(REPO, dir, file), 'utf-8'), {
        fileName: file,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      });
      writeFileSync(join(out, dir, file.replace(/\.ts$/, '.js')), js.outputText);
    }
  }
  // The constructs read the waiter program from waiter/, beside src/, as the published package does.
  mkdirSync(join(out, 'waiter'));
  copyFileSync(join(REPO, 'waiter', 'migration-waiter.js'), join(out, 'waiter', 'migration-waiter.js'));
  return out;
}

function spawnChild<T = ChildResult>(compiled: string, req: ChildRequest, extraNodeArgs: string[] = []): T {
  const out = spawnSync(process.execPath, [...extraNodeArgs, join(compiled, 'bench', 'measure.js'), JSON.stringify(req)], {
    encoding: 'utf-8',
    // The compiled files live outside the repository; NODE_PATH lets them find its node_modules.
    env: { ...process.env, NODE_PATH: join(REPO, 'node_modules') },
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = out.stdout?.split('\n').find((l) => l.startsWith(RESULT_MARKER));
  if (out.status !== 0 || !line) {
    throw new Error(`benchmark child ${JSON.stringify(req)} failed (status ${out.status}):\n${out.stderr}`);
  }
  return JSON.parse(line.slice(RESULT_MARKER.length));
}

interface Cell {
  layout: string;
  n: number;
  lib: ChildResult[];
  hand: ChildResult[];
  interleaved: InterleavedResult[];
}

const fmtMs = (ms: number): string => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const fmtMb = (mb: number): string => mb.toFixed(0);
const med = (runs: ChildResult[], key: 'totalMs' | 'buildMs' | 'synthMs' | 'cpuMs' | 'peakRssMb'): number =>
  median(runs.map((r) => r[key]));

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function measureCell(compiled: string, layout: string, n: number, impls: Impl[], reps: number, opts: Options): Cell {
  const cell: Cell = { layout, n, lib: [], hand: [], interleaved: [] };
  for (let rep = 0; rep < reps; rep++) {
    // Alternate which implementation goes first, so that drift (thermal, other load on the
    // machine) and any order effect fall on both sides equally.
    const order = rep % 2 === 0 ? impls : [...impls].reverse();
    for (const impl of order) {
      const r = spawnChild(compiled, { impl, layout, n });
      cell[impl].push(r);
      process.stderr.write(`  ${layout} N=${n} rep ${rep + 1}/${reps} ${impl}: ${fmtMs(r.totalMs)} ms `
        + `(${r.iterations} iteration${r.iterations > 1 ? 's' : ''}), peak RSS ${fmtMb(r.peakRssMb)} MB\n`);
    }
    if (rep === 0) {
      const first = Math.max(...impls.map((i) => cell[i][0].totalMs));
      reps = first > opts.slowMs ? Math.min(reps, opts.slowReps) : first > opts.mediumMs ? Math.min(reps, opts.mediumReps) : reps;
    }
  }
  const longest = Math.max(...impls.map((i) => med(cell[i], 'totalMs')));
  if (impls.length === 2 && longest < opts.slowMs) {
    // Several processes where that is cheap: each process has its own JIT and heap state.
    for (let i = 0; i < (longest < 1000 ? opts.interleavedReps : 1); i++) {
      const r = spawnChild<InterleavedResult>(compiled, { impl: 'both', layout, n });
      cell.interleaved.push(r);
      process.stderr.write(`  ${layout} N=${n} interleaved ${i + 1}: lib ${fmtMs(r.libMs)} ms, hand ${fmtMs(r.handMs)} ms over ${r.pairs} pairs\n`);
    }
  }
  return cell;
}

const separateRatio = (c: Cell): number => med(c.lib, 'totalMs') / med(c.hand, 'totalMs');
const interleavedRatio = (c: Cell): number | undefined =>
  (c.interleaved.length > 0 ? median(c.interleaved.map((r) => r.libMs / r.handMs)) : undefined);
/** The ratio the verdict uses: the interleaved one where measured, it is the less noisy. */
const bestRatio = (c: Cell): number => interleavedRatio(c) ?? separateRatio(c);

function mainTable(cells: Cell[], opts: Options): string {
  const rows = cells.map((c) => {
    const lib = med(c.lib, 'totalMs');
    const hand = med(c.hand, 'totalMs');
    return [
      c.layout,
      String(c.n),
      `${c.lib.length}${c.lib.length < opts.reps ? '*' : ''}`,
      fmtMs(lib),
      fmtMs(hand),
      fmtMs(med(c.lib, 'buildMs')),
      fmtMs(med(c.hand, 'buildMs')),
      fmtMs(med(c.lib, 'synthMs')),
      fmtMs(lib / c.n),
      fmtMb(med(c.lib, 'peakRssMb')),
      fmtMb(med(c.hand, 'peakRssMb')),
      (lib / hand).toFixed(3),
      (med(c.lib, 'cpuMs') / med(c.hand, 'cpuMs')).toFixed(3),
      interleavedRatio(c)?.toFixed(3) ?? '-',
    ];
  });
  return table(
    ['layout', 'N', 'reps', 'lib ms', 'hand ms', 'lib build', 'hand build', 'lib synth', 'lib ms/svc', 'lib MB', 'hand MB',
      'ratio', 'CPU ratio', 'ratio 1 proc'],
    rows);
}

function verdicts(cells: Cell[]): string[] {
  const lines: string[] = [];
  const lib = (c: Cell): number => med(c.lib, 'totalMs');
  const ratio = bestRatio;
  const find = (layout: string, n: number): Cell | undefined => cells.find((c) => c.layout === layout && c.n === n);
  const status = (ok: boolean): string => (ok ? 'MET   ' : 'MISSED');

  for (const layout of new Set(cells.map((c) => c.layout))) {
    const mine = cells.filter((c) => c.layout === layout);
    lines.push(`${status(mine.every((c) => ratio(c) <= 1.10))} ratio lib/hand <= 1.10 for every N (${layout}): `
      + mine.map((c) => `N=${c.n}: ${ratio(c).toFixed(3)}${c.interleaved.length > 0 ? '' : ' (separate processes)'}`).join(', '));
  }
  const c100 = find('one-chart', 100);
  const c1000 = find('one-chart', 1000);
  if (c100 && c1000) {
    const growth = (lib(c1000) / 1000) / (lib(c100) / 100);
    lines.push(`${status(growth <= 1.15)} time per service in one chart flat from N=100 to N=1000 (at most +15%): `
      + `${fmtMs(lib(c100) / 100)} -> ${fmtMs(lib(c1000) / 1000)} ms/service (x${growth.toFixed(2)})`);
  } else {
    lines.push('n/a    time per service flat from N=100 to N=1000: needs one-chart at both sizes');
  }
  if (c1000) {
    lines.push(`${status(lib(c1000) <= 2_000)} 1000 services in one chart in at most 2 s: ${(lib(c1000) / 1000).toFixed(2)} s `
      + `(${(med(c1000.lib, 'cpuMs') / 1000).toFixed(2)} s of CPU, which other load on the machine disturbs less)`);
  } else {
    lines.push('n/a    1000 services in one chart in at most 2 s: needs one-chart at N=1000');
  }
  // YAML is deterministic: what one more service adds, from the two largest one-chart sizes.
  const sized = cells.filter((c) => c.layout === 'one-chart' && c.lib.length > 0).sort((a, b) => a.n - b.n);
  if (sized.length >= 2) {
    const [small, large] = sized.slice(-2);
    const perService = (large.lib[0].yamlBytes - small.lib[0].yamlBytes) / (large.n - small.n);
    lines.push(`${status(perService <= 25_000)} each additional service adds at most 25 KB of YAML: `
      + `${(perService / 1000).toFixed(1)} KB (N=${small.n} -> N=${large.n}: ${(small.lib[0].yamlBytes / 1e6).toFixed(2)} -> ${(large.lib[0].yamlBytes / 1e6).toFixed(2)} MB)`);
  }
  // Both sides synthesize identical construct trees, so only construction can differ by more than
  // noise: the build-time difference isolates the library's own work (validation, names, hashing).
  for (const c of cells.filter((x) => x.layout === 'one-chart' && x.n >= 100)) {
    const own = med(c.lib, 'buildMs') - med(c.hand, 'buildMs');
    lines.push(`info   library's own work at N=${c.n} (lib build - hand build): ${fmtMs(own)} ms, `
      + `${(1000 * own / c.n).toFixed(0)} us/service, ${(100 * own / med(c.hand, 'totalMs')).toFixed(1)}% of the hand-written total`);
  }
  const p100 = find('chart-per-service', 100);
  const p1000 = find('chart-per-service', 1000);
  if (p100 && p1000) {
    const growth = (lib(p1000) / 1000) / (lib(p100) / 100);
    lines.push(`info   one chart per service: ${fmtMs(lib(p100) / 100)} -> ${fmtMs(lib(p1000) / 1000)} ms/service `
      + `from N=100 to N=1000 (x${growth.toFixed(1)}), in cdk8s itself (the ratio stays ~1); see the profile below`);
  }
  const pMax = cells.filter((c) => c.layout === 'chart-per-service').sort((a, b) => b.n - a.n)[0];
  const oSame = pMax && find('one-chart', pMax.n);
  if (pMax && oSame && pMax.n >= 1000) {
    // Every chart re-walks the whole App, so K charts over N services cost about a*N + c*K*N.
    const perChartPerService = (lib(pMax) - lib(oSame)) / (pMax.n * pMax.n);
    lines.push(`info   at N=${pMax.n}, each chart in the App adds ~${(1000 * perChartPerService).toFixed(0)} us per service of the App `
      + `(${fmtMs(perChartPerService * pMax.n)} ms per chart): T ~ N x ${fmtMs(lib(oSame) / pMax.n)} ms + K charts x N x that`);
  }
  return lines;
}

/**
 * What the manifests hold rather than how fast they are made: the longest string in any pod
 * template (the waiter program inlined would be one), and the program's copies per namespace.
 */
function structureVerdicts(): string[] {
  const lines: string[] = [];
  for (const layout of MAIN_LAYOUTS) {
    const objects = buildApps('lib', layout, 3).flatMap((app) => app.charts.flatMap((chart) => chart.toJson()));
    let longest = 0;
    const scan = (value: unknown): void => {
      if (typeof value === 'string') longest = Math.max(longest, Buffer.byteLength(value));
      else if (value !== null && typeof value === 'object') Object.values(value).forEach(scan);
    };
    objects.forEach((o: any) => scan(o.kind === 'CronJob' ? o.spec?.jobTemplate?.spec?.template : o.spec?.template));
    const programs = objects.filter((o: any) => o.kind === 'ConfigMap' && o.data?.['migration-waiter.js'] !== undefined).length;
    lines.push(`${longest <= 1024 ? 'MET   ' : 'MISSED'} no string of more than 1 KB in any pod template (${layout}, 3 services): longest ${longest} bytes`);
    lines.push(`info   waiter program copies for 3 services in one namespace (${layout}): ${programs} (one per chart)`);
  }
  return lines;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

/**
 * Inclusive time of a few cdk8s functions in a CPU profile, counted once per sample even under
 * recursion, so each figure is the time spent inside that call.
 */
function summarizeProfile(file: string): Array<[string, number]> {
  const profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] } = JSON.parse(readFileSync(file, 'utf-8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) {
    for (const c of n.children ?? []) {
      parentOf.set(c, n.id);
    }
  }
  const app = /cdk8s\/lib\/app\.js$/;
  const watched: Array<[string, RegExp, string]> = [
    ['App.synthYaml', app, 'synthYaml'],
    ['  Chart.toJson -> App._synthChart (once per chart)', app, '_synthChart'],
    ['    resolveDependencies(whole app)', app, 'resolveDependencies'],
    ['    validate(whole app)', app, 'validate'],
    ['    chartToKube (this chart\'s objects, ordered)', app, 'chartToKube'],
    ['    ApiObject.toJson (this chart\'s objects)', /cdk8s\/lib\/api-object\.js$/, 'toJson'],
    ['  Yaml.stringify', /cdk8s\/lib\/yaml\.js$/, 'stringify'],
    ['  App.charts (topological sort of the app)', app, 'get charts'],
  ];
  const totals = new Map<string, number>(watched.map(([label]) => [label, 0]));
  profile.samples.forEach((sample, i) => {
    const seen = new Set<string>();
    for (let n = byId.get(sample); n; n = byId.get(parentOf.get(n.id) ?? -1)) {
      for (const [label, url, fn] of watched) {
        if (!seen.has(label) && n.callFrame.functionName === fn && url.test(n.callFrame.url)) {
          seen.add(label);
          totals.set(label, totals.get(label)! + profile.timeDeltas[i] / 1000);
        }
      }
    }
  });
  return [...totals];
}

function profileChartPerService(compiled: string, n: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'cdk8s-bench-prof-'));
  try {
    const r = spawnChild(compiled, { impl: 'lib', layout: 'chart-per-service', n, cold: true }, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) {
      return 'no CPU profile was written';
    }
    const rows = summarizeProfile(join(dir, file));
    const whole = rows[0][1];
    return [
      `node --cpu-prof, ${n} charts of 1 MigratedService in one App, one cold run: build ${fmtMs(r.buildMs)} ms, `
      + `synthYaml ${fmtMs(r.synthMs)} ms (profiling slows it down)`,
      table(['inclusive time', 'ms', '% of synthYaml'], rows.map(([label, ms]) => [label, fmtMs(ms), `${(100 * ms / whole).toFixed(1)}%`])),
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function structuresTable(compiled: string, cells: Cell[], opts: Options): string {
  const n = opts.structuresSize;
  const describe = (layout: string): string => {
    if (layout === 'one-chart') return '1 chart';
    if (layout === 'chart-per-service') return `${n} charts in 1 App`;
    if (layout === 'app-per-service') return `${n} Apps of 1 chart, synthYaml each`;
    const g = Number(layout.slice('group-'.length));
    return `${Math.ceil(n / g)} charts of ${g} in 1 App`;
  };
  const rows = opts.structures.map((layout) => {
    const known = cells.find((c) => c.layout === layout && c.n === n);
    const runs = known ? known.lib : measureCell(compiled, layout, n, ['lib'], opts.structuresReps, opts).lib;
    const ms = med(runs, 'totalMs');
    return [layout, describe(layout), String(runs.length), fmtMs(ms), fmtMs(ms / n), fmtMb(med(runs, 'peakRssMb')), String(runs[0].objects)];
  });
  return table(['layout', `structure of ${n} MigratedServices`, 'reps', 'ms', 'ms/svc', 'peak MB', 'objects'], rows);
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { ...DEFAULTS };
  const list = (v: string | undefined): string[] => (v ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const int = (flag: string, v: string | undefined, min: number): number => {
    const x = Number(v);
    if (v === undefined || !Number.isInteger(x) || x < min) {
      throw new Error(`${flag} takes a whole number >= ${min}, got ${v}`);
    }
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    switch (flag) {
      case '--sizes': opts.sizes = list(value).map((s) => int(flag, s, 1)); i++; break;
      case '--layouts': opts.layouts = list(value); i++; break;
      case '--reps': opts.reps = int(flag, value, 1); i++; break;
      case '--medium-reps': opts.mediumReps = int(flag, value, 1); i++; break;
      case '--medium-ms': opts.mediumMs = int(flag, value, 0); i++; break;
      case '--slow-reps': opts.slowReps = int(flag, value, 1); i++; break;
      case '--slow-ms': opts.slowMs = int(flag, value, 0); i++; break;
      case '--structures-size': opts.structuresSize = int(flag, value, 0); i++; break;
      case '--structures': opts.structures = list(value); i++; break;
      case '--structures-reps': opts.structuresReps = int(flag, value, 1); i++; break;
      case '--interleaved-reps': opts.interleavedReps = int(flag, value, 1); i++; break;
      case '--profile-size': opts.profileSize = int(flag, value, 0); i++; break;
      case '--quick': Object.assign(opts, { sizes: [1, 10, 100], reps: 3, structuresSize: 100, profileSize: 100 }); break;
      case '--help': console.log(HELP); process.exit(0);
      default: throw new Error(`unknown argument ${flag}; try --help`);
    }
  }
  for (const layout of [...opts.layouts, ...opts.structures]) {
    if (!validLayout(layout)) {
      throw new Error(`unknown layout ${layout}: one-chart, chart-per-service, app-per-service or group-<G>`);
    }
  }
  return opts;
}

function printHeader(argv: string[]): void {
  const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`cdk8s-migrated-service synthesis benchmark: node ${process.version}, ${process.platform}/${process.arch}, `
    + `${cpus().length} CPUs (${cpus()[0]?.model.trim()}), load average ${load()}`);
  console.log(`Command: npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`);
  console.log(`Method: src/ and bench/ are transpiled to JavaScript once; every measurement is a fresh child process
  (node bench/measure.js). The child warms up on min(N, 100) services for at least 500 ms, then times building
  the App(s) plus app.synthYaml() with performance.now(); runs are repeated until they add up to 300 ms (at most 100) and
  the child reports their median. No forced GC: a fresh process per measurement isolates runs, and gc() right
  before a run slows that run down by 25-60%. lib and hand alternate within each repetition, the starting side
  swapping every repetition; tables show medians over repetitions. Separate processes of the same workload vary by
  up to +-30%, so the lib/hand ratio is also measured in processes that alternate lib and hand runs.
  Memory: peak RSS of the child, process.resourceUsage().maxRSS, warm-up included (it is never larger than the
  measured workload). CPU ratio: lib / hand on user+system CPU time, less sensitive to other load on the machine.
Workload per service (bench/workload.ts): Job with JSON patch and the ledger's recorder, Deployment with init
  container, ServiceAccounts, Roles with resourceNames, RoleBindings, the ledger, Service, envFrom a ConfigMap and a Secret; the hand-written baseline
  (bench/hand-written.ts) builds identical manifests (test/bench-baseline.test.ts).
`);
}

function main(argv: string[]): void {
  const opts = parseArgs(argv);
  const started = performance.now();
  printHeader(argv);
  const compiled = compileToTemp();
  try {
    // Loads node, the modules and the file cache once before anything is timed.
    spawnChild(compiled, { impl: 'lib', layout: 'one-chart', n: 10 });
    spawnChild(compiled, { impl: 'hand', layout: 'one-chart', n: 10 });

    const cells: Cell[] = [];
    for (const layout of opts.layouts) {
      for (const n of opts.sizes) {
        cells.push(measureCell(compiled, layout, n, ['lib', 'hand'], opts.reps, opts));
      }
    }
    for (const c of cells) {
      const outputs = new Set([...c.lib, ...c.hand].map((r) => `${r.objects} objects, ${r.yamlBytes} bytes`));
      if (outputs.size !== 1) {
        console.log(`WARNING: ${c.layout} N=${c.n}: lib and hand synthesized different output (${[...outputs].join(' / ')})`);
      }
    }

    console.log('Synthesis time: build + app.synthYaml(), ms, median over reps (* = fewer reps: a run takes longer than');
    console.log(`${opts.mediumMs / 1000} s (up to ${opts.mediumReps} reps) or ${opts.slowMs / 1000} s (${opts.slowReps}). `
      + 'lib = MigratedService; hand = the same objects written with');
    console.log('cdk8s-plus-28; "lib build"/"lib synth" split the lib time; MB = peak RSS of the child; ratio = lib / hand of the');
    console.log('medians; "ratio 1 proc" = median over processes that alternate lib and hand runs (3 processes when a run takes');
    console.log('under 1 s, 1 up to 20 s) of median lib / median hand in that process: the verdicts use it where measured.');
    console.log(mainTable(cells, opts));
    const base = median(cells.flatMap((c) => [...c.lib, ...c.hand]).map((r) => r.baseRssMb));
    console.log(`(RSS of a child with node and the modules loaded, before building anything: ${fmtMb(base)} MB)`);
    console.log('');
    console.log('Targets:');
    for (const l of [...verdicts(cells), ...structureVerdicts()]) {
      console.log(`  ${l}`);
    }

    if (opts.profileSize > 0) {
      console.log('');
      console.log('Where the time goes with one chart per service:');
      console.log(profileChartPerService(compiled, opts.profileSize));
    }
    if (opts.structuresSize > 0) {
      console.log('');
      console.log(`Structuring ${opts.structuresSize} services (library only; every row synthesizes the same objects):`);
      console.log(structuresTable(compiled, cells, opts));
    }
    console.log('');
    console.log(`Load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}. `
      + `Total benchmark time: ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  } finally {
    rmSync(compiled, { recursive: true, force: true });
  }
}

main(process.argv.slice(2));
