import { Duration, Size, Testing } from 'cdk8s';
import * as plus28 from 'cdk8s-plus-28';
import * as plus33 from 'cdk8s-plus-33';
import { DatabaseMigration, Delivery, MigratedService, MigrationTool, MigrationWaiter, ServiceProbe, ServiceStrategy } from '../src';
import { named } from './support/manifests';
import { quietWarnings, SHOP, shopChart } from './support/shop';

quietWarnings();

describe('a command line given as one string', () => {
  test('migrationCommand is refused, naming the construct, the prop, the value and both fixes', () => {
    // GIVEN the Rails command written as one string WHEN a service is created with it
    const create = () => new MigratedService(shopChart(), 'web', { ...SHOP, migrationTool: undefined, migrationCommand: ['bundle exec rails db:migrate'] });
    // THEN it is refused: Kubernetes would look for an executable named with the spaces
    expect(create).toThrow('MigratedService "shop/web": migrationCommand ["bundle exec rails db:migrate"] is invalid: '
      + 'its first element "bundle exec rails db:migrate" is the program, which Kubernetes starts without a shell');
    expect(create).toThrow('"executable file not found in $PATH"');
    // AND the message gives the command split into words, and the command through a shell
    expect(create).toThrow('Split it into words: ["bundle","exec","rails","db:migrate"], or run it through a shell: ["sh","-c","bundle exec rails db:migrate"].');
  });

  test.each([
    ['MigrationTool.custom() command', () => MigrationTool.custom(['npx prisma migrate deploy']),
      'MigrationTool.custom(): command ["npx prisma migrate deploy"] is invalid: its first element "npx prisma migrate deploy" is the program'],
    ['MigrationTool.custom() postDeployCommand', () => MigrationTool.custom(['./migrate', 'expand'], { postDeployCommand: ['./migrate contract'] }),
      'MigrationTool.custom(): postDeployCommand ["./migrate contract"] is invalid: its first element "./migrate contract" is the program'],
    ['postDeployMigrationCommand', () => new DatabaseMigration(shopChart(), 'db', {
      ...SHOP, migrationTool: undefined, migrationCommand: ['./migrate', 'expand'], postDeployMigrationCommand: ['./migrate\tcontract'],
    }), 'DatabaseMigration "shop/db": postDeployMigrationCommand ["./migrate\\tcontract"] is invalid: its first element'],
    ['the service\'s command', () => new MigratedService(shopChart(), 'web', { ...SHOP, command: ['bundle exec puma', '-C', 'config/puma.rb'] }),
      'MigratedService "shop/web": command ["bundle exec puma","-C","config/puma.rb"] is invalid: its first element "bundle exec puma" is the program'],
  ])('%s is refused the same way', (_what, create, message) => {
    // GIVEN a command whose program is a whole command line WHEN it is given THEN the prop and the value are named
    expect(create).toThrow(message);
    // AND the fix keeps the arguments after the program
    expect(create).toThrow(/Split it into words: \[.*\], or run it through a shell: \["sh","-c",".*"\]\./);
  });

  test('shell syntax is only offered the shell: splitting it would not mean what it says', () => {
    // GIVEN a command line with a variable assignment and && WHEN it is the migration command
    const create = () => MigrationTool.custom(['cd /app && DATABASE_URL=$PRIMARY_URL ./migrate', '--verbose']);
    // THEN the fix runs the whole line, arguments quoted where needed, through sh -c
    expect(create).toThrow('It is shell syntax, which only a shell reads: run it through a shell: ["sh","-c","cd /app && DATABASE_URL=$PRIMARY_URL ./migrate --verbose"].');
  });

  test('a script after sh -c, and arguments with spaces, are accepted', () => {
    // GIVEN commands whose program is one word, with arguments that hold spaces
    const chart = shopChart();
    // WHEN they are given THEN nothing is refused, and they reach the YAML as they are
    const web = new MigratedService(chart, 'web', {
      ...SHOP,
      migrationTool: MigrationTool.custom(['sh', '-c', 'bundle exec rails db:migrate']),
      command: ['bundle', 'exec', 'puma'],
      args: ['--tag', 'shop web'],
    });
    const job = named(Testing.synth(chart), 'Job', web.jobName).spec.template.spec;
    expect([...(job.initContainers ?? []), ...job.containers].find((c: any) => c.name === 'migrate').command)
      .toEqual(['sh', '-c', 'bundle exec rails db:migrate']);
  });

  test.each([
    ['cdk8s-plus-28', (chart: any) => new plus28.Deployment(chart, 'worker', { metadata: { name: 'shop-worker' } }) as any],
    ['cdk8s-plus-33', (chart: any) => new plus33.Deployment(chart, 'worker', { metadata: { name: 'shop-worker' } }) as any],
  ])('a gated workload on %s whose container runs a command line fails the synth, naming the workload and the container', (_major, create) => {
    // GIVEN a worker the user built, whose container's command is one string
    const chart = shopChart();
    const migration = new DatabaseMigration(chart, 'db', SHOP);
    const worker = create(chart);
    worker.addContainer({ name: 'worker', image: migration.releaseImage('registry.example.com/shop'), command: ['bundle exec sidekiq'] });
    // WHEN it is gated and the chart synthesized
    migration.gate(worker);
    // THEN the synth fails, naming the migration, the workload, the container and the fix
    expect(() => Testing.synth(chart)).toThrow('DatabaseMigration "shop/db": gate(workload) "shop/worker" is invalid: its container "worker" has the command '
      + '["bundle exec sidekiq"]: its first element "bundle exec sidekiq" is the program');
    expect(() => Testing.synth(chart)).toThrow('Split it into words: ["bundle","exec","sidekiq"]');
  });

});

