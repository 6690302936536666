import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as plus28 from 'cdk8s-plus-28';
import * as plus33 from 'cdk8s-plus-33';
import * as fc from 'fast-check';
import {
  AlembicOptions, ArgoCdDeliveryOptions, DatabaseMigration, DatabaseMigrationProps, DatabaseQueue, DatabaseQueueProps, Delivery, FlywayOptions,
  GateOptions, GolangMigrateOptions,
  HelmDeliveryOptions, ImageTag, KnexOptions, KubectlWaitOptions, LiquibaseOptions, MigratedService, MigratedServiceProps, MigrationTool,
  MigrationToolOptions, MigrationWaiter, MigrationWarnings, RailsOptions, SequelizeOptions, ServiceProbe, ServiceStrategy, TypeOrmOptions,
  WatchWaiterOptions,
} from '../src';
import { checkAll } from './support/conformance';
import { quietWarnings, SHOP, shopChart } from './support/shop';

quietWarnings();

// Every prop and option of the public API, by name: the compiler refuses a list that misses one, so a
// new prop is fed wrong values here as soon as it is added.
type Names<T> = { readonly [K in keyof Required<T>]: true };
const SERVICE_PROPS: Names<MigratedServiceProps> = {
  imageTag: true,
  image: true,
  migrationImage: true,
  migrationCommand: true,
  migrationTool: true,
  name: true,
  command: true,
  args: true,
  replicas: true,
  autoscaled: true,
  configMapNames: true,
  secretNames: true,
  env: true,
  port: true,
  resources: true,
  migrationResources: true,
  readiness: true,
  liveness: true,
  startup: true,
  securityContext: true,
  podLabels: true,
  podAnnotations: true,
  imagePullPolicy: true,
  imagePullSecretNames: true,
  imagePullSecretName: true,
  waiter: true,
  strategy: true,
  progressDeadline: true,
  writablePaths: true,
  delivery: true,
  ttlAfterFinished: true,
  migrationTimeout: true,
  queueTimeout: true,
  postDeployMigrationCommand: true,
  postDeployMigrationTimeout: true,
  partOf: true,
  deploymentVariables: true,
};
const MIGRATION_PROPS: Names<DatabaseMigrationProps> = {
  imageTag: true,
  image: true,
  migrationCommand: true,
  migrationTool: true,
  name: true,
  configMapNames: true,
  secretNames: true,
  env: true,
  resources: true,
  securityContext: true,
  podLabels: true,
  podAnnotations: true,
  imagePullPolicy: true,
  imagePullSecretNames: true,
  imagePullSecretName: true,
  waiter: true,
  delivery: true,
  ttlAfterFinished: true,
  migrationTimeout: true,
  queueTimeout: true,
  postDeployMigrationCommand: true,
  postDeployMigrationTimeout: true,
  partOf: true,
  releaseImages: true,
};
const QUEUE_PROPS: Names<DatabaseQueueProps> = { name: true, migrations: true, applyWindow: true };
const GATE_OPTIONS: Names<GateOptions> = { shareEnvironment: true, allowOtherImageTags: true };
const PROBE_OPTIONS: Names<plus28.HttpGetProbeOptions> = {
  failureThreshold: true,
  initialDelaySeconds: true,
  periodSeconds: true,
  successThreshold: true,
  timeoutSeconds: true,
  port: true,
  scheme: true,
  host: true,
};

