/**
 * Several services that migrate one database: a DatabaseQueue puts their migrations, pre- and
 * post-deploy, in one queue, in the stated order, under every engine, with the same read-only
 * RBAC; two migrations that read the same Secret or ConfigMap but queue apart are warned about.
 */
import { App, Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { DatabaseMigration, DatabaseMigrationProps, DatabaseQueue, Delivery, MigratedService, MigrationTool, MigrationWarnings } from '../src';
import { container, named } from './support/manifests';

const LABEL = 'cdk8s-migrated-service.dev/database';
const OFFSET = 'cdk8s-migrated-service.dev/queue-offset-seconds';

const props = (name: string, extra: Partial<DatabaseMigrationProps> = {}): DatabaseMigrationProps => ({
  imageTag: 'v1.2.3',
  image: `registry.example.com/${name}-migration`,
  migrationTool: MigrationTool.knex({ migrationsTableName: `${name}_migrations` }),
  secretNames: ['shop-database'],
  ...extra,
});

/** billing created FIRST, then api; the queue states api before billing. */
function twoServices(delivery: (name: string) => Delivery = () => Delivery.flux(), namespace = 'shop') {
  const app = Testing.app();
  const chart = new Chart(app, 'shop', { namespace });
  const billing = new DatabaseMigration(chart, 'billing', props('billing', { delivery: delivery('billing') }));
  const api = new DatabaseMigration(chart, 'api', props('api', { delivery: delivery('api') }));
  return { app, chart, api, billing };
}

const envOf = (c: any) => Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe('DatabaseQueue', () => {
  test('GIVEN api and billing in one queue, api first WHEN synthesized THEN both Jobs and their pods carry the database label, the queue selects by it, and billing counts 30 s later', () => {
    // GIVEN billing created first, then api; the queue states api before billing
    const { chart, api, billing } = twoServices();
    const queue = new DatabaseQueue(chart, 'ShopDatabase', { name: 'shop', migrations: [api, billing] });
    // WHEN synthesized
    const manifests = Testing.synth(chart);
    for (const [migration, offset] of [[api, undefined], [billing, '30']] as const) {
      const job = named(manifests, 'Job', migration.jobName);
      // THEN the Job and its pods carry the database's label
      expect(job.metadata.labels[LABEL]).toBe('shop');
      expect(job.spec.template.metadata.labels[LABEL]).toBe('shop');
      // AND the queue selects the database's Jobs, not the service's
      expect(envOf(container(job.spec.template.spec, 'wait-for-turn')).MIGRATION_SELECTOR).toBe(`${LABEL}=shop`);
      // AND the later service counts its Jobs as created one apply window later
      expect(job.metadata.annotations?.[OFFSET]).toBe(offset);
    }
    expect(queue.migrations).toEqual([api, billing]);
    // AND the Roles stay read-only: list and watch on Jobs and pods
    for (const role of manifests.filter((m) => m.kind === 'Role' && m.metadata.name.endsWith('-migration-queue'))) {
      expect(role.rules).toEqual([{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'watch'] }, { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] }]);
    }
  });

  test('GIVEN a migration of another App WHEN it is added THEN it is refused, naming the queue, the migration and the fix', () => {
    const { chart, api } = twoServices();
    const other = twoServices();
    const queue = new DatabaseQueue(chart, 'Db', { name: 'shop', migrations: [api] });
    expect(() => queue.add(other.billing)).toThrow(
      'DatabaseQueue "shop/Db".add(): migration "shop/billing" is invalid: it is in another App. A queue orders the migrations of one App: '
      + 'create the DatabaseQueue in the App of its migrations.');
  });

  test('GIVEN a post-deploy migration WHEN its service joins a queue THEN its post-deploy Job is in the same queue, with the same offset', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const api = new DatabaseMigration(chart, 'api', props('api'));
    const billing = new DatabaseMigration(chart, 'billing', props('billing', {
      migrationTool: MigrationTool.knex({ migrationsDirectory: 'migrations', postDeployMigrationsDirectory: 'post', migrationsTableName: 'billing_migrations' }),
    }));
    new DatabaseQueue(chart, 'Db', { name: 'shop', migrations: [api], applyWindow: Duration.seconds(10) }).add(billing);
    const web = new kplus.Deployment(chart, 'web', { metadata: { name: 'web' }, progressDeadline: billing.progressDeadline });
    web.addContainer({ image: 'registry.example.com/billing:v1.2.3' });
    billing.gate(web);
    const post = named(Testing.synth(chart), 'Job', billing.postDeploy!.jobName);
    expect(post.metadata.labels[LABEL]).toBe('shop');
    expect(post.metadata.annotations[OFFSET]).toBe('10');
    expect(envOf(container(post.spec.template.spec, 'wait-for-turn')).MIGRATION_SELECTOR).toBe(`${LABEL}=shop`);
  });

  test('GIVEN no queue WHEN synthesized THEN each migration queues behind its own releases, as before', () => {
    const { chart, billing } = twoServices();
    MigrationWarnings.acknowledge(chart, 'MS104', 'separate databases on one server');
    const job = named(Testing.synth(chart), 'Job', billing.jobName);
    expect(job.metadata.labels[LABEL]).toBeUndefined();
    expect(envOf(container(job.spec.template.spec, 'wait-for-turn')).MIGRATION_SELECTOR).toMatch(/^app\.kubernetes\.io\/name=billing,/);
  });

  test('GIVEN Helm WHEN the hook weights do not rise in the queue\'s order THEN it is refused, saying which weight to give', () => {
    const { chart, api, billing } = twoServices(() => Delivery.helm());
    expect(() => new DatabaseQueue(chart, 'Db', { migrations: [api, billing] })).toThrow(
      /DatabaseQueue "shop\/Db"\.add\(\): migration "shop\/billing" is invalid: its hook weight \(0\) must be higher than that of "shop\/api" \(0\).*Delivery\.helm\(\{ hookWeight: 10 \}\)/);
    const ok = twoServices((name) => Delivery.helm({ hookWeight: name === 'api' ? 0 : 10 }));
    expect(() => new DatabaseQueue(ok.chart, 'Db', { migrations: [ok.api, ok.billing] })).not.toThrow();
  });

  test('GIVEN Argo CD WHEN a later migration has a lower wave THEN it is refused; one wave is fine (the queue orders it)', () => {
    const bad = twoServices((name) => Delivery.argoCd({ syncWave: name === 'api' ? 1 : 0 }));
    expect(() => new DatabaseQueue(bad.chart, 'Db', { migrations: [bad.api, bad.billing] })).toThrow(/its sync wave \(0\) must be at least that of "shop\/api" \(1\)/);
    const same = twoServices(() => Delivery.argoCd());
    expect(() => new DatabaseQueue(same.chart, 'Db', { migrations: [same.api, same.billing] })).not.toThrow();
  });

  test('GIVEN bad input WHEN a queue is built THEN each is refused with the construct, the prop and what to do', () => {
    const { app, chart, api, billing } = twoServices();
    expect(() => new DatabaseQueue(chart, 'A', { name: 'Shop DB' })).toThrow(/DatabaseQueue "shop\/A": name "Shop DB" is invalid: .*label/);
    expect(() => new DatabaseQueue(chart, 'B', { applyWindow: Duration.millis(1500) })).toThrow(/applyWindow .* whole number of seconds/);
    expect(() => new DatabaseQueue(chart, 'C', { migrations: [api, api] })).toThrow(/migration "shop\/api" is invalid: it is in this queue already/);
    expect(() => new DatabaseQueue(chart, 'D', { migrations: [api] })).toThrow(/it is in the DatabaseQueue "shop\/C" already/);
    expect(() => new DatabaseQueue(chart, 'E', { migrations: [{} as any] })).toThrow(/it is a DatabaseMigration/);
    expect(() => new DatabaseQueue(chart, 'F', { migrations: [billing], wave: 1 } as any)).toThrow(/wave/);
    const other = new Chart(app, 'other', { namespace: 'other' });
    const reports = new DatabaseMigration(other, 'reports', props('reports'));
    const queue = new DatabaseQueue(chart, 'G', { migrations: [billing] });
    expect(() => queue.add(reports)).toThrow(/it is in the namespace other, and the queue's migrations in shop\. .*one namespace/);
    const short = new DatabaseMigration(chart, 'short', props('short', { queueTimeout: Duration.seconds(30) }));
    expect(() => queue.add(short)).toThrow(/its queueTimeout \(30 s\) is not longer than the 30 s it waits/);
  });
});

