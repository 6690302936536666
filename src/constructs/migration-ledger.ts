import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PROGRAM_RESOURCES } from './containers';
import { afterSerialization, mountTokenInto, podSpecOf } from './pod-template';
import { restrictedSecurityContext } from './security-context';
import { MigrationWaiterConfig } from './waiter';
import { mountProgramInto } from './waiter-program';

/** How the ledger is wired to its migration. */
export interface MigrationLedgerProps {
  /** The ConfigMap's name. */
  readonly name: string;
  /** The ServiceAccount, Role and RoleBinding of the recording container. */
  readonly recorderName: string;
  readonly labels: { [key: string]: string };
  /** The migration Job, whose main container records its success. */
  readonly job: kplus.Job;
  readonly jobName: string;
  /** The migration's image and tag. */
  readonly migrationImage: string;
  /** The program that records, from the waiter's image. */
  readonly recorder: MigrationWaiterConfig;
  /** The copy of the waiter program that the Job mounts, when the recorder runs it by path. */
  readonly program?: ApiObject;
  /**
   * Whether the recorder creates the ledger, which the chart then leaves out: under a hook engine,
   * whose Job runs before the release's ordinary objects exist.
   */
  readonly recorderCreatesLedger: boolean;
  /**
   * Annotations of the recorder's ServiceAccount, Role and RoleBinding. A hook engine (Argo CD,
   * Helm) runs the Job before it applies the chart's other objects, so they must be hooks too.
   */
  readonly prerequisiteAnnotations: { [key: string]: string };
  /**
   * How long the recorder waits for a ledger that does not exist and that it may not create.
   */
  readonly ledgerWaitSeconds: number;
}

/**
 * Evidence of a migration's success that outlives its Job.
 *
 * The Job's TTL, Flux's prune of the previous release's Job, or a `kubectl delete` leave pods of a
 * release that did migrate with nothing to wait for; a restarted pod would never start again. So
 * the migration Job records its success in a ConfigMap, `<name>-migration-ledger`:
 *
 * - The Job runs the migration first (an init container), then a small container that adds
 *   `<job name>: {"succeededAt": ...}` to the ledger. A failed migration records nothing.
 * - The ledger is emitted with no `data`, so that no engine owns its entries: Flux's server-side
 *   apply, Argo CD and Helm's three-way merges leave keys they did not set in place at every
 *   reconcile.
 * - It keeps the newest 20 entries, so it never grows without bound.
 * - Under Helm and Argo CD the chart does not carry it: the recorder creates it. Their migration
 *   Job is a hook that runs before any ordinary object of the release exists, so on a first
 *   install a ledger in the chart would not exist yet when the recorder writes, and that release
 *   would have no entry. A hook ledger would not do either: `before-hook-creation` deletes a hook,
 *   entries and all, before it creates it again. Nor can the chart carry it as well: Helm refuses
 *   to install an object that already exists without its release's ownership annotations. Left
 *   out, it belongs to no release: no engine prunes or overwrites it, and `helm uninstall` keeps it.
 * - Only the recording container can write it, and only that ConfigMap; the waiters may only read
 *   it, by name.
 */
export class MigrationLedger extends Construct {
  /**
   * Only `DatabaseMigration` creates one.
   *
   * @internal
   */
  public static _create(scope: Construct, id: string, props: MigrationLedgerProps): MigrationLedger {
    return new MigrationLedger(scope, id, props);
  }

  /** The ledger's name. */
  public readonly name: string;

  /**
   * The ledger ConfigMap, when the chart carries it (Flux, kubectl); under Helm and Argo CD the
   * recorder creates it.
   */
  public readonly configMap?: ApiObject;

  /** The container of the migration Job that records its success. */
  public readonly recorderContainer: kplus.Container;

  /** The ServiceAccount of the migration Job's pod, used by the recorder alone. */
  public readonly serviceAccount: kplus.ServiceAccount;

  /** The Role that lets the recorder read and update the ledger, and nothing else. */
  public readonly role: kplus.Role;

  /** The RoleBinding of `role` to `serviceAccount`. */
  public readonly roleBinding: kplus.RoleBinding;

  private constructor(scope: Construct, id: string, props: MigrationLedgerProps) {
    super(scope, id);
    this.name = props.name;
    this.configMap = props.recorderCreatesLedger ? undefined : new ApiObject(this, 'ConfigMap', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: props.name, labels: props.labels },
    });

    const metadata = { name: props.recorderName, labels: props.labels, annotations: props.prerequisiteAnnotations };
    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', { metadata, automountToken: false });
    this.role = new kplus.Role(this, 'Role', { metadata });
    this.role.allow(['get', 'update'], kplus.ConfigMap.fromConfigMapName(this, 'Ledger', props.name));
    if (props.recorderCreatesLedger) {
      // RBAC cannot limit `create` to a name (`resourceNames` does not apply to it), so the
      // recorder's account may create any ConfigMap of the namespace, though read, change or
      // delete none but the ledger. Only the recorder container, which runs this library's
      // program, gets the token; the migration container, with the application's code, has none.
      this.role.allow(['create'], kplus.ApiResource.CONFIG_MAPS);
    }
    this.roleBinding = new kplus.RoleBinding(this, 'RoleBinding', { metadata, role: this.role });
    this.roleBinding.addSubjects(this.serviceAccount);
    this.roleBinding.node.addDependency(this.serviceAccount, this.role);

    const recorder = props.recorder;
    this.recorderContainer = props.job.addContainer({
      name: 'record-success',
      image: recorder.image,
      command: recorder.command,
      args: recorder.args,
      envVariables: Object.fromEntries(Object.entries({
        ...recorder.env,
        MIGRATION_JOB: props.jobName,
        MIGRATION_LEDGER: props.name,
        // For people reading the ledger: which image the recorded migration ran.
        MIGRATION_IMAGE: props.migrationImage,
        LEDGER_WAIT_SECONDS: `${props.ledgerWaitSeconds}`,
      }).map(([name, value]) => [name, kplus.EnvValue.fromValue(value)])),
      resources: PROGRAM_RESOURCES,
      securityContext: restrictedSecurityContext({ user: recorder.user, group: recorder.user }),
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
    });

    const jobObject = ApiObject.of(props.job);
    afterSerialization(jobObject, (json) => {
      const pod = podSpecOf(json);
      pod.serviceAccountName = props.recorderName;
      mountTokenInto(pod, 'record-success', 'recorder-token');
      if (props.program !== undefined) {
        mountProgramInto(pod, 'record-success', props.program.name, `MigrationLedger "${this.node.path}"`, this.node.path);
      }
    });
    props.job.node.addDependency(...[this.configMap, props.program].filter((o): o is ApiObject => o !== undefined),
      this.serviceAccount, this.role, this.roleBinding);
  }
}
