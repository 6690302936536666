import * as fc from 'fast-check';
import { MigrationTool } from '../src';
import { container, MINIMAL, named, synthesize } from './support/manifests';

const { migrationCommand: _omitted, ...WITHOUT_COMMAND } = MINIMAL;

const NPM_ENV = { HOME: '/tmp', npm_config_cache: '/tmp/.npm', npm_config_update_notifier: 'false' };
const PYTHON_ENV = { PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' };
const JVM_ENV = { HOME: '/tmp' };
const RAILS_ENV = { RAILS_LOG_TO_STDOUT: '1', HOME: '/tmp' };

describe('without a post-deploy option, no preset has a post-deploy phase', () => {
  test.each([
    ['prisma()', MigrationTool.prisma()],
    ['alembic()', MigrationTool.alembic()],
    ['liquibase()', MigrationTool.liquibase()],
    ['flyway()', MigrationTool.flyway()],
    ['flyway({ locations })', MigrationTool.flyway({ locations: ['filesystem:/flyway/sql'] })],
    ['golangMigrate()', MigrationTool.golangMigrate()],
    ['django()', MigrationTool.django()],
    ['rails()', MigrationTool.rails()],
    ['knex()', MigrationTool.knex()],
    ['knex({ migrationsDirectory })', MigrationTool.knex({ migrationsDirectory: 'db/migrations' })],
    ['typeorm()', MigrationTool.typeorm()],
    ['sequelize()', MigrationTool.sequelize()],
    ['sequelize({ migrationsPath })', MigrationTool.sequelize({ migrationsPath: 'db/migrations' })],
    ['custom(command, env)', MigrationTool.custom(['./migrate'], { env: { A: '1' } })],
  ])('%s', (_label, tool) => {
    // GIVEN a preset without a post-deploy option
    // THEN it has no post-deploy command and no post-deploy environment
    expect(tool.postDeployCommand).toBeUndefined();
    expect(tool.postDeployEnv).toEqual({});
  });

  test('options that only name the pre-deploy migrations add the flag and nothing else', () => {
    // GIVEN presets given only their pre-deploy folder or locations
    // THEN the command names it, as the tool's own flag
    expect(MigrationTool.flyway({ locations: ['filesystem:/flyway/sql/', 'classpath:db/migration'] }).command)
      .toEqual(['flyway', 'migrate', '-locations=filesystem:/flyway/sql,classpath:db/migration']);
    expect(MigrationTool.knex({ migrationsDirectory: 'db/migrations' }).command)
      .toEqual(['npx', 'knex', 'migrate:latest', '--migrations-directory', 'db/migrations']);
    expect(MigrationTool.sequelize({ migrationsPath: 'db/migrations' }).command)
      .toEqual(['npx', 'sequelize-cli', 'db:migrate', '--migrations-path', 'db/migrations']);
  });
});

describe('each preset splits expand and contract with its own documented mechanism', () => {
  test.each([
    [
      'alembic: one branch label per phase',
      MigrationTool.alembic({ preDeployBranch: 'expand', postDeployBranch: 'contract' }),
      ['alembic', 'upgrade', 'expand@head'],
      ['alembic', 'upgrade', 'contract@head'],
      PYTHON_ENV, PYTHON_ENV,
    ],
    [
      'liquibase: the contract label, negated before the rollout',
      MigrationTool.liquibase({ postDeployLabel: 'post-deploy' }),
      ['liquibase', 'update', '--label-filter=!post-deploy'],
      ['liquibase', 'update', '--label-filter=post-deploy'],
      JVM_ENV, JVM_ENV,
    ],
    [
      'flyway: separate locations, one schema history',
      MigrationTool.flyway({ locations: ['filesystem:/flyway/sql/expand'], postDeployLocations: ['filesystem:/flyway/sql/contract'] }),
      ['flyway', 'migrate', '-locations=filesystem:/flyway/sql/expand', '-ignoreMigrationPatterns=*:missing,*:future'],
      ['flyway', 'migrate', '-locations=filesystem:/flyway/sql/expand,filesystem:/flyway/sql/contract', '-outOfOrder=true'],
      JVM_ENV, JVM_ENV,
    ],
    [
      'golang-migrate: a second folder, and a URL naming its own migrations table',
      MigrationTool.golangMigrate({ path: '/migrations/expand', postDeployPath: '/migrations/contract', postDeployDatabaseUrlEnv: 'POST_DEPLOY_DATABASE_URL' }),
      ['migrate', '-path', '/migrations/expand', '-database', '$(DATABASE_URL)', 'up'],
      ['migrate', '-path', '/migrations/contract', '-database', '$(POST_DEPLOY_DATABASE_URL)', 'up'],
      {}, {},
    ],
    [
      'rails: the application\'s own switch, set only before the rollout',
      MigrationTool.rails({ skipPostDeployMigrationsEnv: 'SKIP_POST_DEPLOYMENT_MIGRATIONS' }),
      ['bundle', 'exec', 'rails', 'db:migrate'],
      ['bundle', 'exec', 'rails', 'db:migrate'],
      { ...RAILS_ENV, SKIP_POST_DEPLOYMENT_MIGRATIONS: 'true' }, RAILS_ENV,
    ],
    [
      'knex: a second folder with its own migrations table',
      MigrationTool.knex({ migrationsDirectory: 'migrations', postDeployMigrationsDirectory: 'post_migrations' }),
      ['npx', 'knex', 'migrate:latest', '--migrations-directory', 'migrations'],
      ['npx', 'knex', 'migrate:latest', '--migrations-directory', 'post_migrations', '--migrations-table-name', 'knex_migrations_post_deploy'],
      NPM_ENV, NPM_ENV,
    ],
    [
      'typeorm: a second DataSource',
      MigrationTool.typeorm({ postDeployDataSource: 'dist/post-deploy-data-source.js' }),
      ['npx', 'typeorm', 'migration:run', '-d', 'dist/data-source.js'],
      ['npx', 'typeorm', 'migration:run', '-d', 'dist/post-deploy-data-source.js'],
      NPM_ENV, NPM_ENV,
    ],
    [
      'sequelize: a second migrations path',
      MigrationTool.sequelize({ migrationsPath: 'migrations', postDeployMigrationsPath: 'post-migrations' }),
      ['npx', 'sequelize-cli', 'db:migrate', '--migrations-path', 'migrations'],
      ['npx', 'sequelize-cli', 'db:migrate', '--migrations-path', 'post-migrations'],
      NPM_ENV, NPM_ENV,
    ],
  ])('%s', (_label, tool, command, postDeployCommand, env, postDeployEnv) => {
    // GIVEN a preset with its post-deploy option
    // THEN the pre-deploy run leaves the contract migrations out, and the post-deploy run applies them
    expect(tool.command).toEqual(command);
    expect(tool.postDeployCommand).toEqual(postDeployCommand);
    expect(tool.env).toEqual(env);
    expect(tool.postDeployEnv).toEqual(postDeployEnv);
  });

  test('knex takes the post-deploy table name', () => {
    const tool = MigrationTool.knex({ migrationsDirectory: 'db/expand', postDeployMigrationsDirectory: 'db/contract', postDeployMigrationsTableName: 'contract_migrations' });
    expect(tool.postDeployCommand).toEqual(['npx', 'knex', 'migrate:latest', '--migrations-directory', 'db/contract', '--migrations-table-name', 'contract_migrations']);
  });

  test('Rails keeps its writable tmp/ and log/ for both runs', () => {
    const tool = MigrationTool.rails({ appRoot: '/app', skipPostDeployMigrationsEnv: 'SKIP_POST_MIGRATE' });
    expect(tool.writablePaths).toEqual(['/app/tmp', '/app/log']);
    expect(tool.env.SKIP_POST_MIGRATE).toBe('true');
    expect(tool.postDeployEnv).not.toHaveProperty('SKIP_POST_MIGRATE');
  });

  test('the pre-deploy Job runs the expand command', () => {
    // GIVEN a service whose tool has a post-deploy phase
    const tool = MigrationTool.flyway({ locations: ['filesystem:/flyway/sql/expand'], postDeployLocations: ['filesystem:/flyway/sql/contract'] });
    // WHEN it is synthesized
    const { manifests } = synthesize({ ...WITHOUT_COMMAND, migrationTool: tool });
    // THEN the pre-deploy Job names only the expand location
    const migrate = container(named(manifests, 'Job', 'myapp-migration-v1-0-0-2485f4d55a').spec.template.spec, 'migrate');
    expect(migrate.command).toEqual(tool.command);
    expect(migrate.command.join(' ')).not.toContain('contract');
  });

  test('Prisma and Django offer no split: their presets have no post-deploy option', () => {
    // GIVEN the presets of tools without a documented way to select migrations by phase
    // THEN they take no options, and a split is written as two explicit commands
    expect(MigrationTool.prisma.length).toBe(0);
    expect(MigrationTool.django.length).toBe(0);
  });
});

describe('MigrationTool.custom() with a post-deploy command', () => {
  test('the post-deploy run gets env unless it has its own', () => {
    // GIVEN a custom tool with a post-deploy command and no post-deploy env
    const tool = MigrationTool.custom(['sqitch', 'deploy', '--to', '@expand'], {
      env: { SQITCH_USER: 'deploy' },
      writablePaths: ['/var/cache/sqitch'],
      postDeployCommand: ['sqitch', 'deploy'],
    });
    // THEN both runs share env and writable paths
    expect(tool.postDeployCommand).toEqual(['sqitch', 'deploy']);
    expect(tool.postDeployEnv).toEqual({ SQITCH_USER: 'deploy' });
    expect(tool.writablePaths).toEqual(['/var/cache/sqitch']);
  });

  test('postDeployEnv replaces env for the post-deploy run, so a skip switch is not inherited', () => {
    // GIVEN the same command, with a switch only the pre-deploy run sets
    const tool = MigrationTool.custom(['./bin/migrate'], {
      env: { SKIP_POST_DEPLOYMENT_MIGRATIONS: 'true', LOG_LEVEL: 'info' },
      postDeployCommand: ['./bin/migrate'],
      postDeployEnv: { LOG_LEVEL: 'info' },
    });
    // THEN the post-deploy run has exactly its own environment
    expect(tool.env).toEqual({ SKIP_POST_DEPLOYMENT_MIGRATIONS: 'true', LOG_LEVEL: 'info' });
    expect(tool.postDeployEnv).toEqual({ LOG_LEVEL: 'info' });
  });

  test('the arrays are copies', () => {
    const postDeployCommand = ['./contract'];
    const tool = MigrationTool.custom(['./expand'], { postDeployCommand });
    postDeployCommand.push('--all');
    expect(tool.postDeployCommand).toEqual(['./contract']);
  });

  test.each([
    [() => MigrationTool.custom(['./m'], { postDeployCommand: [] }),
      /MigrationTool.custom\(\): postDeployCommand \[\] is invalid: the migration command is a non-empty list/],
    [() => MigrationTool.custom(['./m'], { postDeployEnv: { A: '1' } }),
      /MigrationTool.custom\(\): postDeployEnv \{"A":"1"\} is invalid: .*needs postDeployCommand/],
    [() => MigrationTool.custom(['./m', 'up'], { env: { A: '1' }, postDeployCommand: ['./m', 'up'] }),
      /postDeployCommand \["\.\/m","up"\] is invalid: it is the pre-deploy command with the same environment/],
    [() => MigrationTool.custom(['./m'], { env: { A: '1' }, postDeployCommand: ['./m'], postDeployEnv: { A: '1' } }),
      /postDeployCommand .* is invalid: it is the pre-deploy command with the same environment/],
  ])('bad input is rejected (%#)', (create, message) => {
    expect(create).toThrow(message);
  });
});

describe('bad post-deploy options', () => {
  test.each([
    [() => MigrationTool.alembic({ postDeployBranch: 'contract' }),
      /alembic\(\): preDeployBranch \(undefined\) is invalid: postDeployBranch needs preDeployBranch too/],
    [() => MigrationTool.alembic({ preDeployBranch: 'expand' }),
      /alembic\(\): postDeployBranch \(undefined\) is invalid: preDeployBranch alone does not split/],
    [() => MigrationTool.alembic({ preDeployBranch: 'main', postDeployBranch: 'main' }),
      /alembic\(\): postDeployBranch "main" is invalid: it is the same as preDeployBranch/],
    [() => MigrationTool.alembic({ preDeployBranch: 'heads', postDeployBranch: 'contract' }),
      /alembic\(\): preDeployBranch "heads" is invalid: .*not "head", "heads" or "base"/],
    [() => MigrationTool.alembic({ preDeployBranch: 'expand', postDeployBranch: 'contract@head' }),
      /alembic\(\): postDeployBranch "contract@head" is invalid: a branch label/],
    [() => MigrationTool.liquibase({ postDeployLabel: 'post deploy' }), /liquibase\(\): postDeployLabel "post deploy" is invalid/],
    [() => MigrationTool.liquibase({ postDeployLabel: '!contract' }), /liquibase\(\): postDeployLabel "!contract" is invalid/],
    [() => MigrationTool.liquibase({ postDeployLabel: 'not' }), /liquibase\(\): postDeployLabel "not" is invalid: .*not "and", "or" or "not"/],
    [() => MigrationTool.liquibase({ postDeployLabel: '' }), /liquibase\(\): postDeployLabel "" is invalid/],
    [() => MigrationTool.flyway({ postDeployLocations: ['filesystem:/sql/contract'] }),
      /flyway\(\): locations \(undefined\) is invalid: postDeployLocations needs locations too/],
    [() => MigrationTool.flyway({ locations: ['filesystem:/sql'], postDeployLocations: ['filesystem:/sql/'] }),
      /flyway\(\): postDeployLocations "filesystem:\/sql" is invalid: it overlaps the pre-deploy location "filesystem:\/sql"/],
    [() => MigrationTool.flyway({ locations: ['filesystem:/sql'], postDeployLocations: ['filesystem:/sql/contract'] }),
      /postDeployLocations "filesystem:\/sql\/contract" is invalid: it overlaps .*scans a location and its subfolders/],
    [() => MigrationTool.flyway({ locations: ['filesystem:/sql/expand/contract'], postDeployLocations: ['filesystem:/sql/expand'] }),
      /postDeployLocations "filesystem:\/sql\/expand" is invalid: it overlaps/],
    [() => MigrationTool.flyway({ locations: ['/flyway/sql'] }), /flyway\(\): locations "\/flyway\/sql" is invalid: .*Write the scheme/],
    [() => MigrationTool.flyway({ locations: ['filesystem:a,filesystem:b'] }), /locations "filesystem:a,filesystem:b" is invalid: .*without spaces or commas/],
    [() => MigrationTool.flyway({ locations: [] }), /flyway\(\): locations \[\] is invalid: give at least one location/],
    [() => MigrationTool.flyway({ locations: ['filesystem:/a'], postDeployLocations: [] }), /flyway\(\): postDeployLocations \[\] is invalid/],
    [() => MigrationTool.flyway({ locations: ['filesystem:/a', 'filesystem:/a/'] }), /flyway\(\): locations "filesystem:\/a" is invalid: each location is listed once/],
    [() => MigrationTool.golangMigrate({ postDeployPath: '/contract' }),
      /golangMigrate\(\): postDeployDatabaseUrlEnv \(undefined\) is invalid: postDeployPath alone does not split/],
    [() => MigrationTool.golangMigrate({ postDeployDatabaseUrlEnv: 'POST_URL' }),
      /golangMigrate\(\): postDeployPath \(undefined\) is invalid: postDeployDatabaseUrlEnv needs postDeployPath too/],
    [() => MigrationTool.golangMigrate({ postDeployPath: '/migrations/', postDeployDatabaseUrlEnv: 'POST_URL' }),
      /golangMigrate\(\): postDeployPath "\/migrations" is invalid: it is the same as path/],
    [() => MigrationTool.golangMigrate({ postDeployPath: '/contract', postDeployDatabaseUrlEnv: 'DATABASE_URL' }),
      /golangMigrate\(\): postDeployDatabaseUrlEnv "DATABASE_URL" is invalid: it is databaseUrlEnv too: .*x-migrations-table/],
    [() => MigrationTool.golangMigrate({ postDeployPath: 'contract', postDeployDatabaseUrlEnv: 'POST_URL' }),
      /golangMigrate\(\): postDeployPath "contract" is invalid: it must be an absolute path/],
    [() => MigrationTool.golangMigrate({ postDeployPath: '/contract', postDeployDatabaseUrlEnv: 'POST-URL' }),
      /golangMigrate\(\): postDeployDatabaseUrlEnv "POST-URL" is invalid: an environment variable name/],
    [() => MigrationTool.rails({ skipPostDeployMigrationsEnv: 'SKIP POST' }), /rails\(\): skipPostDeployMigrationsEnv "SKIP POST" is invalid/],
    [() => MigrationTool.rails({ skipPostDeployMigrationsEnv: 'HOME' }), /rails\(\): skipPostDeployMigrationsEnv "HOME" is invalid: the preset sets this variable itself/],
    [() => MigrationTool.knex({ postDeployMigrationsDirectory: 'post' }),
      /knex\(\): migrationsDirectory \(undefined\) is invalid: postDeployMigrationsDirectory needs migrationsDirectory too/],
    [() => MigrationTool.knex({ postDeployMigrationsTableName: 'post_migrations' }),
      /knex\(\): postDeployMigrationsTableName "post_migrations" is invalid: .*needs postDeployMigrationsDirectory/],
    [() => MigrationTool.knex({ migrationsDirectory: './migrations', postDeployMigrationsDirectory: 'migrations/' }),
      /knex\(\): postDeployMigrationsDirectory "migrations" is invalid: it is the same as migrationsDirectory/],
    [() => MigrationTool.knex({ migrationsDirectory: 'a', postDeployMigrationsDirectory: 'b', postDeployMigrationsTableName: 'knex_migrations' }),
      /knex\(\): postDeployMigrationsTableName "knex_migrations" is invalid: .*each folder needs its own table/],
    [() => MigrationTool.knex({ migrationsDirectory: 'a', postDeployMigrationsDirectory: 'b', postDeployMigrationsTableName: 'post-migrations' }),
      /knex\(\): postDeployMigrationsTableName "post-migrations" is invalid/],
    [() => MigrationTool.knex({ migrationsDirectory: ' ' }), /knex\(\): migrationsDirectory " " is invalid: name the migrations folder/],
    [() => MigrationTool.typeorm({ postDeployDataSource: 'dist/data-source.js' }),
      /typeorm\(\): postDeployDataSource "dist\/data-source.js" is invalid: it is the same as dataSource/],
    [() => MigrationTool.typeorm({ postDeployDataSource: '' }), /typeorm\(\): postDeployDataSource "" is invalid: name the compiled DataSource file/],
    [() => MigrationTool.sequelize({ postDeployMigrationsPath: 'post' }),
      /sequelize\(\): migrationsPath \(undefined\) is invalid: postDeployMigrationsPath needs migrationsPath too/],
    [() => MigrationTool.sequelize({ migrationsPath: 'migrations', postDeployMigrationsPath: 'migrations' }),
      /sequelize\(\): postDeployMigrationsPath "migrations" is invalid: it is the same as migrationsPath/],
  ])('is rejected (%#)', (create, message) => {
    expect(create).toThrow(message);
  });
});

// fast-check prints the failing input; folders and locations read better than closures.
const segment = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);
const relativeFolder = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));

