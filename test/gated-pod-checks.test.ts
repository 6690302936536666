import { ApiObject, Chart, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { DatabaseMigration, MigratedService, MigrationWaiter, MigrationWarnings, ServiceProbe } from '../src';
import { named } from './support/manifests';
import { SHOP } from './support/shop';
import { captureWarnings } from './support/warnings';

let printed: string[];
beforeEach(() => {
  printed = captureWarnings().texts;
});
afterEach(() => {
  jest.restoreAllMocks();
});

function shop() {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  const migration = new DatabaseMigration(chart, 'db', SHOP);
  return { chart, migration };
}

/** A Deployment of one worker container, rolled without losing capacity, so that only the checks under test speak. */
function worker(chart: Chart, container: Partial<kplus.ContainerProps>, props: Partial<kplus.DeploymentProps> = {}): kplus.Deployment {
  const deployment = new kplus.Deployment(chart, 'worker', {
    metadata: { name: 'shop-worker' },
    strategy: kplus.DeploymentStrategy.rollingUpdate({
      maxSurge: kplus.PercentOrAbsolute.absolute(1), maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
    }),
    ...props,
  });
  deployment.addContainer({ name: 'worker', image: 'registry.example.com/shop:v1.2.3', ...container });
  return deployment;
}

const ids = () => printed.map((message) => /^\[WARNING (MS\d+)/.exec(message)?.[1]);

describe('a probe of a gated container on a port it does not declare', () => {
  test.each([
    ['an HTTP readiness probe', { readiness: kplus.Probe.fromHttpGet('/health') }, 'readinessProbe', 'Probe.fromHttpGet(path, { port: 8080 })'],
    ['a TCP liveness probe', { liveness: kplus.Probe.fromTcpSocket() }, 'livenessProbe', 'Probe.fromTcpSocket({ port: 8080 })'],
  ])('%s without a port warns MS106 with the fix', (_case, probe, field, fix) => {
    // GIVEN a worker without a port whose probe names none: cdk8s-plus probes port 80
    const { chart, migration } = shop();
    const deployment = worker(chart, probe);
    migration.gate(deployment);
    // WHEN it is written out
    const manifests = Testing.synth(chart);
    // THEN the probe is on 80 in the YAML, and MS106 says so, naming the workload, container and probe, with the fix
    const pod = named(manifests, 'Deployment', 'shop-worker').spec.template.spec;
    const action = pod.containers[0][field].httpGet ?? pod.containers[0][field].tcpSocket;
    expect(action.port).toBe(80);
    const ms105 = printed.filter((message) => message.includes('MS106'));
    expect(ms105).toEqual([expect.stringMatching(new RegExp(
      `^\\[WARNING MS106 probe-port-not-exposed\\] DatabaseMigration "shop/db": Deployment "shop/worker": container "worker" has a ${field} on port 80, which it does not declare: `
      + 'cdk8s-plus probes port 80 when neither the probe nor the container names a port'))]);
    expect(ms105[0]).toContain(`(cdk8s-plus: ${fix}), or give the container its port (portNumber: 8080)`);
    expect(ms105[0]).toContain('MigrationWarnings.acknowledge(<"shop/worker" or a construct above it>, \'MS106\'');
  });

  test('a probe on 80 beside other ports names the ports the container declares', () => {
    const { chart, migration } = shop();
    migration.gate(worker(chart, { ports: [{ number: 9090 }], readiness: kplus.Probe.fromHttpGet('/health', { port: 80 }) }));
    Testing.synth(chart);
    expect(printed.filter((message) => message.includes('MS106'))).toEqual([expect.stringContaining('on port 80, which it does not declare (it declares 9090)')]);
  });

  test.each([
    ['a probe with its port', { readiness: kplus.Probe.fromHttpGet('/health', { port: 8080 }) }],
    ['a probe that takes the container\'s port', { portNumber: 8080, readiness: kplus.Probe.fromTcpSocket() }],
    ['a container that declares 80', { portNumber: 80, liveness: kplus.Probe.fromHttpGet('/') }],
    ['a command probe', { readiness: kplus.Probe.fromCommand(['true']) }],
  ])('%s is not warned about', (_case, container) => {
    const { chart, migration } = shop();
    migration.gate(worker(chart, container));
    Testing.synth(chart);
    expect(ids()).not.toContain('MS106');
  });

  test('an L1 object is judged by its JSON alike', () => {
    const { chart, migration } = shop();
    const cron = new ApiObject(chart, 'cron', {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'shop-report' },
      spec: {
        schedule: '0 * * * *',
        jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'report', image: 'registry.example.com/shop:v1.2.3', readinessProbe: { tcpSocket: { port: '80' } } }] } } } },
      },
    });
    migration.gate(cron);
    Testing.synth(chart);
    expect(printed.filter((message) => message.includes('MS106'))).toEqual([expect.stringContaining('CronJob "shop/cron": container "report" has a readinessProbe on port 80')]);
  });

  test('a probe on a port name the container does not declare warns MS106: the kubelet cannot resolve it', () => {
    // GIVEN an L1 Deployment whose probe names the port "http", which its container does not declare
    const { chart, migration } = shop();
    const deployment = new ApiObject(chart, 'api', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'shop-api' },
      spec: {
        progressDeadlineSeconds: migration.progressDeadline.toSeconds(),
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
        selector: { matchLabels: { app: 'api' } },
        template: {
          metadata: { labels: { app: 'api' } },
          spec: {
            containers: [{
              name: 'api',
              image: 'registry.example.com/shop:v1.2.3',
              ports: [{ name: 'metrics', containerPort: 9090 }],
              readinessProbe: { httpGet: { path: '/ready', port: 'http' } },
              livenessProbe: { tcpSocket: { port: 'metrics' } },
            }],
          },
        },
      },
    });
    migration.gate(deployment);
    // WHEN it is written out
    Testing.synth(chart);
    // THEN only the unresolvable name is warned about
    expect(printed.filter((message) => message.includes('MS106'))).toEqual([expect.stringContaining(
      'container "api" has a readinessProbe on the port named "http", which it does not declare (it names metrics): the kubelet cannot resolve it')]);
  });

  test('MigratedService still refuses it for its own Deployment, where it knows the probe named no port', () => {
    expect(() => new MigratedService(new Chart(Testing.app(), 'shop'), 'web', { ...SHOP, readiness: ServiceProbe.fromHttpGet('/ready') }))
      .toThrow(/readiness "ServiceProbe.fromHttpGet\(\\"\/ready\\"\)" is invalid: the probe names no port and the service has none/);
  });
});

