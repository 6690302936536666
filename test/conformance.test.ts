import { App, Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import * as fc from 'fast-check';
import {
  ArgoCdHookDeletePolicy,
  Delivery,
  HelmHookDeletePolicy,
  MigratedService,
  MigratedServiceProps,
  MigrationTool,
  MigrationWaiter,
  ServiceProbe,
} from '../src';
import {
  checkAll,
  checkApiServerRules,
  checkLabelsAndAnnotations,
  checkNames,
  checkPodSecurityRestricted,
  checkWorkloads,
  Manifest,
  PSS_RESTRICTED_RULES,
  validateSchemas,
} from './support/conformance';
import { conventionallyMoves, identifiesRelease } from '../src/shared/release-tag';

/* eslint-disable @typescript-eslint/no-explicit-any */
// Manifests are plain JSON, and the self-tests below corrupt them on purpose.

// ---------------------------------------------------------------------------------------------
// The prop dimensions. Props are built from the chart because EnvValue.fromSecretValue needs a
// Secret construct in some scope.
// ---------------------------------------------------------------------------------------------

type PropsPart = (chart: Chart) => Partial<MigratedServiceProps>;
interface Option {
  readonly label: string;
  readonly part: PropsPart;
  readonly [fc.toStringMethod]?: () => string;
}
// fast-check prints a counterexample with `toStringMethod`: the label reads better than a closure.
const opt = (label: string, part: Partial<MigratedServiceProps> | PropsPart): Option =>
  ({ label, part: typeof part === 'function' ? part : () => part, [fc.toStringMethod]: () => JSON.stringify(label) });

const DELIVERIES: Option[] = [
  opt('Delivery.flux()', { delivery: Delivery.flux() }),
  opt('Delivery.argoCd()', { delivery: Delivery.argoCd() }),
  opt('Delivery.argoCd(syncWave -1, HookFailed)', {
    delivery: Delivery.argoCd({ syncWave: -1, hookDeletePolicy: ArgoCdHookDeletePolicy.HOOK_FAILED }),
  }),
  opt('Delivery.helm()', { delivery: Delivery.helm() }),
  opt('Delivery.helm(weight -5, hook-failed)', {
    delivery: Delivery.helm({ hookWeight: -5, hookDeletePolicy: HelmHookDeletePolicy.HOOK_FAILED }),
  }),
  opt('Delivery.kubectl()', { delivery: Delivery.kubectl() }),
];

const TOOLS: Option[] = [
  opt('MigrationTool.prisma()', { migrationTool: MigrationTool.prisma() }),
  opt('MigrationTool.alembic()', { migrationTool: MigrationTool.alembic() }),
  opt('MigrationTool.liquibase()', { migrationTool: MigrationTool.liquibase() }),
  opt('MigrationTool.flyway()', { migrationTool: MigrationTool.flyway() }),
  opt('MigrationTool.golangMigrate()', { migrationTool: MigrationTool.golangMigrate() }),
  opt('MigrationTool.golangMigrate(path, databaseUrlEnv)', {
    migrationTool: MigrationTool.golangMigrate({ path: '/app/db/migrations', databaseUrlEnv: 'PG_URL' }),
  }),
  opt('MigrationTool.django()', { migrationTool: MigrationTool.django() }),
  opt('MigrationTool.rails()', { migrationTool: MigrationTool.rails() }),
  opt('MigrationTool.rails(appRoot)', { migrationTool: MigrationTool.rails({ appRoot: '/srv/app/' }) }),
  opt('MigrationTool.knex()', { migrationTool: MigrationTool.knex() }),
  opt('MigrationTool.typeorm()', { migrationTool: MigrationTool.typeorm() }),
  opt('MigrationTool.typeorm(dataSource)', { migrationTool: MigrationTool.typeorm({ dataSource: 'build/db.js' }) }),
  opt('MigrationTool.sequelize()', { migrationTool: MigrationTool.sequelize() }),
  opt('MigrationTool.custom(command)', { migrationTool: MigrationTool.custom(['./bin/migrate', 'up']) }),
  opt('MigrationTool.custom(command, env, writablePaths)', {
    migrationTool: MigrationTool.custom(['sqitch', 'deploy'], { env: { SQITCH_USER: 'deploy' }, writablePaths: ['/var/cache/sqitch', '/tmp'] }),
  }),
  opt('migrationCommand', { migrationCommand: ['npm', 'run', 'migrate'] }),
  opt('migrationCommand with postDeployMigrationCommand', { migrationCommand: ['./expand'], postDeployMigrationCommand: ['./contract'] }),
  opt('MigrationTool.flyway(locations, postDeployLocations)', {
    migrationTool: MigrationTool.flyway({ locations: ['filesystem:/flyway/expand'], postDeployLocations: ['filesystem:/flyway/contract'] }),
  }),
  opt('MigrationTool.rails(skipPostDeployMigrationsEnv)', { migrationTool: MigrationTool.rails({ skipPostDeployMigrationsEnv: 'SKIP_POST_DEPLOYMENT_MIGRATIONS' }) }),
];

const WAITERS: Option[] = [
  opt('MigrationWaiter.watch()', { waiter: MigrationWaiter.watch() }),
  opt('MigrationWaiter.watch(image, user)', { waiter: MigrationWaiter.watch({ image: 'registry.example.com/mirror/node:24.11.0-alpine3.22', user: 1001 }) }),
  opt('MigrationWaiter.k8sWaitFor()', { waiter: MigrationWaiter.k8sWaitFor() }),
  opt('MigrationWaiter.kubectlWait()', { waiter: MigrationWaiter.kubectlWait() }),
  opt('MigrationWaiter.k8sWaitFor(image, user, resources)', {
    waiter: MigrationWaiter.k8sWaitFor({
      image: 'registry.example.com/mirror/k8s-wait-for:no-root-v2.0',
      user: 2000,
      resources: {
        cpu: { request: kplus.Cpu.millis(5), limit: kplus.Cpu.millis(50) },
        memory: { request: Size.mebibytes(16), limit: Size.mebibytes(64) },
      },
    }),
  }),
  opt('MigrationWaiter.kubectlWait(timeout, image)', {
    waiter: MigrationWaiter.kubectlWait({ timeout: Duration.minutes(10), image: 'registry.k8s.io/kubectl:v1.30.4' }),
  }),
];

const PORTS: Option[] = [opt('no port', {}), opt('port 8080', { port: 8080 }), opt('port 80', { port: 80 })];

const ENVS: Option[] = [
  opt('no env', {}),
  opt('env fromValue', { env: { LOG_LEVEL: kplus.EnvValue.fromValue('debug') } }),
  opt('env fromSecretValue', (chart) => ({
    env: {
      DB_PASSWORD: kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(chart, 'DbSecret', 'db-credentials'), key: 'password' }),
    },
  })),
  // Replacing a preset's variable (HOME) is refused (bad-input.test.ts), so it is not an option here.
  opt('env fromValue + fromSecretValue', (chart) => ({
    env: {
      LOG_LEVEL: kplus.EnvValue.fromValue('info'),
      DB_PASSWORD: kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(chart, 'DbSecret', 'db-credentials'), key: 'password' }),
    },
  })),
];

