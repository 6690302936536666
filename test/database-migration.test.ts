import { ApiObject, App, Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import * as fc from 'fast-check';
import { DatabaseMigration, DatabaseMigrationProps, MigratedService, MigrationTool, MigrationWarnings } from '../src';
import { checkAll, checkApiServerRules, roleAllows } from './support/conformance';
import { allOfKind, container, MINIMAL, named, oneOfKind, positionOf, waitedJob } from './support/manifests';
import { withWarnings } from './support/warnings';
import { isDnsLabel, versionedName } from '../src/shared/names';
import { identifiesRelease } from '../src/shared/release-tag';

const SHOP: DatabaseMigrationProps = {
  imageTag: 'v1.2.3',
  image: 'registry.example.com/shop-migration',
  migrationTool: MigrationTool.prisma(),
  configMapNames: ['shop-config'],
  secretNames: ['shop-secrets'],
};

/** A chart in namespace "shop". */
function shopChart(app: App = Testing.app()): Chart {
  return new Chart(app, 'shop', { namespace: 'shop' });
}

function podSpec(manifest: any): any {
  return manifest.kind === 'CronJob' ? manifest.spec.jobTemplate.spec.template.spec
    : manifest.kind === 'Pod' ? manifest.spec : manifest.spec.template.spec;
}

const image = 'registry.example.com/shop:v1.2.3';

/** One workload of every kind gate() accepts, created BEFORE the migration so creation order cannot order them. */
function everyWorkloadKind(chart: Chart) {
  const sa = (name: string) => new kplus.ServiceAccount(chart, `${name}-sa`, { metadata: { name } });
  const web = new kplus.Deployment(chart, 'web', { metadata: { name: 'web' }, serviceAccount: sa('web') });
  web.addContainer({ name: 'web', image });
  const worker = new kplus.Deployment(chart, 'worker', { metadata: { name: 'worker' } });
  worker.addContainer({ name: 'worker', image });
  const nightly = new kplus.CronJob(chart, 'nightly', { metadata: { name: 'nightly' }, schedule: { expressionString: '0 3 * * *' } as any, serviceAccount: sa('nightly') });
  nightly.addContainer({ name: 'report', image });
  const search = new kplus.StatefulSet(chart, 'search', {
    metadata: { name: 'search' },
    serviceAccount: sa('search'),
    service: new kplus.Service(chart, 'search-headless', { metadata: { name: 'search-headless' }, clusterIP: 'None', ports: [{ port: 9200 }] }),
  });
  search.addContainer({ name: 'search', image });
  const agent = new kplus.DaemonSet(chart, 'agent', { metadata: { name: 'agent' }, serviceAccount: sa('agent') });
  agent.addContainer({ name: 'agent', image });
  // A Job and a Pod are named per release (their pod template is immutable): created before the
  // migration, so named as migration.releaseName() would name them.
  const once = new kplus.Job(chart, 'once', { metadata: { name: versionedName('once-', SHOP.imageTag) }, serviceAccount: sa('once') });
  once.addContainer({ name: 'once', image });
  const debug = new kplus.Pod(chart, 'debug', { metadata: { name: versionedName('debug-', SHOP.imageTag) }, serviceAccount: sa('debug') });
  debug.addContainer({ name: 'debug', image });
  const legacy = new ApiObject(chart, 'legacy', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'legacy' },
    spec: {
      selector: { matchLabels: { app: 'legacy' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      progressDeadlineSeconds: 7800,
      template: {
        metadata: { labels: { app: 'legacy' } },
        spec: {
          serviceAccountName: 'legacy',
          initContainers: [{ name: 'warm-cache', image }],
          containers: [{ name: 'legacy', image, resources: { limits: { cpu: '1', memory: '1Gi' } } }],
        },
      },
    },
  });
  return { web, worker, nightly, search, agent, once, debug, legacy };
}

describe('gating every workload kind', () => {
  // GIVEN one workload of each kind, created before the migration
  const chart = shopChart();
  const workloads = everyWorkloadKind(chart);
  // WHEN one migration gates all of them
  const migration = new DatabaseMigration(chart, 'shop', SHOP);
  const gates = Object.values(workloads).map((workload) => migration.gate(workload));
  const { value: manifests, texts: printed } = withWarnings(() => Testing.synth(chart));
  const gated = Object.values(workloads).map((w) => ApiObject.of(w)).map((o) => named(manifests, o.kind, o.name));

  test.each(gated.map((m) => [`${m.kind} ${m.metadata.name}`, m]))('%s waits for this release\'s Job, first, with a token', (_label, manifest) => {
    const pod = podSpec(manifest);
    // THEN the waiter is the first init container and waits for exactly this Job
    expect(pod.initContainers[0].name).toBe('wait-for-shop-migration');
    expect(waitedJob(pod.initContainers[0])).toBe(migration.jobName);
    // AND the pod can authenticate as its own ServiceAccount, never the namespace's default
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.serviceAccountName).toBeDefined();
    expect(pod.serviceAccountName).not.toBe('default');
  });

  test('the Job, Role and RoleBinding come before every gated workload, although the workloads were created first', () => {
    for (const manifest of gated) {
      const at = positionOf(manifests, manifest.kind, manifest.metadata.name);
      expect(positionOf(manifests, 'Job', migration.jobName)).toBeLessThan(at);
      expect(positionOf(manifests, 'Role', 'shop-migration-reader')).toBeLessThan(at);
      expect(positionOf(manifests, 'RoleBinding', 'shop-migration-reader')).toBeLessThan(at);
    }
  });

  test('an L1 object keeps its own init containers and serializes its values untouched', () => {
    const pod = podSpec(named(manifests, 'Deployment', 'legacy'));
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['wait-for-shop-migration', 'warm-cache']);
    expect(pod.containers[0].resources).toEqual({ limits: { cpu: '1', memory: '1Gi' } });
    expect(pod.serviceAccountName).toBe('legacy');
    // AND the waiter's own quantities are plain strings, as the API server expects
    expect(pod.initContainers[0].resources).toEqual({ limits: { cpu: '200m', memory: '128Mi' }, requests: { cpu: '10m', memory: '64Mi' } });
  });

  test('a workload without a ServiceAccount gets one of its own, without a token of its own', () => {
    const worker = gates[1];
    expect(worker.serviceAccount).toBeDefined();
    expect(worker.serviceAccountName).toBe('worker');
    const account = named(manifests, 'ServiceAccount', 'worker');
    expect(account.automountServiceAccountToken).toBe(false);
    expect(podSpec(named(manifests, 'Deployment', 'worker')).serviceAccountName).toBe('worker');
    expect(positionOf(manifests, 'ServiceAccount', 'worker')).toBeLessThan(positionOf(manifests, 'Deployment', 'worker'));
  });

  test('one Role names the Job; one RoleBinding binds it to every gated account, namespace explicit', () => {
    expect(allOfKind(manifests, 'Role').map((r) => r.metadata.name)).toEqual(['shop-migration-recorder', 'shop-migration-queue', 'shop-migration-reader']);
    const binding = named(manifests, 'RoleBinding', 'shop-migration-reader');
    expect(binding.subjects.map((s: any) => s.name).sort()).toEqual(
      ['agent', 'debug', 'legacy', 'nightly', 'once', 'search', 'web', 'worker']);
    for (const subject of binding.subjects) {
      expect(subject).toMatchObject({ kind: 'ServiceAccount', namespace: 'shop' });
    }
  });

  test('each gated account may read this release\'s Job, and nothing else', () => {
    const role = named(manifests, 'Role', 'shop-migration-reader');
    expect(roleAllows(role, { verb: 'watch', apiGroup: 'batch', resource: 'jobs', name: migration.jobName })).toBe(true);
    for (const request of [
      { verb: 'get', apiGroup: 'batch', resource: 'jobs', name: 'shop-migration-v1-2-2-0000000000' },
      { verb: 'list', apiGroup: 'batch', resource: 'jobs', name: '' },
      { verb: 'delete', apiGroup: 'batch', resource: 'jobs', name: migration.jobName },
      { verb: 'get', apiGroup: '', resource: 'secrets', name: 'shop-secrets' },
    ]) {
      expect(roleAllows(role, request)).toBe(false);
    }
  });

  test('everything passes the API-server, schema and restricted-profile checks', () => {
    // (the users' own containers are theirs to secure: the checks cover the rest of every object)
    expect(checkApiServerRules(manifests.filter((m) => m.metadata.name !== 'search-headless'))).toEqual([]);
    const userWorkloads = Object.values(workloads).map((w) => ApiObject.of(w).name);
    expect(checkAll(manifests.filter((m) => ![...userWorkloads, 'search-headless']
      .includes(m.metadata.name) || m.kind === 'ServiceAccount'))).toEqual([]);
  });

  test('workloads that can lose capacity while they wait are warned about, and their strategy is left alone', () => {
    const warnings = migration.warnings.join('\n');
    // cdk8s-plus's 25% at its 2 replicas rounds down to no pod: as lint says (info), not a warning
    expect(warnings).not.toMatch(/Deployment "shop\/web": maxUnavailable/);
    expect(warnings).toMatch(/Deployment "shop\/web": progressDeadlineSeconds \(600\) is not longer than the migration timeout/);
    expect(warnings).toMatch(/StatefulSet "shop\/search": a StatefulSet replaces its pods in place/);
    expect(warnings).toMatch(/DaemonSet "shop\/agent": maxUnavailable/);
    // the L1 Deployment already rolls out without losing capacity
    expect(warnings).not.toMatch(/shop\/legacy"/);
    // AND each is printed once at synth, by its id
    expect(printed).toHaveLength(migration.warnings.length);
    expect(printed.map((text) => /^\[WARNING (MS\d+) /.exec(text)?.[1])).toEqual(expect.arrayContaining(['MS101', 'MS102', 'MS015']));
    expect(named(manifests, 'Deployment', 'web').spec.strategy.rollingUpdate).toEqual({ maxSurge: '25%', maxUnavailable: '25%' });
  });
});

describe('two migrations on one workload (two databases)', () => {
  // GIVEN a workload and two migrations, each of its own database
  const chart = shopChart();
  // (with a progress deadline that covers the migrations, which the tests below do not look at)
  const web = new kplus.Deployment(chart, 'web', { metadata: { name: 'web' }, progressDeadline: Duration.hours(3), serviceAccount: new kplus.ServiceAccount(chart, 'sa', { metadata: { name: 'web' } }) });
  web.addContainer({ name: 'web', image });
  const orders = new DatabaseMigration(chart, 'orders', { ...SHOP, image: 'registry.example.com/orders-migration', secretNames: ['orders-database'] });
  const billing = new DatabaseMigration(chart, 'billing', { ...SHOP, image: 'registry.example.com/billing-migration', secretNames: ['billing-database'] });
  // WHEN both gate it
  orders.gate(web);
  billing.gate(web);
  const manifests = Testing.synth(chart);

  test('the pod waits for both Jobs, in containers of distinct names', () => {
    const pod = podSpec(named(manifests, 'Deployment', 'web'));
    const waiters = pod.initContainers.filter((c: any) => c.name.startsWith('wait-for-'));
    expect(waiters.map((c: any) => [c.name, waitedJob(c)]).sort()).toEqual([
      ['wait-for-billing-migration', billing.jobName],
      ['wait-for-orders-migration', orders.jobName],
    ]);
    expect(new Set(pod.volumes.map((v: any) => v.name)).size).toBe(pod.volumes.length);
    expect(checkApiServerRules(manifests)).toEqual([]);
  });

  test('each migration binds its own Role to the workload\'s account', () => {
    for (const migration of [orders, billing]) {
      const binding = named(manifests, 'RoleBinding', `${migration.name}-migration-reader`);
      expect(binding.subjects).toEqual([{ apiGroup: '', kind: 'ServiceAccount', name: 'web', namespace: 'shop' }]);
      expect(named(manifests, 'Role', `${migration.name}-migration-reader`).rules[0].resourceNames).toEqual([migration.jobName]);
    }
  });
});

describe('MigratedService is a DatabaseMigration gating a Deployment', () => {
  test('svc.migration.gate(worker) makes a worker wait for the same Job', () => {
    // GIVEN a worker created before the service
    const chart = shopChart();
    const worker = new kplus.Deployment(chart, 'worker', {
      metadata: { name: 'shop-worker' },
      strategy: kplus.DeploymentStrategy.rollingUpdate({ maxUnavailable: kplus.PercentOrAbsolute.absolute(0) }),
      progressDeadline: Duration.minutes(135),
    });
    worker.addContainer({ name: 'worker', image });
    const svc = new MigratedService(chart, 'shop', { ...MINIMAL, port: 3000 });
    // WHEN the service's migration gates it
    const gate = svc.migration.gate(worker);
    const manifests = Testing.synth(chart);
    // THEN it waits for the service's own Job, after which it is ordered
    const pod = podSpec(named(manifests, 'Deployment', 'shop-worker'));
    expect(waitedJob(container(pod, svc.migration.waiterContainerName))).toBe(svc.jobName);
    expect(positionOf(manifests, 'Job', svc.jobName)).toBeLessThan(positionOf(manifests, 'Deployment', 'shop-worker'));
    // AND the one RoleBinding now names both accounts
    expect(named(manifests, 'RoleBinding', 'shop-migration-reader').subjects.map((s: any) => s.name)).toEqual(['shop', gate.serviceAccountName]);
    // AND a worker that cannot lose capacity is not warned about
    expect(svc.warnings).toEqual([]);
  });

  test('the service Deployment never takes a serving pod down for one that waits', () => {
    const chart = shopChart();
    new MigratedService(chart, 'shop', MINIMAL);
    const deployment = oneOfKind(Testing.synth(chart), 'Deployment');
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } });
    // AND the rollout's progress deadline covers the queue (1 h), the migration's timeout (1 h) and start-up (10 min)
    expect(deployment.spec.progressDeadlineSeconds).toBe(7800);
  });
});

