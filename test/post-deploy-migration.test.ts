import { Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import * as fc from 'fast-check';
import { DatabaseMigration, DatabaseMigrationProps, Delivery, MigratedService, MigrationTool } from '../src';
import { checkAll, roleAllows } from './support/conformance';
import { container, MINIMAL, named, positionOf } from './support/manifests';
import { isDnsLabel } from '../src/shared/names';
import { identifiesRelease } from '../src/shared/release-tag';

const SHOP: DatabaseMigrationProps = {
  imageTag: 'v1.2.3',
  image: 'registry.example.com/shop-migration',
  migrationTool: MigrationTool.flyway({ locations: ['filesystem:/flyway/sql/expand'], postDeployLocations: ['filesystem:/flyway/sql/contract'] }),
  secretNames: ['shop-secrets'],
};

const image = 'registry.example.com/shop:v1.2.3';


/** A web Deployment, a search StatefulSet and a nightly CronJob, created before the migration. */
function shop(props: DatabaseMigrationProps = SHOP) {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  const web = new kplus.Deployment(chart, 'web', { metadata: { name: 'web' } });
  web.addContainer({ image });
  const search = new kplus.StatefulSet(chart, 'search', {
    metadata: { name: 'search' },
    service: new kplus.Service(chart, 'headless', { metadata: { name: 'search' }, clusterIP: 'None', ports: [{ port: 9200 }] }),
  });
  search.addContainer({ image });
  const nightly = new kplus.CronJob(chart, 'nightly', { metadata: { name: 'nightly' }, schedule: { expressionString: '0 3 * * *' } as any });
  nightly.addContainer({ image });
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  try {
    const migration = new DatabaseMigration(chart, 'shop', props);
    for (const workload of [web, search, nightly]) {
      migration.gate(workload);
    }
    return { migration, manifests: Testing.synth(chart) };
  } finally {
    warn.mockRestore();
  }
}

describe('a post-deploy migration', () => {
  // GIVEN a Flyway migration split into expand and contract locations, gating three workloads
  const { migration, manifests } = shop();
  const postJobName = migration.postDeploy!.jobName;
  const postJob = named(manifests, 'Job', postJobName);
  const pod = postJob.spec.template.spec;

  test('is a second Job, named <name>-post-migration-<tag>, of component post-migration', () => {
    expect(postJobName).toBe('shop-post-migration-v1-2-3-e3cad1a6f9');
    expect(postJob.metadata.labels['app.kubernetes.io/component']).toBe('post-migration');
    expect(postJob.spec.backoffLimit).toBe(0);
  });

  test('the pre-deploy Job runs only the expand migrations and the post-deploy Job the contract ones', () => {
    const pre = named(manifests, 'Job', migration.jobName).spec.template.spec;
    expect(container(pre, 'migrate').command).toEqual(
      ['flyway', 'migrate', '-locations=filesystem:/flyway/sql/expand', '-ignoreMigrationPatterns=*:missing,*:future']);
    expect(container(pod, 'migrate').command).toEqual(
      ['flyway', 'migrate', '-locations=filesystem:/flyway/sql/expand,filesystem:/flyway/sql/contract', '-outOfOrder=true']);
    // AND with the same image, tag and envFrom
    expect(container(pod, 'migrate').image).toBe(container(pre, 'migrate').image);
    expect(container(pod, 'migrate').envFrom).toEqual(container(pre, 'migrate').envFrom);
  });

  test('its pod first waits for the rollout of every gated Deployment and StatefulSet of this release; a CronJob imposes no wait', () => {
    const waiter = pod.initContainers[0];
    expect(waiter.name).toBe('wait-for-rollout');
    expect(waiter.args).toEqual(['rollout']);
    const env = Object.fromEntries(waiter.env.map((e: any) => [e.name, e.value]));
    expect(JSON.parse(env.ROLLOUT_WORKLOADS)).toEqual([{ kind: 'Deployment', name: 'web' }, { kind: 'StatefulSet', name: 'search' }]);
    expect(env.RELEASE_MIGRATION_JOB).toBe(migration.jobName);
  });

  test('only the rollout waiter gets a token; the contract migration does not', () => {
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe('shop-post-migration');
    const tokenMounted = (c: any) => (c.volumeMounts ?? []).some((m: any) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount');
    expect(tokenMounted(container(pod, 'wait-for-rollout'))).toBe(true);
    expect(tokenMounted(container(pod, 'migrate'))).toBe(false);
  });

  test('its account may read exactly the gated workloads, and its pod is the only one that runs as it', () => {
    const role = named(manifests, 'Role', 'shop-post-migration');
    for (const [resource, name] of [['deployments', 'web'], ['statefulsets', 'search']]) {
      for (const verb of ['list', 'watch']) {
        expect(roleAllows(role, { verb, apiGroup: 'apps', resource, name })).toBe(true);
      }
      expect(roleAllows(role, { verb: 'get', apiGroup: 'apps', resource, name })).toBe(false);
    }
    for (const request of [
      { verb: 'get', apiGroup: 'apps', resource: 'deployments', name: 'other' },
      { verb: 'list', apiGroup: 'apps', resource: 'deployments', name: '' },
      { verb: 'patch', apiGroup: 'apps', resource: 'deployments', name: 'web' },
      { verb: 'get', apiGroup: 'batch', resource: 'cronjobs', name: 'nightly' },
      { verb: 'get', apiGroup: '', resource: 'secrets', name: 'shop-secrets' },
    ]) {
      expect(roleAllows(role, request)).toBe(false);
    }
    expect(named(manifests, 'RoleBinding', 'shop-post-migration').subjects).toEqual(
      [{ apiGroup: '', kind: 'ServiceAccount', name: 'shop-post-migration', namespace: 'shop' }]);
    const runAs = manifests.filter((m) => JSON.stringify(m).includes('"serviceAccountName":"shop-post-migration"'));
    expect(runAs.map((m) => m.metadata.name)).toEqual([postJobName]);
  });

  test('comes after every gated workload in the YAML, although they were created before the migration', () => {
    for (const [kind, name] of [['Deployment', 'web'], ['StatefulSet', 'search'], ['CronJob', 'nightly']]) {
      expect(positionOf(manifests, kind, name)).toBeLessThan(positionOf(manifests, 'Job', postJobName));
    }
  });

  test('its deadline covers the wait for the rollout and then its own timeout', () => {
    // the pre-deploy queue and migration (1 h each) + start-up (10 min) + its own queue (1 h) + postDeployMigrationTimeout (defaults to 1 h)
    expect(postJob.spec.activeDeadlineSeconds).toBe(3600 + 3600 + 600 + 3600 + 3600);
    // AND its turn must come before its own migration's hour
    const queue = postJob.spec.template.spec.initContainers.find((c: any) => c.name === 'wait-for-turn');
    expect(queue.env.find((e: any) => e.name === 'QUEUE_TIMEOUT_SECONDS').value).toBe(`${3600 + 3600 + 600 + 3600}`);
  });

  test('passes the API-server, schema and restricted-profile checks', () => {
    const ours = manifests.filter((m) => !['web', 'search', 'nightly'].includes(m.metadata.name) || m.kind === 'ServiceAccount');
    expect(checkAll(ours)).toEqual([]);
  });
});

describe('per engine', () => {
  test.each([
    [Delivery.flux(), { 'kustomize.toolkit.fluxcd.io/force': 'Enabled', 'kustomize.toolkit.fluxcd.io/prune': 'disabled' }],
    [Delivery.kubectl(), {}],
    [Delivery.argoCd(), { 'argocd.argoproj.io/hook': 'PostSync', 'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation' }],
    [Delivery.helm({ hookWeight: 5 }), { 'helm.sh/hook': 'post-install,post-upgrade', 'helm.sh/hook-weight': '5', 'helm.sh/hook-delete-policy': 'before-hook-creation' }],
  ])('%#: the engine\'s post-deploy annotations, and the rollout waiter whatever the engine', (delivery, annotations) => {
    const { migration, manifests } = shop({ ...SHOP, delivery });
    const postJob = named(manifests, 'Job', migration.postDeploy!.jobName);
    expect(postJob.metadata.annotations ?? {}).toEqual(annotations);
    expect(postJob.spec.template.spec.initContainers.map((c: any) => c.name)).toEqual(['wait-for-rollout', 'wait-for-turn']);
  });
});

describe('choosing the post-deploy command', () => {
  const build = (props: Partial<DatabaseMigrationProps>) => () =>
    new DatabaseMigration(new Chart(Testing.app(), 'shop'), 'shop', { ...SHOP, ...props } as DatabaseMigrationProps);

  test('explicit commands for a tool without a documented split', () => {
    const { migration, manifests } = shop({
      ...SHOP,
      migrationTool: undefined,
      migrationCommand: ['npx', 'prisma', 'migrate', 'deploy', '--schema', 'prisma/expand/schema.prisma'],
      postDeployMigrationCommand: ['npx', 'prisma', 'migrate', 'deploy', '--schema', 'prisma/contract/schema.prisma'],
    });
    expect(container(named(manifests, 'Job', migration.postDeploy!.jobName).spec.template.spec, 'migrate').command)
      .toEqual(['npx', 'prisma', 'migrate', 'deploy', '--schema', 'prisma/contract/schema.prisma']);
  });

  test('a preset that runs every migration before the rollout is refused next to an explicit post-deploy command', () => {
    expect(build({ migrationTool: MigrationTool.prisma(), postDeployMigrationCommand: ['./contract'] })).toThrow(
      /postDeployMigrationCommand \["\.\/contract"\] is invalid: MigrationTool\.prisma\(\) runs every pending migration, contract ones included, in the pre-deploy Job/);
  });

  test('a tool with its own post-deploy command and an explicit one are refused together', () => {
    expect(build({ postDeployMigrationCommand: ['./contract'] })).toThrow(/already has a post-deploy command .*give one of them, not both/);
  });

  test('no post-deploy Job without a post-deploy command', () => {
    const migration = build({ migrationTool: MigrationTool.flyway() })();
    expect(migration.postDeploy).toBeUndefined();
  });

  test('a post-deploy migration that gates no workload with a rollout is refused at synth: it would run at once', () => {
    const chart = new Chart(Testing.app(), 'shop');
    const nightly = new kplus.CronJob(chart, 'nightly', { schedule: { expressionString: '0 3 * * *' } as any });
    nightly.addContainer({ image });
    new DatabaseMigration(chart, 'shop', SHOP).gate(nightly);
    expect(() => Testing.synth(chart)).toThrow(/the post-deploy migration waits for no workload/);
  });

  test('an object of yours with the post-deploy Job\'s name is refused at synth, like every object of the migration', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const web = new kplus.Deployment(chart, 'web');
    web.addContainer({ image });
    new DatabaseMigration(chart, 'shop', SHOP).gate(web);
    new kplus.ServiceAccount(chart, 'mine', { metadata: { name: 'shop-post-migration' } });
    expect(() => Testing.synth(chart)).toThrow(/the ServiceAccount "shop-post-migration" .* as "shop\/mine\/Resource"/);
  });

  test('an invalid post-deploy timeout names the prop', () => {
    expect(build({ postDeployMigrationTimeout: Duration.millis(10) })).toThrow(/postDeployMigrationTimeout "0.01s" is invalid/);
  });
});

describe('through MigratedService', () => {
  test('the post-deploy Job waits for the service Deployment, after the deployment-variables ConfigMap', () => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const svc = new MigratedService(chart, 'myapp', { ...MINIMAL, postDeployMigrationCommand: ['./contract'], deploymentVariables: true });
    const manifests = Testing.synth(chart);
    const postJob = named(manifests, 'Job', svc.migration.postDeploy!.jobName);
    const env = Object.fromEntries(postJob.spec.template.spec.initContainers[0].env.map((e: any) => [e.name, e.value]));
    expect(JSON.parse(env.ROLLOUT_WORKLOADS)).toEqual([{ kind: 'Deployment', name: 'myapp' }]);
    expect(positionOf(manifests, 'ConfigMap', 'myapp-deployment-variables')).toBeLessThan(positionOf(manifests, 'Job', postJob.metadata.name));
    expect(positionOf(manifests, 'Deployment', 'myapp')).toBeLessThan(positionOf(manifests, 'Job', postJob.metadata.name));
  });
});

describe('the post-deploy Job name', () => {
  const dockerTag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/).filter(identifiesRelease);
  const baseName = fc.stringMatching(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);

  test('is a DNS label of at most 63 characters, distinct from the pre-deploy Job\'s, for any name and tag', () => {
    fc.assert(fc.property(baseName, dockerTag, (name, imageTag) => {
      const migration = new DatabaseMigration(new Chart(Testing.app(), 'c'), 'm', { ...SHOP, name, imageTag });
      const postJobName = migration.postDeploy!.jobName;
      expect(isDnsLabel(postJobName)).toBe(true);
      expect(postJobName).not.toBe(migration.jobName);
    }), { numRuns: 150 });
  });

  test('differs for distinct tags', () => {
    fc.assert(fc.property(dockerTag, dockerTag, (a, b) => {
      fc.pre(a !== b);
      const name = (tag: string) => new DatabaseMigration(new Chart(Testing.app(), 'c'), 'shop', { ...SHOP, imageTag: tag }).postDeploy!.jobName;
      expect(name(a)).not.toBe(name(b));
    }), { numRuns: 150 });
  });
});
