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
    [() => MigrationTool.golangMigrate({ databaseUrlEnv: 'DATABASE-URL' }), /databaseUrlEnv "DATABASE-URL" is invalid: an environment variable name/],
    [() => MigrationTool.golangMigrate({ path: 'migrations' }), /golangMigrate\(\): path "migrations" is invalid: it must be an absolute path/],
    [() => MigrationTool.rails({ appRoot: 'rails' }), /rails\(\): appRoot "rails" is invalid/],
    [() => MigrationTool.typeorm({ dataSource: ' ' }), /typeorm\(\): dataSource " " is invalid/],
  ])('is rejected (%#)', (create, message) => {
    expect(create).toThrow(message);
  });
});