describe('requests that no node holds', () => {
  test('Cpu.units(250) on a gated worker warns MS107 and says Cpu.millis(250)', () => {
    // GIVEN a worker whose author meant 250 millicores
    const { chart, migration } = shop();
    migration.gate(worker(chart, { resources: { cpu: { request: kplus.Cpu.units(250), limit: kplus.Cpu.units(250) } } }));
    // WHEN it is written out
    Testing.synth(chart);
    // THEN MS107 names the container, the request, the threshold and the fix
    expect(printed.filter((message) => message.includes('MS107'))).toEqual([
      '[WARNING MS107 request-fits-no-node] DatabaseMigration "shop/db": Deployment "shop/worker": container "worker" requests cpu "250", which is 250 CPUs: '
      + 'more than the 64 CPUs of the largest ordinary node, so the pod would stay Pending (Insufficient cpu). If 250 millicores were meant, write Cpu.millis(250) (cpu: "250m"). '
      + 'If it does not apply, acknowledge it: MigrationWarnings.acknowledge(<"shop/worker" or a construct above it>, \'MS107\', \'<reason>\').',
    ]);
  });

  test('MigratedService: the service and the migration Job both warn, since both would stay Pending', () => {
    // GIVEN a service whose resources ask 500 CPUs and 512 GiB
    const chart = new Chart(Testing.app(), 'shop');
    new MigratedService(chart, 'web', {
      ...SHOP,
      port: 3000,
      resources: {
        cpu: { request: kplus.Cpu.units(500), limit: kplus.Cpu.units(500) },
        memory: { request: Size.gibibytes(512), limit: Size.gibibytes(512) },
      },
    });
    Testing.synth(chart);
    const ms106 = printed.filter((message) => message.includes('MS107'));
    // THEN the Job's warning comes from the migration, the Deployment's from its gate, each with both requests
    expect(ms106).toEqual([
      expect.stringMatching(/DatabaseMigration "shop\/web\/Migration": resources: the migration Job \(web-migration-v1-2-3-[0-9a-f]+\) requests cpu "500", which is 500 CPUs.*Cpu\.millis\(500\)/),
      expect.stringMatching(/the migration Job \(web-migration-v1-2-3-[0-9a-f]+\) requests memory "512Gi", which is 512 GiB.*Size\.mebibytes\(512\) where it says Size\.gibibytes\(512\)/),
      expect.stringMatching(/Deployment "shop\/web\/Deployment": container "service" requests cpu "500"/),
      expect.stringMatching(/Deployment "shop\/web\/Deployment": container "service" requests memory "524288Mi", which is 512 GiB.*Size\.mebibytes\(512\) where it says Size\.gibibytes\(512\)/),
    ]);
    expect(ms106).toHaveLength(4);
  });

  test('the waiter\'s resources are checked too', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const migration = new DatabaseMigration(chart, 'db', {
      ...SHOP, waiter: MigrationWaiter.watch({ resources: { memory: { request: Size.gibibytes(300), limit: Size.gibibytes(300) } } }),
    });
    migration.gate(worker(chart, {}));
    Testing.synth(chart);
    expect(printed.filter((message) => message.includes('MS107'))).toEqual([
      expect.stringContaining('container "wait-for-db-migration" requests memory "300Gi", which is 300 GiB'),
    ]);
  });

  test.each([
    ['the library\'s defaults', {}],
    ['64 CPUs and 256 GiB, the thresholds', { resources: { cpu: { request: kplus.Cpu.units(64), limit: kplus.Cpu.units(64) }, memory: { request: Size.gibibytes(256), limit: Size.gibibytes(256) } } }],
    ['Cpu.millis(250)', { resources: { cpu: { request: kplus.Cpu.millis(250), limit: kplus.Cpu.millis(500) } } }],
  ])('%s are not warned about', (_case, container) => {
    const { chart, migration } = shop();
    migration.gate(worker(chart, container));
    Testing.synth(chart);
    expect(ids()).not.toContain('MS107');
  });

  test('acknowledged on a cluster of large nodes, nothing is printed', () => {
    const { chart, migration } = shop();
    const deployment = worker(chart, { resources: { cpu: { request: kplus.Cpu.units(96), limit: kplus.Cpu.units(96) } } });
    migration.gate(deployment);
    MigrationWarnings.acknowledge(deployment, 'request-fits-no-node', 'the batch pool runs 192-vCPU nodes');
    Testing.synth(chart);
    expect(ids()).not.toContain('MS107');
  });
});