/** A factory, its options by name, and how a value it makes is used in a service (so that an accepted value is synthesized). */
interface Factory {
  readonly name: string;
  readonly create: (options: unknown) => unknown;
  readonly options: string[];
  readonly use: (made: any) => Partial<MigratedServiceProps>;
}
const tool = (made: any) => ({ migrationTool: made });
const factories: Factory[] = [
  ...([
    ['alembic', { preDeployBranch: true, postDeployBranch: true } satisfies Names<AlembicOptions>],
    ['liquibase', { postDeployLabel: true } satisfies Names<LiquibaseOptions>],
    ['flyway', { locations: true, postDeployLocations: true } satisfies Names<FlywayOptions>],
    ['golangMigrate', { path: true, databaseUrlEnv: true, postDeployPath: true, postDeployDatabaseUrlEnv: true } satisfies Names<GolangMigrateOptions>],
    ['rails', { appRoot: true, skipPostDeployMigrationsEnv: true } satisfies Names<RailsOptions>],
    ['knex', { migrationsDirectory: true, migrationsTableName: true, postDeployMigrationsDirectory: true, postDeployMigrationsTableName: true } satisfies Names<KnexOptions>],
    ['typeorm', { dataSource: true, postDeployDataSource: true } satisfies Names<TypeOrmOptions>],
    ['sequelize', { migrationsPath: true, postDeployMigrationsPath: true } satisfies Names<SequelizeOptions>],
  ] as Array<[string, object]>).map(([name, options]) => ({
    name: `MigrationTool.${name}`, create: (o: unknown) => (MigrationTool as any)[name](o), options: Object.keys(options), use: tool,
  })),
  {
    name: 'MigrationTool.custom',
    create: (o) => MigrationTool.custom(['./migrate'], o as any),
    use: tool,
    options: Object.keys({
      env: true, writablePaths: true, appWritablePaths: true, postDeployCommand: true, postDeployEnv: true,
    } satisfies Names<MigrationToolOptions>),
  },
  { name: 'Delivery.argoCd', create: (o) => Delivery.argoCd(o as any), options: Object.keys({ syncWave: true, hookDeletePolicy: true } satisfies Names<ArgoCdDeliveryOptions>), use: (made) => ({ delivery: made }) },
  { name: 'Delivery.helm', create: (o) => Delivery.helm(o as any), options: Object.keys({ hookWeight: true, hookDeletePolicy: true } satisfies Names<HelmDeliveryOptions>), use: (made) => ({ delivery: made }) },
  {
    name: 'MigrationWaiter.watch',
    create: (o) => MigrationWaiter.watch(o as any),
    use: (made) => ({ waiter: made }),
    options: Object.keys({ image: true, user: true, resources: true, programConfigMapName: true } satisfies Names<WatchWaiterOptions>),
  },
  { name: 'MigrationWaiter.k8sWaitFor', create: (o) => MigrationWaiter.k8sWaitFor(o as any), options: ['image', 'user', 'resources'], use: (made) => ({ waiter: made }) },
  {
    name: 'MigrationWaiter.kubectlWait',
    create: (o) => MigrationWaiter.kubectlWait(o as any),
    use: (made) => ({ waiter: made }),
    options: Object.keys({ image: true, user: true, resources: true, timeout: true } satisfies Names<KubectlWaitOptions>),
  },
  { name: 'ServiceProbe.fromHttpGet', create: (o) => ServiceProbe.fromHttpGet('/up', o as any), options: Object.keys(PROBE_OPTIONS), use: (made) => ({ port: 3000, readiness: made }) },
  {
    name: 'ServiceProbe.fromTcpSocket',
    create: (o) => ServiceProbe.fromTcpSocket(o as any),
    use: (made) => ({ port: 3000, liveness: made }),
    options: Object.keys(PROBE_OPTIONS).filter((o) => o !== 'scheme' && o !== 'host').concat('host'),
  },
  {
    name: 'ServiceProbe.fromCommand',
    create: (o) => ServiceProbe.fromCommand(['true'], o as any),
    use: (made) => ({ startup: made }),
    options: Object.keys(PROBE_OPTIONS).filter((o) => !['port', 'scheme', 'host'].includes(o)),
  },
  { name: 'ServiceStrategy.rollingUpdate', create: (o) => ServiceStrategy.rollingUpdate(o as any), options: ['maxSurge', 'maxUnavailable'], use: (made) => ({ strategy: made }) },
];
const WITHOUT_OPTIONS: Array<[string, (o: unknown) => unknown]> = [
  ['MigrationTool.prisma', (o) => (MigrationTool.prisma as any)(o)],
  ['MigrationTool.django', (o) => (MigrationTool.django as any)(o)],
  ['Delivery.flux', (o) => (Delivery.flux as any)(o)],
  ['Delivery.kubectl', (o) => (Delivery.kubectl as any)(o)],
  ['ServiceStrategy.recreate', (o) => (ServiceStrategy.recreate as any)(o)],
];

