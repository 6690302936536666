import { invalidProp, validateCommand } from './validation';

/**
 * What a migration tool needs besides its command.
 */
export interface MigrationToolOptions {
  /**
   * Environment variables the tool needs.
   *
   * @default - none
   */
  readonly env?: { [name: string]: string };

  /**
   * Absolute paths the tool writes to. The Job's container has a read-only root filesystem, so each
   * path gets its own emptyDir volume. `/tmp` is always writable.
   *
   * @default - none besides /tmp
   */
  readonly writablePaths?: string[];
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
}

// npx and npm write their cache and logs under $HOME, which is read-only in the Job.
const NPM_ENV = { HOME: '/tmp', npm_config_cache: '/tmp/.npm', npm_config_update_notifier: 'false' };
// Python writes __pycache__ next to the sources unless told not to.
const PYTHON_ENV = { PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' };
// The JVM writes hsperfdata to /tmp; tools write caches under $HOME.
const JVM_ENV = { HOME: '/tmp' };

/**
 * A migration tool: the command that applies pending migrations at deploy time, with the
 * environment and writable paths it needs under a read-only root filesystem.
 */
export class MigrationTool {
  /** `npx prisma migrate deploy`: applies pending migrations, never creates new ones. */
  public static prisma(): MigrationTool {
    return new MigrationTool('prisma', ['npx', 'prisma', 'migrate', 'deploy'], { env: NPM_ENV });
  }

  /** `alembic upgrade head`. */
  public static alembic(): MigrationTool {
    return new MigrationTool('alembic', ['alembic', 'upgrade', 'head'], { env: PYTHON_ENV });
  }

  /** `liquibase update`; point it at the changelog with `LIQUIBASE_COMMAND_CHANGELOG_FILE`. */
  public static liquibase(): MigrationTool {
    return new MigrationTool('liquibase', ['liquibase', 'update'], { env: JVM_ENV });
  }

  /** `flyway migrate`; configure it with `FLYWAY_*` variables. */
  public static flyway(): MigrationTool {
    return new MigrationTool('flyway', ['flyway', 'migrate'], { env: JVM_ENV });
  }

  /** `migrate -path <path> -database $(DATABASE_URL) up` (golang-migrate). */
  public static golangMigrate(options: GolangMigrateOptions = {}): MigrationTool {
    const databaseUrlEnv = options.databaseUrlEnv ?? 'DATABASE_URL';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(databaseUrlEnv)) {
      throw invalidProp('MigrationTool.golangMigrate()', 'databaseUrlEnv', databaseUrlEnv,
        'an environment variable name is letters, digits and "_", not starting with a digit.');
    }
    const path = options.path ?? '/migrations';
    validateAbsolutePath('MigrationTool.golangMigrate()', 'path', path);
    return new MigrationTool('golang-migrate', ['migrate', '-path', path, '-database', `$(${databaseUrlEnv})`, 'up'], {});
  }

  /** `python manage.py migrate --noinput`. */
  public static django(): MigrationTool {
    return new MigrationTool('django', ['python', 'manage.py', 'migrate', '--noinput'], { env: PYTHON_ENV });
  }

  /** `bundle exec rails db:migrate`, with `tmp/` and `log/` of the app root writable. */
  public static rails(options: RailsOptions = {}): MigrationTool {
    const appRoot = (options.appRoot ?? '/rails').replace(/\/+$/, '');
    validateAbsolutePath('MigrationTool.rails()', 'appRoot', appRoot);
    return new MigrationTool('rails', ['bundle', 'exec', 'rails', 'db:migrate'], {
      env: { RAILS_LOG_TO_STDOUT: '1', HOME: '/tmp' },
      writablePaths: [`${appRoot}/tmp`, `${appRoot}/log`],
    });
  }

  /** `npx knex migrate:latest`. */
  public static knex(): MigrationTool {
    return new MigrationTool('knex', ['npx', 'knex', 'migrate:latest'], { env: NPM_ENV });
  }

  /** `npx typeorm migration:run -d <dataSource>`. */
  public static typeorm(options: TypeOrmOptions = {}): MigrationTool {
    const dataSource = options.dataSource ?? 'dist/data-source.js';
    if (dataSource.trim().length === 0) {
      throw invalidProp('MigrationTool.typeorm()', 'dataSource', dataSource, 'name the compiled DataSource file, e.g. "dist/data-source.js".');
    }
    return new MigrationTool('typeorm', ['npx', 'typeorm', 'migration:run', '-d', dataSource], { env: NPM_ENV });
  }

  /** `npx sequelize-cli db:migrate`. */
  public static sequelize(): MigrationTool {
    return new MigrationTool('sequelize', ['npx', 'sequelize-cli', 'db:migrate'], { env: NPM_ENV });
  }

  /** Any other tool: its deploy-time command, and what it needs. */
  public static custom(command: string[], options: MigrationToolOptions = {}): MigrationTool {
    validateCommand('MigrationTool.custom()', 'command', command);
    return new MigrationTool('custom', command, options);
  }

  /** The command that applies pending migrations. */
  public readonly command: string[];

  /** Environment variables the tool needs. */
  public readonly env: { [name: string]: string };

  /** Absolute paths the tool writes to, besides /tmp. */
  public readonly writablePaths: string[];

  private constructor(public readonly toolName: string, command: string[], options: MigrationToolOptions) {
    this.command = [...command];
    this.env = { ...(options.env ?? {}) };
    const owner = `MigrationTool.${toolName}()`;
    for (const path of options.writablePaths ?? []) {
      validateAbsolutePath(owner, 'writablePaths', path);
    }
    // Two mounts on one path are refused by the API server; "/a/" and "/a" are the same directory.
    const normalized = (options.writablePaths ?? []).map((path) => path.replace(/(.)\/+$/, '$1'));
    const duplicate = normalized.find((path, i) => normalized.indexOf(path) !== i);
    if (duplicate !== undefined) {
      throw invalidProp(owner, 'writablePaths', duplicate, 'each path is listed once: a container cannot mount two volumes on one path.');
    }
    this.writablePaths = normalized;
  }
}

function validateAbsolutePath(owner: string, prop: string, path: string): void {
  if (!/^\/[^\0]*[^/]\/*$/.test(path) || path.split('/').includes('..')) {
    throw invalidProp(owner, prop, path, 'it must be an absolute path without "..", and not "/" itself.');
  }
}
