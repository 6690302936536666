/**
 * Every duration, size and timeout that README.md and docs/*.md state, checked against what the
 * library emits or measures: one table, STATEMENTS, names each statement (the file, the words
 * around the number) and how to compute its truth from the synthesized YAML, the program bundle or
 * the examples. A number that drifts fails here; a statement whose words changed fails too, so that
 * the table follows the docs (docs/development.md, "Numbers in the docs").
 */
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import * as yaml from 'js-yaml';
import { buildApps, synthesize } from '../bench/workload';
import { DatabaseQueue, Delivery, MigratedService } from '../src';
import { MINIMAL } from './support/manifests';
import { MAX_NODE_CPUS, MAX_NODE_MEMORY_GIB } from '../src/constructs/node-capacity';
import { migrationWaiterScript } from '../src/constructs/waiter-script';
import { RECHECK_MS, WATCH_SECONDS } from '../src/program/config';
import { SETTLE_MS } from '../src/program/queue-order';

/* eslint-disable @typescript-eslint/no-explicit-any */

const REPO = path.join(__dirname, '..');
const DOC_FILES = ['README.md', ...fs.readdirSync(path.join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const read = (file: string) => fs.readFileSync(path.join(REPO, file), 'utf8');

/** A default service (one migration, every default) delivered by `delivery`. */
function defaultService(delivery: Delivery): any[] {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  new MigratedService(chart, 'myapp', { ...MINIMAL, delivery });
  return Testing.synth(chart);
}
const flux = defaultService(Delivery.flux());
const helm = defaultService(Delivery.helm());
const of = (manifests: any[], kind: string) => manifests.find((m) => m.kind === kind && !m.metadata.name.includes('post'));

/** The truths the docs speak of, computed once. */
const TRUTH = {
  jobDeadlineSeconds: of(flux, 'Job').spec.activeDeadlineSeconds as number,
  helmJobDeadlineMinutes: of(helm, 'Job').spec.activeDeadlineSeconds / 60,
  progressDeadlineSeconds: of(flux, 'Deployment').spec.progressDeadlineSeconds as number,
  progressDeadlineMinutes: of(flux, 'Deployment').spec.progressDeadlineSeconds / 60,
  fluxExampleTimeoutMinutes: Number(/^(\d+)m$/.exec((yaml.load(read('examples/flux/kustomization.yaml')) as any).spec.timeout)![1]),
  programKB: Math.round(Buffer.byteLength(migrationWaiterScript()) / 1000),
};

/** The default service's pod, its waiter container, and an emptyDir's size by the path it is mounted at. */
const servicePod = of(flux, 'Deployment').spec.template.spec;
const waiter = servicePod.initContainers.find((c: any) => c.name === 'wait-for-myapp-migration');
const emptyDirAt = (container: any, mountPath: string) => {
  const volume = container.volumeMounts.find((m: any) => m.mountPath === mountPath).name;
  return servicePod.volumes.find((v: any) => v.name === volume).emptyDir.sizeLimit as string;
};
/** `1 GiB` for `1024Mi`. */
const gibibytes = (quantity: string) => `${Number(/^(\d+)Mi$/.exec(quantity)![1]) / 1024} GiB`;
/** A default of the in-pod program that only its source states: `count('WAITER_GRACE_SECONDS', 60, 0)`. */
const programDefault = (variable: string) =>
  new RegExp(`count\\('${variable}', (\\d+)`).exec(read('src/program/main.ts'))![1];

/** `2h00m`, as doctor prints a deadline. */
const hoursMinutes = (seconds: number) => `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;

/** A DatabaseQueue's default applyWindow. */
function defaultApplyWindowSeconds(): number {
  return new DatabaseQueue(new Chart(Testing.app(), 'shop'), 'Db').applyWindow.toSeconds();
}

interface Statement {
  readonly file: string;
  /** The words around the number; the first group is the number as written. */
  readonly pattern: RegExp;
  /** What the number must be, as written. */
  readonly truth: () => string;
}

const STATEMENTS: Statement[] = [
  // The three clocks (docs/deadlines.md) and the props that set them
  { file: 'docs/deadlines.md', pattern: /`activeDeadlineSeconds`: [^|]*\| 1 hour \+ 1 hour: (\d+) s \|/, truth: () => `${TRUTH.jobDeadlineSeconds}` },
  { file: 'docs/deadlines.md', pattern: /`queueTimeout` \+ `migrationTimeout` \+ 10 minutes of start-up: (\d+) s/, truth: () => `${TRUTH.progressDeadlineSeconds}` },
  { file: 'docs/props.md', pattern: /\| `progressDeadline` \| `queueTimeout` \+ `migrationTimeout` \+ 10 minutes: (\d+) s/, truth: () => `${TRUTH.progressDeadlineSeconds}` },
  { file: 'docs/deadlines.md', pattern: /yours to set; the examples use `(\d+)m`/, truth: () => `${TRUTH.fluxExampleTimeoutMinutes}` },
  { file: 'docs/deadlines.md', pattern: /The Flux example's `timeout: (\d+)m`/, truth: () => `${TRUTH.fluxExampleTimeoutMinutes}` },
  { file: 'docs/deadlines.md', pattern: /covers the default (\d+) minutes/, truth: () => `${TRUTH.progressDeadlineMinutes}` },
  { file: 'README.md', pattern: /\(progressDeadline, (\d+) minutes by default\)/, truth: () => `${TRUTH.progressDeadlineMinutes}` },
  // Helm: the hook Job's own deadline and the rollout's
  { file: 'docs/helm-charts.md', pattern: /the hook Job's deadline \(`activeDeadlineSeconds`, (\d+) minutes by default\)/, truth: () => `${TRUTH.helmJobDeadlineMinutes}` },
  { file: 'docs/helm-charts.md', pattern: /`progressDeadlineSeconds` \((\d+) minutes by default\)/, truth: () => `${TRUTH.progressDeadlineMinutes}` },
  // doctor's output for a default release (README, "When a migration goes wrong" and "doctor")
  { file: 'README.md', pattern: /activeDeadlineSeconds=(\d+) \|/, truth: () => `${TRUTH.jobDeadlineSeconds}` },
  { file: 'README.md', pattern: /the migration is running for 20m of its (\w+) deadline/, truth: () => hoursMinutes(TRUTH.jobDeadlineSeconds) },
  { file: 'README.md', pattern: /25s of its (\w+) deadline/, truth: () => hoursMinutes(TRUTH.jobDeadlineSeconds) },
  // The recorder's wait for the ledger under Flux and kubectl
  { file: 'docs/design.md', pattern: /the recorder waits up to (\d+) s for it/, truth: () => `${Delivery.flux()._ledgerWaitSeconds()}` },
  // The waiter container (docs/props.md, "The waiter container") and the service's /tmp
  {
    file: 'docs/props.md',
    pattern: /The waiter container\.\*\* It is tiny: (\S+ CPU and \S+ memory)/,
    truth: () => `${waiter.resources.requests.cpu}/${waiter.resources.limits.cpu} CPU and ${waiter.resources.requests.memory}/${waiter.resources.limits.memory} memory`,
  },
  { file: 'docs/props.md', pattern: /with a (\w+) `emptyDir` on `\/tmp`/, truth: () => emptyDirAt(waiter, '/tmp') },
  { file: 'docs/props.md', pattern: /The service's and the Job's `\/tmp` \(([\d.]+ GiB)\)/, truth: () => gibibytes(emptyDirAt(servicePod.containers[0], '/tmp')) },
  // The requests no ordinary node holds (MS107)
  { file: 'README.md', pattern: /requests more than (\d+) CPUs or \d+ GiB of memory/, truth: () => `${MAX_NODE_CPUS}` },
  { file: 'README.md', pattern: /requests more than \d+ CPUs or (\d+) GiB of memory/, truth: () => `${MAX_NODE_MEMORY_GIB}` },
  { file: 'docs/props.md', pattern: /A request above (\d+) CPUs or \d+ GiB fits no ordinary node/, truth: () => `${MAX_NODE_CPUS}` },
  { file: 'docs/props.md', pattern: /A request above \d+ CPUs or (\d+) GiB fits no ordinary node/, truth: () => `${MAX_NODE_MEMORY_GIB}` },
  // The in-pod program's clocks
  { file: 'README.md', pattern: /\| Every (\d+) s: `Job … does not exist \(yet\)/, truth: () => `${RECHECK_MS / 1000}` },
  { file: 'docs/waiters.md', pattern: /Keeps waiting, says so every (\d+) s/, truth: () => `${RECHECK_MS / 1000}` },
  { file: 'docs/waiters.md', pattern: /a watch, renewed every (\d+) s/, truth: () => `${WATCH_SECONDS}` },
  { file: 'README.md', pattern: /`WAITER_GRACE_SECONDS` \((\d+) s,/, truth: () => programDefault('WAITER_GRACE_SECONDS') },
  { file: 'README.md', pattern: /after (\d+) s of 403s/, truth: () => programDefault('WAITER_GRACE_SECONDS') },
  { file: 'README.md', pattern: /\(after (\d+) s of 401s\)/, truth: () => programDefault('WAITER_GRACE_SECONDS') },
  { file: 'docs/waiters.md', pattern: /401\/403 retried for (\d+) s/, truth: () => programDefault('WAITER_GRACE_SECONDS') },
  { file: 'docs/overlapping-releases.md', pattern: /at least (\d+) s after its Job's creation second/, truth: () => `${SETTLE_MS / 1000}` },
  // A queue shared by several services (docs/several-services.md)
  { file: 'docs/several-services.md', pattern: /n × applyWindow` \((\d+) s by default\)/, truth: () => `${defaultApplyWindowSeconds()}` },
  { file: 'docs/several-services.md', pattern: /Billing's Job therefore goes after any api Job created up to (\d+) s after it/, truth: () => `${defaultApplyWindowSeconds()}` },
  { file: 'docs/several-services.md', pattern: /`waiting\s+up to (\d+) s after its Job's creation/, truth: () => `${defaultApplyWindowSeconds()}` },
  { file: 'docs/several-services.md', pattern: /plus the queue's usual (\d+) s\)/, truth: () => `${SETTLE_MS / 1000}` },
  { file: 'docs/props.md', pattern: /\| `applyWindow` \| (\d+) s \|/, truth: () => `${defaultApplyWindowSeconds()}` },
  // The program's size
  { file: 'docs/design.md', pattern: /`waiter\/migration-waiter\.js`, about (\d+) KB, bundled and minified/, truth: () => `${TRUTH.programKB}` },
  { file: 'docs/performance.md', pattern: /the waiter program \(about (\d+) KB, minified\)/, truth: () => `${TRUTH.programKB}` },
  { file: 'docs/performance.md', pattern: /Each service adds ([\d.]+) KB of YAML/, truth: () => perService().kb },
  { file: 'docs/performance.md', pattern: /of YAML \(about (\d+) lines\)/, truth: () => perService().lines },
  { file: 'docs/performance.md', pattern: /no pod template holds a string longer than (\d+) bytes/, truth: () => `${perService().longest}` },
];

let measured: { kb: string; lines: string; longest: number } | undefined;

/** What each further service adds to one chart (100 -> 200 services, as `npx projen bench:program-size`), and the longest pod-template string. */
function perService(): { kb: string; lines: string; longest: number } {
  if (measured === undefined) {
    const [at100, at200] = [100, 200].map((n) => synthesize(buildApps('lib', 'one-chart', n))[0]);
    const lines = (text: string) => text.split('\n').length;
    let longest = 0;
    const walk = (value: unknown): void => {
      if (typeof value === 'string') longest = Math.max(longest, Buffer.byteLength(value));
      else if (value && typeof value === 'object') Object.values(value).forEach(walk);
    };
    (yaml.loadAll(at100) as any[]).forEach((o) => walk(o?.spec?.template ?? o?.spec?.jobTemplate?.spec?.template));
    measured = {
      kb: ((Buffer.byteLength(at200) - Buffer.byteLength(at100)) / 100 / 1000).toFixed(1),
      // "about": to the nearest ten
      lines: `${Math.round((lines(at200) - lines(at100)) / 100 / 10) * 10}`,
      longest,
    };
  }
  return measured;
}

describe.each(STATEMENTS.map((s) => [`${s.file}: ${s.pattern.source}`, s] as const))('%s', (_name, statement) => {
  test('is stated, with the number the library emits or measures', () => {
    // GIVEN the statement in its file
    const match = statement.pattern.exec(read(statement.file));
    // THEN it is there (a reworded statement needs its entry here updated), and its number is true
    expect(match).not.toBeNull();
    expect(match![1]).toBe(statement.truth());
  });
});

describe('engine timeouts and program sizes wherever the docs give one', () => {
  test('every engine timeout the docs show (helm --timeout, Flux timeout) covers the hook Job\'s deadline and the progress deadline', () => {
    // GIVEN every `--timeout <N>m` and `timeout: <N>m` in README and docs
    const stated = DOC_FILES.flatMap((file) => [...read(file).matchAll(/(?:--timeout[ =]|timeout: )(\d+)m\b/g)].map((m) => [file, Number(m[1])] as const));
    expect(stated.length).toBeGreaterThan(0);
    // THEN each is longer than both clocks it must cover
    const short = stated.filter(([, minutes]) => minutes <= Math.max(TRUTH.helmJobDeadlineMinutes, TRUTH.progressDeadlineMinutes));
    expect(short).toEqual([]);
  });

  test('every size the docs give for the waiter program is the bundle\'s', () => {
    // GIVEN every sentence of README and docs that gives the program a size in KB
    const sentences = DOC_FILES.flatMap((file) => read(file).split(/(?<=[.:;])\s/).filter((s) => /program/.test(s)).flatMap((s) =>
      [...s.matchAll(/(?:program[^.]*?\(|about )(\d+) KB/g)].map((m) => [file, Number(m[1])] as const)));
    expect(sentences.length).toBeGreaterThanOrEqual(2);
    // THEN each is the bundle's size, to the kilobyte
    expect(sentences.filter(([, kb]) => kb !== TRUTH.programKB)).toEqual([]);
  });

  test('the table can fail: a stale number is caught', () => {
    const statement = STATEMENTS[1];
    const stale = read(statement.file).replace(`: ${TRUTH.progressDeadlineSeconds} s`, ': 4200 s');
    expect(statement.pattern.exec(stale)![1]).not.toBe(statement.truth());
  });
});
