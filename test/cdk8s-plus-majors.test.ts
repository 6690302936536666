import { Chart, Duration, Testing } from 'cdk8s';
import * as plus28 from 'cdk8s-plus-28';
import * as plus33 from 'cdk8s-plus-33';
import { DatabaseMigration, MigratedService, MigrationTool, ServiceProbe, ServiceStrategy } from '../src';
import { named } from './support/manifests';
import { quietWarnings, SHOP, shopChart } from './support/shop';

// This file is type-checked (npx projen typecheck): an app on cdk8s-plus-33 passes its own values.
describe('an app on cdk8s-plus-33', () => {
  test('passes its env, resources, pull policy, probe options and strategy options, and gets them in the YAML', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    new MigratedService(chart, 'web', {
      imageTag: 'v1.2.3',
      image: 'registry.example.com/shop',
      migrationTool: MigrationTool.prisma(),
      env: { LOG_LEVEL: plus33.EnvValue.fromValue('info') },
      resources: { cpu: { request: plus33.Cpu.millis(250), limit: plus33.Cpu.millis(500) } },
      imagePullPolicy: plus33.ImagePullPolicy.ALWAYS,
      port: 3000,
      readiness: ServiceProbe.fromHttpGet('/ready', { port: 3000, scheme: plus33.ConnectionScheme.HTTP, periodSeconds: Duration.seconds(5) }),
      liveness: ServiceProbe.fromTcpSocket({ port: 3000 }),
      strategy: ServiceStrategy.rollingUpdate({
        maxSurge: plus33.PercentOrAbsolute.absolute(2),
        maxUnavailable: plus33.PercentOrAbsolute.absolute(0),
      }),
    });
    const deployment = named(Testing.synth(chart), 'Deployment', 'web');
    const service = deployment.spec.template.spec.containers[0];
    expect(service.env).toContainEqual({ name: 'LOG_LEVEL', value: 'info' });
    expect(service.resources).toEqual({ limits: { cpu: '500m' }, requests: { cpu: '250m' } });
    expect(service.imagePullPolicy).toBe('Always');
    expect(service.readinessProbe).toMatchObject({ httpGet: { path: '/ready', port: 3000, scheme: 'HTTP' }, periodSeconds: 5 });
    expect(service.livenessProbe).toMatchObject({ tcpSocket: { port: 3000 } });
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 0 } });
  });
});

// Each major's Deployment, as an app on that major builds its workloads.
const MAJORS: Array<[string, (chart: Chart, id: string) => { addContainer(props: { name: string; image: string }): unknown }]> = [
  ['cdk8s-plus-28', (chart, id) => new plus28.Deployment(chart, id, { metadata: { name: `shop-${id}` } })],
  ['cdk8s-plus-33', (chart, id) => new plus33.Deployment(chart, id, { metadata: { name: `shop-${id}` } })],
];

describe.each(MAJORS)('a workload gated on %s', (_major, deployment) => {
  quietWarnings();

  test('may be gated before it has a container: the container added afterwards is gated', () => {
    // GIVEN a migration and a Deployment without a container yet
    const chart = shopChart();
    const migration = new DatabaseMigration(chart, 'db', SHOP);
    const worker = deployment(chart, 'worker');
    // WHEN it is gated first, and given its container afterwards
    migration.gate(worker as any, { shareEnvironment: true });
    worker.addContainer({ name: 'worker', image: migration.releaseImage('registry.example.com/shop') });
    // THEN its pods wait for the migration, run as its own ServiceAccount, and the container shares the environment
    const pod = named(Testing.synth(chart), 'Deployment', 'shop-worker').spec.template.spec;
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['wait-for-db-migration']);
    expect(pod.serviceAccountName).toBe('shop-worker');
    expect(pod.containers.map((c: any) => [c.name, c.envFrom])).toEqual([['worker', [{ secretRef: { name: 'shop-secrets' } }]]]);
  });

  test('with shareEnvironment, each container gets a writable /tmp as the service and the Job have, besides the tool\'s paths', () => {
    // GIVEN a Rails migration and a worker (cdk8s-plus-33's containers have a read-only root filesystem by default)
    const chart = shopChart();
    const migration = new DatabaseMigration(chart, 'db', { ...SHOP, migrationTool: MigrationTool.rails() });
    const worker = deployment(chart, 'worker');
    worker.addContainer({ name: 'worker', image: migration.releaseImage('registry.example.com/shop') });
    // WHEN it is gated with shareEnvironment
    migration.gate(worker as any, { shareEnvironment: true });
    const manifests = Testing.synth(chart);
    const pod = named(manifests, 'Deployment', 'shop-worker').spec.template.spec;
    const container = pod.containers[0];
    // THEN /tmp, Rails' tmp/ and log/ are each an emptyDir of the pod
    expect(container.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(container.volumeMounts).toEqual([
      { name: 'db-writable-0', mountPath: '/tmp' },
      { name: 'db-writable-1', mountPath: '/rails/tmp' },
      { name: 'db-writable-2', mountPath: '/rails/log' },
    ]);
    for (const name of ['db-writable-0', 'db-writable-1', 'db-writable-2']) {
      expect(pod.volumes).toContainEqual({ name, emptyDir: { sizeLimit: '1Gi' } });
    }
    // AND the Job's container has /tmp too: the worker now has what the migration has
    const job = manifests.find((o) => o.kind === 'Job')!.spec.template.spec;
    const migrationContainer = [...(job.initContainers ?? []), ...job.containers].find((c: any) => c.name === 'migrate');
    expect(migrationContainer.volumeMounts.map((m: any) => m.mountPath)).toEqual(expect.arrayContaining(['/tmp', '/rails/tmp', '/rails/log']));
  });

  test('with shareEnvironment, a container that mounts its own /tmp keeps it', () => {
    // GIVEN a worker whose container mounts a volume of its own at /tmp
    const chart = shopChart();
    const migration = new DatabaseMigration(chart, 'db', SHOP);
    const worker = deployment(chart, 'worker') as any;
    const container = worker.addContainer({ name: 'worker', image: migration.releaseImage('registry.example.com/shop') });
    const kplus = worker instanceof plus28.Deployment ? plus28 : plus33;
    container.mount('/tmp', (kplus.Volume as any).fromEmptyDir(chart, 'scratch', 'scratch'));
    // WHEN it is gated with shareEnvironment
    migration.gate(worker, { shareEnvironment: true });
    // THEN its /tmp is its own volume, mounted once
    const mounts = named(Testing.synth(chart), 'Deployment', 'shop-worker').spec.template.spec.containers[0].volumeMounts;
    expect(mounts).toEqual([{ name: 'scratch', mountPath: '/tmp' }]);
  });
});
