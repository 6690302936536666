import { Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { parse, stringify } from 'yaml';
import { DatabaseMigration, Delivery, MigratedService, MigrationTool, MigrationWaiter } from '../src';
import { fluxSubstitute, substitutionDisabled } from './support/flux-envsubst';

// Flux substitutes only when the Kustomization has variables; one is enough.
const VARS = { CLUSTER_ENV: 'production' };

/** Each object as Flux's post-build substitution leaves it: written as YAML, substituted, read back. */
function substituted(object: any): any {
  return substitutionDisabled(object) ? object : parse(fluxSubstitute(stringify(object), VARS));
}

const DELIVERIES: Array<[string, () => Delivery]> = [
  ['flux', () => Delivery.flux()],
  ['argoCd', () => Delivery.argoCd()],
  ['helm', () => Delivery.helm()],
  ['kubectl', () => Delivery.kubectl()],
];
const WAITERS: Array<[string, () => MigrationWaiter]> = [
  ['watch', () => MigrationWaiter.watch()],
  ['k8sWaitFor', () => MigrationWaiter.k8sWaitFor()],
  ['kubectlWait', () => MigrationWaiter.kubectlWait()],
];
const TOOLS: Array<[string, () => MigrationTool]> = [
  ['prisma', () => MigrationTool.prisma()],
  ['alembic', () => MigrationTool.alembic({ preDeployBranch: 'expand', postDeployBranch: 'contract' })],
  ['liquibase', () => MigrationTool.liquibase({ postDeployLabel: 'contract' })],
  ['flyway', () => MigrationTool.flyway({ locations: ['filesystem:/flyway/sql/expand'], postDeployLocations: ['filesystem:/flyway/sql/contract'] })],
  ['golangMigrate', () => MigrationTool.golangMigrate({ path: '/migrations/expand', postDeployPath: '/migrations/contract', postDeployDatabaseUrlEnv: 'CONTRACT_DATABASE_URL' })],
  ['django', () => MigrationTool.django()],
  ['rails', () => MigrationTool.rails()],
  ['knex', () => MigrationTool.knex({ migrationsDirectory: './migrations/expand', postDeployMigrationsDirectory: './migrations/contract' })],
  ['typeorm', () => MigrationTool.typeorm({ postDeployDataSource: 'dist/contract-data-source.js' })],
  ['sequelize', () => MigrationTool.sequelize({ migrationsPath: 'migrations/expand', postDeployMigrationsPath: 'migrations/contract' })],
];

/** A service and a worker gated by its migration, with the user's own `${CLUSTER_ENV}` in the worker and in the migration's env. */
function chartWith(delivery: Delivery, waiter: MigrationWaiter, migrationTool: MigrationTool): Chart {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  const web = new MigratedService(chart, 'web', {
    name: 'shop',
    imageTag: 'v1.2.3',
    image: 'registry.example.com/shop',
    migrationTool,
    delivery,
    waiter,
    env: { CLUSTER: kplus.EnvValue.fromValue('${CLUSTER_ENV}') },
  });
  const worker = new kplus.Deployment(chart, 'worker', { metadata: { name: 'shop-worker' } });
  worker.addContainer({ name: 'worker', image: 'registry.example.com/shop:v1.2.3', envVariables: { CLUSTER: kplus.EnvValue.fromValue('${CLUSTER_ENV}') } });
  web.migration.gate(worker);
  const jobs = new kplus.Deployment(chart, 'jobs', { metadata: { name: 'jobs' } });
  jobs.addContainer({ name: 'jobs', image: 'registry.example.com/jobs:v1' });
  new DatabaseMigration(chart, 'billing', { imageTag: 'v7', image: 'registry.example.com/billing', migrationTool, delivery, waiter }).gate(jobs);
  return chart;
}

/** The object with every value the user wrote as `${CLUSTER_ENV}` replaced as Flux replaces it. */
function withUserVariables(object: any): any {
  return JSON.parse(JSON.stringify(object).split('${CLUSTER_ENV}').join(VARS.CLUSTER_ENV));
}

describe('Flux post-build variable substitution', () => {
  beforeEach(() => {
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });

  // Every engine with every waiter, and every tool's commands under Flux.
  const CASES = [
    ...DELIVERIES.flatMap(([d, delivery]) => WAITERS.map(([w, waiter]) => [d, w, 'prisma', delivery, waiter, TOOLS[0][1]] as const)),
    ...TOOLS.slice(1).map(([t, tool]) => ['flux', 'watch', t, DELIVERIES[0][1], WAITERS[0][1], tool] as const),
  ];
  test.each(CASES)(
    'under Delivery.%s() with MigrationWaiter.%s() and MigrationTool.%s(), every object survives and only the user\'s variables change',
    (_d, _w, _t, delivery, waiter, tool) => {
      // GIVEN a service and a worker gated by its migration, and a second migration, with ${CLUSTER_ENV} in the user's own values
      const manifests = Testing.synth(chartWith(delivery(), waiter(), tool()));

      // WHEN Flux substitutes the Kustomization's variables in each object
      const after = manifests.map(substituted);

      // THEN no object fails the build, and each is what the library wrote, with the user's ${CLUSTER_ENV} replaced
      expect(after).toEqual(manifests.map(withUserVariables));
      // AND the user's variables were there to be substituted, in the worker and in the migration Job
      const env = (o: any, container: string) => (o.spec.template.spec.containers ?? []).concat(o.spec.template.spec.initContainers ?? [])
        .find((c: any) => c.name === container).env.find((e: any) => e.name === 'CLUSTER').value;
      expect(env(after.find((o: any) => o.kind === 'Deployment' && o.metadata.name === 'shop-worker'), 'worker')).toBe('production');
      expect(env(after.find((o: any) => o.kind === 'Job' && o.metadata.name.startsWith('shop-migration-')), 'migrate')).toBe('production');
    });

  test('no object the library emits opts out of the substitution: the user\'s variables in the Job are substituted too', () => {
    // GIVEN the default waiter, whose program is a ConfigMap
    const manifests = Testing.synth(chartWith(Delivery.flux(), MigrationWaiter.watch(), MigrationTool.prisma()));

    // THEN the ConfigMap is among them, and neither it nor any other object carries the opt-out
    expect(manifests.some((o) => o.kind === 'ConfigMap' && o.data?.['migration-waiter.js'] !== undefined)).toBe(true);
    expect(manifests.filter(substitutionDisabled)).toEqual([]);
  });
});

describe('the Flux substitution model', () => {
  test('fails on a ${ it cannot parse, as the old program\'s template literals did', () => {
    expect(() => fluxSubstitute('const a = `${x.y}`;', VARS)).toThrow(/variable substitution failed/);
    expect(() => fluxSubstitute('${CLUSTER_ENV', VARS)).toThrow(/variable substitution failed/);
  });

  test('replaces ${NAME} and defaults, empties an unset one, and leaves $NAME and the $${ escape alone', () => {
    expect(fluxSubstitute('${CLUSTER_ENV} ${UNSET} ${UNSET:-eu} $CLUSTER_ENV $${CLUSTER_ENV} a\\\\b', VARS))
      .toBe('production  eu $CLUSTER_ENV ${CLUSTER_ENV} a\\b');
  });
});
