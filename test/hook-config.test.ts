import { ApiObject, App, Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { DatabaseMigration, Delivery, MigratedService } from '../src';
import { MINIMAL as BASE } from './support/manifests';
import { HOOK_COPY_OF_ANNOTATION } from '../src/constructs/hook-config';

const MINIMAL = { ...BASE, imageTag: '1a2b3c4' };

/* eslint-disable @typescript-eslint/no-explicit-any */

const JOB = 'web-migration-1a2b3c4';

/** The order in which the engine runs the hooks of the pre-deploy phase: lower weight or wave first, then kind. */
function hookOrder(manifest: any): [number, number] {
  const a = manifest.metadata.annotations ?? {};
  const order = Number(a['helm.sh/hook-weight'] ?? a['argocd.argoproj.io/sync-wave'] ?? 0);
  // Within one weight (Helm) or wave (Argo CD), both apply ConfigMaps and Secrets before Jobs.
  const kinds = ['Secret', 'ConfigMap', 'ServiceAccount', 'Role', 'RoleBinding', 'Job'];
  return [order, kinds.indexOf(manifest.kind)];
}

function before(a: any, b: any): boolean {
  const [x, y] = [hookOrder(a), hookOrder(b)];
  return x[0] < y[0] || (x[0] === y[0] && x[1] < y[1]);
}

/** The app of the field notes: its config and secrets defined in the chart, next to the service, after it. */
function ledgerly(delivery: Delivery | undefined, configData: { [key: string]: string } = { LOG_LEVEL: 'info' }) {
  const app = Testing.app();
  const chart = new Chart(app, 'ledgerly', { namespace: 'ledgerly' });
  new MigratedService(chart, 'web', {
    ...MINIMAL,
    ...(delivery !== undefined ? { delivery } : {}),
    configMapNames: ['ledgerly-config', 'external-config'],
    secretNames: ['ledgerly-secrets'],
    env: { FEATURE: { valueFrom: { configMapKeyRef: { name: 'ledgerly-config', key: 'FEATURE' } } } as any },
  });
  // Defined after the service: the copies are made at synth, whatever the order.
  new kplus.ConfigMap(chart, 'config', { metadata: { name: 'ledgerly-config' }, data: configData });
  new kplus.Secret(chart, 'secrets', { metadata: { name: 'ledgerly-secrets' }, stringData: { DATABASE_URL: 'postgres://db/ledgerly' } });
  const manifests = Testing.synth(chart);
  const named = (kind: string, name: string) => manifests.find((m: any) => m.kind === kind && m.metadata.name === name);
  // The migration Job, by its labels: under Delivery.kubectl() its name also carries a digest of its template.
  const job = manifests.find((m: any) => m.kind === 'Job' && m.metadata.labels?.['app.kubernetes.io/component'] === 'migration');
  if (delivery === undefined || delivery.engine !== 'kubectl') {
    expect(job.metadata.name).toEqual(JOB);
  }
  const migrate = [...(job.spec.template.spec.initContainers ?? []), ...job.spec.template.spec.containers].find((c: any) => c.name === 'migrate');
  return { manifests, named, job, migrate };
}

describe.each([
  ['argocd', () => Delivery.argoCd(), { 'argocd.argoproj.io/hook': 'PreSync', 'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation' }],
  ['helm', () => Delivery.helm(), { 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '-1', 'helm.sh/hook-delete-policy': 'before-hook-creation' }],
])('%s: ConfigMaps and Secrets the App defines', (_engine, delivery, hookAnnotations) => {
  test('the migration reads hook copies named after its Job, which the engine creates before the Job', () => {
    // GIVEN the app's ConfigMap and Secret, defined in the chart, named by the migration
    const { named, job, migrate } = ledgerly(delivery());
    // THEN each has a hook copy named after this release's Job, with the same data
    const configCopy = named('ConfigMap', `${JOB}-ledgerly-config`);
    const secretCopy = named('Secret', `${JOB}-ledgerly-secrets`);
    expect(configCopy.data).toEqual({ LOG_LEVEL: 'info' });
    expect(secretCopy.stringData).toEqual({ DATABASE_URL: 'postgres://db/ledgerly' });
    expect(configCopy.metadata.namespace).toBe('ledgerly');
    // AND labelled with the release, so that the copies of earlier releases can be deleted by selector
    expect(secretCopy.metadata.labels).toMatchObject({
      'app.kubernetes.io/name': 'web', 'app.kubernetes.io/component': 'migration-config', 'app.kubernetes.io/version': '1a2b3c4',
    });
    expect(configCopy.metadata.annotations).toEqual({ ...hookAnnotations, [HOOK_COPY_OF_ANNOTATION]: 'ledgerly-config' });
    expect(secretCopy.metadata.annotations).toEqual({ ...hookAnnotations, [HOOK_COPY_OF_ANNOTATION]: 'ledgerly-secrets' });
    // AND the engine creates both before the Job (lower weight, or the same wave and a kind applied first)
    expect(before(configCopy, job)).toBe(true);
    expect(before(secretCopy, job)).toBe(true);
    // AND the migration reads the copies, by envFrom and by env valueFrom
    expect(migrate.envFrom).toEqual([
      { configMapRef: { name: `${JOB}-ledgerly-config` } },
      { configMapRef: { name: 'external-config' } },
      { secretRef: { name: `${JOB}-ledgerly-secrets` } },
    ]);
    expect(migrate.env.find((e: any) => e.name === 'FEATURE').valueFrom.configMapKeyRef.name).toBe(`${JOB}-ledgerly-config`);
  });

  test('the objects themselves stay ordinary objects of the release, which the workloads read', () => {
    // GIVEN the same app
    const { named } = ledgerly(delivery());
    // THEN the ConfigMap and Secret are unchanged: no hook annotation, the same name the Deployment reads
    expect(named('ConfigMap', 'ledgerly-config').metadata.annotations).toBeUndefined();
    expect(named('Secret', 'ledgerly-secrets').metadata.annotations).toBeUndefined();
    const web = named('Deployment', 'web').spec.template.spec.containers[0];
    expect(web.envFrom).toEqual(expect.arrayContaining([{ configMapRef: { name: 'ledgerly-config' } }, { secretRef: { name: 'ledgerly-secrets' } }]));
  });

  test('an object the App does not define is read by its own name', () => {
    // GIVEN external-config, which the App does not define
    const { manifests, migrate } = ledgerly(delivery());
    // THEN no copy of it, and the Job reads it as before
    expect(manifests.filter((m: any) => m.metadata.annotations?.[HOOK_COPY_OF_ANNOTATION] === 'external-config')).toEqual([]);
    expect(migrate.envFrom).toContainEqual({ configMapRef: { name: 'external-config' } });
  });

  test('each release reads its own release\'s data', () => {
    // GIVEN two releases whose config differs
    const first = ledgerly(delivery(), { LOG_LEVEL: 'info' });
    const second = ledgerly(delivery(), { LOG_LEVEL: 'debug' });
    // THEN each Job's copy carries its own release's data
    expect(first.named('ConfigMap', `${JOB}-ledgerly-config`).data).toEqual({ LOG_LEVEL: 'info' });
    expect(second.named('ConfigMap', `${JOB}-ledgerly-config`).data).toEqual({ LOG_LEVEL: 'debug' });
  });
});

test.each([
  ['helm.sh/hook-weight', Delivery.helm({ hookWeight: 5 }), '4'],
  ['argocd.argoproj.io/sync-wave', Delivery.argoCd({ syncWave: -3 }), '-3'],
])('the copies follow the Job\'s own order: %s', (annotation, delivery, expected) => {
  // GIVEN a Job of another weight or wave WHEN synthesized THEN its copies come just before it
  const { named, job } = ledgerly(delivery);
  const copy = named('Secret', `${JOB}-ledgerly-secrets`);
  expect(copy.metadata.annotations[annotation]).toBe(expected);
  expect(before(copy, job)).toBe(true);
});

test('a Secret the App defines in another namespace is not the one the Job reads', () => {
  // GIVEN a Secret of the same name in another namespace
  const app = Testing.app();
  const chart = new Chart(app, 'ledgerly', { namespace: 'ledgerly' });
  new MigratedService(chart, 'web', { ...MINIMAL, delivery: Delivery.helm(), secretNames: ['ledgerly-secrets'] });
  new kplus.Secret(new Chart(app, 'other', { namespace: 'other' }), 'secrets', { metadata: { name: 'ledgerly-secrets' } });
  // THEN no copy
  expect(Testing.synth(chart).filter((m: any) => m.metadata.annotations?.[HOOK_COPY_OF_ANNOTATION] !== undefined)).toEqual([]);
});

test('App.synthYaml, the path cdk8s synth takes, writes the copies too', () => {
  // GIVEN the app synthesized whole, as `cdk8s synth` does, not chart by chart
  const app = Testing.app();
  Delivery.setDefault(app, Delivery.helm());
  const chart = new Chart(app, 'ledgerly', { namespace: 'ledgerly' });
  new MigratedService(chart, 'web', { ...MINIMAL, configMapNames: ['ledgerly-config'] });
  new kplus.ConfigMap(chart, 'config', { metadata: { name: 'ledgerly-config' }, data: { LOG_LEVEL: 'info' } });
  const yaml = app.synthYaml();
  // THEN the copy is written once, and the Job reads it
  expect(yaml.match(new RegExp(`name: ${JOB}-ledgerly-config$`, 'gm'))).toHaveLength(2);
  expect(yaml).toContain(`configMapRef:\n                name: ${JOB}-ledgerly-config`);
});

test('an object the user made a hook already is read by its own name', () => {
  // GIVEN a ConfigMap the user annotated as a pre-install hook
  const chart = new Chart(Testing.app(), 'ledgerly');
  new MigratedService(chart, 'web', { ...MINIMAL, delivery: Delivery.helm(), configMapNames: ['ledgerly-config'] });
  new ApiObject(chart, 'config', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'ledgerly-config', annotations: { 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '-10' } },
  });
  const manifests = Testing.synth(chart);
  // THEN no copy, and the Job reads it
  expect(manifests.filter((m: any) => m.metadata.annotations?.[HOOK_COPY_OF_ANNOTATION] !== undefined)).toEqual([]);
  const job = manifests.find((m: any) => m.kind === 'Job' && m.metadata.name === JOB);
  expect(JSON.stringify(job)).toContain('"name":"ledgerly-config"');
});

