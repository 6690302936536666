import { Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { DatabaseMigration, Delivery, MigratedService, MigrationTool, MigrationWaiter } from '../src';
import { allOfKind, named } from './support/manifests';
import { gatedWorkerChart, quietWarnings, SHOP, shopChart } from './support/shop';

quietWarnings();

describe('a workload gated by two migrations', () => {
  test('gets one ServiceAccount, bound to both migrations\' Roles', () => {
    // GIVEN a worker without a ServiceAccount of its own, and two databases
    const chart = shopChart();
    const worker = new kplus.Deployment(chart, 'worker', { metadata: { name: 'shop-worker' } });
    worker.addContainer({ name: 'worker', image: 'registry.example.com/shop:v1.2.3' });
    const web = new MigratedService(chart, 'web', { ...SHOP, name: 'shop' });
    const analytics = new DatabaseMigration(chart, 'analytics', { ...SHOP, image: 'registry.example.com/analytics' });
    // WHEN both gate it
    const first = web.migration.gate(worker);
    const second = analytics.gate(worker);
    // THEN the App synthesizes, with one ServiceAccount for the worker
    const manifests = Testing.synth(chart);
    expect(allOfKind(manifests, 'ServiceAccount').filter((a) => a.metadata.name === 'shop-worker')).toHaveLength(1);
    expect(first.serviceAccountName).toBe('shop-worker');
    expect(second.serviceAccountName).toBe('shop-worker');
    expect(second.serviceAccount).toBe(first.serviceAccount);
    // AND both Roles are bound to it
    for (const binding of ['shop-migration-reader', 'analytics-migration-reader']) {
      expect(named(manifests, 'RoleBinding', binding).subjects.map((s: any) => s.name)).toContain('shop-worker');
    }
    // AND the worker's pods wait for both Jobs, running as that account
    const pod = named(manifests, 'Deployment', 'shop-worker').spec.template.spec;
    expect(pod.serviceAccountName).toBe('shop-worker');
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['wait-for-analytics-migration', 'wait-for-shop-migration']);
  });

  test('a ServiceAccount the user already has under the workload\'s name is named as the cause, with a fix they can apply', () => {
    // GIVEN a user's ServiceAccount with the name gate() would give the worker's
    const chart = shopChart();
    new kplus.ServiceAccount(chart, 'mine', { metadata: { name: 'worker' } });
    const worker = new kplus.Deployment(chart, 'worker', { metadata: { name: 'worker' } });
    worker.addContainer({ name: 'worker', image: 'registry.example.com/shop:v1.2.3' });
    new DatabaseMigration(chart, 'db', SHOP).gate(worker);
    // THEN the error says gate() created it, and to give the workload that account
    expect(() => Testing.synth(chart)).toThrow(/ServiceAccount "worker" .*as "shop\/mine\/Resource".*gate\(\) created the ServiceAccount "worker" for the workload "shop\/worker".*serviceAccount prop/);
  });
});

describe('objects that would overwrite each other', () => {
  test('two services with one name get one line, naming both construct paths and the name they share', () => {
    // GIVEN two services both named shop
    const chart = shopChart();
    new MigratedService(chart, 'a', { ...SHOP, name: 'shop' });
    new MigratedService(chart, 'b', { ...SHOP, name: 'shop' });
    // THEN synthesis fails with a single line for the pair of services, reported on the first one's path
    let message = '';
    try {
      Testing.synth(chart);
    } catch (error) {
      message = (error as Error).message;
    }
    const errors = message.split('\n').slice(1);
    expect(errors).toEqual([
      '  [shop/a] MigratedService "shop/a" and MigratedService "shop/b" share the name "shop" in namespace "shop": '
      + '11 of their objects have the same kind and name (the Deployment "shop", the ServiceAccount "shop", the Role "shop-migration-queue", and 8 more). '
      + 'Both would be written, and one would overwrite the other on apply. Give one of them a different `name`, or put them in different namespaces.',
    ]);
  });
});

