import { checkArgument, checkOptions, COMMAND, PropTypes, refuseOptions, STRING, STRING_LIST, STRING_MAP } from './prop-types';
import { invalidProp, validateAbsolutePath, validateCommand, validateEnvNames, validateWritablePaths } from './validation';

/**
 * What a migration tool needs besides its command.
 */
export interface MigrationToolOptions {
  /**
   * Environment variables the tool needs in the pre-deploy run.
   *
   * @default - none
   */
  readonly env?: { [name: string]: string };

  /**
   * Absolute paths the tool writes to, in both runs. The Job's container has a read-only root
   * filesystem, so each path gets its own emptyDir volume. `/tmp` is always writable.
   *
   * @default - none besides /tmp
   */
  readonly writablePaths?: string[];

  /**
   * Absolute paths the application itself writes to at run time under a read-only root
   * filesystem (a Rails server writes `tmp/pids` at boot). They get an emptyDir in the
   * `MigratedService`'s container, and in workloads gated with `shareEnvironment`.
   *
   * @default - none besides /tmp
   */
  readonly appWritablePaths?: string[];

  /**
   * The command that applies only the post-deploy (contract) migrations, run once every workload
   * gated by the migration has finished rolling out. `command` must then leave those migrations out:
   * run early, they break the previous release's pods that still serve traffic.
   *
   * @default - no post-deploy phase
   */
  readonly postDeployCommand?: string[];

  /**
   * Environment variables of the post-deploy run: the whole set, in place of `env` (so a switch
   * set in `env` to leave the contract migrations out is not inherited). Requires `postDeployCommand`.
   *
   * @default - `env`
   */
  readonly postDeployEnv?: { [name: string]: string };
}

/**
 * Options for `MigrationTool.alembic()`.
 */
export interface AlembicOptions {
  /**
   * The branch label of the pre-deploy (expand) migrations. With `postDeployBranch`, the pre-deploy
   * run is `alembic upgrade <preDeployBranch>@head`.
   *
   * @default - no branches: `alembic upgrade head`
   */
  readonly preDeployBranch?: string;

  /**
   * The branch label of the post-deploy (contract) migrations: setting it (with `preDeployBranch`)
   * adds the post-deploy run `alembic upgrade <postDeployBranch>@head`. Alembic applies a branch's
   * revisions and those they depend on (`depends_on`), never the other branch's.
   *
   * @default - no post-deploy phase
   */
  readonly postDeployBranch?: string;
}

/**
 * Options for `MigrationTool.liquibase()`.
 */
export interface LiquibaseOptions {
  /**
   * The label of the post-deploy (contract) changesets. Setting it runs
   * `liquibase update --label-filter=!<label>` before the rollout and
   * `liquibase update --label-filter=<label>` after it. Changesets without labels run in the
   * pre-deploy run (Liquibase runs an unlabeled changeset under any label filter).
   *
   * @default - no post-deploy phase: `liquibase update` without a label filter
   */
  readonly postDeployLabel?: string;
}

/**
 * Options for `MigrationTool.flyway()`.
 */
export interface FlywayOptions {
  /**
   * Flyway locations of the pre-deploy (expand) migrations, each with its scheme, e.g.
   * `filesystem:/flyway/sql/expand`. Passed as `-locations=`, which overrides `FLYWAY_LOCATIONS`.
   *
   * @default - Flyway's own configuration (`FLYWAY_LOCATIONS` or its default)
   */
  readonly locations?: string[];

  /**
   * Flyway locations of the post-deploy (contract) migrations, e.g. `filesystem:/flyway/sql/contract`.
   * Setting it (with `locations`) adds a post-deploy run. Both runs share one schema history table:
   * the pre-deploy run resolves only `locations` and ignores the contract migrations it cannot see
   * (`-ignoreMigrationPatterns=*:missing,*:future`); the post-deploy run resolves both and applies
   * contract migrations numbered below an applied expand migration (`-outOfOrder=true`).
   *
   * @default - no post-deploy phase
   */
  readonly postDeployLocations?: string[];
}

/**
 * Options for `MigrationTool.golangMigrate()`.
 */
export interface GolangMigrateOptions {
  /**
   * The folder of migration files inside the image.
   *
   * @default '/migrations'
   */
  readonly path?: string;

