/**
 * The waiter program ships once per namespace, in a ConfigMap that every container running it
 * mounts and runs by path: the structure of the output, the engines' hook copies, collisions, and
 * the emitted command lines run for real against the fake API server.
 */
import { spawn } from 'child_process';
import { createHash } from 'crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App, Chart, Cron, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { ArgoCdHookDeletePolicy, DatabaseMigration, Delivery, MigratedService, MigratedServiceProps, MigrationWaiter } from '../src';
import { FakeApiServer, RbacRule, waiterClientEnv } from './support/fake-api-server';
import { container, MINIMAL, named } from './support/manifests';
import { programHash } from '../src/constructs/waiter-program';
import { migrationWaiterScript } from '../src/constructs/waiter-script';

/* eslint-disable @typescript-eslint/no-explicit-any */

const ENGINES: Array<[string, () => Delivery]> = [
  ['flux', () => Delivery.flux()],
  ['kubectl', () => Delivery.kubectl()],
  ['argocd', () => Delivery.argoCd()],
  ['helm', () => Delivery.helm()],
];

const PROGRAM_MOUNT = { name: 'migration-waiter-program', mountPath: '/opt/migration-waiter', readOnly: true };
const PROGRAM_COMMAND = ['node', '/opt/migration-waiter/migration-waiter.js'];
const PROGRAM_ANNOTATIONS = {
  'cdk8s-migrated-service.dev/version': JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version,
  'cdk8s-migrated-service.dev/program-sha256': programHash(),
};

/** Every pod template of the output, with where it is. */
function podTemplates(manifests: any[]): Array<[string, any]> {
  return manifests.flatMap((m) => {
    const template = m.kind === 'CronJob' ? m.spec?.jobTemplate?.spec?.template : m.spec?.template;
    return template !== undefined ? [[`${m.kind}/${m.metadata.name}`, template] as [string, any]] : [];
  });
}

/** Every string in `value` longer than `limit` bytes, with its JSON path. */
function longStrings(value: any, limit: number, path = ''): string[] {
  if (typeof value === 'string') {
    return Buffer.byteLength(value) > limit ? [`${path} (${Buffer.byteLength(value)} bytes)`] : [];
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, child]) => longStrings(child, limit, `${path}/${key}`));
  }
  return [];
}

const programCopies = (manifests: any[]) =>
  manifests.filter((m) => m.kind === 'ConfigMap' && m.data?.['migration-waiter.js'] !== undefined);

function threeServices(delivery: () => Delivery, props: Partial<MigratedServiceProps> = {}): any[] {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  for (const name of ['cart', 'orders', 'billing']) {
    new MigratedService(chart, name, {
      ...MINIMAL, delivery: delivery(), postDeployMigrationCommand: ['./contract'], ...props,
    });
  }
  return Testing.synth(chart);
}