const TTLS: Option[] = [opt('no ttl', {}), opt('ttlAfterFinished 10m', { ttlAfterFinished: Duration.minutes(10) })];

const RESOURCES: Option[] = [
  opt('default resources', {}),
  opt('resources', {
    resources: {
      cpu: { request: kplus.Cpu.millis(250), limit: kplus.Cpu.millis(500) },
      memory: { request: Size.mebibytes(256), limit: Size.mebibytes(512) },
    },
  }),
  opt('resources requests only', { resources: { cpu: { request: kplus.Cpu.units(2) }, memory: { request: Size.gibibytes(1) } } }),
];

const MIGRATION_RESOURCES: Option[] = [
  opt('default migrationResources', {}),
  opt('migrationResources', {
    migrationResources: {
      cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.units(1) },
      memory: { request: Size.mebibytes(128), limit: Size.gibibytes(1) },
    },
  }),
];

const PULL_SECRETS: Option[] = [
  opt('no imagePullSecretName', {}),
  opt('imagePullSecretName', { imagePullSecretName: 'regcred' }),
  opt('imagePullSecretNames', { imagePullSecretNames: ['regcred', 'mirror-credentials'] }),
];

// Config the chart defines itself: under Argo CD and Helm the hook Job reads copies of it, made at synth.
const CONFIG: Option[] = [
  opt('config defined outside the chart', {}),
  opt('configMapNames and secretNames defined in the chart', (chart) => {
    new kplus.ConfigMap(chart, 'AppConfig', { metadata: { name: 'myapp-config' }, data: { DATABASE_HOST: 'db.shop' } });
    new kplus.Secret(chart, 'AppSecrets', { metadata: { name: 'myapp-secrets' }, stringData: { DATABASE_PASSWORD: 'not-a-real-password' } });
    return { configMapNames: ['myapp-config'], secretNames: ['myapp-secrets'] };
  }),
];