describe.each([['flux', Delivery.flux()], ['kubectl', Delivery.kubectl()]])('%s', (_engine, delivery) => {
  test('applies everything at once: no copies, the Job reads the objects', () => {
    // GIVEN the app under an engine that applies every object together
    const { manifests, migrate } = ledgerly(delivery);
    // THEN nothing is copied
    expect(manifests.filter((m: any) => m.metadata.annotations?.[HOOK_COPY_OF_ANNOTATION] !== undefined)).toEqual([]);
    expect(migrate.envFrom).toContainEqual({ configMapRef: { name: 'ledgerly-config' } });
  });
});

test('an image pull secret and a volume of the App are copied too', () => {
  // GIVEN a migration whose pod pulls with a Secret of the chart and mounts a ConfigMap of it
  const chart = new Chart(Testing.app(), 'ledgerly');
  const migration = new DatabaseMigration(chart, 'web', {
    ...MINIMAL, delivery: Delivery.argoCd(), imagePullSecretName: 'registry',
  });
  const files = new kplus.ConfigMap(chart, 'files', { metadata: { name: 'migration-files' }, data: { 'a.sql': 'select 1' } });
  new ApiObject(chart, 'registry', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'registry' }, type: 'kubernetes.io/dockerconfigjson' });
  const volume = kplus.Volume.fromConfigMap(chart, 'vol', files);
  migration.migrationContainer.mount('/sql', volume);
  const manifests = Testing.synth(chart);
  const job = manifests.find((m: any) => m.kind === 'Job' && m.metadata.name === JOB);
  // THEN the pod reads the copies
  expect(job.spec.template.spec.imagePullSecrets).toEqual([{ name: `${JOB}-registry` }]);
  expect(job.spec.template.spec.volumes.find((v: any) => v.configMap?.name === `${JOB}-migration-files`)).toBeDefined();
  expect(manifests.find((m: any) => m.metadata.name === `${JOB}-registry`).type).toBe('kubernetes.io/dockerconfigjson');
});

