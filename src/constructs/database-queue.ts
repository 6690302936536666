import { Chart, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { DatabaseMigration } from './database-migration';
import { checkProps, CONSTRUCT, DURATION, PropType, PropTypes, STRING } from './prop-types';
import { invalidProp } from './validation';
import { isLabelValue } from '../shared/names';

/**
 * Props of `DatabaseQueue`.
 */
export interface DatabaseQueueProps {
  /**
   * The database, as the value of the label `cdk8s-migrated-service.dev/database` that every
   * migration Job of the queue (and its pods) carries, and that the queue selects: a label value.
   * Two queues of one namespace with the same name are one queue.
   *
   * @default - the construct's id
   */
  readonly name?: string;

  /**
   * The migrations that share the database, in the order they run when one apply brings several:
   * the first one runs first. `add()` appends more.
   *
   * @default - none yet
   */
  readonly migrations?: DatabaseMigration[];

  /**
   * How long after a migration's Job is created the Job of a service it runs after may still be
   * created and go first: the time one apply of the whole App takes (Flux applies a
   * Kustomization in one server-side apply; `kubectl apply -f` object after object). The n-th
   * migration of the list (counting from 0) counts its Jobs as created `n × applyWindow` later
   * than they were, and so starts at the earliest that long after its Job was created.
   *
   * A Job of an earlier service created later than that (a Flux Kustomization applied minutes
   * later) goes after it: use `dependsOn` between Kustomizations, or one Kustomization.
   *
   * @default Duration.seconds(30)
   */
  readonly applyWindow?: Duration;
}

/** The label of every migration Job (and pod) of a `DatabaseQueue`, whose value is the database. */
const DATABASE_LABEL = 'cdk8s-migrated-service.dev/database';

/**
 * One migration at a time against a database that several services migrate.
 *
 * Each `DatabaseMigration` queues behind its own releases. When several services migrate one
 * database, their migrations must queue together, or they run at once: a foreign key to a table
 * that the other service has not created yet fails, and two runs of one tool take each other's
 * lock. A `DatabaseQueue` makes them one queue: every migration Job of its migrations, pre- and
 * post-deploy, waits for the unfinished Jobs of all of them, in the order of creation, and, for
 * Jobs of one apply, in the order of `migrations`.
 *
 * The guarantees are the queue's (docs/overlapping-releases.md): nothing is killed, a failed
 * migration holds nothing once its pod has ended, and each migration's Role only lists and watches
 * the Jobs and pods of the namespace. The migrations must be in one namespace.
 *
 * Under Helm the hook weights must rise in the order of `migrations`, and under Argo CD the sync
 * waves must not fall: the engine runs the hooks in that order, and the construct refuses an order
 * the engine would contradict.
 *
 * @example
 * new DatabaseQueue(chart, 'ShopDatabase', { migrations: [api.migration, billing.migration] });
 */
export class DatabaseQueue extends Construct {
  /** The label of the queue's Jobs and pods: `cdk8s-migrated-service.dev/database`. */
  public static readonly DATABASE_LABEL = DATABASE_LABEL;

  /** The database: the value of the label `cdk8s-migrated-service.dev/database`. */
  public readonly name: string;

  /** How long one apply of the whole App may take. */
  public readonly applyWindow: Duration;

  /** The migrations of the queue, in the order they run within one apply. */
  public readonly migrations: DatabaseMigration[] = [];

  private readonly owner: string;
  private namespace?: string;

  constructor(scope: Construct, id: string, props: DatabaseQueueProps = {}) {
    super(scope, id);
    this.owner = `DatabaseQueue "${this.node.path}"`;
    checkProps(this.owner, 'DatabaseQueue', props, PROPS);
    this.name = props.name ?? id;
    if (typeof this.name !== 'string' || !isLabelValue(this.name) || this.name === '') {
      throw invalidProp(this.owner, 'name', this.name, 'it is the value of the label cdk8s-migrated-service.dev/database: at most 63 letters, '
        + 'digits, "-", "_" or ".", starting and ending with a letter or digit. Name the database, e.g. "shop".');
    }
    this.applyWindow = props.applyWindow ?? Duration.seconds(30);
    const millis = this.applyWindow instanceof Duration ? this.applyWindow.toMilliseconds() : NaN;
    if (!Number.isInteger(millis / 1000) || millis < 0) {
      throw invalidProp(this.owner, 'applyWindow', props.applyWindow, 'it is a whole number of seconds, 0 or more, such as Duration.seconds(30).');
    }
    // (That migrations is a list of constructs is checked with the other props' types, in PROPS.)
    for (const migration of props.migrations ?? []) {
      this.add(migration);
    }
  }

  /**
   * Adds a migration to the queue, after those already in it: in one apply, it runs after theirs.
   * A `MigratedService`'s is its `migration`.
   */
  public add(migration: DatabaseMigration): void {
    const owner = `${this.owner}.add()`;
    if (migration === null || typeof migration !== 'object' || migration.queue === undefined || typeof migration.queue._share !== 'function') {
      throw invalidProp(owner, 'migration', migration, 'it is a DatabaseMigration (a MigratedService\'s is its `migration`).');
    }
    const joined = migration.queue._shared?.queue;
    if (joined !== undefined) {
      throw invalidProp(owner, 'migration', migration.node.path, joined === this
        ? 'it is in this queue already; add each migration once, in the order they run.'
        : `it is in the DatabaseQueue "${joined.node.path}" already. A migration migrates one database: add it to one queue.`);
    }
    if (migration.node.root !== this.node.root) {
      throw invalidProp(owner, 'migration', migration.node.path, 'it is in another App. A queue orders the migrations of one App: create the DatabaseQueue in the App of its migrations.');
    }
    const namespace = Chart.of(migration).namespace;
    if (this.migrations.length > 0 && namespace !== this.namespace) {
      throw invalidProp(owner, 'migration', migration.node.path, `it is in the namespace ${namespace ?? '(the chart has none)'}, and the queue's `
        + `migrations in ${this.namespace ?? '(the chart has none)'}. The queue lists Jobs in one namespace: put the migrations of one database in one namespace.`);
    }
    const rank = this.migrations.length;
    const offsetSeconds = rank * this.applyWindow.toSeconds();
    if (offsetSeconds >= migration.queueTimeout.toSeconds()) {
      throw invalidProp(owner, 'migration', migration.node.path, `its queueTimeout (${migration.queueTimeout.toSeconds()} s) is not longer than the `
        + `${offsetSeconds} s it waits, as migration number ${rank + 1} of the queue, for the Jobs of the services before it `
        + '(position × applyWindow): its turn could never come. Give it a longer queueTimeout, or the queue a shorter applyWindow.');
    }
    this.checkEngineOrder(owner, migration);
    this.namespace = namespace;
    this.migrations.push(migration);
    migration.queue._share({ queue: this, labelKey: DATABASE_LABEL, labelValue: this.name, offsetSeconds });
  }

  /**
   * Helm creates one hook at a time, by weight, and waits for each Job: a lower weight for a later
   * migration would run it first. Argo CD applies a wave at once (the queue orders it) and waits
   * for its health before the next: a lower wave would run first.
   */
  private checkEngineOrder(owner: string, migration: DatabaseMigration): void {
    const last = this.migrations[this.migrations.length - 1];
    if (last === undefined) {
      return;
    }
    const [earlier, later] = [last.delivery.jobAnnotations(), migration.delivery.jobAnnotations()];
    for (const [hook, key, strict, what, fix] of ENGINE_ORDER) {
      const [b, a] = [Number(earlier[key] ?? 0), Number(later[key] ?? 0)];
      if (earlier[hook] === undefined || later[hook] === undefined || (strict ? a > b : a >= b)) {
        continue;
      }
      throw invalidProp(owner, 'migration', migration.node.path, `its ${what} (${a}) must be ${strict ? 'higher than' : 'at least'} that of `
        + `"${last.node.path}" (${b}), which runs before it in this queue: ${fix}`);
    }
  }
}

/** [hook annotation, order annotation, strictly rising, what it is, how to fix it] per hook engine. */
const ENGINE_ORDER: Array<[string, string, boolean, string, string]> = [
  ['helm.sh/hook', 'helm.sh/hook-weight', true, 'hook weight',
    'Helm creates the hooks one at a time by weight and waits for each Job, so a lower or equal weight could run it first. '
    + 'Give each service its own, rising in the queue\'s order: Delivery.helm({ hookWeight: 10 }) for the second, 20 for the third.'],
  ['argocd.argoproj.io/hook', 'argocd.argoproj.io/sync-wave', false, 'sync wave',
    'Argo CD runs a lower wave first and waits for its health. Give it the same wave (the queue orders one wave) or a later one: '
    + 'Delivery.argoCd({ syncWave: … }).'],
];

/** A list of DatabaseMigrations, each checked to be a construct. */
const MIGRATIONS: PropType = {
  expected: 'a list of DatabaseMigrations, first to run first',
  problem: (value) => {
    if (!Array.isArray(value)) {
      return { value, rule: 'it is a list of DatabaseMigrations, first to run first: write [api.migration, billing.migration].' };
    }
    const index = value.findIndex((item) => CONSTRUCT.problem(item) !== undefined);
    return index < 0 ? undefined : { at: `[${index}]`, value: value[index], rule: 'it is a DatabaseMigration: a MigratedService\'s is its .migration.' };
  },
};

// The type of each prop: a prop DatabaseQueue does not know, or a value of another type, is refused, not ignored.
const PROPS: PropTypes<DatabaseQueueProps> = { name: STRING, migrations: MIGRATIONS, applyWindow: DURATION };