describe('an option a factory does not know', () => {
  test('a misspelt preset option passed through a variable fails when the preset is created, naming the preset, the option and the known ones', () => {
    // GIVEN Flyway options in a variable, with postDeployLocations misspelt (TypeScript checks no extra keys here)
    const opts = { locations: ['filesystem:/flyway/sql/expand'], postDeployLocation: ['filesystem:/flyway/sql/contract'] };
    // WHEN the preset is created THEN it fails, instead of silently dropping the post-deploy Job
    expect(() => MigrationTool.flyway(opts)).toThrow('MigrationTool.flyway(): option "postDeployLocation" is invalid: it is not an option of '
      + 'MigrationTool.flyway(), which would ignore it. Did you mean "postDeployLocations"? The options are: locations, postDeployLocations.');
  });

  test('a key nowhere near a known option gets the list without a guess', () => {
    expect(() => Delivery.helm({ wait: true } as any))
      .toThrow(/^Delivery.helm\(\): option "wait" is invalid: it is not an option of Delivery.helm\(\), which would ignore it. The options are: hookWeight, hookDeletePolicy.$/);
  });

  // What each factory needs before its options.
  const LEADING_ARGS: { [factory: string]: unknown[] } = { custom: [['./migrate']], fromHttpGet: ['/up'], fromCommand: [['true']] };
  // The factories that take no options: anything after their arguments is not theirs to check.
  const WITHOUT_OPTIONS = ['MigrationTool.prisma', 'MigrationTool.django', 'Delivery.flux', 'Delivery.kubectl', 'ServiceStrategy.recreate'];
  // Static methods that take a construct and create nothing: not factories (tested in hook-config.test.ts).
  const NOT_FACTORIES = ['Delivery.setDefault', 'Delivery.of'];
  const factories = ([['MigrationTool', MigrationTool], ['Delivery', Delivery], ['MigrationWaiter', MigrationWaiter], ['ServiceProbe', ServiceProbe],
    ['ServiceStrategy', ServiceStrategy]] as Array<[string, any]>)
    .flatMap(([className, cls]) => Object.getOwnPropertyNames(cls)
      .filter((key) => typeof cls[key] === 'function' && !key.startsWith('_'))
      .map((key) => [`${className}.${key}`, (options: unknown) => cls[key](...(LEADING_ARGS[key] ?? []), options)] as const))
    .filter(([name]) => !NOT_FACTORIES.includes(name));

  test('every factory of the public classes is listed here, with options or without', () => {
    // GIVEN the public factories WHEN counted THEN none has been added without a line in this test
    expect(factories.map(([name]) => name).sort()).toEqual([
      'Delivery.argoCd', 'Delivery.flux', 'Delivery.helm', 'Delivery.kubectl',
      'MigrationTool.alembic', 'MigrationTool.custom', 'MigrationTool.django', 'MigrationTool.flyway', 'MigrationTool.golangMigrate',
      'MigrationTool.knex', 'MigrationTool.liquibase', 'MigrationTool.prisma', 'MigrationTool.rails', 'MigrationTool.sequelize',
      'MigrationTool.typeorm', 'MigrationWaiter.k8sWaitFor', 'MigrationWaiter.kubectlWait', 'MigrationWaiter.watch',
      'ServiceProbe.fromCommand', 'ServiceProbe.fromHttpGet', 'ServiceProbe.fromTcpSocket', 'ServiceStrategy.recreate', 'ServiceStrategy.rollingUpdate',
    ]);
  });

  test.each(factories.filter(([name]) => !WITHOUT_OPTIONS.includes(name)))('%s refuses an unknown option, naming itself and the option', (name, create) => {
    // GIVEN the factory's valid options, and one it does not have
    expect(() => create({})).not.toThrow();
    // WHEN it is created with an unknown key THEN it fails, naming the factory and the key
    expect(() => create({ notAnOption: 1 })).toThrow(`${name}(): option "notAnOption" is invalid: it is not an option of ${name}(), which would ignore it.`);
  });

  test('gate() refuses an unknown option too, with the one meant', () => {
    // GIVEN a worker WHEN gated with shareEnvironment misspelt THEN the migration names it and the option meant
    const chart = shopChart();
    const migration = new DatabaseMigration(chart, 'db', SHOP);
    const worker = new plus28.Deployment(chart, 'worker');
    worker.addContainer({ image: migration.releaseImage('registry.example.com/shop') });
    const options: any = { shareEnviroment: true };
    expect(() => migration.gate(worker, options)).toThrow('DatabaseMigration "shop/db".gate(): option "shareEnviroment" is invalid: it is not an option of '
      + 'DatabaseMigration "shop/db".gate(), which would ignore it. Did you mean "shareEnvironment"? The options are: shareEnvironment, allowOtherImageTags.');
  });
});