describe('gate() on another service\'s migration', () => {
  test('GIVEN billing reads api\'s tables WHEN api\'s migration gates billing\'s Deployment THEN billing\'s pods wait for both, and api\'s reader Role is bound to billing\'s account', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const service = (name: string, tag: string) => new MigratedService(chart, name, {
      imageTag: tag, image: `registry.example.com/${name}`, migrationTool: MigrationTool.prisma(), secretNames: ['shop-database'], port: 3000,
    });
    // GIVEN billing created first, then api
    const billing = service('billing', 'v7.0.1');
    const api = service('api', 'v3.2.0');
    new DatabaseQueue(chart, 'Db', { migrations: [api.migration, billing.migration] });
    // WHEN api's migration gates billing's Deployment
    api.migration.gate(billing.deployment);
    const manifests = Testing.synth(chart);
    // THEN billing's pods wait for their own migration's Job and for api's
    const pod = named(manifests, 'Deployment', 'billing').spec.template.spec;
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(expect.arrayContaining(['wait-for-billing-migration', 'wait-for-api-migration']));
    expect(JSON.stringify(container(pod, 'wait-for-api-migration'))).toContain(api.migration.jobName);
    // AND api's reader Role is bound to billing's ServiceAccount, and still reads api's Job only
    const binding = named(manifests, 'RoleBinding', 'api-migration-reader');
    expect(binding.subjects.map((s: any) => s.name)).toEqual(expect.arrayContaining(['api', 'billing']));
    expect(named(manifests, 'Role', 'api-migration-reader').rules[0].resourceNames).toEqual([api.migration.jobName]);
  });
});