describe('properties over folders, locations and labels (fast-check)', () => {
  test('a folder-based preset never lets one run name the other run\'s folder', () => {
    fc.assert(fc.property(relativeFolder, relativeFolder, fc.boolean(), (expand, contract, trailingSlash) => {
      // GIVEN two folders, the second maybe written with a trailing slash
      const post = trailingSlash ? `${contract}/` : contract;
      const build: Array<[string, () => MigrationTool]> = [
        ['--migrations-directory', () => MigrationTool.knex({ migrationsDirectory: expand, postDeployMigrationsDirectory: post })],
        ['--migrations-path', () => MigrationTool.sequelize({ migrationsPath: expand, postDeployMigrationsPath: post })],
        ['-path', () => MigrationTool.golangMigrate({ path: `/${expand}`, postDeployPath: `/${post}`, postDeployDatabaseUrlEnv: 'POST_URL' })],
      ];
      for (const [flag, create] of build) {
        if (expand === contract) {
          // THEN the same folder twice is refused
          expect(create).toThrow(/is invalid: it is the same as/);
        } else {
          // THEN each run names its own folder, once, and only that one
          const tool = create();
          const folders = (command: string[]) => command
            .flatMap((arg, i) => (command[i - 1] === flag ? [arg.replace(/^\/|\/$/g, '')] : []));
          expect(folders(tool.command)).toEqual([expand]);
          expect(folders(tool.postDeployCommand!)).toEqual([contract]);
        }
      }
    }));
  });

  test('Flyway refuses nested locations and otherwise gives the pre-deploy run only its own', () => {
    // Few folder names, so that nested and equal locations come up often.
    const folder = fc.array(fc.constantFrom('sql', 'expand', 'contract'), { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
    const location = fc.tuple(fc.constantFrom('filesystem:', 'filesystem:/', 'classpath:'), folder).map(([scheme, path]) => `${scheme}${path}`);
    fc.assert(fc.property(
      fc.uniqueArray(location, { minLength: 1, maxLength: 3 }),
      fc.uniqueArray(location, { minLength: 1, maxLength: 3 }),
      (pre, post) => {
        // GIVEN expand and contract locations
        const nested = (a: string, b: string) => a === b || a.startsWith(`${b}/`);
        const overlaps = post.some((p) => pre.some((q) => nested(p, q) || nested(q, p)));
        const create = () => MigrationTool.flyway({ locations: pre, postDeployLocations: post });
        if (overlaps) {
          // THEN a contract location inside, or around, an expand one is refused
          expect(create).toThrow(/postDeployLocations ".*" is invalid: it overlaps the pre-deploy location/);
          return;
        }
        // THEN the pre-deploy run resolves only the expand locations, the post-deploy run both
        const tool = create();
        const locationsOf = (command: string[]) => command.find((arg) => arg.startsWith('-locations='))!.slice('-locations='.length).split(',');
        expect(locationsOf(tool.command)).toEqual(pre);
        expect(locationsOf(tool.postDeployCommand!)).toEqual([...pre, ...post]);
      },
    ));
  });

  test('a Liquibase label either selects exactly that label or is refused', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 12 }), segment), (label) => {
      // GIVEN any label
      let tool: MigrationTool;
      try {
        tool = MigrationTool.liquibase({ postDeployLabel: label });
      } catch (e) {
        // THEN a refusal names the preset, the option and the value
        expect(String(e)).toContain(`MigrationTool.liquibase(): postDeployLabel ${JSON.stringify(label)} is invalid`);
        return;
      }
      // THEN an accepted label is a plain word, negated before the rollout and selected after it
      expect(label).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/);
      expect(tool.command).toEqual(['liquibase', 'update', `--label-filter=!${label}`]);
      expect(tool.postDeployCommand).toEqual(['liquibase', 'update', `--label-filter=${label}`]);
    }));
  });
});