/** Values of every wrong type, shape and unit a prop can meet outside TypeScript. */
function wrongValues(): fc.Arbitrary<unknown> {
  const circular: any = { name: 'loop' };
  circular.self = circular;
  const elsewhere = new Chart(Testing.app(), 'elsewhere');
  const objects = [
    circular, [circular], { a: circular },
    plus33.DeploymentStrategy.recreate(), plus33.Probe.fromHttpGet('/up'), plus33.EnvValue.fromValue('x'), { X: plus33.EnvValue.fromValue('x') },
    plus33.Cpu.millis(500), plus33.PercentOrAbsolute.percent(25), plus33.ImagePullPolicy.ALWAYS,
    Duration.seconds(30), Size.mebibytes(512), MigrationTool.prisma(), Delivery.flux(), MigrationWaiter.watch(), ServiceStrategy.recreate(),
    new plus28.Secret(elsewhere, 'secret'), elsewhere, MigrationTool.prisma, () => 'x', new Date(0), Symbol('s'), BigInt(3), NaN, Infinity, -1, 0,
    '512Mi', '500m', '1h', '3600', 'true', '', ' ', 'argocd', 'Never', ['app-secrets', 3], { cpu: '500m' }, { memory: { request: '1Gi' } },
    { DEBUG: '0', WORKERS: 3 }, { 'app.kubernetes.io/name': 'x' },
  ];
  return fc.oneof(
    fc.constantFrom(...objects),
    fc.integer(), fc.double(), fc.string(), fc.boolean(),
    fc.array(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer(), fc.boolean()), { maxKeys: 3 }),
    fc.anything({ maxDepth: 2 }),
  );
}

/**
 * Runs `create`; when it throws, the error must be the library's: a plain Error (not a TypeError or
 * RangeError from deep inside) whose message names `owner` and `prop`. When it succeeds, the chart
 * must synthesize, and its objects pass the API server's rules: no silently wrong YAML.
 */
function expectLibraryErrorOrValidYaml(create: () => Chart, owner: string, prop: string, ignored?: RegExp): void {
  let chart: Chart;
  try {
    chart = create();
  } catch (error) {
    expectLibraryError(error, owner, prop);
    return;
  }
  let manifests: any[];
  try {
    manifests = Testing.synth(chart);
  } catch (error) {
    expectLibraryError(error, '', prop);
    return;
  }
  // An env name that API servers from 1.32 accept (" ", "1BAD", '"') is written with warning MS103 (tested in
  // bad-input.test.ts); one they refuse (empty, or with "=") is refused by the library before it gets here.
  const acceptedWithWarning = /: env name ".*" must match \//;
  const problems = checkAll(manifests).filter((problem) => ignored === undefined || !ignored.test(problem));
  expect(problems.filter((problem) => !acceptedWithWarning.test(problem))).toEqual([]);
}

function expectLibraryError(error: unknown, owner: string, prop: string): void {
  expect(error).toBeInstanceOf(Error);
  const e = error as Error;
  if (e.constructor !== Error || !e.message.includes(owner) || !e.message.includes(prop) || !e.message.includes(' is invalid: ')) {
    throw new Error(`not a library error naming ${owner} and ${prop}: ${e.constructor.name}: ${e.message}`);
  }
}

const RUNS = { numRuns: 20 };