  /**
   * The environment variable that holds the database URL. Kubernetes expands `$(NAME)` in the
   * command from the container's environment, including `envFrom`.
   *
   * @default 'DATABASE_URL'
   */
  readonly databaseUrlEnv?: string;

  /**
   * The folder of the post-deploy (contract) migrations inside the image. Setting it (with
   * `postDeployDatabaseUrlEnv`) adds a post-deploy run of `migrate up` on that folder.
   *
   * @default - no post-deploy phase
   */
  readonly postDeployPath?: string;

  /**
   * The environment variable holding the database URL of the post-deploy run. golang-migrate keeps
   * one version per migrations table, so the contract folder needs a table of its own, named in this
   * URL's `x-migrations-table` query parameter (MongoDB: `x-migrations-collection`).
   *
   * @default - required with `postDeployPath`
   */
  readonly postDeployDatabaseUrlEnv?: string;
}

/**
 * Options for `MigrationTool.typeorm()`.
 */
export interface TypeOrmOptions {
  /**
   * The compiled DataSource file, relative to the working directory.
   *
   * @default 'dist/data-source.js'
   */
  readonly dataSource?: string;

  /**
   * A second compiled DataSource file whose `migrations` are the post-deploy (contract) ones, with
   * a `migrationsTableName` of its own. Setting it adds the post-deploy run
   * `npx typeorm migration:run -d <postDeployDataSource>`.
   *
   * @default - no post-deploy phase
   */
  readonly postDeployDataSource?: string;
}

/**
 * Options for `MigrationTool.knex()`.
 */
export interface KnexOptions {
  /**
   * The folder of the pre-deploy (expand) migrations, passed as `--migrations-directory`.
   *
   * @default - the knexfile's `migrations.directory`
   */
  readonly migrationsDirectory?: string;

  /**
   * The migrations table of the pre-deploy run, passed as `--migrations-table-name` (knex keeps its
   * lock in `<table>_lock`). Give each service that shares a database its own: knex refuses to run
   * when its table lists a migration its folder lacks ("the migration directory is corrupt"), and
   * two services on one table take each other's lock.
   *
   * @default - the knexfile's `migrations.tableName` (knex's default is "knex_migrations")
   */
  readonly migrationsTableName?: string;

  /**
   * The folder of the post-deploy (contract) migrations. Setting it (with `migrationsDirectory`)
   * adds a post-deploy run of `knex migrate:latest` on that folder and its own migrations table.
   *
   * @default - no post-deploy phase
   */
  readonly postDeployMigrationsDirectory?: string;

  /**
   * The migrations table of the post-deploy run. It must differ from the knexfile's: knex refuses to
   * run when its table lists a migration its folder lacks ("the migration directory is corrupt").
   *
   * @default - `<migrationsTableName>_post_deploy`, or 'knex_migrations_post_deploy' without one
   */
  readonly postDeployMigrationsTableName?: string;
}

/**
 * Options for `MigrationTool.sequelize()`.
 */
export interface SequelizeOptions {
  /**
   * The folder of the pre-deploy (expand) migrations, passed as `--migrations-path`.
   *
   * @default - the CLI's configuration (`.sequelizerc`, else `migrations`)
   */
  readonly migrationsPath?: string;

  /**
   * The folder of the post-deploy (contract) migrations. Setting it (with `migrationsPath`) adds the
   * post-deploy run `npx sequelize-cli db:migrate --migrations-path <postDeployMigrationsPath>`.
   * Both runs record file names in the same `SequelizeMeta` table, so file names must be unique
   * across the two folders.
   *
   * @default - no post-deploy phase
   */
  readonly postDeployMigrationsPath?: string;
}

/**
 * Options for `MigrationTool.rails()`.
 */
export interface RailsOptions {
  /**
   * The application root inside the image, whose `tmp/` and `log/` Rails writes to.
   *
   * @default '/rails'
   */
  readonly appRoot?: string;

  /**
   * The environment variable your application reads to leave its post-deploy migrations out of
   * `db:migrate`, e.g. `SKIP_POST_DEPLOYMENT_MIGRATIONS` (GitLab's convention). Rails itself has no
   * such switch: the application adds the post-deploy folder (e.g. `db/post_migrate`) to
   * `config.paths["db/migrate"]` unless the variable is set. Setting this option adds a post-deploy
   * run: the pre-deploy run sets the variable to `true`, the post-deploy run leaves it unset.
   *
   * @default - no post-deploy phase
   */
  readonly skipPostDeployMigrationsEnv?: string;
}