describe('a gated workload runs this release', () => {
  test.each([
    ['registry.example.com/shop:v1.2.2', 'registry.example.com/shop:v1.2.2'],
    ['registry.example.com/shop-migration:v1.2.2', 'registry.example.com/shop-migration:v1.2.2'],
    ['registry.example.com/shop', 'registry.example.com/shop:\\(no tag: latest\\)'],
  ])('a container on %s is refused, naming the container, both images and both fixes', (image, shown) => {
    expect(() => Testing.synth(gatedWorkerChart(image))).toThrow(new RegExp(
      `DatabaseMigration "shop/web/Migration": gate\\(workload\\) "shop/worker" is invalid: its container "worker" runs ${shown.replace(/\./g, '\\.')}, `
      + 'but this release, whose migration it waits for, is registry\\.example\\.com/shop(-migration)?:v1\\.2\\.3.*'
      + 'migration\\.releaseImage\\(.*allowOtherImageTags: true'));
  });

  test.each([
    ['the release tag', 'registry.example.com/shop:v1.2.3', {}],
    ['another repository', 'registry.example.com/mailer:v7', {}],
    ['another repository by digest', 'registry.example.com/mailer@sha256:' + 'a'.repeat(64), {}],
    ['the explicit opt-out', 'registry.example.com/shop:v1.2.2', { allowOtherImageTags: true }],
    ['the explicit opt-out, by digest', 'registry.example.com/shop@sha256:' + 'a'.repeat(64), { allowOtherImageTags: true }],
  ])('%s is accepted', (_case, image, options) => {
    expect(() => Testing.synth(gatedWorkerChart(image, options))).not.toThrow();
  });

  test.each([
    ['a digest alone', `registry.example.com/shop@sha256:${'a'.repeat(64)}`],
    ['a digest beside the release tag, which the node ignores', `registry.example.com/shop:v1.2.3@sha256:${'a'.repeat(64)}`],
    ['a digest of the migration image', `registry.example.com/shop-migration@sha256:${'b'.repeat(64)}`],
  ])('a release repository pinned by %s is refused: the digest may be any build', (_case, image) => {
    // GIVEN a worker that runs one of the release's repositories pinned by digest
    // WHEN the chart is synthesized
    // THEN it is refused like another tag, naming the container, the image, the release and both fixes
    const repository = image.replace(/[:@].*$/, '');
    expect(() => Testing.synth(gatedWorkerChart(image))).toThrow(
      `DatabaseMigration "shop/web/Migration": gate(workload) "shop/worker" is invalid: its container "worker" runs ${image}, pinned by digest, `
      + `but this release, whose migration it waits for, is ${repository}:v1.2.3: the node pulls the digest, which may be any build of the repository `
      + '(the migration Job runs the tag), so it may run code of another release against this release\'s schema. '
      + `Use migration.releaseImage('${repository}') for its image, or gate(workload, { allowOtherImageTags: true }) if it must run another release.`);
  });

  test('the waiter\'s own image is the user\'s choice, whatever its repository', () => {
    // GIVEN a watch waiter run from a pinned build of the app's image, which has node
    const chart = shopChart();
    const migration = new DatabaseMigration(chart, 'db', { ...SHOP, waiter: MigrationWaiter.watch({ image: 'registry.example.com/shop:v1.0.0' }) });
    const worker = new kplus.Deployment(chart, 'worker', { metadata: { name: 'shop-worker' } });
    worker.addContainer({ name: 'worker', image: migration.releaseImage('registry.example.com/shop') });
    migration.gate(worker);
    // THEN only the worker's own containers are held to the release tag
    expect(() => Testing.synth(chart)).not.toThrow();
  });

  test('releaseImage() gives a repository the release tag', () => {
    const migration = new DatabaseMigration(shopChart(), 'db', SHOP);
    expect(migration.releaseImage('registry.example.com/shop-worker')).toBe('registry.example.com/shop-worker:v1.2.3');
    expect(() => migration.releaseImage('registry.example.com/shop:v1')).toThrow(/releaseImage\(repository\) "registry.example.com\/shop:v1" is invalid: it must not contain a tag/);
  });
});