describe('MS104: two migrations read the same Secret but queue apart', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
  });
  afterEach(() => warn.mockRestore());

  test('GIVEN billing and api read the Secret shop-database WHEN not queued together THEN synth warns once, naming both and the fix', () => {
    const { chart, api, billing } = twoServices();
    Testing.synth(chart);
    expect(warn).toHaveBeenCalledTimes(1);
    const message = warn.mock.calls[0][0];
    expect(message).toMatch(/^\[WARNING MS104 shared-config-not-queued\] DatabaseMigration "shop\/api": it and DatabaseMigration "shop\/billing" both read Secret "shop-database" but queue apart/);
    expect(message).toContain('new DatabaseQueue(scope, \'Database\', { migrations: [<"shop/billing">, <"shop/api">] })');
    expect(api.warnings).toHaveLength(1);
    expect(billing.warnings).toHaveLength(0);
  });

  test('GIVEN a Secret read through env valueFrom WHEN queued together THEN no warning; in different namespaces neither', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'shop', { namespace: 'shop' });
    const url = kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(chart, 'S', 'shop-database'), key: 'url' });
    const api = new DatabaseMigration(chart, 'api', props('api', { secretNames: [], env: { DATABASE_URL: url } }));
    const billing = new DatabaseMigration(chart, 'billing', props('billing'));
    new DatabaseQueue(chart, 'Db', { migrations: [api, billing] });
    const other = new Chart(app, 'other', { namespace: 'other' });
    new DatabaseMigration(other, 'reports', props('reports'));
    app.synth();
    expect(warn).not.toHaveBeenCalled();
  });

  test('GIVEN the env valueFrom Secret is shared WHEN they queue apart THEN it warns; acknowledged, it does not; strict, the synth fails', () => {
    const build = () => {
      const app = new App({ outdir: Testing.app().outdir });
      const chart = new Chart(app, 'shop', { namespace: 'shop' });
      const url = kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(chart, 'S', 'shop-database'), key: 'url' });
      new DatabaseMigration(chart, 'api', props('api', { secretNames: [], env: { DATABASE_URL: url } }));
      new DatabaseMigration(chart, 'billing', props('billing'));
      return { app, chart };
    };
    build().app.synth();
    expect(warn).toHaveBeenCalledTimes(1);
    const acknowledged = build();
    MigrationWarnings.acknowledge(acknowledged.chart, 'shared-config-not-queued', 'one server, two databases');
    acknowledged.app.synth();
    expect(warn).toHaveBeenCalledTimes(1);
    const strict = build();
    MigrationWarnings.strict(strict.app);
    expect(() => strict.app.synth()).toThrow(/\[MS104 shared-config-not-queued\]/);
  });
});

describe('MS104: what counts as shared', () => {
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
  });
  afterEach(() => warn.mockRestore());

  test('GIVEN two migrations share a whole ConfigMap (common settings) WHEN they queue apart THEN no warning; sharing one of its keys as env THEN a warning', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    new DatabaseMigration(chart, 'api', props('api', { secretNames: ['api-db'], configMapNames: ['shop-config'] }));
    new DatabaseMigration(chart, 'billing', props('billing', { secretNames: ['billing-db'], configMapNames: ['shop-config'] }));
    Testing.synth(chart);
    expect(warn).not.toHaveBeenCalled();

    const keyed = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const host = (scope: Chart) => kplus.EnvValue.fromConfigMap(kplus.ConfigMap.fromConfigMapName(scope, `C${scope.node.children.length}`, 'shop-config'), 'DATABASE_HOST');
    new DatabaseMigration(keyed, 'api', props('api', { secretNames: [], env: { DATABASE_HOST: host(keyed) } }));
    new DatabaseMigration(keyed, 'billing', props('billing', { secretNames: [], env: { PGHOST: host(keyed) } }));
    Testing.synth(keyed);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toContain('both read key "DATABASE_HOST" of ConfigMap "shop-config" but queue apart');
  });
});