// npx and npm write their cache and logs under $HOME, which is read-only in the Job.
const NPM_ENV = { HOME: '/tmp', npm_config_cache: '/tmp/.npm', npm_config_update_notifier: 'false' };
// Prisma writes its command history under $HOME/.config (7.x did not finish with an unwritable HOME)
// and, unless disabled, calls checkpoint.prisma.io and caches the answer under $HOME/.cache.
const PRISMA_ENV = { ...NPM_ENV, CHECKPOINT_DISABLE: '1' };
// Python writes __pycache__ next to the sources unless told not to.
const PYTHON_ENV = { PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' };
// The JVM writes hsperfdata to /tmp; tools write caches under $HOME.
const JVM_ENV = { HOME: '/tmp' };

// Each preset's options, by name: an option a preset does not know is refused, not ignored.
const ALEMBIC_OPTIONS: PropTypes<AlembicOptions> = { preDeployBranch: STRING, postDeployBranch: STRING };
const LIQUIBASE_OPTIONS: PropTypes<LiquibaseOptions> = { postDeployLabel: STRING };
const FLYWAY_OPTIONS: PropTypes<FlywayOptions> = { locations: STRING_LIST, postDeployLocations: STRING_LIST };
const GOLANG_MIGRATE_OPTIONS: PropTypes<GolangMigrateOptions> = {
  path: STRING, databaseUrlEnv: STRING, postDeployPath: STRING, postDeployDatabaseUrlEnv: STRING,
};
const RAILS_OPTIONS: PropTypes<RailsOptions> = { appRoot: STRING, skipPostDeployMigrationsEnv: STRING };
/** A knex migrations table name, as the pre- and post-deploy runs take it. */
const KNEX_TABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

const KNEX_OPTIONS: PropTypes<KnexOptions> = {
  migrationsDirectory: STRING, migrationsTableName: STRING, postDeployMigrationsDirectory: STRING, postDeployMigrationsTableName: STRING,
};
const TYPEORM_OPTIONS: PropTypes<TypeOrmOptions> = { dataSource: STRING, postDeployDataSource: STRING };
const SEQUELIZE_OPTIONS: PropTypes<SequelizeOptions> = { migrationsPath: STRING, postDeployMigrationsPath: STRING };
const CUSTOM_OPTIONS: PropTypes<MigrationToolOptions> = {
  env: STRING_MAP, writablePaths: STRING_LIST, appWritablePaths: STRING_LIST, postDeployCommand: COMMAND, postDeployEnv: STRING_MAP,
};

/**
 * A migration tool: the command that applies pending migrations at deploy time, with the
 * environment and writable paths it needs under a read-only root filesystem.
 *
 * A tool may have a post-deploy phase: `command` applies the expand migrations before the new
 * release starts, and `postDeployCommand` applies the contract migrations once no pod of the
 * previous release is left. Presets offer it where the tool has a documented way to keep the two
 * sets apart; otherwise give both commands to `MigrationTool.custom()`.
 */
export class MigrationTool {
  /**
   * `npx prisma migrate deploy`: applies pending migrations, never creates new ones. For Prisma 5, 6
   * and 7; on 7 the image needs `prisma.config.ts` (and what it imports) in the working directory.
   *
   * No post-deploy phase: `prisma migrate deploy` applies every pending migration of one folder and
   * has no option to select some of them. For expand/contract, give your own two commands to
   * `MigrationTool.custom()`.
   */
  public static prisma(): MigrationTool {
    // eslint-disable-next-line prefer-rest-params
    refuseOptions('MigrationTool.prisma()', arguments);
    return new MigrationTool('prisma', ['npx', 'prisma', 'migrate', 'deploy'], { env: PRISMA_ENV });
  }

  /**
   * `alembic upgrade head`; with branches, `alembic upgrade <preDeployBranch>@head` and, after the
   * rollout, `alembic upgrade <postDeployBranch>@head`.
   */
  public static alembic(options: AlembicOptions = {}): MigrationTool {
    const owner = 'MigrationTool.alembic()';
    checkOptions(owner, options, ALEMBIC_OPTIONS);
    const { preDeployBranch, postDeployBranch } = options;
    if (preDeployBranch === undefined && postDeployBranch === undefined) {
      return new MigrationTool('alembic', ['alembic', 'upgrade', 'head'], { env: PYTHON_ENV });
    }
    requirePair(owner, 'preDeployBranch', preDeployBranch, 'postDeployBranch', postDeployBranch,
      'the expand and the contract migrations each need a branch label, e.g. "expand" and "contract"');
    validateAlembicBranch(owner, 'preDeployBranch', preDeployBranch!);
    validateAlembicBranch(owner, 'postDeployBranch', postDeployBranch!);
    requireDistinct(owner, 'postDeployBranch', postDeployBranch!, preDeployBranch!, 'preDeployBranch');
    return new MigrationTool('alembic', ['alembic', 'upgrade', `${preDeployBranch}@head`], {
      env: PYTHON_ENV,
      postDeployCommand: ['alembic', 'upgrade', `${postDeployBranch}@head`],
    });
  }

  /**
   * `liquibase update`; point it at the changelog with `LIQUIBASE_COMMAND_CHANGELOG_FILE`. With a
   * post-deploy label, `liquibase update --label-filter=!<label>` and, after the rollout,
   * `liquibase update --label-filter=<label>` (Liquibase 4.16 or later).
   */
  public static liquibase(options: LiquibaseOptions = {}): MigrationTool {
    checkOptions('MigrationTool.liquibase()', options, LIQUIBASE_OPTIONS);
    const label = options.postDeployLabel;
    if (label === undefined) {
      return new MigrationTool('liquibase', ['liquibase', 'update'], { env: JVM_ENV });
    }
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(label) || ['and', 'or', 'not'].includes(label.toLowerCase())) {
      throw invalidProp('MigrationTool.liquibase()', 'postDeployLabel', label,
        'a label is letters, digits, "_", "." and "-" (not starting with "." or "-"), and not "and", "or" or "not": '
        + 'the preset writes it into a label expression. Use e.g. "post-deploy".');
    }
    return new MigrationTool('liquibase', ['liquibase', 'update', `--label-filter=!${label}`], {
      env: JVM_ENV,
      postDeployCommand: ['liquibase', 'update', `--label-filter=${label}`],
    });
  }

  /**
   * `flyway migrate`; configure it with `FLYWAY_*` variables. With post-deploy locations, the
   * pre-deploy run resolves only `locations` and the post-deploy run both sets (see `FlywayOptions`).
   */
  public static flyway(options: FlywayOptions = {}): MigrationTool {
    const owner = 'MigrationTool.flyway()';
    checkOptions(owner, options, FLYWAY_OPTIONS);
    const { locations, postDeployLocations } = options;
    if (locations === undefined && postDeployLocations === undefined) {
      return new MigrationTool('flyway', ['flyway', 'migrate'], { env: JVM_ENV });
    }
    if (locations === undefined) {
      throw invalidProp(owner, 'locations', locations,
        'postDeployLocations needs locations too: the pre-deploy run must name its own locations, '
        + 'or it would apply the contract migrations as well. Give e.g. ["filesystem:/flyway/sql/expand"].');
    }
    const pre = validateFlywayLocations(owner, 'locations', locations);
    if (postDeployLocations === undefined) {
      return new MigrationTool('flyway', ['flyway', 'migrate', `-locations=${pre.join(',')}`], { env: JVM_ENV });
    }
    const post = validateFlywayLocations(owner, 'postDeployLocations', postDeployLocations);
    for (const location of post) {
      const overlap = pre.find((other) => isSameOrInside(location, other) || isSameOrInside(other, location));
      if (overlap !== undefined) {
        throw invalidProp(owner, 'postDeployLocations', location,
          `it overlaps the pre-deploy location "${overlap}": Flyway scans a location and its subfolders, so one run `
          + 'would see the other\'s migrations. Keep expand and contract migrations in separate, non-nested folders.');
      }
    }
    return new MigrationTool('flyway', ['flyway', 'migrate', `-locations=${pre.join(',')}`, '-ignoreMigrationPatterns=*:missing,*:future'], {
      env: JVM_ENV,
      postDeployCommand: ['flyway', 'migrate', `-locations=${[...pre, ...post].join(',')}`, '-outOfOrder=true'],
    });
  }

  /**
   * `migrate -path <path> -database $(DATABASE_URL) up` (golang-migrate). With a post-deploy path,
   * also `migrate -path <postDeployPath> -database $(<postDeployDatabaseUrlEnv>) up` after the rollout.
   */
  public static golangMigrate(options: GolangMigrateOptions = {}): MigrationTool {
    const owner = 'MigrationTool.golangMigrate()';
    checkOptions(owner, options, GOLANG_MIGRATE_OPTIONS);
    const databaseUrlEnv = options.databaseUrlEnv ?? 'DATABASE_URL';
    validateEnvName(owner, 'databaseUrlEnv', databaseUrlEnv);
    const path = options.path ?? '/migrations';
    validateAbsolutePath(owner, 'path', path);
    const command = ['migrate', '-path', path, '-database', `$(${databaseUrlEnv})`, 'up'];
    const { postDeployPath, postDeployDatabaseUrlEnv } = options;
    if (postDeployPath === undefined && postDeployDatabaseUrlEnv === undefined) {
      return new MigrationTool('golang-migrate', command, {});
    }
    requirePair(owner, 'postDeployPath', postDeployPath, 'postDeployDatabaseUrlEnv', postDeployDatabaseUrlEnv,
      'the contract migrations need their folder and a database URL whose x-migrations-table names a table of their own');
    validateAbsolutePath(owner, 'postDeployPath', postDeployPath!);
    validateEnvName(owner, 'postDeployDatabaseUrlEnv', postDeployDatabaseUrlEnv!);
    requireDistinct(owner, 'postDeployPath', trimSlashes(postDeployPath!), trimSlashes(path), 'path');
    if (postDeployDatabaseUrlEnv === databaseUrlEnv) {
      throw invalidProp(owner, 'postDeployDatabaseUrlEnv', postDeployDatabaseUrlEnv,
        'it is databaseUrlEnv too: golang-migrate keeps one version per migrations table, so the post-deploy run needs a URL of its own, '
        + 'e.g. the same URL with "x-migrations-table=schema_migrations_post_deploy" added to its query, in another variable.');
    }
    return new MigrationTool('golang-migrate', command, {
      postDeployCommand: ['migrate', '-path', postDeployPath!, '-database', `$(${postDeployDatabaseUrlEnv})`, 'up'],
    });
  }

  /**
   * `python manage.py migrate --noinput`.
   *
   * No post-deploy phase: Django applies every unapplied migration of every app, and `migrate`
   * selects only by app and migration name, which says nothing about expand or contract. For
   * expand/contract, give your own two commands to `MigrationTool.custom()`.
   */
  public static django(): MigrationTool {
    // eslint-disable-next-line prefer-rest-params
    refuseOptions('MigrationTool.django()', arguments);
    return new MigrationTool('django', ['python', 'manage.py', 'migrate', '--noinput'], { env: PYTHON_ENV });
  }

  /**
   * `bundle exec rails db:migrate`, with `tmp/` and `log/` of the app root writable, in the Job and
   * in the app (`appWritablePaths`: a Rails server writes `tmp/pids` at boot). With
   * `skipPostDeployMigrationsEnv`, the pre-deploy run sets that variable to `true` and the
   * post-deploy run, after the rollout, runs `db:migrate` without it.
   */
  public static rails(options: RailsOptions = {}): MigrationTool {
    const owner = 'MigrationTool.rails()';
    checkOptions(owner, options, RAILS_OPTIONS);
    const appRoot = (options.appRoot ?? '/rails').replace(/\/+$/, '');
    validateAbsolutePath(owner, 'appRoot', appRoot);
    const command = ['bundle', 'exec', 'rails', 'db:migrate'];
    const env = { RAILS_LOG_TO_STDOUT: '1', HOME: '/tmp' };
    const writablePaths = [`${appRoot}/tmp`, `${appRoot}/log`];
    const skipEnv = options.skipPostDeployMigrationsEnv;
    if (skipEnv === undefined) {
      return new MigrationTool('rails', command, { env, writablePaths, appWritablePaths: writablePaths });
    }
    validateEnvName(owner, 'skipPostDeployMigrationsEnv', skipEnv);
    if (skipEnv in env) {
      throw invalidProp(owner, 'skipPostDeployMigrationsEnv', skipEnv,
        'the preset sets this variable itself; name the variable your application reads, e.g. "SKIP_POST_DEPLOYMENT_MIGRATIONS".');
    }
    return new MigrationTool('rails', command, {
      env: { ...env, [skipEnv]: 'true' },
      writablePaths,
      appWritablePaths: writablePaths,
      postDeployCommand: command,
      postDeployEnv: env,
    });
  }

  /**
   * `npx knex migrate:latest`. With a post-deploy folder, `--migrations-directory <dir>` before the
   * rollout, and `--migrations-directory <postDir> --migrations-table-name <table>` after it.
   */
  public static knex(options: KnexOptions = {}): MigrationTool {
    const owner = 'MigrationTool.knex()';
    checkOptions(owner, options, KNEX_OPTIONS);
    const { migrationsDirectory, migrationsTableName, postDeployMigrationsDirectory, postDeployMigrationsTableName } = options;
    const command = ['npx', 'knex', 'migrate:latest'];
    if (migrationsDirectory !== undefined) {
      validateFolder(owner, 'migrationsDirectory', migrationsDirectory);
      command.push('--migrations-directory', migrationsDirectory);
    }
    if (migrationsTableName !== undefined) {
      if (typeof migrationsTableName !== 'string' || !KNEX_TABLE.test(migrationsTableName)) {
        throw invalidProp(owner, 'migrationsTableName', migrationsTableName,
          'it is a table name: letters, digits and "_", not starting with a digit, such as "billing_migrations".');
      }
      command.push('--migrations-table-name', migrationsTableName);
    }
    if (postDeployMigrationsDirectory === undefined) {
      if (postDeployMigrationsTableName !== undefined) {
        throw invalidProp(owner, 'postDeployMigrationsTableName', postDeployMigrationsTableName,
          'it is the table of the post-deploy run, which needs postDeployMigrationsDirectory: give both, or neither.');
      }
      return new MigrationTool('knex', command, { env: NPM_ENV });
    }
    requirePair(owner, 'migrationsDirectory', migrationsDirectory, 'postDeployMigrationsDirectory', postDeployMigrationsDirectory,
      'the pre-deploy run must name its own folder, or it would apply the contract migrations as well');
    validateFolder(owner, 'postDeployMigrationsDirectory', postDeployMigrationsDirectory);
    requireDistinct(owner, 'postDeployMigrationsDirectory', trimSlashes(postDeployMigrationsDirectory),
      trimSlashes(migrationsDirectory!), 'migrationsDirectory');
    const table = postDeployMigrationsTableName ?? `${migrationsTableName ?? 'knex_migrations'}_post_deploy`;
    if (!KNEX_TABLE.test(table) || table === 'knex_migrations' || table === migrationsTableName) {
      throw invalidProp(owner, 'postDeployMigrationsTableName', table,
        `it is letters, digits and "_" (not starting with a digit), and not the pre-deploy run's table ("${migrationsTableName ?? 'knex_migrations'}"): knex refuses `
        + 'to run when its table lists a migration its folder lacks, so each folder needs its own table.');
    }
    return new MigrationTool('knex', command, {
      env: NPM_ENV,
      postDeployCommand: ['npx', 'knex', 'migrate:latest', '--migrations-directory', postDeployMigrationsDirectory, '--migrations-table-name', table],
    });
  }

  /**
   * `npx typeorm migration:run -d <dataSource>`. With a second DataSource, also
   * `npx typeorm migration:run -d <postDeployDataSource>` after the rollout.
   */
  public static typeorm(options: TypeOrmOptions = {}): MigrationTool {
    const owner = 'MigrationTool.typeorm()';
    checkOptions(owner, options, TYPEORM_OPTIONS);
    const dataSource = options.dataSource ?? 'dist/data-source.js';
    validateDataSource(owner, 'dataSource', dataSource);
    const command = ['npx', 'typeorm', 'migration:run', '-d', dataSource];
    const postDeployDataSource = options.postDeployDataSource;
    if (postDeployDataSource === undefined) {
      return new MigrationTool('typeorm', command, { env: NPM_ENV });
    }
    validateDataSource(owner, 'postDeployDataSource', postDeployDataSource);
    requireDistinct(owner, 'postDeployDataSource', postDeployDataSource, dataSource, 'dataSource');
    return new MigrationTool('typeorm', command, {
      env: NPM_ENV,
      postDeployCommand: ['npx', 'typeorm', 'migration:run', '-d', postDeployDataSource],
    });
  }

  /**
   * `npx sequelize-cli db:migrate`. With a post-deploy folder, `--migrations-path <path>` before the
   * rollout and `--migrations-path <postDeployMigrationsPath>` after it.
   */
  public static sequelize(options: SequelizeOptions = {}): MigrationTool {
    const owner = 'MigrationTool.sequelize()';
    checkOptions(owner, options, SEQUELIZE_OPTIONS);
    const { migrationsPath, postDeployMigrationsPath } = options;
    const command = ['npx', 'sequelize-cli', 'db:migrate'];
    if (migrationsPath !== undefined) {
      validateFolder(owner, 'migrationsPath', migrationsPath);
      command.push('--migrations-path', migrationsPath);
    }
    if (postDeployMigrationsPath === undefined) {
      return new MigrationTool('sequelize', command, { env: NPM_ENV });
    }
    requirePair(owner, 'migrationsPath', migrationsPath, 'postDeployMigrationsPath', postDeployMigrationsPath,
      'the pre-deploy run must name its own folder, or it would apply the contract migrations as well');
    validateFolder(owner, 'postDeployMigrationsPath', postDeployMigrationsPath);
    requireDistinct(owner, 'postDeployMigrationsPath', trimSlashes(postDeployMigrationsPath), trimSlashes(migrationsPath!), 'migrationsPath');
    return new MigrationTool('sequelize', command, {
      env: NPM_ENV,
      postDeployCommand: ['npx', 'sequelize-cli', 'db:migrate', '--migrations-path', postDeployMigrationsPath],
    });
  }

  /**
   * Any other tool: its deploy-time command, and what it needs. For expand/contract, `command` must
   * leave the contract migrations out and `postDeployCommand` must apply only them.
   */
  public static custom(command: string[], options: MigrationToolOptions = {}): MigrationTool {
    checkArgument('MigrationTool.custom()', 'command', command, COMMAND);
    validateCommand('MigrationTool.custom()', 'command', command);
    checkOptions('MigrationTool.custom()', options, CUSTOM_OPTIONS);
    // The names reach the Job's env as they are: an empty name, or one with "=", fails the apply.
    validateEnvNames('MigrationTool.custom()', 'env', Object.keys(options.env ?? {}));
    validateEnvNames('MigrationTool.custom()', 'postDeployEnv', Object.keys(options.postDeployEnv ?? {}));
    return new MigrationTool('custom', command, options);
  }

  /** The command of the pre-deploy run: it applies pending migrations (only the expand ones when there is a post-deploy phase). */
  public readonly command: string[];

  /** Environment variables of the pre-deploy run. */
  public readonly env: { [name: string]: string };

  /** Absolute paths the tool writes to, besides /tmp, in both runs. */
  public readonly writablePaths: string[];

  /** Absolute paths the application itself writes to at run time, besides /tmp. */
  public readonly appWritablePaths: string[];

  /** The command of the post-deploy run, which applies only the contract migrations; undefined when there is no post-deploy phase. */
  public readonly postDeployCommand?: string[];

  /** Environment variables of the post-deploy run (the whole set, not added to `env`); empty when there is no post-deploy phase. */
  public readonly postDeployEnv: { [name: string]: string };

  private constructor(public readonly toolName: string, command: string[], options: MigrationToolOptions) {
    const owner = `MigrationTool.${toolName}()`;
    this.command = [...command];
    this.env = { ...(options.env ?? {}) };
    if (options.postDeployCommand === undefined && options.postDeployEnv !== undefined) {
      throw invalidProp(owner, 'postDeployEnv', options.postDeployEnv,
        'it is the environment of the post-deploy run, which needs postDeployCommand: give both, or neither.');
    }
    if (options.postDeployCommand !== undefined) {
      validateCommand(owner, 'postDeployCommand', options.postDeployCommand);
      if (sameCommand(options.postDeployCommand, command) && sameEnv(options.postDeployEnv ?? this.env, this.env)) {
        throw invalidProp(owner, 'postDeployCommand', options.postDeployCommand,
          'it is the pre-deploy command with the same environment, so the pre-deploy run would already apply the contract migrations. '
          + 'Make the pre-deploy command (or its env) leave them out, and the post-deploy command apply only them.');
      }
      this.postDeployCommand = [...options.postDeployCommand];
    }
    this.postDeployEnv = options.postDeployCommand === undefined ? {} : { ...(options.postDeployEnv ?? this.env) };
    // Two mounts on one path are refused by the API server; "/a/" and "/a" are the same directory.
    this.writablePaths = validateWritablePaths(owner, 'writablePaths', options.writablePaths ?? []);
    this.appWritablePaths = validateWritablePaths(owner, 'appWritablePaths', options.appWritablePaths ?? []);
  }
}