describe('every prop of the constructs, given a value of the wrong type, shape or unit', () => {
  test.each(Object.keys(SERVICE_PROPS))('MigratedService %s: a library error naming the construct and the prop, or valid YAML', (prop) => {
    // GIVEN valid props with one replaced by a value from outside TypeScript
    fc.assert(fc.property(wrongValues(), (value) => {
      // WHEN the service is created and synthesized THEN it fails with the library's message, or its YAML is valid
      expectLibraryErrorOrValidYaml(() => {
        const chart = shopChart();
        new MigratedService(chart, 'web', { ...SHOP, [prop]: value } as any);
        return chart;
      }, 'MigratedService "shop/web"', prop);
    }), RUNS);
  });

  test.each(Object.keys(MIGRATION_PROPS))('DatabaseMigration %s: a library error naming the construct and the prop, or valid YAML', (prop) => {
    fc.assert(fc.property(wrongValues(), (value) => {
      expectLibraryErrorOrValidYaml(() => {
        const chart = shopChart();
        new DatabaseMigration(chart, 'db', { ...SHOP, [prop]: value } as any);
        return chart;
      }, 'DatabaseMigration "shop/db"', prop);
    }), RUNS);
  });

  test.each(Object.keys(QUEUE_PROPS))('DatabaseQueue %s: a library error naming the construct and the prop, or valid YAML', (prop) => {
    fc.assert(fc.property(wrongValues(), (value) => {
      expectLibraryErrorOrValidYaml(() => {
        const chart = shopChart();
        new DatabaseQueue(chart, 'db', { [prop]: value } as any);
        return chart;
      }, 'DatabaseQueue "shop/db"', prop);
    }), RUNS);
  });

  test.each(Object.keys(GATE_OPTIONS))('gate() option %s: a library error naming gate() and the option, or valid YAML', (option) => {
    fc.assert(fc.property(wrongValues(), (value) => {
      expectLibraryErrorOrValidYaml(() => {
        const chart = shopChart();
        const migration = new DatabaseMigration(chart, 'db', SHOP);
        const worker = new plus28.Deployment(chart, 'worker');
        worker.addContainer({ name: 'worker', image: migration.releaseImage('registry.example.com/shop') });
        migration.gate(worker, { [option]: value } as any);
        return chart;
        // The worker's own security context is its author's: only what the gate adds is checked.
      }, 'DatabaseMigration "shop/db".gate()', option, /^\[PSS restricted\/.*containers\[worker\]/);
    }), RUNS);
  });

  test('null for any prop is refused, naming the prop, rather than read as unset', () => {
    // GIVEN each prop as null, as a config file with a value that failed to load gives it
    for (const prop of Object.keys(SERVICE_PROPS)) {
      // WHEN the service is created THEN the prop is named, with the fix
      expect(() => new MigratedService(shopChart(), 'web', { ...SHOP, [prop]: null } as any))
        .toThrow(new RegExp(`^MigratedService "shop/web": ${prop} null is invalid: it is .*To take the default, leave the prop out \\(undefined\\), not null.$`));
    }
  });

  test('props that are not an object at all are refused, naming the construct', () => {
    for (const props of [undefined, null, 'v1.2.3', 3, ['v1.2.3']]) {
      expect(() => new MigratedService(shopChart(), 'web', props as any)).toThrow(/^MigratedService "shop\/web": props .* is invalid: MigratedService takes an object of props/);
      expect(() => new DatabaseMigration(shopChart(), 'db', props as any)).toThrow(/^DatabaseMigration "shop\/db": props .* is invalid: DatabaseMigration takes an object of props/);
    }
  });
});

describe('every option of the factories, given a value of the wrong type, shape or unit', () => {
  const cases = factories.flatMap((factory) => factory.options.map((option) => [factory.name, option, factory] as const));

  test.each(cases)('%s option %s: a library error naming the factory and the option, or a value that synthesizes', (name, option, factory) => {
    fc.assert(fc.property(wrongValues(), (value) => {
      // GIVEN the option from outside TypeScript WHEN the factory is called THEN it fails with its message
      let made: unknown;
      try {
        made = factory.create({ [option]: value });
      } catch (error) {
        expectLibraryError(error, `${name}()`, option);
        return;
      }
      // OR what it makes works in a service
      expectLibraryErrorOrValidYaml(() => {
        const chart = shopChart();
        new MigratedService(chart, 'web', { ...SHOP, ...factory.use(made) } as any);
        return chart;
      }, 'MigratedService "shop/web"', '');
    }), RUNS);
  });

  test.each(cases)('%s option %s: null is refused', (name, option, factory) => {
    expect(() => factory.create({ [option]: null })).toThrow(new RegExp(`^${name.replace('.', '\\.')}\\(\\): ${option} null is invalid: `));
  });

  test.each(WITHOUT_OPTIONS)('%s takes no options, and refuses any', (name, create) => {
    fc.assert(fc.property(wrongValues().filter((v) => v !== undefined), (value) => {
      expect(() => create(value)).toThrow(`${name}(): options `);
      expect(() => create(value)).toThrow(`${name}() takes no arguments, so it would ignore this one.`);
    }), RUNS);
  });

  test.each(factories.map((f) => [f.name, f] as const))('%s refuses options that are not an object', (name, factory) => {
    for (const options of [null, 'x', 3, ['a'], true]) {
      expect(() => factory.create(options)).toThrow(new RegExp(`^${name.replace('.', '\\.')}\\(\\): options .* is invalid: the options are an object`));
    }
  });
});

describe('every positional argument, given a value of the wrong type', () => {
  const chart = shopChart();
  const cases: Array<[string, string, (value: any) => unknown]> = [
    ['MigrationTool.custom()', 'command', (v) => MigrationTool.custom(v)],
    ['ServiceProbe.fromHttpGet()', 'path', (v) => ServiceProbe.fromHttpGet(v)],
    ['ServiceProbe.fromCommand()', 'command', (v) => ServiceProbe.fromCommand(v)],
    ['ImageTag.fromEnv()', 'variable', (v) => ImageTag.fromEnv(v === undefined ? 'IMAGE_TAG_UNSET_HERE' : v)],
    ['ImageTag.fromContext()', 'scope', (v) => ImageTag.fromContext(v)],
    ['ImageTag.fromContext()', 'key', (v) => ImageTag.fromContext(chart, v === undefined ? 'unset' : v)],
    ['MigrationWarnings.acknowledge()', 'scope', (v) => MigrationWarnings.acknowledge(v, 'MS015', 'reason')],
    ['MigrationWarnings.acknowledge()', 'id', (v) => MigrationWarnings.acknowledge(chart, v, 'reason')],
    ['MigrationWarnings.acknowledge()', 'reason', (v) => MigrationWarnings.acknowledge(chart, 'MS015', v)],
    ['MigrationWarnings.strict()', 'scope', (v) => MigrationWarnings.strict(v)],
    ['DatabaseMigration "shop/db"', 'workload', (v) => new DatabaseMigration(shopChart(), 'db', SHOP).gate(v)],
    ['DatabaseMigration "shop/db"', 'releaseImage(repository)', (v) => new DatabaseMigration(shopChart(), 'db', SHOP).releaseImage(v)],
  ];

  test.each(cases)('%s %s: a library error naming the call and the argument, never a TypeError', (owner, argument, call) => {
    fc.assert(fc.property(wrongValues(), (value) => {
      try {
        call(value);
      } catch (error) {
        // ImageTag's "not set" message is the library's own, and names the variable or key rather than the argument
        if (owner.startsWith('ImageTag') && /is not set/.test((error as Error).message)) {
          return;
        }
        expectLibraryError(error, owner, argument);
      }
    }), RUNS);
  });
});