describe('one engine per App', () => {
  test('Delivery.setDefault on the App applies to every migration without its own', () => {
    // GIVEN an App whose engine is set once, and two migrations that name none
    const app = new App();
    Delivery.setDefault(app, Delivery.argoCd());
    const chart = new Chart(app, 'ledgerly');
    const web = new MigratedService(chart, 'web', MINIMAL);
    const worker = new DatabaseMigration(chart, 'worker', { ...MINIMAL, imageTag: 'v1.0.0' });
    // THEN both are delivered by Argo CD
    expect(web.delivery.engine).toBe('argocd');
    expect(worker.delivery.engine).toBe('argocd');
    expect(Delivery.of(chart).engine).toBe('argocd');
    expect(() => Testing.synth(chart)).not.toThrow();
  });

  test('without any, Flux', () => {
    const chart = new Chart(Testing.app(), 'ledgerly');
    expect(new MigratedService(chart, 'web', MINIMAL).delivery.engine).toBe('flux');
  });

  test('a second migration without delivery in an Argo CD App is refused at synth, naming both', () => {
    // GIVEN a service delivered by Argo CD, and a migration added later without delivery
    const chart = new Chart(Testing.app(), 'ledgerly');
    new MigratedService(chart, 'web', { ...MINIMAL, delivery: Delivery.argoCd() });
    new DatabaseMigration(chart, 'reports', MINIMAL);
    // THEN the synth refuses the mix, with both paths and the fix
    expect(() => Testing.synth(chart)).toThrow(
      /DatabaseMigration "ledgerly\/reports": delivery "flux" \(from the default.*\) is invalid: DatabaseMigration "ledgerly\/web\/Migration" of the same App is delivered by "argocd" \(from its delivery prop\).*Delivery.setDefault\(app, Delivery.argoCd\(\)\)/s);
  });

  test('a migration whose delivery disagrees with the App\'s default is refused', () => {
    const app = Testing.app();
    Delivery.setDefault(app, Delivery.helm());
    const chart = new Chart(app, 'ledgerly');
    new MigratedService(chart, 'web', MINIMAL);
    new MigratedService(new Chart(app, 'reports'), 'api', { ...MINIMAL, delivery: Delivery.argoCd() });
    expect(() => Testing.synth(chart)).toThrow(/"reports\/api\/Migration": delivery "argocd" \(from its delivery prop\) is invalid: .*"helm" \(from Delivery.setDefault\(the App\)\)/s);
  });

  test('setDefault after a migration took the default is refused', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'ledgerly');
    new MigratedService(chart, 'web', MINIMAL);
    expect(() => Delivery.setDefault(app, Delivery.argoCd()))
      .toThrow(/Delivery.setDefault\(the App\): delivery "argocd" is invalid: the migration "ledgerly\/web\/Migration" was created before this call.*Call Delivery.setDefault/);
  });

  test('setDefault refuses what is not a Delivery, and a second engine on the same scope', () => {
    const app = Testing.app();
    expect(() => Delivery.setDefault(app, 'argocd' as any)).toThrow(/delivery "argocd" is invalid: it must be a Delivery/);
    Delivery.setDefault(app, Delivery.argoCd());
    expect(() => Delivery.setDefault(app, Delivery.helm())).toThrow(/already set to "argocd"/);
  });
});