describe('what gate() refuses', () => {
  test('a construct that is not a workload, naming it and what gate() accepts', () => {
    const chart = shopChart();
    const migration = new DatabaseMigration(chart, 'shop', SHOP);
    const config = new kplus.ConfigMap(chart, 'config', {});
    expect(() => migration.gate(config)).toThrow(
      /DatabaseMigration "shop\/shop": gate\(workload\) "shop\/config" is invalid: it synthesizes a ConfigMap\. gate\(\) accepts .*Deployment, StatefulSet, DaemonSet/);
    expect(() => migration.gate(new Construct(chart, 'empty'))).toThrow(/it synthesizes no single ApiObject/);
  });

  test('a workload in another namespace, since the waiter reads its own namespace', () => {
    const app = Testing.app();
    const migration = new DatabaseMigration(shopChart(app), 'shop', SHOP);
    const other = new kplus.Deployment(new Chart(app, 'other', { namespace: 'other' }), 'web');
    other.addContainer({ image });
    expect(() => migration.gate(other)).toThrow(/is in namespace "other" but the migration Job in "shop"/);
  });

  test('the same workload twice', () => {
    const chart = shopChart();
    const migration = new DatabaseMigration(chart, 'shop', SHOP);
    const web = new kplus.Deployment(chart, 'web');
    web.addContainer({ image });
    migration.gate(web);
    expect(() => migration.gate(web)).toThrow(/already gated by this migration/);
  });
});

