/**
 * The size of the waiter program in the manifests (deterministic, so one run): its ConfigMap data,
 * and the YAML figures of bench/RESULTS.md ("The waiter program once per namespace"): the benchmark
 * workload in one chart at 1, 100 and 200 services, what each further service adds, the longest
 * string in a pod template, the README's pattern example, and per chart: one gated service and the
 * example app (examples/app, as `IMAGE_TAG=v1.2.3 npx projen synth:example` writes it), each plain
 * (Flux) and under Helm.
 *
 *   npx ts-node --transpile-only --project bench/tsconfig.json bench/program-size.ts [--program <file>]
 *
 * `--program <file>` measures another program text in place of the committed bundle (an earlier
 * version, to compare).
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { App, Chart } from 'cdk8s';
import * as yaml from 'js-yaml';
import { register } from 'tsconfig-paths';
import { buildApps, synthesize } from './workload';
import { Delivery, MigratedService } from '../src';
import * as script from '../src/constructs/waiter-script';
import { PATTERN_EXAMPLE } from '../test/support/manifests';

const at = process.argv.indexOf('--program');
if (at >= 0) {
  const text = readFileSync(process.argv[at + 1], 'utf8');
  // The constructs call the module's export at synthesis time, so replacing it swaps the program.
  (script as { migrationWaiterScript: () => string }).migrationWaiterScript = () => text;
}

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
const lines = (text: string) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

const program = script.migrationWaiterScript();
console.log(`program text (the ConfigMap's data): ${Buffer.byteLength(program)} bytes, ${lines(program)} lines`);

const sizes = new Map<number, number>();
for (const n of [1, 100, 200]) {
  const out = synthesize(buildApps('lib', 'one-chart', n))[0];
  sizes.set(n, Buffer.byteLength(out));
  console.log(`${n} service(s), one chart: ${n === 1 ? kb(Buffer.byteLength(out)) : `${(Buffer.byteLength(out) / 1e6).toFixed(2)} MB`}, ${lines(out)} lines`);
  if (n === 1) {
    const configMap = (yaml.loadAll(out) as any[]).find((o) => o?.kind === 'ConfigMap' && /-migration-waiter$/.test(o.metadata.name));
    const block = out.slice(out.indexOf('migration-waiter.js: |'), out.indexOf('\n---', out.indexOf('migration-waiter.js: |')));
    console.log(`  ConfigMap ${configMap.metadata.name}: data ${Buffer.byteLength(configMap.data['migration-waiter.js'])} bytes, ${kb(Buffer.byteLength(block))} as YAML`);
    let longest = 0;
    const walk = (value: unknown): void => {
      if (typeof value === 'string') longest = Math.max(longest, Buffer.byteLength(value));
      else if (value && typeof value === 'object') Object.values(value).forEach(walk);
    };
    (yaml.loadAll(out) as any[]).forEach((o) => walk(o?.spec?.template ?? o?.spec?.jobTemplate?.spec?.template));
    console.log(`  longest string in a pod template: ${longest} bytes`);
  }
}
console.log(`each additional service (100 -> 200): ${kb((sizes.get(200)! - sizes.get(100)!) / 100)}`);

const app = new App();
new MigratedService(new Chart(app, 'test', { namespace: 'shop' }), 'myapp', PATTERN_EXAMPLE);
const example = app.synthYaml();
console.log(`the README's pattern example (PATTERN_EXAMPLE): ${lines(example)} lines, ${kb(Buffer.byteLength(example))}`);

// Per chart, plain (Flux) and Helm: what a reviewer's GitOps diff holds. The example app imports the
// package by its published name, which resolves to this checkout's src/.
register({ baseUrl: join(__dirname, '..'), paths: { 'cdk8s-migrated-service': ['src'] } });
// (required, not imported: the benchmark's own tsconfig does not map the package name)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { MyAppChart } = require('../examples/app/main');
const programCopies = (text: string) => (yaml.loadAll(text) as any[]).filter((o) => o?.kind === 'ConfigMap' && o.data?.['migration-waiter.js'] !== undefined).length;
for (const [engine, delivery] of [['plain (Flux)', () => Delivery.flux()], ['Helm', () => Delivery.helm()]] as const) {
  const one = new App();
  new MigratedService(new Chart(one, 'myapp', { namespace: 'myapp' }), 'myapp', { ...PATTERN_EXAMPLE, delivery: delivery() });
  const service = one.synthYaml();
  console.log(`one gated service (PATTERN_EXAMPLE), ${engine}: ${lines(service)} lines, ${Buffer.byteLength(service)} bytes, ${programCopies(service)} program copies`);
  const exampleApp = new App();
  new MyAppChart(exampleApp, 'myapp', { imageTag: 'v1.2.3', delivery: delivery() });
  const written = exampleApp.synthYaml();
  console.log(`the example app (examples/app), ${engine}: ${lines(written)} lines, ${Buffer.byteLength(written)} bytes, ${programCopies(written)} program copies`);
}