describe('shareEnvironment', () => {
  test('gives every container the migration\'s env sources, env and the tool\'s runtime paths; its own variables win', () => {
    // GIVEN a Rails migration with env sources, and a worker with one variable of its own
    const chart = shopChart();
    const migration = new DatabaseMigration(chart, 'db', {
      ...SHOP,
      migrationTool: MigrationTool.rails(),
      configMapNames: ['shop-config'],
      env: { RAILS_ENV: kplus.EnvValue.fromValue('production'), LOG_LEVEL: kplus.EnvValue.fromValue('info') },
    });
    const worker = new kplus.Deployment(chart, 'worker', { metadata: { name: 'shop-worker' } });
    worker.addContainer({ name: 'worker', image: migration.releaseImage('registry.example.com/shop'), envVariables: { LOG_LEVEL: kplus.EnvValue.fromValue('debug') } });
    // WHEN it is gated with shareEnvironment
    migration.gate(worker, { shareEnvironment: true });
    const pod = named(Testing.synth(chart), 'Deployment', 'shop-worker').spec.template.spec;
    const container = pod.containers[0];
    // THEN it reads the same ConfigMaps and Secrets as the migration
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'shop-config' } }, { secretRef: { name: 'shop-secrets' } }]);
    // AND it has the migration's env, its own value kept
    expect(container.env).toEqual(expect.arrayContaining([{ name: 'RAILS_ENV', value: 'production' }, { name: 'LOG_LEVEL', value: 'debug' }]));
    expect(container.env.filter((e: any) => e.name === 'LOG_LEVEL')).toHaveLength(1);
    // AND Rails' tmp/ and log/ are writable
    expect(container.volumeMounts).toEqual(expect.arrayContaining([
      { name: 'db-writable-1', mountPath: '/rails/tmp' }, { name: 'db-writable-2', mountPath: '/rails/log' },
    ]));
    expect(pod.volumes).toEqual(expect.arrayContaining([{ name: 'db-writable-1', emptyDir: { sizeLimit: '1Gi' } }]));
  });

  test('without it, the workload is left as it is', () => {
    const chart = shopChart();
    const migration = new DatabaseMigration(chart, 'db', SHOP);
    const worker = new kplus.Deployment(chart, 'worker', { metadata: { name: 'shop-worker' } });
    worker.addContainer({ name: 'worker', image: migration.releaseImage('registry.example.com/shop') });
    migration.gate(worker);
    expect(named(Testing.synth(chart), 'Deployment', 'shop-worker').spec.template.spec.containers[0].envFrom).toBeUndefined();
  });
});

describe('the service container', () => {
  test('takes command and args', () => {
    const chart = shopChart();
    new MigratedService(chart, 'web', { ...SHOP, name: 'shop', command: ['bundle', 'exec', 'puma'], args: ['-C', 'config/puma.rb'] });
    const service = named(Testing.synth(chart), 'Deployment', 'shop').spec.template.spec.containers[0];
    expect(service.command).toEqual(['bundle', 'exec', 'puma']);
    expect(service.args).toEqual(['-C', 'config/puma.rb']);
  });

  test('an empty command is refused', () => {
    expect(() => new MigratedService(shopChart(), 'web', { ...SHOP, command: [] })).toThrow(/command \[\] is invalid: command is a list of strings, starting with the executable/);
  });

  test('gets the paths the preset\'s app writes to (Rails tmp/ and log/), besides the user\'s', () => {
    const chart = shopChart();
    new MigratedService(chart, 'web', { ...SHOP, name: 'shop', migrationTool: MigrationTool.rails(), writablePaths: ['/rails/storage', '/rails/tmp'] });
    const service = named(Testing.synth(chart), 'Deployment', 'shop').spec.template.spec.containers[0];
    expect(service.volumeMounts.map((m: any) => m.mountPath)).toEqual(['/tmp', '/rails/log', '/rails/storage', '/rails/tmp']);
  });
});

