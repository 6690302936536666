import { MigrationTool } from '../src';
import { container, MINIMAL, oneOfKind, synthesize } from './support/manifests';

const { migrationCommand: _omitted, ...WITHOUT_COMMAND } = MINIMAL;

describe('presets give the canonical deploy-time command', () => {
  test.each([
    ['prisma', MigrationTool.prisma(), ['npx', 'prisma', 'migrate', 'deploy']],
    ['alembic', MigrationTool.alembic(), ['alembic', 'upgrade', 'head']],
    ['liquibase', MigrationTool.liquibase(), ['liquibase', 'update']],
    ['flyway', MigrationTool.flyway(), ['flyway', 'migrate']],
    ['golang-migrate', MigrationTool.golangMigrate(), ['migrate', '-path', '/migrations', '-database', '$(DATABASE_URL)', 'up']],
    ['django', MigrationTool.django(), ['python', 'manage.py', 'migrate', '--noinput']],
    ['rails', MigrationTool.rails(), ['bundle', 'exec', 'rails', 'db:migrate']],
    ['knex', MigrationTool.knex(), ['npx', 'knex', 'migrate:latest']],
    ['typeorm', MigrationTool.typeorm(), ['npx', 'typeorm', 'migration:run', '-d', 'dist/data-source.js']],
    ['sequelize', MigrationTool.sequelize(), ['npx', 'sequelize-cli', 'db:migrate']],
  ])('%s', (toolName, tool, command) => {
    // GIVEN a preset
    const { manifests } = synthesize({ ...WITHOUT_COMMAND, migrationTool: tool });
    // THEN the Job runs its command, and every path it writes is an emptyDir
    const pod = oneOfKind(manifests, 'Job').spec.template.spec;
    const migrate = container(pod, 'migrate');
    expect(tool.toolName).toBe(toolName);
    expect(migrate.command).toEqual(command);
    const mounted = migrate.volumeMounts.map((m: any) => m.mountPath);
    expect(mounted).toEqual(['/tmp', ...tool.writablePaths]);
    const volumesOfMigrate = pod.volumes.filter((v: any) => migrate.volumeMounts.some((m: any) => m.name === v.name));
    expect(volumesOfMigrate.map((v: any) => Object.keys(v))).toEqual(mounted.map(() => ['emptyDir', 'name']));
    for (const [name, value] of Object.entries(tool.env)) {
      expect(migrate.env).toContainEqual({ name, value });
    }
  });
});

test('npm-based tools keep their cache and logs under the writable /tmp', () => {
  expect(MigrationTool.prisma().env).toMatchObject({ HOME: '/tmp', npm_config_cache: '/tmp/.npm' });
});

test('Prisma writes its state under HOME=/tmp and makes no telemetry call from the Job', () => {
  // GIVEN the Prisma preset (Prisma 7 writes $HOME/.config/prisma-nodejs, and its checkpoint cache under $HOME/.cache)
  const tool = MigrationTool.prisma();
  // THEN HOME is the writable /tmp, and the checkpoint call is disabled
  expect(tool.env).toEqual({ HOME: '/tmp', npm_config_cache: '/tmp/.npm', npm_config_update_notifier: 'false', CHECKPOINT_DISABLE: '1' });
  expect(tool.command).toEqual(['npx', 'prisma', 'migrate', 'deploy']);
  expect(tool.writablePaths).toEqual([]);
});

test('Rails gets writable tmp/ and log/ under its app root', () => {
  expect(MigrationTool.rails({ appRoot: '/app/' }).writablePaths).toEqual(['/app/tmp', '/app/log']);
});

test('a trailing slash is dropped, so /tmp/ is the /tmp the Job already mounts', () => {
  const { manifests } = synthesize({ ...WITHOUT_COMMAND, migrationTool: MigrationTool.custom(['x'], { writablePaths: ['/tmp/', '/data/'] }) });
  const migrate = container(oneOfKind(manifests, 'Job').spec.template.spec, 'migrate');
  expect(migrate.volumeMounts.map((m: any) => m.mountPath)).toEqual(['/tmp', '/data']);
});

test('options change the command', () => {
  expect(MigrationTool.golangMigrate({ path: '/db', databaseUrlEnv: 'PG_URL' }).command)
    .toEqual(['migrate', '-path', '/db', '-database', '$(PG_URL)', 'up']);
  expect(MigrationTool.typeorm({ dataSource: 'build/ds.js' }).command).toContain('build/ds.js');
});