describe('a prop a construct does not know', () => {
  test('a misspelt MigratedService prop passed through a variable is refused, with the prop meant', () => {
    // GIVEN service props built in a variable, with migrationTimeout misspelt (TypeScript checks no extra keys here)
    const props = { ...SHOP, migrationTimout: Duration.minutes(20) };
    // WHEN the service is created THEN it fails, instead of keeping the default timeout without a word
    expect(() => new MigratedService(shopChart(), 'web', props)).toThrow('MigratedService "shop/web": prop "migrationTimout" is invalid: '
      + 'it is not a prop of MigratedService, which would ignore it. Did you mean "migrationTimeout"? MigratedServiceProps in API.md lists the props.');
  });

  test('a MigratedService-only prop given to DatabaseMigration is refused: the migration has no service to give it to', () => {
    // GIVEN props shared with a MigratedService, spread into a DatabaseMigration
    const props = { ...SHOP, replicas: 3 };
    // WHEN the migration is created THEN it names the prop, with no guess
    expect(() => new DatabaseMigration(shopChart(), 'db', props)).toThrow(/^DatabaseMigration "shop\/db": prop "replicas" is invalid: it is not a prop of DatabaseMigration, which would ignore it. DatabaseMigrationProps in API.md lists the props.$/);
  });

  test('every prop each construct documents is accepted, so the list of known props is the interface', () => {
    // GIVEN a service and a migration with props that use many optional keys, some undefined
    const chart = shopChart();
    // WHEN they are created THEN neither refuses a prop of its own interface (the compiler checks that the lists are complete)
    expect(() => new MigratedService(chart, 'web', { ...SHOP, port: 3000, replicas: 3, partOf: 'shop', name: undefined })).not.toThrow();
    expect(() => new DatabaseMigration(chart, 'db', { ...SHOP, name: 'shop-db', partOf: 'shop', releaseImages: undefined })).not.toThrow();
  });
});