const POD_METADATA: Option[] = [
  opt('no pod metadata', {}),
  opt('podLabels + podAnnotations', {
    podLabels: { 'azure.workload.identity/use': 'true', 'team': 'payments' },
    podAnnotations: { 'prometheus.io/scrape': 'true', 'example.com/owner': 'payments team <payments@example.com>' },
  }),
];

const NAMESPACES: (string | undefined)[] = [undefined, 'shop'];

// Tags that are copied verbatim into names, and tags that must be sanitised and hashed.
const TAGS = ['v1.2.3', '3f2a9c1d', 'Release_2024.01-RC1', '_build.7', `v${'1234567890'.repeat(12)}abcdefg`];

interface Case {
  readonly name: string;
  readonly namespace?: string;
  readonly id: string;
  readonly props: (chart: Chart) => MigratedServiceProps;
}

function makeCase(label: string, namespace: string | undefined, tag: string, options: Option[], id = 'myapp'): Case {
  return {
    name: `${label} [ns=${namespace ?? 'none'}, tag=${tag.length > 20 ? `${tag.slice(0, 17)}...` : tag}]`,
    namespace,
    id,
    props: (chart) => Object.assign(
      { imageTag: tag, image: 'registry.example.com/shop/myapp' },
      ...options.map((o) => o.part(chart)),
    ) as MigratedServiceProps,
  };
}

const DIMENSIONS: Option[][] = [DELIVERIES, TOOLS, WAITERS, PORTS, ENVS, TTLS, RESOURCES, MIGRATION_RESOURCES, PULL_SECRETS, POD_METADATA, CONFIG];
const BASE: Option[] = DIMENSIONS.map((dimension) => dimension[0]);

// One factor at a time: every value of every dimension on top of the defaults, in both namespaces.
const ONE_FACTOR_CASES: Case[] = NAMESPACES.flatMap((ns) => [
  makeCase('defaults', ns, TAGS[0], BASE),
  ...DIMENSIONS.flatMap((dimension, d) => dimension.slice(1).map((value) =>
    makeCase(value.label, ns, TAGS[0], BASE.map((b, i) => (i === d ? value : b))))),
  ...TAGS.slice(1).map((tag) => makeCase('defaults', ns, tag, BASE)),
]);