test('user env overrides a preset\'s env, and the Job and service share it', () => {
  const { manifests } = synthesize({
    ...WITHOUT_COMMAND,
    migrationTool: MigrationTool.custom(['./bin/migrate'], { env: { LOG_LEVEL: 'debug' }, writablePaths: ['/var/cache/app'] }),
  });
  const migrate = container(oneOfKind(manifests, 'Job').spec.template.spec, 'migrate');
  expect(migrate.command).toEqual(['./bin/migrate']);
  expect(migrate.env).toEqual([{ name: 'LOG_LEVEL', value: 'debug' }]);
  expect(migrate.volumeMounts).toEqual([{ mountPath: '/tmp', name: 'tmp' }, { mountPath: '/var/cache/app', name: 'writable-1' }]);
});

describe('bad input', () => {
  test('migrationCommand and migrationTool together are rejected', () => {
    expect(() => synthesize({ ...MINIMAL, migrationTool: MigrationTool.prisma() }))
      .toThrow(/migrationCommand \["\.\/migrate"\] is invalid: give migrationCommand or migrationTool, not both \(migrationTool is prisma/);
  });

  test.each([
    [() => MigrationTool.custom([]), /MigrationTool.custom\(\): command \[\] is invalid: the migration command is a non-empty list/],
    [() => MigrationTool.custom(['x'], { writablePaths: ['relative/path'] }), /writablePaths "relative\/path" is invalid: it must be an absolute path/],
    [() => MigrationTool.custom(['x'], { writablePaths: ['/a/../etc'] }), /writablePaths "\/a\/\.\.\/etc" is invalid/],
    [() => MigrationTool.custom(['x'], { writablePaths: ['/'] }), /writablePaths "\/" is invalid: .*not "\/" itself/],
    [() => MigrationTool.custom(['x'], { writablePaths: ['/cache', '/cache/'] }), /writablePaths "\/cache" is invalid: each path is listed once/],
    [() => MigrationTool.custom(['x'], { env: { '': 'x' } }), /MigrationTool.custom\(\): env key "" is invalid: an environment variable name is one or more printable ASCII characters/],
    [() => MigrationTool.custom(['x'], { postDeployCommand: ['y'], postDeployEnv: { 'A=B': 'x' } }), /MigrationTool.custom\(\): postDeployEnv key "A=B" is invalid/],
    [() => MigrationTool.golangMigrate({ databaseUrlEnv: 'DATABASE-URL' }), /databaseUrlEnv "DATABASE-URL" is invalid: an environment variable name/],
    [() => MigrationTool.golangMigrate({ path: 'migrations' }), /golangMigrate\(\): path "migrations" is invalid: it must be an absolute path/],
    [() => MigrationTool.rails({ appRoot: 'rails' }), /rails\(\): appRoot "rails" is invalid/],
    [() => MigrationTool.typeorm({ dataSource: ' ' }), /typeorm\(\): dataSource " " is invalid/],
  ])('is rejected (%#)', (create, message) => {
    expect(create).toThrow(message);
  });
});

describe('knex: a migrations table per service that shares a database', () => {
  // No knex here: the argv is asserted against knex's documented CLI flag (`--migrations-table-name`,
  // the one the post-deploy run already uses), not run.
  test('GIVEN migrationsTableName WHEN knex() THEN the pre-deploy run names it, and the post-deploy table defaults to <it>_post_deploy', () => {
    expect(MigrationTool.knex({ migrationsTableName: 'billing_migrations' }).command)
      .toEqual(['npx', 'knex', 'migrate:latest', '--migrations-table-name', 'billing_migrations']);
    const split = MigrationTool.knex({ migrationsDirectory: 'migrations', migrationsTableName: 'billing_migrations', postDeployMigrationsDirectory: 'post' });
    expect(split.command).toEqual(['npx', 'knex', 'migrate:latest', '--migrations-directory', 'migrations', '--migrations-table-name', 'billing_migrations']);
    expect(split.postDeployCommand).toEqual(['npx', 'knex', 'migrate:latest', '--migrations-directory', 'post', '--migrations-table-name', 'billing_migrations_post_deploy']);
    // AND without it, the post-deploy default is as before
    expect(MigrationTool.knex({ migrationsDirectory: 'migrations', postDeployMigrationsDirectory: 'post' }).postDeployCommand)
      .toContain('knex_migrations_post_deploy');
  });

  test('GIVEN a bad table name, or the same table for both runs WHEN knex() THEN it is refused with the option and the rule', () => {
    expect(() => MigrationTool.knex({ migrationsTableName: 'billing-migrations' }))
      .toThrow(/MigrationTool\.knex\(\): migrationsTableName "billing-migrations" is invalid: it is a table name/);
    expect(() => MigrationTool.knex({ migrationsTableName: 42 as any })).toThrow(/migrationsTableName 42 is invalid/);
    expect(() => MigrationTool.knex({ migrationsDirectory: 'm', postDeployMigrationsDirectory: 'p', migrationsTableName: 't', postDeployMigrationsTableName: 't' }))
      .toThrow(/postDeployMigrationsTableName "t" is invalid: .*not the pre-deploy run's table \("t"\)/);
  });
});