function validateEnvName(owner: string, prop: string, name: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw invalidProp(owner, prop, name, 'an environment variable name is letters, digits and "_", not starting with a digit.');
  }
}

/** A migrations folder, relative to the working directory or absolute. */
function validateFolder(owner: string, prop: string, folder: string): void {
  if (typeof folder !== 'string' || folder.trim().length === 0 || folder !== folder.trim() || folder.includes('\0')) {
    throw invalidProp(owner, prop, folder, 'name the migrations folder, relative to the working directory or absolute, e.g. "migrations/expand".');
  }
}

function validateDataSource(owner: string, prop: string, dataSource: string): void {
  if (typeof dataSource !== 'string' || dataSource.trim().length === 0) {
    throw invalidProp(owner, prop, dataSource, 'name the compiled DataSource file, e.g. "dist/data-source.js".');
  }
}

function validateAlembicBranch(owner: string, prop: string, branch: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(branch) || ['head', 'heads', 'base'].includes(branch)) {
    throw invalidProp(owner, prop, branch,
      'a branch label here is letters, digits and "_", not starting with a digit, and not "head", "heads" or "base": '
      + 'it is the branch_labels value of the branch\'s first revision, e.g. "expand" or "contract".');
  }
}

/** Flyway locations, each with its scheme; returned without trailing slashes. */
function validateFlywayLocations(owner: string, prop: string, locations: string[]): string[] {
  if (!Array.isArray(locations) || locations.length === 0) {
    throw invalidProp(owner, prop, locations, 'give at least one location, e.g. ["filesystem:/flyway/sql/expand"].');
  }
  const normalized = locations.map((location) => {
    if (typeof location !== 'string' || !/^[a-z][a-z0-9]*:[^\s,]*[^\s,/][^\s,]*$/.test(location)) {
      throw invalidProp(owner, prop, location,
        'a location is "<scheme>:<path>" without spaces or commas, e.g. "filesystem:/flyway/sql/expand". '
        + 'Write the scheme: Flyway reads a location without one from the classpath.');
    }
    return location.replace(/\/+$/, '');
  });
  const duplicate = normalized.find((location, i) => normalized.indexOf(location) !== i);
  if (duplicate !== undefined) {
    throw invalidProp(owner, prop, duplicate, 'each location is listed once.');
  }
  return normalized;
}

/** Whether location `inner` is `outer` or one of its subfolders (same scheme). */
function isSameOrInside(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(`${outer}/`);
}

function trimSlashes(path: string): string {
  return path.replace(/(.)\/+$/, '$1').replace(/^\.\/(?=.)/, '');
}

function requirePair(owner: string, firstProp: string, first: unknown, secondProp: string, second: unknown, why: string): void {
  if (first === undefined) {
    throw invalidProp(owner, firstProp, first, `${secondProp} needs ${firstProp} too: ${why}. Give both, or neither.`);
  }
  if (second === undefined) {
    throw invalidProp(owner, secondProp, second, `${firstProp} alone does not split the migrations: ${why}. Give both, or neither.`);
  }
}

function requireDistinct(owner: string, prop: string, value: string, other: string, otherProp: string): void {
  if (value === other) {
    throw invalidProp(owner, prop, value,
      `it is the same as ${otherProp}, so both runs would apply the same migrations. Keep the contract migrations apart from the expand ones.`);
  }
}

function sameCommand(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((arg, i) => arg === b[i]);
}

function sameEnv(a: { [name: string]: string }, b: { [name: string]: string }): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key]);
}