describe('the program appears once per namespace', () => {
  test.each(ENGINES)('%s: no string of more than 1 KB in any pod template, and one program copy for three services', (engine, delivery) => {
    // GIVEN three services with pre- and post-deploy migrations in one chart and namespace
    // WHEN synthesized
    const manifests = threeServices(delivery);
    // THEN no pod template holds a string of more than 1 KB
    const templates = podTemplates(manifests);
    expect(templates.length).toBe(3 * 3);
    expect(templates.flatMap(([where, template]) => longStrings(template, 1024, where))).toEqual([]);
    // AND the program is written once: for the pods, plus once for the hook Jobs under Argo CD;
    // under Helm the hook copy is the only one, and the pods mount it too
    const names = { flux: ['shop-migration-waiter'], kubectl: ['shop-migration-waiter'], argocd: ['shop-migration-waiter', 'shop-migration-waiter-hook'], helm: ['shop-migration-waiter-hook'] };
    expect(programCopies(manifests).map((m) => m.metadata.name)).toEqual(names[engine as keyof typeof names]);
    for (const copy of programCopies(manifests)) {
      expect(copy.data).toEqual({ 'migration-waiter.js': migrationWaiterScript() });
      expect(copy.metadata.namespace).toBe('shop');
      // AND a reviewer sees what changed in a one-line diff: the library's version and the program's hash
      expect(copy.metadata.annotations).toMatchObject(PROGRAM_ANNOTATIONS);
    }
  });

  test.each(ENGINES)('%s: every container that runs it mounts it read-only, runs it by path, and carries its hash', (engine, delivery) => {
    // GIVEN one service with both migrations
    const manifests = threeServices(delivery).filter((m) => m.metadata.name.startsWith('cart') || m.metadata.name === 'cart');
    const hookEngine = engine === 'argocd' || engine === 'helm';
    // Under Helm every pod mounts the one (hook) copy; under Argo CD only the hook Jobs do
    const forPods = engine === 'helm' ? 'shop-migration-waiter-hook' : 'shop-migration-waiter';
    const runners: Array<[any, string, string]> = [
      [named(manifests, 'Deployment', 'cart').spec.template.spec, 'wait-for-cart-migration', forPods],
      [named(manifests, 'Job', manifests.find((m) => m.kind === 'Job' && m.metadata.name.startsWith('cart-migration-')).metadata.name)
        .spec.template.spec, 'record-success', hookEngine ? 'shop-migration-waiter-hook' : 'shop-migration-waiter'],
      [named(manifests, 'Job', manifests.find((m) => m.kind === 'Job' && m.metadata.name.startsWith('cart-post-migration-')).metadata.name)
        .spec.template.spec, 'wait-for-rollout', forPods],
    ];
    for (const [pod, name, configMap] of runners) {
      // THEN the container reads in a few lines: the command, the mode, its variables
      const c = container(pod, name);
      expect(c.command).toEqual(PROGRAM_COMMAND);
      expect(c.args).toHaveLength(1);
      expect(c.volumeMounts).toContainEqual(PROGRAM_MOUNT);
      expect(c.env).toContainEqual({ name: 'MIGRATION_WAITER_SHA256', value: createHash('sha256').update(migrationWaiterScript()).digest('hex') });
      // AND the volume is the ConfigMap, not optional: a missing program fails the mount, and the
      // pod's events name the ConfigMap, instead of a container starting without its program
      expect(pod.volumes.filter((v: any) => v.name === 'migration-waiter-program'))
        .toEqual([{ name: 'migration-waiter-program', configMap: { name: configMap, defaultMode: 0o444 } }]);
    }
  });

  test('the hash is the SHA-256 of the ConfigMap\'s text, so that it changes exactly when the program does', () => {
    expect(programHash()).toBe(createHash('sha256').update(migrationWaiterScript()).digest('hex'));
    expect(programHash()).toMatch(/^[0-9a-f]{64}$/);
  });

  test('comes before the Jobs and workloads that mount it in the output, whatever the order of creation', () => {
    const manifests = threeServices(() => Delivery.kubectl());
    const position = (kind: string, name: string) => manifests.findIndex((m) => m.kind === kind && m.metadata.name === name);
    const program = position('ConfigMap', 'shop-migration-waiter');
    for (const m of manifests.filter((o) => ['Job', 'Deployment'].includes(o.kind))) {
      expect([m.metadata.name, position(m.kind, m.metadata.name) > program]).toEqual([m.metadata.name, true]);
    }
  });

  test('a workload gated by two migrations mounts one program volume into both waiters', () => {
    // GIVEN a Deployment gated by two migrations (its progress deadline covers them: nothing to warn about)
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const web = new kplus.Deployment(chart, 'web', { containers: [{ image: 'web:v1' }], progressDeadline: Duration.hours(3) });
    for (const name of ['billing', 'catalog']) {
      new DatabaseMigration(chart, name, { imageTag: 'v1.0.0', image: name, migrationCommand: ['./migrate'] }).gate(web);
    }
    // WHEN synthesized
    const manifests = Testing.synth(chart);
    const pod = manifests.find((m) => m.kind === 'Deployment').spec.template.spec;
    // THEN one volume, mounted by each waiter; one program copy in the chart
    expect(pod.volumes.filter((v: any) => v.name === 'migration-waiter-program')).toHaveLength(1);
    expect(container(pod, 'wait-for-billing-migration').volumeMounts).toContainEqual(PROGRAM_MOUNT);
    expect(container(pod, 'wait-for-catalog-migration').volumeMounts).toContainEqual(PROGRAM_MOUNT);
    expect(programCopies(manifests)).toHaveLength(1);
  });

  test('a pod that already has a volume of that name, for something else, is refused with the construct path', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const web = new kplus.Deployment(chart, 'web', { containers: [{ image: 'web:v1' }] });
    web.addVolume(kplus.Volume.fromEmptyDir(chart, 'Taken', 'migration-waiter-program'));
    new DatabaseMigration(chart, 'billing', { imageTag: 'v1.0.0', image: 'billing', migrationCommand: ['./migrate'] }).gate(web);
    expect(() => Testing.synth(chart)).toThrow(/DatabaseMigration "shop\/billing": gate\(workload\) "shop\/web" is invalid: the pod already has a volume named "migration-waiter-program"/);
  });

  test('with a waiter that does not run it, only the post-deploy Job\'s rollout waiter mounts it', () => {
    const manifests = threeServices(() => Delivery.flux(), { waiter: MigrationWaiter.k8sWaitFor() });
    expect(programCopies(manifests).map((m) => m.metadata.name)).toEqual(['shop-migration-waiter']);
    expect(JSON.stringify(named(manifests, 'Deployment', 'cart'))).not.toContain('migration-waiter-program');
  });
});

