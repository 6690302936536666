import { Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { DatabaseMigration, DatabaseMigrationProps, Delivery, MigratedService, MigrationTool, MigrationWaiter } from '../src';
import { checkAll, roleAllows } from './support/conformance';
import { container, MINIMAL, named, positionOf } from './support/manifests';
import { programHash } from '../src/constructs/waiter-program';

const SHOP: DatabaseMigrationProps = {
  imageTag: 'v1.2.3',
  image: 'registry.example.com/shop-migration',
  migrationTool: MigrationTool.prisma(),
  secretNames: ['shop-secrets'],
  waiter: MigrationWaiter.watch(),
};

const TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

function synthShop(props: DatabaseMigrationProps = SHOP) {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  const web = new kplus.Deployment(chart, 'web', {
    metadata: { name: 'web' },
    strategy: kplus.DeploymentStrategy.rollingUpdate({ maxUnavailable: kplus.PercentOrAbsolute.absolute(0) }),
    progressDeadline: Duration.minutes(135),
  });
  web.addContainer({ image: 'registry.example.com/shop:v1.2.3' });
  const migration = new DatabaseMigration(chart, 'shop', props);
  migration.gate(web);
  return { migration, manifests: Testing.synth(chart) };
}


const mountsToken = (c: any) => (c.volumeMounts ?? []).some((m: any) => m.mountPath === TOKEN_PATH);

describe('with the watch waiter, the migration records its success in a ledger', () => {
  // GIVEN a migration whose waiter reads the ledger
  const { migration, manifests } = synthShop();
  const job = named(manifests, 'Job', migration.jobName);
  const pod = job.spec.template.spec;

  test('the migration runs first; a recorder runs only after it has succeeded', () => {
    // THEN migrate is an init container (a failure fails the pod before the recorder starts)
    // (after its turn has come: wait-for-turn)
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['wait-for-turn', 'migrate']);
    expect(pod.containers.map((c: any) => c.name)).toEqual(['record-success']);
    const recorder = container(pod, 'record-success');
    expect(recorder.args).toEqual(['record']);
    expect(recorder.env).toEqual(expect.arrayContaining([
      { name: 'MIGRATION_JOB', value: migration.jobName },
      { name: 'MIGRATION_LEDGER', value: 'shop-migration-ledger' },
      { name: 'LEDGER_WAIT_SECONDS', value: '120' },
    ]));
    // AND kubectl logs job/<name> still shows the migration
    expect(job.spec.template.metadata.annotations['kubectl.kubernetes.io/default-container']).toBe('migrate');
  });

  test('only the recorder gets a token; the migration, which runs the application\'s code, does not', () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe('shop-migration-recorder');
    expect(mountsToken(container(pod, 'record-success'))).toBe(true);
    expect(mountsToken(container(pod, 'migrate'))).toBe(false);
  });

  test('the ledger has no data of the construct\'s, so no engine owns the entries the recorder writes', () => {
    const ledger = named(manifests, 'ConfigMap', 'shop-migration-ledger');
    expect(ledger).not.toHaveProperty('data');
    expect(ledger.metadata.annotations ?? {}).toEqual({});
  });

  test('the ledger and the recorder\'s RBAC come before the Job', () => {
    const jobAt = positionOf(manifests, 'Job', migration.jobName);
    for (const [kind, name] of [['ConfigMap', 'shop-migration-ledger'], ['ServiceAccount', 'shop-migration-recorder'],
      ['Role', 'shop-migration-recorder'], ['RoleBinding', 'shop-migration-recorder']]) {
      expect(positionOf(manifests, kind, name)).toBeLessThan(jobAt);
    }
  });

  test('the recorder may read and update the ledger, and nothing else', () => {
    const role = named(manifests, 'Role', 'shop-migration-recorder');
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['shop-migration-ledger'], verbs: ['get', 'update'] }]);
    expect(named(manifests, 'RoleBinding', 'shop-migration-recorder').subjects)
      .toEqual([{ apiGroup: '', kind: 'ServiceAccount', name: 'shop-migration-recorder', namespace: 'shop' }]);
  });

  test('the waiters may read the Job (and watch it) and the ledger, by name, and write nothing', () => {
    const role = named(manifests, 'Role', 'shop-migration-reader');
    for (const verb of ['list', 'watch']) {
      expect(roleAllows(role, { verb, apiGroup: 'batch', resource: 'jobs', name: migration.jobName })).toBe(true);
    }
    expect(roleAllows(role, { verb: 'get', apiGroup: '', resource: 'configmaps', name: 'shop-migration-ledger' })).toBe(true);
    for (const request of [
      { verb: 'update', apiGroup: '', resource: 'configmaps', name: 'shop-migration-ledger' },
      { verb: 'get', apiGroup: '', resource: 'configmaps', name: 'shop-config' },
      { verb: 'list', apiGroup: 'batch', resource: 'jobs', name: '' },
      { verb: 'get', apiGroup: '', resource: 'secrets', name: 'shop-secrets' },
    ]) {
      expect(roleAllows(role, request)).toBe(false);
    }
  });

  test('the gated pod runs the watch waiter, as a numeric non-root user, and everything passes the checks', () => {
    const waiter = container(named(manifests, 'Deployment', 'web').spec.template.spec, 'wait-for-shop-migration');
    expect(waiter.image).toBe('node:24.11.0-alpine3.22');
    expect(waiter.command).toEqual(['node', '/opt/migration-waiter/migration-waiter.js']);
    expect(waiter.args).toEqual(['job']);
    expect(waiter.env).toEqual([
      { name: 'MIGRATION_JOB', value: migration.jobName },
      { name: 'MIGRATION_LEDGER', value: 'shop-migration-ledger' },
      { name: 'MIGRATION_WAITER_SHA256', value: programHash() },
    ]);
    expect(waiter.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(checkAll(manifests.filter((m) => m.metadata.name !== 'web'))).toEqual([]);
  });
});

