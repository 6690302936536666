import { Chart, Testing } from 'cdk8s';
import { BenchServiceSpec, handWrittenService } from '../bench/hand-written';
import { benchSpec, buildApps, MAIN_LAYOUTS, synthesize } from '../bench/workload';
import { MigratedService } from '../src';

// The benchmark's ratio only measures the library's own overhead if the hand-written baseline
// builds exactly the same objects, so these tests compare whole manifests, in order.

function synthBoth(spec: BenchServiceSpec, namespace: string | undefined): { lib: any[]; hand: any[] } {
  const libChart = new Chart(Testing.app(), 'chart', { namespace });
  new MigratedService(libChart, spec.name, spec);
  const handChart = new Chart(Testing.app(), 'chart', { namespace });
  handWrittenService(handChart, spec.name, spec);
  return { lib: Testing.synth(libChart), hand: Testing.synth(handChart) };
}

const base = benchSpec(7);
const variants: Array<[string, BenchServiceSpec, string | undefined]> = [
  ['the benchmark service in a namespaced chart', base, 'bench'],
  ['the benchmark service in a chart without namespace', base, undefined],
  ['a service without port, env sources or part-of', {
    name: 'worker', imageTag: 'abc123', image: 'worker', migrationCommand: ['./migrate'],
  }, 'jobs'],
  ['a service with several ConfigMaps and Secrets', {
    ...base, configMapNames: ['a', 'b', 'c'], secretNames: ['s1', 's2'], port: 3000, partOf: undefined,
  }, 'shop'],
];

describe('benchmark baseline', () => {
  test.each(variants)('hand-written %s synthesizes the same manifests as MigratedService', (_title, spec, namespace) => {
    // GIVEN the same inputs for the library and for the hand-written cdk8s-plus code
    // WHEN both charts are synthesized
    const { lib, hand } = synthBoth(spec, namespace);

    // THEN the manifests are equal, object by object and in the same order
    expect(hand.map((o) => o.kind)).toEqual(lib.map((o) => o.kind));
    expect(hand).toEqual(lib);
  });

  test.each(MAIN_LAYOUTS)('the benchmark apps of layout %s synthesize to identical YAML', (layout) => {
    // GIVEN the benchmark workload of three services built both ways
    const libApps = buildApps('lib', layout, 3);
    const handApps = buildApps('hand', layout, 3);

    // WHEN the apps are synthesized as the benchmark does
    const libYaml = synthesize(libApps);
    const handYaml = synthesize(handApps);

    // THEN the YAML is byte for byte the same, and holds every object of every service, and the
    // waiter program once per chart
    expect(handYaml).toEqual(libYaml);
    expect(libYaml.join('').match(/^kind: /gm)).toHaveLength(3 * 12 + (layout === 'one-chart' ? 1 : 3));
    expect(libYaml.join('').match(/^ {2}name: [-a-z0-9]+-migration-waiter$/gm)).toHaveLength(layout === 'one-chart' ? 1 : 3);
  });

  test('the benchmark workload emits the objects of the pattern, the Service, and the ledger with its recorder\'s RBAC', () => {
    // GIVEN one benchmark service
    const { lib } = synthBoth(benchSpec(0), 'bench');

    // WHEN its kinds are listed
    const kinds = lib.map((o) => o.kind).sort();

    // THEN the Job, Deployment (with its init container), the RBAC, the queue's RBAC and the ledger are all there
    expect(kinds).toEqual(['ConfigMap', 'ConfigMap', 'Deployment', 'Job', 'Role', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'RoleBinding', 'Service', 'ServiceAccount', 'ServiceAccount']);
    const deployment = lib.find((o) => o.kind === 'Deployment');
    expect(deployment.spec.template.spec.initContainers).toHaveLength(1);
  });
});