// Everything switched on, for every delivery engine × waiter × namespace, cycling through the tools
// and the tags so that each tool meets several engines and waiters.
const COMBINED_CASES: Case[] = DELIVERIES.flatMap((delivery, d) => WAITERS.flatMap((waiter, w) => NAMESPACES.map((ns, n) => {
  const k = (d * WAITERS.length + w) * NAMESPACES.length + n;
  const tool = TOOLS[k % TOOLS.length];
  const options = [
    delivery, tool, waiter, PORTS[1 + (k % 2)], ENVS[3], TTLS[k % 2],
    RESOURCES[1 + (k % 2)], MIGRATION_RESOURCES[1], PULL_SECRETS[1 + (k % 2)], POD_METADATA[1], CONFIG[1],
  ];
  return makeCase(`${delivery.label} + ${waiter.label} + ${tool.label} + everything`, ns, TAGS[k % TAGS.length], options);
})));

const CASES: Case[] = [...ONE_FACTOR_CASES, ...COMBINED_CASES];

/**
 * Synthesizes one MigratedService in its own chart. A TTL makes the construct print a warning by
 * design; it is silenced (and checked) so the test output stays readable.
 */
function synth(testCase: Case): Manifest[] {
  const app: App = Testing.app();
  const chart = new Chart(app, 'chart', testCase.namespace !== undefined ? { namespace: testCase.namespace } : {});
  const props = testCase.props(chart);
  // A tag that conventionally moves (v2, 1.4) is accepted with a warning too (MS105).
  const moves = conventionallyMoves(props.imageTag) !== undefined;
  const warn = props.ttlAfterFinished !== undefined || moves ? jest.spyOn(console, 'warn').mockImplementation(() => undefined) : undefined;
  try {
    new MigratedService(chart, testCase.id, props);
    // Warnings are printed at synth, once every acknowledgment has been made.
    const manifests = Testing.synth(chart);
    if (props.ttlAfterFinished !== undefined) {
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('ttlAfterFinished'));
    }
    if (moves) {
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('[WARNING MS105 moving-image-tag]'));
    }
    return manifests;
  } finally {
    warn?.mockRestore();
  }
}

// Each case is synthesized once, however many tests read it.
const synthesized = new Map<string, Manifest[]>();
function manifestsOf(testCase: Case): Manifest[] {
  const key = `${testCase.name}#${CASES.indexOf(testCase)}`;
  if (!synthesized.has(key)) {
    synthesized.set(key, synth(testCase));
  }
  return synthesized.get(key)!;
}

describe('matrix coverage', () => {
  test('every delivery engine, preset, waiter and option appears in the matrix', () => {
    // GIVEN the matrix
    const labels = new Set(CASES.map((c) => c.name));
    // THEN every value of every dimension is exercised by at least one case
    for (const dimension of DIMENSIONS) {
      for (const value of dimension) {
        expect([...labels].some((label) => label.includes(value.label)) || BASE.includes(value)).toBe(true);
      }
    }
    expect(CASES.filter((c) => c.namespace === undefined).length).toBeGreaterThan(0);
    expect(CASES.filter((c) => c.namespace !== undefined).length).toBeGreaterThan(0);
  });
});

describe.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, testCase) => {
  test('every object is valid against its Kubernetes OpenAPI schema', () => {
    // GIVEN a MigratedService built from this combination of props
    // WHEN it is synthesized
    const manifests = manifestsOf(testCase);
    // THEN it emits the expected kinds, and each validates against the schema of its kind
    expect(manifests.map((o) => o.kind)).toEqual(expect.arrayContaining(['ServiceAccount', 'Role', 'RoleBinding', 'Job', 'Deployment']));
    expect(validateSchemas(manifests)).toEqual([]);
  });

  test('the API server would accept every object (names, labels, annotations, containers, selectors, restart policies)', () => {
    // GIVEN / WHEN the synthesized objects of this combination
    const manifests = manifestsOf(testCase);
    // THEN no rule of the API server's validation is broken
    expect(checkApiServerRules(manifests)).toEqual([]);
  });

  test('every pod template meets the Pod Security Standards "restricted" profile', () => {
    // GIVEN / WHEN the synthesized objects of this combination
    const manifests = manifestsOf(testCase);
    // THEN every pod template (the Job, the post-deploy Job if any, and the Deployment) is checked, and none breaks a rule
    const postDeploy = manifests.some((o) => o.kind === 'Job' && o.metadata.name.includes('-post-migration-'));
    expect(manifests.filter((o) => o.kind === 'Job' || o.kind === 'Deployment')).toHaveLength(postDeploy ? 3 : 2);
    expect(checkPodSecurityRestricted(manifests)).toEqual([]);
  });
});

