import { IConstruct } from 'constructs';
import { checkArgument, CONSTRUCT, STRING } from './prop-types';
import { invalidProp } from './validation';

/**
 * The warnings the constructs raise, by stable id. Ids shared with `lint` (MS005, MS015) mean the
 * same trap; the MS1xx ids are the constructs' own.
 */
const WARNINGS: { readonly [id: string]: string } = {
  MS005: 'waited-job-ttl',
  MS015: 'rollout-loses-capacity',
  MS101: 'replaced-in-place',
  MS102: 'progress-deadline-too-short',
  MS103: 'env-name-before-1-32',
  MS104: 'shared-config-not-queued',
  MS105: 'moving-image-tag',
  MS106: 'probe-port-not-exposed',
  MS107: 'request-fits-no-node',
};

/** The environment variable that, set to `true` or `1`, makes every synth strict. */
const STRICT_ENV_VARIABLE = 'CDK8S_MIGRATED_SERVICE_STRICT_WARNINGS';

const acknowledgments = new WeakMap<IConstruct, Map<string, string>>();
const strictScopes = new WeakSet<IConstruct>();

/**
 * Acknowledges construct warnings, and makes unacknowledged ones fail the synth.
 *
 * Every warning has a stable id (printed as `[WARNING MS015]`). An acknowledged warning is no
 * longer printed; in strict mode, an unacknowledged one fails `cdk8s synth`, so that CI notices a
 * new one.
 *
 * @example
 * MigrationWarnings.acknowledge(search, 'MS101', 'one replica less during a migration is fine');
 * MigrationWarnings.strict(app);
 */
export class MigrationWarnings {
  /** The environment variable that makes every synth strict when set to `true` or `1`. */
  public static readonly STRICT_ENV_VARIABLE = STRICT_ENV_VARIABLE;

  /**
   * Acknowledges the warning `id` (or its name, e.g. `rollout-loses-capacity`) for `scope` and
   * everything under it: a workload, a `MigratedService`, a `DatabaseMigration`, a chart or the
   * App. The reason is required, as in a lint suppression: it says to the next reader why the trap
   * does not apply.
   *
   * @param scope the construct the warning is about, or any construct above it
   * @param id the warning's id (`MS015`) or name (`rollout-loses-capacity`)
   * @param reason why the warning does not apply here
   */
  public static acknowledge(scope: IConstruct, id: string, reason: string): void {
    checkArgument('MigrationWarnings.acknowledge()', 'scope', scope, CONSTRUCT);
    const owner = `MigrationWarnings.acknowledge() on "${scope.node.path}"`;
    checkArgument(owner, 'id', id, STRING);
    const key = warningId(id);
    if (key === undefined) {
      throw invalidProp(owner, 'id', id, `it is not a warning id or name. The warnings are: ${Object.entries(WARNINGS).map(([i, n]) => `${i} ${n}`).join(', ')}.`);
    }
    if (typeof reason !== 'string' || reason.trim().length === 0) {
      throw invalidProp(owner, 'reason', reason, 'an acknowledgment gives its reason, for the next reader: say why the trap does not apply here.');
    }
    const byId = acknowledgments.get(scope) ?? new Map<string, string>();
    byId.set(key, reason);
    acknowledgments.set(scope, byId);
  }

  /**
   * Makes every unacknowledged warning under `scope` (usually the App) fail the synth, so that CI
   * notices a new one. Setting the environment variable `CDK8S_MIGRATED_SERVICE_STRICT_WARNINGS`
   * to `true` does the same for the whole App.
   *
   * @param scope the App, or a chart
   */
  public static strict(scope: IConstruct): void {
    checkArgument('MigrationWarnings.strict()', 'scope', scope, CONSTRUCT);
    strictScopes.add(scope);
  }

  private constructor() {}
}

/** A raised warning: the construct it is about, its id and its message. */
export interface RaisedWarning {
  readonly subject: IConstruct;
  readonly id: string;
  readonly message: string;
}

const printed = new WeakSet<RaisedWarning>();

/**
 * Reports a warning once: nothing when it is acknowledged, an error message when the synth is
 * strict, else a printed warning.
 *
 * @returns the error that fails the synth, in strict mode
 */
export function reportWarning(warning: RaisedWarning): string | undefined {
  const scopes = warning.subject.node.scopes;
  if (scopes.some((scope) => acknowledgments.get(scope)?.has(warning.id))) {
    return undefined;
  }
  // The user knows a cdk8s-plus workload by its own path, not by the path of its ApiObject.
  const parent = warning.subject.node.scope;
  const shown = parent !== undefined && parent.node.defaultChild === warning.subject ? parent : warning.subject;
  const howToAcknowledge = `If it does not apply, acknowledge it: MigrationWarnings.acknowledge(<"${shown.node.path}" or a construct above it>, `
    + `'${warning.id}', '<reason>').`;
  const strictEnv = process.env[STRICT_ENV_VARIABLE];
  if (strictEnv === 'true' || strictEnv === '1' || scopes.some((scope) => strictScopes.has(scope))) {
    return `[${warning.id} ${WARNINGS[warning.id]}] ${warning.message} Warnings are strict in this App: fix it, or acknowledge it. ${howToAcknowledge}`;
  }
  if (!printed.has(warning)) {
    printed.add(warning);
    console.warn(`[WARNING ${warning.id} ${WARNINGS[warning.id]}] ${warning.message} ${howToAcknowledge}`);
  }
  return undefined;
}

function warningId(idOrName: string): string | undefined {
  const key = typeof idOrName === 'string' ? idOrName.trim() : '';
  return Object.entries(WARNINGS).find(([id, name]) => id === key.toUpperCase() || name === key.toLowerCase())?.[0];
}