describe('several charts, one namespace', () => {
  function twoCharts(namespaces: [string, string], ids: [string, string] = ['chart0', 'chart1']): App {
    const app = Testing.app();
    namespaces.forEach((namespace, i) => {
      const chart = new Chart(app, ids[i], { namespace });
      new MigratedService(chart, `svc${i}`, MINIMAL);
    });
    return app;
  }

  test.each(['flux', 'argocd', 'helm'] as const)('%s: each chart (one Application, Kustomization or release) has its own copies, named after it, and mounts only its own', (engine) => {
    // GIVEN two charts of one App in one namespace, each with a migration, as two Argo CD Applications or two Helm releases would be
    const app = Testing.app();
    const delivery = { flux: Delivery.flux(), argocd: Delivery.argoCd(), helm: Delivery.helm() }[engine];
    for (const id of ['shop', 'billing']) {
      new MigratedService(new Chart(app, id, { namespace: 'shop' }), id, { ...MINIMAL, delivery });
    }
    // WHEN each chart is synthesized
    const [shop, billing] = app.charts.map((chart) => Testing.synth(chart));
    // THEN no copy is written by both, so neither delivery owns, deletes or replaces the other's
    const names = (manifests: any[]) => programCopies(manifests).map((m) => m.metadata.name).sort();
    const expected = { flux: [''], argocd: ['', '-hook'], helm: ['-hook'] }[engine];
    expect(names(shop)).toEqual(expected.map((suffix) => `shop-migration-waiter${suffix}`));
    expect(names(billing)).toEqual(expected.map((suffix) => `billing-migration-waiter${suffix}`));
    // AND the pods of each chart mount their own chart's copy
    const mounted = (manifests: any[]) => new Set(manifests.flatMap((m) => JSON.stringify(m).match(/"configMap":\{"name":"[^"]+","defaultMode":292\}/g) ?? []));
    expect([...mounted(shop)].every((m) => m.includes('"shop-migration-waiter'))).toBe(true);
    expect([...mounted(billing)].every((m) => m.includes('"billing-migration-waiter'))).toBe(true);
  });

  test('a chart id that is not a DNS label gets a readable name with a hash, distinct from the plain id\'s', () => {
    const app = twoCharts(['shop', 'shop'], ['Shop', 'shop']);
    const [upper, lower] = app.charts.map((chart) => programCopies(Testing.synth(chart))[0].metadata.name);
    expect(lower).toBe('shop-migration-waiter');
    expect(upper).toMatch(/^shop-[0-9a-f]{8}-migration-waiter$/);
  });

  test('a long chart path still leaves the hook copy within 63 characters', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'a-very-long-chart-identifier-for-the-shop-team-in-production', { namespace: 'shop' });
    new MigratedService(chart, 'svc', { ...MINIMAL, delivery: Delivery.argoCd() });
    for (const copy of programCopies(Testing.synth(chart))) {
      expect(copy.metadata.name.length).toBeLessThanOrEqual(63);
      expect(copy.metadata.name).toMatch(/^a-very-long-chart-identifier-for-[0-9a-f]{8}-migration-waiter(-hook)?$/);
    }
  });

  test('two charts of one App whose waiters name one ConfigMap in one namespace are refused, naming both construct paths', () => {
    // GIVEN two charts whose waiters were both given the same programConfigMapName
    const app = Testing.app();
    const waiter = MigrationWaiter.watch({ programConfigMapName: 'shared-waiter' });
    for (const id of ['shop', 'billing']) {
      new MigratedService(new Chart(app, id, { namespace: 'shop' }), id, { ...MINIMAL, waiter });
    }
    // WHEN synthesized THEN it is refused: both Applications or releases would own one object
    const refused = () => app.synth();
    expect(refused).toThrow(/the ConfigMap "shared-waiter" \((shop|billing)\/MigrationWaiterProgram-shared-waiter\/ConfigMap\) has the same kind, name and namespace "shop" as "(billing|shop)\/MigrationWaiterProgram-shared-waiter\/ConfigMap"/);
    expect(refused).toThrow('give each chart its own (MigrationWaiter.watch({ programConfigMapName }))');
  });

  test('the same chart ids in different namespaces are no collision', () => {
    const app = twoCharts(['shop', 'other'], ['shop', 'shop2']);
    expect(() => app.synth()).not.toThrow();
  });

  test('another object of the same kind, namespace and name is a collision, named in the error', () => {
    // GIVEN a chart with a migration, and another chart of the App with its own ConfigMap of the program's name
    const app = twoCharts(['shop', 'other']);
    const chart = new Chart(app, 'mine', { namespace: 'shop' });
    new kplus.ConfigMap(chart, 'Mine', { metadata: { name: 'chart0-migration-waiter' }, data: { 'migration-waiter.js': 'not the program' } });
    // WHEN synthesized THEN the collision is refused
    expect(() => app.synth()).toThrow(/the ConfigMap "chart0-migration-waiter" \(chart0\/MigrationWaiterProgram\/ConfigMap\) has the same kind, name and namespace "shop" as "mine\/Mine/);
  });
});

describe('a program ConfigMap of another name', () => {
  test('each Helm release sharing a namespace names its own copy, and every container mounts that one', () => {
    // GIVEN a service whose waiter names the program's ConfigMap (its own Helm release)
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    new MigratedService(chart, 'cart', {
      ...MINIMAL,
      delivery: Delivery.helm(),
      postDeployMigrationCommand: ['./contract'],
      waiter: MigrationWaiter.watch({ programConfigMapName: 'cart-migration-waiter' }),
    });
    // WHEN synthesized
    const manifests = Testing.synth(chart);
    // THEN the copies carry that name, and the pods, the recorder and the rollout waiter mount them
    expect(programCopies(manifests).map((m) => m.metadata.name)).toEqual(['cart-migration-waiter-hook']);
    const mounted = manifests.flatMap((m) => (m.spec?.template?.spec?.volumes ?? []))
      .filter((v: any) => v.name === 'migration-waiter-program').map((v: any) => v.configMap.name).sort();
    expect(mounted).toEqual(['cart-migration-waiter-hook', 'cart-migration-waiter-hook', 'cart-migration-waiter-hook']);
  });

  test('a name that is not a ConfigMap name is refused', () => {
    expect(() => MigrationWaiter.watch({ programConfigMapName: 'Migration_Waiter' }))
      .toThrow(/MigrationWaiter.watch\(\): programConfigMapName "Migration_Waiter" is invalid: a ConfigMap name is a DNS-1123 subdomain/);
  });
});

describe('the hook copy', () => {
  function hookCopy(deliveries: Delivery[]): any {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    deliveries.forEach((delivery, i) => new MigratedService(chart, `svc${i}`, { ...MINIMAL, delivery }));
    const manifests = Testing.synth(chart);
    return named(manifests, 'ConfigMap', 'shop-migration-waiter-hook');
  }

  test('Helm: a pre-install,pre-upgrade hook one weight before the earliest Job that mounts it, replaced before it is created again', () => {
    // GIVEN two migrations of one chart with different hook weights
    const copy = hookCopy([Delivery.helm({ hookWeight: 5 }), Delivery.helm({ hookWeight: -3 })]);
    // THEN the copy comes before both Jobs, and only before-hook-creation ever deletes it
    expect(copy.metadata.annotations).toEqual({
      ...PROGRAM_ANNOTATIONS,
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-weight': '-4',
      'helm.sh/hook-delete-policy': 'before-hook-creation',
    });
  });

  test('Helm: at the lowest weight there is, the copy keeps that weight: there is none lower', () => {
    const copy = hookCopy([Delivery.helm({ hookWeight: -2147483648 })]);
    expect(copy.metadata.annotations['helm.sh/hook-weight']).toBe('-2147483648');
  });

  test('Argo CD: a PreSync hook of the earliest wave, BeforeHookCreation even when the Job is deleted on failure', () => {
    const copy = hookCopy([
      Delivery.argoCd({ syncWave: 2, hookDeletePolicy: ArgoCdHookDeletePolicy.HOOK_FAILED }),
      Delivery.argoCd({ syncWave: -1 }),
    ]);
    expect(copy.metadata.annotations).toEqual({
      ...PROGRAM_ANNOTATIONS,
      'argocd.argoproj.io/hook': 'PreSync',
      'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
      'argocd.argoproj.io/sync-wave': '-1',
    });
  });

  test('two hook engines in one chart are refused: both Jobs would mount one hook copy', () => {
    expect(() => hookCopy([Delivery.helm(), Delivery.argoCd()])).toThrow(/delivery "argocd" is invalid: another migration of chart "shop" is delivered by a different hook engine/);
  });

  test('the ordinary copy is never a hook', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    new MigratedService(chart, 'svc', { ...MINIMAL, delivery: Delivery.argoCd() });
    expect(named(Testing.synth(chart), 'ConfigMap', 'shop-migration-waiter').metadata.annotations).toEqual(PROGRAM_ANNOTATIONS);
  });

  test('Helm: the hook copy is the only one, and every pod of the release mounts it, the post-deploy hook Job\'s included', () => {
    // GIVEN a Helm service with a post-deploy migration and a gated CronJob
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const service = new MigratedService(chart, 'svc', { ...MINIMAL, delivery: Delivery.helm(), postDeployMigrationCommand: ['./contract'] });
    const nightly = new kplus.CronJob(chart, 'nightly', { schedule: Cron.daily(), containers: [{ image: 'svc:v1', command: ['./nightly'] }] });
    service.migration.gate(nightly);
    // WHEN synthesized
    const manifests = Testing.synth(chart);
    // THEN one copy, a pre-deploy hook that only the next release's before-hook-creation replaces
    expect(programCopies(manifests).map((m) => [m.metadata.name, m.metadata.annotations['helm.sh/hook'], m.metadata.annotations['helm.sh/hook-delete-policy']]))
      .toEqual([['shop-migration-waiter-hook', 'pre-install,pre-upgrade', 'before-hook-creation']]);
    // AND every pod template that mounts the program mounts it
    const mounted = manifests.flatMap((m) => (m.kind === 'CronJob' ? m.spec.jobTemplate.spec.template : m.spec?.template)?.spec?.volumes ?? [])
      .filter((v: any) => v.name === 'migration-waiter-program').map((v: any) => v.configMap.name);
    expect(mounted.length).toBe(4);
    expect(new Set(mounted)).toEqual(new Set(['shop-migration-waiter-hook']));
  });
});

describe('the emitted command lines, run by node against the fake API server', () => {
  const NS = 'shop';
  let server: FakeApiServer;
  let dir: string;

  beforeEach(async () => {
    server = await FakeApiServer.start();
    dir = mkdtempSync(join(tmpdir(), 'waiter-program-'));
    writeFileSync(join(dir, 'token'), 'token\n');
  });

  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `c` as the kubelet would, with the program ConfigMap's files at its mount path (moved under `dir`). */
  function run(c: any, programCopy: any): Promise<{ code: number | null; output: string }> {
    const mount = c.volumeMounts.find((m: any) => m.name === 'migration-waiter-program').mountPath;
    mkdirSync(join(dir, mount), { recursive: true });
    for (const [file, text] of Object.entries(programCopy.data)) {
      writeFileSync(join(dir, mount, file), text as string);
    }
    const argv = [...c.command, ...c.args].map((word: string) => (word.startsWith(`${mount}/`) ? join(dir, word) : word));
    expect(argv[0]).toBe('node');
    const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
    const child = spawn(process.execPath, argv.slice(1), { env: { ...waiterClientEnv(server.port, join(dir, 'token'), NS), ...env } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
  }

  test('Helm, first install: the recorder creates the ledger, and the gated pod\'s waiter then starts on the Job or the ledger', async () => {
    // GIVEN the Helm output of one service, and its Roles
    const chart = new Chart(Testing.app(), 'shop', { namespace: NS });
    const service = new MigratedService(chart, 'web', { ...MINIMAL, delivery: Delivery.helm() });
    const manifests = Testing.synth(chart);
    const jobName = service.migration.jobName;
    const job = named(manifests, 'Job', jobName);
    const rules = (name: string): RbacRule[] => named(manifests, 'Role', name).rules;
    server.tokens.set('token', [...rules('web-migration-recorder'), ...rules('web-migration-reader')]);
    // WHEN the hook Job's recorder runs its command line, with no ledger in the cluster yet
    const recorded = await run(container(job.spec.template.spec, 'record-success'), named(manifests, 'ConfigMap', 'shop-migration-waiter-hook'));
    // THEN it created the ledger with its entry
    expect(recorded).toEqual({ code: 0, output: expect.stringContaining('created ledger ConfigMap shop/web-migration-ledger') });
    expect(Object.keys(server.get('configmaps', NS, 'web-migration-ledger').data)).toEqual([jobName]);
    // AND the gated pod's waiter, with the Job gone, starts on the ledger's evidence
    const waited = await run(container(named(manifests, 'Deployment', 'web').spec.template.spec, 'wait-for-web-migration'),
      named(manifests, 'ConfigMap', 'shop-migration-waiter-hook'));
    expect(waited).toEqual({ code: 0, output: expect.stringContaining('records its success') });
  });

  test('Flux: the waiter\'s command line waits for the Job and exits 0 once it is Complete', async () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: NS });
    const service = new MigratedService(chart, 'web', MINIMAL);
    const manifests = Testing.synth(chart);
    server.tokens.set('token', named(manifests, 'Role', 'web-migration-reader').rules);
    server.apply('jobs', NS, { metadata: { name: service.migration.jobName }, status: { active: 1 } });
    const waiting = run(container(named(manifests, 'Deployment', 'web').spec.template.spec, 'wait-for-web-migration'),
      named(manifests, 'ConfigMap', 'shop-migration-waiter'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    server.setJobCondition(NS, service.migration.jobName, 'Complete');
    expect(await waiting).toEqual({ code: 0, output: expect.stringContaining('is Complete') });
  });
});