describe('the ledger under each engine', () => {
  test.each([
    [Delivery.flux(), {}, '120'],
    [Delivery.kubectl(), {}, '120'],
    [Delivery.argoCd(), { 'argocd.argoproj.io/hook': 'PreSync' }, '10'],
    [Delivery.helm(), { 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '-1' }, '10'],
  ])('%#: the recorder\'s account and RBAC are hooks exactly when the Job is one; the ledger never is', (delivery, hook, wait) => {
    // GIVEN the engine
    const { migration, manifests } = synthShop({ ...SHOP, delivery });
    // THEN the recorder's prerequisites carry the Job's hook annotations (a hook engine runs the
    // Job before the release's other objects exist)
    for (const kind of ['ServiceAccount', 'Role', 'RoleBinding']) {
      const annotations = named(manifests, kind, 'shop-migration-recorder').metadata.annotations ?? {};
      expect(annotations).toMatchObject(hook);
      if (Object.keys(hook).length === 0) {
        expect(annotations).toEqual({});
      }
    }
    // AND the ledger is never a hook, so that no hook delete policy wipes the evidence: the chart
    // carries it as an ordinary object where it is applied before the Job runs, and leaves it to the
    // recorder to create (which its Role then allows) where a hook Job runs before any ordinary object
    const hookEngine = Object.keys(hook).length > 0;
    const ledgers = manifests.filter((m) => m.kind === 'ConfigMap' && m.metadata.name === 'shop-migration-ledger');
    expect(ledgers.map((m) => m.metadata.annotations ?? {})).toEqual(hookEngine ? [] : [{}]);
    expect(roleAllows(named(manifests, 'Role', 'shop-migration-recorder'), { verb: 'create', apiGroup: '', resource: 'configmaps', name: '' }))
      .toBe(hookEngine);
    // AND the recorder waits less for a ledger that a hook engine creates only after the Job
    expect(container(named(manifests, 'Job', migration.jobName).spec.template.spec, 'record-success').env)
      .toContainEqual({ name: 'LEDGER_WAIT_SECONDS', value: wait });
  });
});

describe('with a waiter that needs the Job itself', () => {
  test('there is no ledger and no recorder; the Job runs the migration after its turn, the token in the queue alone', () => {
    const { migration, manifests } = synthShop({ ...SHOP, waiter: MigrationWaiter.k8sWaitFor() });
    expect(migration.ledger).toBeUndefined();
    // Only the program that the queue runs, from the Node.js image: no ledger
    expect(manifests.filter((m) => m.kind === 'ConfigMap').map((m) => m.metadata.name)).toEqual(['shop-migration-waiter']);
    const pod = named(manifests, 'Job', migration.jobName).spec.template.spec;
    expect(pod.containers.map((c: any) => c.name)).toEqual(['migrate']);
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['wait-for-turn']);
    // The queue's own account, since there is no recorder's
    expect(pod.serviceAccountName).toBe('shop-migration-queue');
    expect(named(manifests, 'ServiceAccount', 'shop-migration-queue').automountServiceAccountToken).toBe(false);
    expect((pod.containers[0].volumeMounts ?? []).map((m: any) => m.name)).not.toContain('queue-token');
  });

  test('a TTL warning says what it costs the waiters only for such waiters', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const ttl = Duration.minutes(30);
      const durable = new MigratedService(new Chart(Testing.app(), 'a'), 'myapp', { ...MINIMAL, waiter: MigrationWaiter.watch(), ttlAfterFinished: ttl });
      const fragile = new MigratedService(new Chart(Testing.app(), 'b'), 'myapp', { ...MINIMAL, waiter: MigrationWaiter.k8sWaitFor(), ttlAfterFinished: ttl });
      expect(durable.warnings[0]).not.toMatch(/CrashLoopBackOff/);
      expect(fragile.warnings[0]).toMatch(/CrashLoopBackOff/);
    } finally {
      warn.mockRestore();
    }
  });
});