describe('objects that would overwrite each other on apply', () => {
  test('two MigratedServices with one name in one namespace are refused at synth, naming both', () => {
    // GIVEN two services both named shop
    const chart = shopChart();
    new MigratedService(chart, 'a', { ...MINIMAL, name: 'shop' });
    new MigratedService(chart, 'b', { ...MINIMAL, name: 'shop' });
    // THEN synthesis fails and names both construct paths
    expect(() => Testing.synth(chart)).toThrow(/\[shop\/a\] MigratedService "shop\/a" and MigratedService "shop\/b" share the name "shop" in namespace "shop": \d+ of their objects .*the Deployment "shop"/);
  });

  test('a user object with the name of one of the migration\'s objects is refused too, in any chart of the App', () => {
    const app = Testing.app();
    new DatabaseMigration(shopChart(app), 'shop', SHOP);
    new kplus.Role(new Chart(app, 'rbac', { namespace: 'shop' }), 'mine', { metadata: { name: 'shop-migration-reader' } });
    expect(() => app.synthYaml()).toThrow(/the Role "shop-migration-reader" .* as "rbac\/mine\/Resource"/);
  });

  test('a collision added after a first synth is still refused at the next one', () => {
    // GIVEN an App that synthesized cleanly once
    const chart = shopChart();
    new MigratedService(chart, 'a', { ...MINIMAL, name: 'shop' });
    expect(() => Testing.synth(chart)).not.toThrow();
    // WHEN a colliding object is added afterwards
    new kplus.ServiceAccount(chart, 'late', { metadata: { name: 'shop' } });
    // THEN the next synth refuses it
    expect(() => Testing.synth(chart)).toThrow(/the ServiceAccount "shop" .* as "shop\/late\/Resource"/);
  });

  test('the same name in two namespaces is fine', () => {
    const app = Testing.app();
    new MigratedService(new Chart(app, 'a', { namespace: 'a' }), 'shop', MINIMAL);
    new MigratedService(new Chart(app, 'b', { namespace: 'b' }), 'shop', MINIMAL);
    expect(() => app.synthYaml()).not.toThrow();
  });
});

