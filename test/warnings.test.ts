import { ApiObject, App, Chart, Duration, JsonPatch, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { DatabaseMigration, DatabaseMigrationProps, MigratedService, MigrationTool, MigrationWarnings } from '../src';
import { named } from './support/manifests';

const SHOP: DatabaseMigrationProps = {
  imageTag: 'v1.2.3',
  image: 'registry.example.com/shop',
  migrationTool: MigrationTool.prisma(),
};

let printed: string[];
beforeEach(() => {
  printed = [];
  jest.spyOn(console, 'warn').mockImplementation((message: string) => {
    printed.push(message);
  });
});
afterEach(() => {
  jest.restoreAllMocks();
  delete process.env[MigrationWarnings.STRICT_ENV_VARIABLE];
});

/** A chart with a StatefulSet gated by a migration: the StatefulSet warning (MS101) is raised at synth. */
function gatedStatefulSet(app: App = Testing.app()) {
  const chart = new Chart(app, 'shop', { namespace: 'shop' });
  const search = new kplus.StatefulSet(chart, 'search', {
    metadata: { name: 'search' },
    service: new kplus.Service(chart, 'headless', { metadata: { name: 'search' }, clusterIP: 'None', ports: [{ port: 9200 }] }),
  });
  search.addContainer({ name: 'search', image: 'registry.example.com/search:v1.2.3' });
  new DatabaseMigration(chart, 'db', SHOP).gate(search);
  return { app, chart, search };
}

describe('warnings have stable ids', () => {
  test('a printed warning starts with its id and name, and says how to acknowledge it', () => {
    const { chart } = gatedStatefulSet();
    Testing.synth(chart);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^\[WARNING MS101 replaced-in-place\] DatabaseMigration "shop\/db": StatefulSet "shop\/search": a StatefulSet replaces its pods in place/);
    expect(printed[0]).toMatch(/MigrationWarnings\.acknowledge\(<"shop\/search" or a construct above it>, 'MS101', '<reason>'\)/);
  });
});

describe('acknowledging a warning', () => {
  test('an acknowledged warning is not printed, and does not fail a strict synth', () => {
    const { app, chart, search } = gatedStatefulSet();
    MigrationWarnings.acknowledge(search, 'MS101', 'one replica less during a migration is fine for search');
    MigrationWarnings.strict(app);
    expect(() => Testing.synth(chart)).not.toThrow();
    expect(printed).toEqual([]);
  });

  test('by name, on a chart, after the construct raised it', () => {
    // GIVEN a migration with a TTL, which warns in its constructor
    const chart = new Chart(Testing.app(), 'shop');
    new DatabaseMigration(chart, 'db', { ...SHOP, ttlAfterFinished: Duration.minutes(10) });
    // WHEN the chart acknowledges it afterwards
    MigrationWarnings.acknowledge(chart, 'waited-job-ttl', 'our waiter reads the ledger, and Flux does not prune this namespace');
    Testing.synth(chart);
    // THEN nothing is printed
    expect(printed).toEqual([]);
  });

  test.each([
    ['MS999', 'reason', /id "MS999" is invalid: it is not a warning id or name. The warnings are: MS005 waited-job-ttl, MS015/],
    ['MS101', ' ', /reason " " is invalid: an acknowledgment gives its reason/],
  ])('%s with reason %j is refused', (id, reason, message) => {
    expect(() => MigrationWarnings.acknowledge(new Chart(Testing.app(), 'c'), id, reason)).toThrow(message);
  });
});

describe('strict mode', () => {
  test('an unacknowledged warning raised while writing a workload fails the synth, with its id', () => {
    const { app, chart } = gatedStatefulSet();
    MigrationWarnings.strict(app);
    expect(() => Testing.synth(chart)).toThrow(/\[MS101 replaced-in-place\] .*Warnings are strict in this App.*MigrationWarnings.acknowledge/);
  });

  test('an unacknowledged warning raised by a constructor fails the synth, also through the environment variable', () => {
    process.env[MigrationWarnings.STRICT_ENV_VARIABLE] = 'true';
    const chart = new Chart(Testing.app(), 'shop');
    new DatabaseMigration(chart, 'db', { ...SHOP, ttlAfterFinished: Duration.minutes(10) });
    expect(() => Testing.synth(chart)).toThrow(/\[MS005 waited-job-ttl\] DatabaseMigration "shop\/db": ttlAfterFinished is set/);
  });

  test('a clean App passes', () => {
    const app = Testing.app();
    MigrationWarnings.strict(app);
    const chart = new Chart(app, 'shop', { namespace: 'shop' });
    new MigratedService(chart, 'web', SHOP);
    expect(() => Testing.synth(chart)).not.toThrow();
  });
});

describe('the DaemonSet advice', () => {
  test('applied verbatim, it yields a surge strategy and silences the warning', () => {
    // GIVEN a gated DaemonSet, first without a strategy
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const agent = new kplus.DaemonSet(chart, 'agent', { metadata: { name: 'agent' } });
    agent.addContainer({ name: 'agent', image: 'registry.example.com/agent:v1.2.3' });
    const migration = new DatabaseMigration(chart, 'db', SHOP);
    migration.gate(agent);
    Testing.synth(chart);
    const advice = migration.warnings.join('\n');
    expect(advice).toMatch(/ApiObject\.of\(daemonSet\)\.addJsonPatch\(JsonPatch\.add\('\/spec\/updateStrategy', \{ type: 'RollingUpdate', rollingUpdate: \{ maxSurge: \{ value: 1 \}, maxUnavailable: \{ value: 0 \} \} \}\)\)/);
    // WHEN the advice is followed in a fresh App
    const chart2 = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const daemonSet = new kplus.DaemonSet(chart2, 'agent', { metadata: { name: 'agent' } });
    daemonSet.addContainer({ name: 'agent', image: 'registry.example.com/agent:v1.2.3' });
    ApiObject.of(daemonSet).addJsonPatch(JsonPatch.add('/spec/updateStrategy', { type: 'RollingUpdate', rollingUpdate: { maxSurge: { value: 1 }, maxUnavailable: { value: 0 } } }));
    const migration2 = new DatabaseMigration(chart2, 'db', SHOP);
    migration2.gate(daemonSet);
    const manifests = Testing.synth(chart2);
    // THEN the strategy is in the YAML and no warning is raised
    expect(named(manifests, 'DaemonSet', 'agent').spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(migration2.warnings).toEqual([]);
  });
});