describe('a probe that takes its port from a service without one', () => {
  test.each([
    ['readiness', ServiceProbe.fromHttpGet('/up'), 'readiness "ServiceProbe.fromHttpGet(\\"/up\\")" is invalid', 'ServiceProbe.fromHttpGet("/up", { port: 3000 })'],
    ['liveness', ServiceProbe.fromTcpSocket(), 'liveness "ServiceProbe.fromTcpSocket()" is invalid', 'ServiceProbe.fromTcpSocket({ port: 3000 })'],
    ['startup', ServiceProbe.fromHttpGet('/healthz', { periodSeconds: Duration.seconds(5) }), 'startup "ServiceProbe.fromHttpGet(\\"/healthz\\")" is invalid',
      'ServiceProbe.fromHttpGet("/healthz", { port: 3000 })'],
  ])('%s is refused: it would probe port 80, where nothing listens', (prop, probe, named_, fix) => {
    // GIVEN a service without a port, and a probe without one WHEN the service is created THEN it is refused, with both fixes
    const create = () => new MigratedService(shopChart(), 'web', { ...SHOP, [prop]: probe });
    expect(create).toThrow(`MigratedService "shop/web": ${named_}: the probe names no port and the service has none (no \`port\` prop), so cdk8s-plus would probe port 80`);
    expect(create).toThrow(`Give the service its port (port: 3000), or the probe one (${fix}).`);
  });

  test('a probe with a port, a service with a port, and a command probe are accepted and probe the right port', () => {
    // GIVEN each way of naming the port WHEN the services are synthesized THEN the probes reach the port the app listens on
    const chart = shopChart();
    new MigratedService(chart, 'a', { ...SHOP, readiness: ServiceProbe.fromHttpGet('/up', { port: 8080 }) });
    new MigratedService(chart, 'b', { ...SHOP, port: 3000, readiness: ServiceProbe.fromHttpGet('/up'), liveness: ServiceProbe.fromTcpSocket() });
    new MigratedService(chart, 'c', { ...SHOP, liveness: ServiceProbe.fromCommand(['cat', '/tmp/healthy']) });
    const manifests = Testing.synth(chart);
    expect(named(manifests, 'Deployment', 'a').spec.template.spec.containers[0].readinessProbe.httpGet.port).toBe(8080);
    const b = named(manifests, 'Deployment', 'b').spec.template.spec.containers[0];
    expect([b.readinessProbe.httpGet.port, b.livenessProbe.tcpSocket.port]).toEqual([3000, 3000]);
    expect(named(manifests, 'Deployment', 'c').spec.template.spec.containers[0].livenessProbe.exec.command).toEqual(['cat', '/tmp/healthy']);
  });
});

