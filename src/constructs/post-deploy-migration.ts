import { ApiObject, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PROGRAM_RESOURCES, resourcesJson } from './containers';
import { MigrationGate } from './gate';
import { afterSerialization, envJson, mountTokenInto, podSpecOf } from './pod-template';
import { restrictedSecurityContextJson } from './security-context';
import { MigrationWaiterConfig } from './waiter';
import { mountProgramInto } from './waiter-program';

/** How a post-deploy migration is wired to its pre-deploy migration. */
export interface PostDeployMigrationProps {
  /** The post-deploy Job, built like the pre-deploy one. */
  readonly job: kplus.Job;
  /** The ServiceAccount, Role and RoleBinding of the rollout waiter. */
  readonly readerName: string;
  readonly labels: { [key: string]: string };
  /** The pre-deploy Job of this release, whose name every gated pod template of this release carries. */
  readonly releaseJobName: string;
  /** The rollout waiter program, without its env. */
  readonly rolloutWaiter: (env: { [name: string]: string }) => MigrationWaiterConfig;
  /** The label selector of every Job of the migration across releases. */
  readonly selector: string;
  /** The migration's construct, for errors. */
  readonly owner: string;
}

// What a rollout is, per kind; kinds that are not here (CronJob, Job, Pod) impose no wait: they
// have no rollout, and each of their runs waits for the pre-deploy migration anyway.
const ROLLOUT_RESOURCES: { [kind: string]: string } = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
};

const ROLLOUT_WAITER = 'wait-for-rollout';

/**
 * The contract half of expand/contract: a Job that runs the post-deploy migrations only once every
 * workload gated by the migration runs this release, on every replica, with none of the previous
 * release left. Run earlier, dropping an old column breaks the old pods that still serve traffic.
 *
 * Whatever the engine, the Job's pod first runs a rollout waiter (an init container) that watches
 * the gated Deployments, StatefulSets and DaemonSets, by name, until their rollout of this release
 * is complete; only that container gets a token, and its account may only read those workloads.
 * Argo CD runs the Job as a `PostSync` hook and Helm as a `post-install,post-upgrade` hook, after
 * the rollout (Helm only with `--wait`); Flux and kubectl apply it with the rest, and the waiter
 * holds it.
 *
 * A failed post-deploy migration fails only its Job: the release keeps serving, and the next
 * release's pre-deploy migration runs as usual.
 */
export class PostDeployMigration extends Construct {
  /**
   * Only `DatabaseMigration` creates one.
   *
   * @internal
   */
  public static _create(scope: Construct, id: string, props: PostDeployMigrationProps): PostDeployMigration {
    return new PostDeployMigration(scope, id, props);
  }

  /** The post-deploy Job. */
  public readonly job: kplus.Job;

  /** The name of the post-deploy Job. */
  public readonly jobName: string;

  /** The ServiceAccount of the Job's pod, used by its rollout waiter alone. */
  public readonly serviceAccount: kplus.ServiceAccount;

  /** The Role that lets the rollout waiter read the gated workloads, and nothing else. */
  public readonly role: kplus.Role;

  /** The RoleBinding of `role` to `serviceAccount`. */
  public readonly roleBinding: kplus.RoleBinding;

  private readonly waitsFor: { kind: string; name: string }[] = [];

  private constructor(scope: Construct, id: string, props: PostDeployMigrationProps) {
    super(scope, id);
    this.job = props.job;
    this.jobName = ApiObject.of(props.job).name;
    const metadata = { name: props.readerName, labels: props.labels };
    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', { metadata, automountToken: false });
    this.role = new kplus.Role(this, 'Role', { metadata });
    this.roleBinding = new kplus.RoleBinding(this, 'RoleBinding', { metadata, role: this.role });
    this.roleBinding.addSubjects(this.serviceAccount);
    this.roleBinding.node.addDependency(this.serviceAccount, this.role);
    this.job.node.addDependency(this.serviceAccount, this.role, this.roleBinding);

    afterSerialization(ApiObject.of(this.job), (json) => {
      const pod = podSpecOf(json);
      pod.serviceAccountName = props.readerName;
      const waiter = props.rolloutWaiter({
        ROLLOUT_WORKLOADS: JSON.stringify(this.waitsFor),
        RELEASE_MIGRATION_JOB: props.releaseJobName,
        // A later release that replaced this one's pods makes it give up: its rollout never
        // completes, and waiting would hold the later release's migrations (see ReleaseQueue).
        MIGRATION_SELECTOR: props.selector,
      });
      pod.initContainers = [{
        name: ROLLOUT_WAITER,
        image: waiter.image,
        command: waiter.command,
        args: waiter.args,
        env: envJson(waiter.env),
        resources: resourcesJson(PROGRAM_RESOURCES),
        securityContext: restrictedSecurityContextJson(waiter.user),
        imagePullPolicy: 'IfNotPresent',
      }, ...(pod.initContainers ?? [])];
      mountTokenInto(pod, ROLLOUT_WAITER, 'rollout-waiter-token');
      if (waiter.programConfigMap !== undefined) {
        // Even under a hook engine this Job runs after the release's ordinary objects exist.
        mountProgramInto(pod, ROLLOUT_WAITER, waiter.programConfigMap, props.owner, this.node.path);
      }
    });
    this.node.addValidation({
      validate: () => this.waitsFor.length > 0 || this.node.scope === undefined ? [] : [
        `${props.owner}: the post-deploy migration waits for no workload: no Deployment, StatefulSet or DaemonSet is gated, `
        + 'so it would run at once, while pods of the previous release may still serve. gate() the workloads that use the database.',
      ],
    });
  }

  /**
   * Makes the post-deploy Job wait for the gated workload's rollout, when it has one.
   *
   * @internal
   */
  public _waitFor(gate: MigrationGate): void {
    const resource = ROLLOUT_RESOURCES[gate.workload.kind];
    if (resource === undefined) {
      return;
    }
    this.waitsFor.push({ kind: gate.workload.kind, name: gate.workload.name });
    // The waiter lists and watches each workload with a `metadata.name` field selector; naming the
    // workload in the rule allows exactly that, for those workloads and no others.
    this.role.allow(['list', 'watch'], { apiGroup: 'apps', resourceType: resource, resourceName: gate.workload.name });
    this.job.node.addDependency(gate.workload);
  }
}

/** How long the rollout of a release may take after its pre-deploy migration: pulls and start-up. */
export const ROLLOUT_ALLOWANCE = Duration.minutes(10);