describe('each rule of the restricted profile holds on every pod template of every case', () => {
  test.each(PSS_RESTRICTED_RULES.map((rule) => [`${rule.level}/${rule.id}`, rule] as const))('%s', (_id, rule) => {
    // GIVEN every case of the matrix
    // WHEN the rule is evaluated on each pod template alone
    const violations = CASES.flatMap((c) => checkPodSecurityRestricted(manifestsOf(c), [rule]).map((v) => `${c.name}: ${v}`));
    // THEN it reports nothing
    expect(violations).toEqual([]);
  });
});

describe('random combinations of props (fast-check)', () => {
  test('any combination of valid props synthesizes schema-valid, API-valid, restricted objects', () => {
    // GIVEN any combination of the dimensions above and of the remaining props
    const extras: fc.Arbitrary<Option>[] = [
      fc.constantFrom(opt('replicas default', {}), opt('replicas 0', { replicas: 0 }), opt('replicas 5', { replicas: 5 })),
      fc.constantFrom(opt('no envFrom', {}), opt('configMapNames + secretNames', { configMapNames: ['myapp-config', 'shared.config'], secretNames: ['myapp-db', 'myapp-api-keys'] })),
      fc.constantFrom(opt('no partOf', {}), opt('partOf', { partOf: 'shop' })),
      fc.constantFrom(opt('no deploymentVariables', {}), opt('deploymentVariables', { deploymentVariables: true })),
      fc.constantFrom(opt('same migration image', {}), opt('migrationImage', { migrationImage: 'registry.example.com:5000/shop/myapp-migrations' })),
      fc.constantFrom(opt('no probes', {}), opt('probes', {
        readiness: ServiceProbe.fromHttpGet('/ready', { port: 8080 }),
        liveness: ServiceProbe.fromTcpSocket({ port: 8080 }),
        startup: ServiceProbe.fromCommand(['true']),
      })),
      fc.constantFrom(opt('restricted securityContext', {}), opt('securityContext user/group', { securityContext: { user: 10001, group: 10001 } })),
      fc.constantFrom(opt('default pull policy', {}), opt('imagePullPolicy Always', { imagePullPolicy: kplus.ImagePullPolicy.ALWAYS })),
      fc.constantFrom(opt('default timeout', {}), opt('migrationTimeout 5m', { migrationTimeout: Duration.minutes(5) })),
    ];
    const arbitrary = fc.record({
      options: fc.tuple(...DIMENSIONS.map((dimension) => fc.constantFrom(...dimension)), ...extras),
      namespace: fc.constantFrom(...NAMESPACES),
      tag: fc.oneof(fc.constantFrom(...TAGS), fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/).filter(identifiesRelease)),
      name: fc.oneof(fc.constant('myapp'), fc.stringMatching(/^[a-z]([-a-z0-9]{0,40}[a-z0-9])?$/)),
    });
    fc.assert(fc.property(arbitrary, ({ options, namespace, tag, name }) => {
      // WHEN it is synthesized
      const testCase = makeCase(options.map((o) => o.label).join(' + '), namespace, tag, [...options, opt('name', { name })]);
      const manifests = synth(testCase);
      // THEN every check passes
      expect(checkAll(manifests)).toEqual([]);
    }), { numRuns: 150 });
  });
});