describe('names', () => {
  test('a 63-character base name is accepted, and every derived name still fits', () => {
    const name = 'payments-ledger-reconciliation-service-api-and-friends-01234567';
    expect(name).toHaveLength(63);
    const chart = shopChart();
    const svc = new MigratedService(chart, 'svc', { ...MINIMAL, name, deploymentVariables: true, port: 80 });
    const manifests = Testing.synth(chart);
    expect(oneOfKind(manifests, 'Deployment').metadata.name).toBe(name);
    expect(svc.jobName).toMatch(/^payments-ledger-reconciliation-se-[0-9a-f]{8}-migration-[0-9a-f]{10}$/);
    expect(checkAll(manifests)).toEqual([]);
  });

  test('the pattern\'s Job name is unchanged', () => {
    const migration = new DatabaseMigration(shopChart(), 'myapp', { ...SHOP, imageTag: 'v1.2286938253.0' });
    expect(migration.jobName).toBe('myapp-migration-v1-2286938253-0-9ae7bb2475');
  });

  const baseName = fc.stringMatching(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
  const dockerTag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/).filter(identifiesRelease);

  test('for any base name and tag, every name is a DNS label and the gate waits for the Job that exists', () => {
    // A tag that conventionally moves (v2, 1.4) is accepted with a warning (MS105, tested in moving-tags.test.ts).
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    fc.assert(fc.property(baseName, dockerTag, (name, imageTag) => {
      const chart = shopChart();
      // (a progress deadline that covers the migration: the names are what this test looks at)
      const web = new kplus.Deployment(chart, 'web', { metadata: { name: 'web' }, progressDeadline: Duration.hours(3) });
      web.addContainer({ image });
      const migration = new DatabaseMigration(chart, 'm', { ...SHOP, name, imageTag });
      migration.gate(web);
      const manifests = Testing.synth(chart);
      for (const manifest of manifests) {
        expect(isDnsLabel(manifest.metadata.name)).toBe(true);
      }
      const pod = podSpec(named(manifests, 'Deployment', 'web'));
      for (const entry of [...pod.initContainers, ...pod.volumes]) {
        expect(isDnsLabel(entry.name)).toBe(true);
      }
      expect(waitedJob(container(pod, migration.waiterContainerName))).toBe(oneOfKind(manifests, 'Job').metadata.name);
    }), { numRuns: 100 });
    warn.mockRestore();
  });

  test('distinct base names give distinct names for every derived object, even when they share a long beginning', () => {
    const longPair = fc.tuple(fc.stringMatching(/^[a-z][-a-z0-9]{50}$/), fc.stringMatching(/^[a-z0-9]{1,11}$/), fc.stringMatching(/^[a-z0-9]{1,11}$/))
      .filter(([, a, b]) => a !== b)
      .map(([stem, a, b]) => [`${stem}${a}`, `${stem}${b}`]);
    fc.assert(fc.property(longPair, ([a, b]) => {
      const chart = shopChart();
      // (two services that read one Secret but queue apart: MS104, which this test does not look at)
      MigrationWarnings.acknowledge(chart, 'MS104', 'only the names are under test');
      const first = new DatabaseMigration(chart, 'a', { ...SHOP, name: a });
      const second = new DatabaseMigration(chart, 'b', { ...SHOP, name: b });
      expect(first.jobName).not.toBe(second.jobName);
      expect(first.waiterContainerName).not.toBe(second.waiterContainerName);
      expect(first.ledgerName).not.toBe(second.ledgerName);
      expect(() => Testing.synth(chart)).not.toThrow();
    }), { numRuns: 100 });
  });
});
