import { Duration, Testing } from 'cdk8s';
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