describe('MS015 on a singleton', () => {
  test('a one-replica Recreate Deployment is told to keep Recreate, not to surge', () => {
    // GIVEN a scheduler that must never run twice: one replica, Recreate
    const { chart, migration } = shop();
    migration.gate(worker(chart, {}, { replicas: 1, strategy: kplus.DeploymentStrategy.recreate() }));
    // WHEN it is written out
    Testing.synth(chart);
    // THEN MS015 says the singleton pauses while the migration runs, that Recreate is right, and how to acknowledge
    const ms015 = printed.filter((message) => message.includes('MS015'));
    expect(ms015).toHaveLength(1);
    expect(ms015[0]).toContain('strategy Recreate at 1 replica (a singleton): its pod stops when the rollout starts, and the new one waits for the migration, '
      + 'so the workload does not run at all until the migration has succeeded (a scheduler skips its runs meanwhile), nor while it stays failed. '
      + 'Recreate is right for a workload that must never run twice: keep it.');
    expect(ms015[0]).not.toContain('Set maxUnavailable: 0 with maxSurge');
    expect(ms015[0]).toContain('MigrationWarnings.acknowledge(<"shop/worker" or a construct above it>, \'MS015\'');
  });

  test('Recreate at 3 replicas keeps the usual advice', () => {
    const { chart, migration } = shop();
    migration.gate(worker(chart, {}, { replicas: 3, strategy: kplus.DeploymentStrategy.recreate() }));
    Testing.synth(chart);
    expect(printed.filter((message) => message.includes('MS015'))).toEqual([
      expect.stringContaining('strategy Recreate: every old pod stops while the new ones wait for the migration. Set maxUnavailable: 0 with maxSurge of at least 1'),
    ]);
  });
});