describe('values that escape TypeScript', () => {
  // Props built in JavaScript, read from a config file or spread from an `any` reach the constructs unchecked by the compiler.
  const service = (props: any) => () => new MigratedService(shopChart(), 'web', { ...SHOP, ...props });

  test('a number where a Duration is expected says which Duration to write, instead of a TypeError', () => {
    // GIVEN migrationTimeout as seconds, as a config file holds it WHEN the service is created THEN the fix is named
    expect(service({ migrationTimeout: 3600 })).toThrow('MigratedService "shop/web": migrationTimeout 3600 is invalid: '
      + 'it is a Duration from cdk8s, not a number: write Duration.seconds(3600) if 3600 is seconds');
    expect(service({ queueTimeout: '30m' })).toThrow(/queueTimeout "30m" is invalid: .*write Duration.minutes\(30\)/);
  });

  test('a Kubernetes quantity where a Size or a Cpu is expected names the factory to use, and where in resources it is', () => {
    // GIVEN resources written as in a Kubernetes manifest WHEN the service is created THEN each is refused with its cdk8s form
    expect(service({ resources: { memory: { request: '512Mi' } } }))
      .toThrow('MigratedService "shop/web": resources.memory.request "512Mi" is invalid: it is a Size from cdk8s, not a string: write Size.mebibytes(512).');
    expect(service({ migrationResources: { cpu: { limit: '500m' } } }))
      .toThrow('migrationResources.cpu.limit "500m" is invalid: it is a Cpu from cdk8s-plus, not a string: write Cpu.millis(500).');
    expect(service({ resources: { memory: { requests: Size.mebibytes(1) } } })).toThrow(/resources.memory.requests .* is not a field of MemoryResources.* Did you mean "request"\?/);
  });

  test('a string naming a library object says which factory to call', () => {
    // GIVEN the delivery engine's name from a config file WHEN the service is created THEN the factory meant is named
    expect(service({ delivery: 'argocd' })).toThrow('MigratedService "shop/web": delivery "argocd" is invalid: '
      + 'it is a Delivery from cdk8s-migrated-service, not a string: write Delivery.argoCd().');
    // AND a factory given without calling it is told to call it
    expect(service({ waiter: MigrationWaiter.watch })).toThrow('waiter (function watch) is invalid: it is a MigrationWaiter, made by calling a factory: write MigrationWaiter.watch(), with the parentheses.');
  });

  test('a cdk8s-plus object where the library\'s own type is expected names the library type to use', () => {
    // GIVEN a cdk8s-plus-33 strategy and probe WHEN given to the service THEN the library types are named
    expect(service({ strategy: plus33.DeploymentStrategy.recreate() }))
      .toThrow(/strategy DeploymentStrategy .* is invalid: pass ServiceStrategy.rollingUpdate\(\) from cdk8s-migrated-service, not a cdk8s-plus DeploymentStrategy/);
    expect(service({ port: 3000, readiness: plus33.Probe.fromHttpGet('/up') }))
      .toThrow(/readiness Probe .* is invalid: pass ServiceProbe.fromHttpGet\(\) from cdk8s-migrated-service, not a cdk8s-plus Probe/);
  });

  test('a command line in one string is refused with its words, or with sh -c for shell syntax, never as ["the whole line"]', () => {
    // GIVEN commands from a config file as one string WHEN the service is created THEN the split command is the fix
    expect(service({ migrationTool: undefined, migrationCommand: 'npx prisma migrate deploy' })).toThrow('migrationCommand "npx prisma migrate deploy" is invalid: '
      + 'it is a list of strings, the program first, not one string. Split it into words: ["npx","prisma","migrate","deploy"]');
    expect(() => MigrationTool.custom('./migrate up && ./seed' as any)).toThrow('MigrationTool.custom(): command "./migrate up && ./seed" is invalid: '
      + 'it is a list of strings, the program first, not one string. It is shell syntax, which only a shell reads: run it through a shell: ["sh","-c","./migrate up && ./seed"].');
  });

  test('a string where a list is expected is refused as a string, and an object in the list is shown without crashing the message', () => {
    // GIVEN one Secret name instead of a list WHEN the service is created THEN the list to write is given
    expect(service({ secretNames: 'app-secrets' })).toThrow('secretNames "app-secrets" is invalid: it is a list of strings, not one string: write ["app-secrets"].');
    // AND a Secret construct in the list (it holds a circular reference to its chart) is shown by its path
    const chart = shopChart();
    const secret = new plus28.Secret(chart, 'app-secrets');
    expect(() => new MigratedService(chart, 'web', { ...SHOP, secretNames: [secret as any] }))
      .toThrow('MigratedService "shop/web": secretNames[0] (Secret "shop/app-secrets") is invalid: each element is a string, not a Secret.');
  });

  test('an environment variable that is not an EnvValue of a string is refused, instead of an empty variable or a number the API server rejects', () => {
    // GIVEN env from an `any`, with plain strings and a number WHEN the service is created THEN each fix is named
    expect(service({ env: { DEBUG: '0' } })).toThrow('env["DEBUG"] "0" is invalid: each value is an EnvValue from cdk8s-plus: write EnvValue.fromValue("0").');
    expect(service({ env: { WORKERS: plus28.EnvValue.fromValue(3 as any) } }))
      .toThrow('env["WORKERS"] 3 is invalid: an environment variable\'s value is a string, which the API server requires: write EnvValue.fromValue("3") (String(3)).');
    // AND an EnvValue of a string is fine
    expect(service({ env: { WORKERS: plus28.EnvValue.fromValue('3') } })).not.toThrow();
  });

  test('options given to a factory that takes none are refused, not ignored', () => {
    // GIVEN options from JavaScript, which the compiler does not see WHEN each option-less factory is called THEN it refuses them
    const django: any = MigrationTool.django;
    expect(() => django({ database: 'analytics' })).toThrow('MigrationTool.django(): options {"database":"analytics"} is invalid: '
      + 'MigrationTool.django() takes no arguments, so it would ignore this one.');
    for (const factory of [MigrationTool.prisma, Delivery.flux, Delivery.kubectl, ServiceStrategy.recreate] as any[]) {
      expect(() => factory({})).toThrow(/takes no arguments/);
    }
  });

  test('a value outside an enum\'s set is refused with the value meant, instead of written verbatim', () => {
    // GIVEN hook delete policies that Argo CD and Helm do not know WHEN the delivery is created THEN the set is named
    expect(() => Delivery.argoCd({ hookDeletePolicy: 'Never' as any })).toThrow('Delivery.argoCd(): hookDeletePolicy "Never" is invalid: '
      + 'it is one of "BeforeHookCreation", "HookSucceeded", "HookFailed" (ArgoCdHookDeletePolicy), and the value is written verbatim to the YAML.');
    expect(() => Delivery.helm({ hookDeletePolicy: 'before-hook-creaton' as any })).toThrow(/Did you mean "before-hook-creation"\?/);
    expect(service({ imagePullPolicy: 'ifNotPresent' })).toThrow(/imagePullPolicy "ifNotPresent" is invalid: .*Did you mean "IfNotPresent"\?/);
    expect(() => ServiceProbe.fromHttpGet('/up', { scheme: 'https' as any })).toThrow(/scheme "https" is invalid: .*Did you mean "HTTPS"\?/);
  });

  test('null for an optional prop is refused, not read as "unset"', () => {
    // GIVEN a config file whose value failed to load WHEN the service is created THEN the prop is named, and leaving it out is the fix
    expect(service({ replicas: null })).toThrow('MigratedService "shop/web": replicas null is invalid: it is a whole number from 0 to 2147483647. '
      + 'To take the default, leave the prop out (undefined), not null.');
  });

  test('a Duration and a Size from another copy of cdk8s are accepted: they are recognised by their methods', () => {
    // GIVEN a second copy of cdk8s, as a project with two versions in node_modules has
    let other: typeof import('cdk8s') | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      other = require('cdk8s');
    });
    expect(other!.Duration).not.toBe(Duration);
    // WHEN its Duration and Size are given THEN the service is created and its Job has the deadline
    const chart = shopChart();
    new MigratedService(chart, 'web', {
      ...SHOP,
      migrationTimeout: other!.Duration.minutes(20),
      queueTimeout: other!.Duration.minutes(5),
      resources: { memory: { request: other!.Size.mebibytes(256) as any } },
    });
    const job = Testing.synth(chart).find((m) => m.kind === 'Job' && m.metadata.name.startsWith('web-migration-'));
    expect(job.spec.activeDeadlineSeconds).toBe(1500);
    const containers = [...job.spec.template.spec.initContainers ?? [], ...job.spec.template.spec.containers];
    expect(containers.map((c: any) => c.resources?.requests?.memory)).toContain('256Mi');
  });

  test('a Cpu and a PercentOrAbsolute from another cdk8s-plus major are accepted, as the docs promise', () => {
    // GIVEN cdk8s-plus-33 values in the service's resources and strategy
    const chart = shopChart();
    new MigratedService(chart, 'web', {
      ...SHOP,
      resources: { cpu: { request: plus33.Cpu.millis(250) as any } },
      strategy: ServiceStrategy.rollingUpdate({ maxSurge: plus33.PercentOrAbsolute.percent(50) as any }),
    });
    // WHEN synthesized THEN the Deployment carries them
    const deployment = Testing.synth(chart).find((m) => m.kind === 'Deployment');
    expect(deployment.spec.strategy.rollingUpdate.maxSurge).toBe('50%');
    expect(deployment.spec.template.spec.containers.find((c: any) => c.name === 'service').resources.requests.cpu).toBe('250m');
  });
});