describe('inputs that must be rejected or produce valid objects', () => {
  // The library may throw on these (a clear error at synth time is fine), but whatever it emits
  // must pass every check: a manifest the API server rejects only fails at deploy time.
  const edgeCases: Case[] = [
    // A writable path listed twice is refused by MigrationTool.custom() itself (migration-tool.test.ts).
    makeCase('custom tool writing to /tmp/ (trailing slash)', undefined, 'v1', [...BASE.slice(0, 1), opt('tmp slash', {
      migrationTool: MigrationTool.custom(['migrate'], { writablePaths: ['/tmp/'] }),
    }), ...BASE.slice(2)]),
    makeCase('securityContext adding NET_BIND_SERVICE, which the restricted profile allows', undefined, 'v1', [...BASE, opt('bind', {
      port: 80,
      securityContext: { capabilities: { add: [kplus.Capability.NET_BIND_SERVICE] } },
    })]),
    makeCase('podLabels trying to take over the selector labels', 'shop', 'v1', [...BASE, opt('takeover', {
      port: 8080,
      podLabels: { 'app.kubernetes.io/name': 'other', 'app.kubernetes.io/component': 'other' },
    })]),
    makeCase('longest base name with the longest tag', 'a-namespace-of-sixty-three-characters-0123456789-0123456789-abc', `${'A'.repeat(127)}z`, [
      ...BASE, opt('long name', { name: `a${'b'.repeat(40)}c`, deploymentVariables: true, port: 8080 }),
    ]),
  ];

  test.each(edgeCases.map((c) => [c.name, c] as const))('%s', (_name, testCase) => {
    // GIVEN unusual but type-correct props
    let manifests: Manifest[];
    try {
      // WHEN the construct is built and synthesized
      manifests = synth(testCase);
    } catch (e) {
      // THEN either the library refuses it at synth time...
      expect(String(e)).toMatch(/MigratedService|MigrationTool|MigrationWaiter|Delivery/);
      return;
    }
    // ...or everything it emits passes every check
    expect(checkAll(manifests)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Self-tests: every checker must be able to fail, or a green run proves nothing.
// ---------------------------------------------------------------------------------------------

describe('the checkers reject bad manifests', () => {
  // A known-good synthesized set, deep-copied and corrupted in one place per test.
  const good = (): Manifest[] => JSON.parse(JSON.stringify(manifestsOf(CASES[0])));
  const withPort = (): Manifest[] => JSON.parse(JSON.stringify(
    manifestsOf(ONE_FACTOR_CASES.find((c) => c.name.startsWith('port 8080'))!)));
  const find = (manifests: Manifest[], kind: string): any => manifests.find((o) => o.kind === kind);
  const podSpec = (manifests: Manifest[], kind: string): any => find(manifests, kind).spec.template.spec;

  test('the unmodified manifests pass every checker (the baseline of the self-tests)', () => {
    // GIVEN / WHEN / THEN
    expect(checkAll(good())).toEqual([]);
    expect(checkAll(withPort())).toEqual([]);
  });

  test('schema: a wrongly typed field and a missing required field are reported', () => {
    // GIVEN a Deployment with a string replica count and a container without a name
    const manifests = good();
    find(manifests, 'Deployment').spec.replicas = 'two';
    delete podSpec(manifests, 'Job').containers[0].name;
    // WHEN / THEN both are reported
    const violations = validateSchemas(manifests);
    expect(violations).toEqual(expect.arrayContaining([
      expect.stringMatching(/Deployment .*\/spec\/replicas must be integer/),
      expect.stringMatching(/Job .*\/containers\/0 must have required property name/),
    ]));
  });

  test('schema: an unknown kind fails instead of being skipped', () => {
    // GIVEN an object of a kind without a registered model
    const manifests = [...good(), { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }];
    // WHEN / THEN
    expect(validateSchemas(manifests)).toEqual(expect.arrayContaining([expect.stringContaining('no schema for "example.com/v1/Widget"')]));
  });

  test('names: a subdomain with uppercase, a Job name over 63, a Service name starting with a digit, a dotted Deployment name', () => {
    // GIVEN
    const manifests = withPort();
    find(manifests, 'ServiceAccount').metadata.name = 'My_App';
    find(manifests, 'Job').metadata.name = `j${'x'.repeat(63)}`;
    find(manifests, 'Service').metadata.name = '1myapp';
    find(manifests, 'Deployment').metadata.name = 'my.app';
    // WHEN
    const violations = checkNames(manifests);
    // THEN
    expect(violations).toEqual(expect.arrayContaining([
      expect.stringMatching(/ServiceAccount .*"My_App" is not a DNS-1123 subdomain/),
      expect.stringMatching(/Job .* must be a DNS-1123 label/),
      expect.stringMatching(/Service .*"1myapp" of a Service must be a DNS-1035 label/),
      expect.stringMatching(/Deployment .*"my.app" of a Deployment must be a DNS-1123 label/),
    ]));
  });

  test('labels and annotations: bad keys, a value over 63 characters, a value with a space', () => {
    // GIVEN
    const manifests = good();
    find(manifests, 'Role').metadata.labels['-bad-key'] = 'x';
    find(manifests, 'Role').metadata.labels['Example.COM/team'] = 'x';
    find(manifests, 'Deployment').spec.template.metadata.labels.version = 'v'.repeat(64);
    find(manifests, 'Job').metadata.labels.owner = 'two words';
    find(manifests, 'Job').metadata.annotations = { 'a/b/c': 'x' };
    // WHEN
    const violations = checkLabelsAndAnnotations(manifests);
    // THEN
    expect(violations).toEqual(expect.arrayContaining([
      expect.stringContaining('label key "-bad-key"'),
      expect.stringContaining('label key "Example.COM/team"'),
      expect.stringContaining('at most 63 characters (it has 64)'),
      expect.stringContaining('label owner="two words"'),
      expect.stringContaining('annotation key "a/b/c"'),
    ]));
  });

  test('containers: duplicate names across init and app containers, non-DNS name, dangling mount, duplicate mountPath, request > limit', () => {
    // GIVEN
    const manifests = good();
    const spec = podSpec(manifests, 'Deployment');
    spec.initContainers[0].name = 'service';
    const job = podSpec(manifests, 'Job');
    const migrate = [...(job.initContainers ?? []), ...job.containers].find((c: any) => c.name === 'migrate');
    migrate.name = 'Migrate_DB';
    migrate.volumeMounts.push({ name: 'nowhere', mountPath: '/x' }, { name: 'tmp', mountPath: '/tmp' });
    migrate.resources = { requests: { cpu: '2' }, limits: { cpu: '1500m' } };
    // WHEN
    const violations = checkWorkloads(manifests);
    // THEN
    expect(violations).toEqual(expect.arrayContaining([
      expect.stringMatching(/name "service" must be unique within the pod/),
      expect.stringMatching(/name "Migrate_DB" must be a DNS-1123 label/),
      expect.stringMatching(/volumeMount "nowhere" refers to no volume/),
      expect.stringMatching(/mountPath "\/tmp" must be unique/),
      expect.stringMatching(/requests.cpu 2 must be <= limits.cpu 1500m/),
    ]));
  });

  test('Job restartPolicy: Always is refused, OnFailure is refused with a podFailurePolicy', () => {
    // GIVEN / WHEN / THEN
    const always = good();
    podSpec(always, 'Job').restartPolicy = 'Always';
    expect(checkWorkloads(always)).toEqual(expect.arrayContaining([expect.stringContaining('must use Never or OnFailure')]));
    const onFailure = good();
    podSpec(onFailure, 'Job').restartPolicy = 'OnFailure';
    expect(find(onFailure, 'Job').spec.podFailurePolicy).toBeDefined();
    expect(checkWorkloads(onFailure)).toEqual([expect.stringContaining('a Job with a podFailurePolicy requires Never')]);
  });

  test('Deployment selector not matching its template, and a Service selecting no pods', () => {
    // GIVEN
    const manifests = withPort();
    find(manifests, 'Deployment').spec.selector.matchLabels['app.kubernetes.io/name'] = 'other';
    find(manifests, 'Service').spec.selector = { app: 'nothing' };
    // WHEN
    const violations = checkWorkloads(manifests);
    // THEN
    expect(violations).toEqual(expect.arrayContaining([
      expect.stringMatching(/Deployment .*spec.selector .* does not match template labels/),
      expect.stringMatching(/Service .*matches the pods of no Deployment/),
    ]));
  });

  // One corruption per rule of the profile, each caught by exactly that rule.
  const pssBreakers: { [id: string]: (m: Manifest[]) => void } = {
    hostProcess: (m) => { podSpec(m, 'Job').securityContext.windowsOptions = { hostProcess: true }; },
    hostNamespaces: (m) => { podSpec(m, 'Deployment').hostPID = true; },
    privileged: (m) => { podSpec(m, 'Deployment').initContainers[0].securityContext.privileged = true; },
    capabilities_baseline: (m) => { podSpec(m, 'Job').containers[0].securityContext.capabilities.add = ['SYS_ADMIN']; },
    hostPathVolumes: (m) => { podSpec(m, 'Job').volumes.push({ name: 'host', hostPath: { path: '/' } }); },
    hostPorts: (m) => { podSpec(m, 'Deployment').containers[0].ports = [{ containerPort: 8080, hostPort: 8080 }]; },
    appArmorProfile: (m) => {
      find(m, 'Job').spec.template.metadata.annotations = { 'container.apparmor.security.beta.kubernetes.io/migrate': 'unconfined' };
    },
    seLinuxOptions: (m) => { podSpec(m, 'Job').securityContext.seLinuxOptions = { type: 'spc_t' }; },
    procMount: (m) => { podSpec(m, 'Job').containers[0].securityContext.procMount = 'Unmasked'; },
    sysctls: (m) => { podSpec(m, 'Job').securityContext.sysctls = [{ name: 'kernel.msgmax', value: '1' }]; },
    restrictedVolumes: (m) => { podSpec(m, 'Job').volumes.push({ name: 'nfs', nfs: { server: 'nfs', path: '/' } }); },
    allowPrivilegeEscalation: (m) => { delete podSpec(m, 'Deployment').initContainers[0].securityContext.allowPrivilegeEscalation; },
    runAsNonRoot: (m) => {
      delete podSpec(m, 'Job').securityContext.runAsNonRoot;
      delete podSpec(m, 'Job').containers[0].securityContext.runAsNonRoot;
    },
    runAsUser: (m) => { podSpec(m, 'Deployment').containers[0].securityContext.runAsUser = 0; },
    seccompProfile_restricted: (m) => { delete podSpec(m, 'Deployment').initContainers[0].securityContext.seccompProfile; },
    capabilities_restricted: (m) => { podSpec(m, 'Job').containers[0].securityContext.capabilities = { add: ['NET_BIND_SERVICE'] }; },
  };

  test('every rule of the restricted profile has a self-test', () => {
    expect(Object.keys(pssBreakers).sort()).toEqual(PSS_RESTRICTED_RULES.map((r) => r.id).sort());
  });

  test.each(PSS_RESTRICTED_RULES.map((rule) => [rule.id, rule] as const))('PSS rule %s fails on a manifest that breaks it', (id, rule) => {
    // GIVEN a good manifest set broken for this rule only
    const manifests = good();
    expect(checkPodSecurityRestricted(manifests, [rule])).toEqual([]);
    pssBreakers[id](manifests);
    // WHEN the rule is evaluated
    // THEN it reports the violation
    expect(checkPodSecurityRestricted(manifests, [rule])).not.toEqual([]);
  });
});