describe('a gated Job or Pod, whose pod template cannot change once created', () => {
  /** A release of the shop with a one-off backfill Job named by `name`, gated by the migration. */
  function releaseWithBackfill(imageTag: string, name: (migration: DatabaseMigration) => string | undefined) {
    const chart = shopChart();
    const migration = new DatabaseMigration(chart, 'shop', { ...SHOP, imageTag });
    const backfill = new kplus.Job(chart, 'backfill', { metadata: { name: name(migration) } });
    backfill.addContainer({ name: 'backfill', image: migration.releaseImage('registry.example.com/shop'), command: ['node', 'backfill.js'] });
    migration.gate(backfill);
    return { chart, migration };
  }

  test.each([
    ['a fixed name', () => 'shop-backfill', '"shop-backfill"'],
    ['no name (cdk8s derives one from the path, the same at every release)', () => undefined, '"shop-backfill-c8'],
  ])('under %s is refused, naming the construct, the Job, the immutable field and the fix', (_label, name, shown) => {
    // WHEN a Job whose name stays the same from release to release is gated
    // THEN gate() refuses it: the next release's apply would fail with "field is immutable"
    const refused = () => releaseWithBackfill('v1.2.3', name);
    expect(refused).toThrow(/^DatabaseMigration "shop\/shop": gate\(workload\) "shop\/backfill" is invalid: the Job /);
    expect(refused).toThrow(shown);
    expect(refused).toThrow('spec.template: field is immutable');
    expect(refused).toThrow("metadata: { name: migration.releaseName('shop-backfill') }");
  });

  test('named with releaseName(), it is a new Job at every release, each waiting for its release\'s migration', () => {
    // GIVEN two releases of the same app, the Job named per release
    const names = ['v1.2.3', 'v1.2.4'].map((tag) => {
      const { chart, migration } = releaseWithBackfill(tag, (m) => m.releaseName('shop-backfill'));
      // WHEN each is synthesized
      const job = allOfKind(Testing.synth(chart), 'Job').find((j) => j.metadata.name.startsWith('shop-backfill-'))!;
      // THEN the Job waits for its own release's migration
      expect(job.spec.template.spec.initContainers[0].env).toContainEqual({ name: 'MIGRATION_JOB', value: migration.jobName });
      return job.metadata.name;
    });
    // AND the two releases name it differently, so the second creates a Job instead of patching an immutable template
    expect(names[0]).not.toBe(names[1]);
    expect(names.every((n) => /^shop-backfill-v1-2-[34]-[0-9a-f]{10}$/.test(n))).toBe(true);
  });

  test('under Delivery.kubectl(), releaseName() follows the migration Job\'s template digest too, as the gated Job waits for that Job by name', () => {
    // GIVEN the same tag synthesized twice under kubectl, the second time with another migration env
    const run = (env: { [name: string]: kplus.EnvValue }) => {
      const chart = shopChart();
      const migration = new DatabaseMigration(chart, 'shop', { ...SHOP, env, delivery: Delivery.kubectl() });
      const backfill = new kplus.Job(chart, 'backfill', { metadata: { name: migration.releaseName('shop-backfill') } });
      backfill.addContainer({ name: 'backfill', image: migration.releaseImage('registry.example.com/shop'), command: ['node', 'backfill.js'] });
      migration.gate(backfill);
      const job = allOfKind(Testing.synth(chart), 'Job').find((j) => j.metadata.name.startsWith('shop-backfill-'))!;
      return { migrationJob: migration.jobName, job };
    };
    const before = run({});
    const after = run({ LOG_LEVEL: kplus.EnvValue.fromValue('debug') });

    // WHEN the migration Job gets a new name, the gated Job's template changes (its waiter waits for that name)
    expect(after.migrationJob).not.toBe(before.migrationJob);
    expect(after.job.spec.template).not.toEqual(before.job.spec.template);

    // THEN the gated Job gets a new name too, or kubectl apply would fail on its immutable template
    expect(after.job.metadata.name).not.toBe(before.job.metadata.name);
    expect(after.job.metadata.name).toBe(`shop-backfill-v1-2-3-e3cad1a6f9-${after.migrationJob.slice(-8)}`);
  });

  test('under Delivery.kubectl(), a gated Job named with the tag but without the digest is refused, naming the digest and the fix', () => {
    // GIVEN a migration under kubectl, and a Job named with the release's tag built by hand
    const chart = shopChart();
    const migration = new DatabaseMigration(chart, 'shop', { ...SHOP, imageTag: '3f2a9c1', delivery: Delivery.kubectl() });
    const backfill = new kplus.Job(chart, 'backfill', { metadata: { name: 'shop-backfill-3f2a9c1' } });
    backfill.addContainer({ name: 'backfill', image: migration.releaseImage('registry.example.com/shop'), command: ['node', 'backfill.js'] });

    // WHEN it is gated THEN gate() refuses it, naming the digest, the immutable field and releaseName()
    const refused = () => migration.gate(backfill);
    expect(refused).toThrow(/^DatabaseMigration "shop\/shop": gate\(workload\) "shop\/backfill" is invalid: the Job "shop-backfill-3f2a9c1" does not end/);
    expect(refused).toThrow(`("${migration.jobName.slice(-8)}", as in "${migration.jobName}")`);
    expect(refused).toThrow('spec.template: field is immutable');
    expect(refused).toThrow('migration.releaseName(base)');
    // AND the name releaseName() gives is accepted
    expect(migration.releaseName('shop-backfill')).toBe(`shop-backfill-3f2a9c1-${migration.jobName.slice(-8)}`);
  });

  test('a tag that is a valid name part is copied verbatim', () => {
    const migration = new DatabaseMigration(shopChart(), 'shop', { ...SHOP, imageTag: '3f2a9c1' });
    expect(migration.releaseName('shop-backfill')).toBe('shop-backfill-3f2a9c1');
  });

  test('releaseName() refuses a base that is not a DNS label', () => {
    const migration = new DatabaseMigration(shopChart(), 'shop', SHOP);
    expect(() => migration.releaseName('Shop_Backfill')).toThrow(
      'DatabaseMigration "shop/shop": releaseName(base) "Shop_Backfill" is invalid: the base of a Job or Pod name is a DNS-1123 label');
  });

  test('a Pod is held to the same rule', () => {
    const chart = shopChart();
    const migration = new DatabaseMigration(chart, 'shop', SHOP);
    const debug = new kplus.Pod(chart, 'debug', { metadata: { name: 'shop-debug' } });
    expect(() => migration.gate(debug)).toThrow(/the Pod "shop-debug" keeps its name from release to release, but its spec cannot change once created/);
    const perRelease = new kplus.Pod(chart, 'debug2', { metadata: { name: migration.releaseName('shop-debug') } });
    expect(() => migration.gate(perRelease)).not.toThrow();
  });

  test('a CronJob keeps its name: its template may change, and every run is a new Job', () => {
    const chart = shopChart();
    const migration = new DatabaseMigration(chart, 'shop', SHOP);
    const nightly = new kplus.CronJob(chart, 'nightly', { metadata: { name: 'shop-nightly' }, schedule: { expressionString: '0 3 * * *' } as any });
    nightly.addContainer({ name: 'report', image: migration.releaseImage('registry.example.com/shop') });
    migration.gate(nightly);
    expect(named(Testing.synth(chart), 'CronJob', 'shop-nightly')).toBeDefined();
  });
});
