import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PROGRAM_RESOURCES, resourcesJson } from './containers';
import { afterSerialization, envJson, mountTokenInto, podSpecOf } from './pod-template';
import { restrictedSecurityContextJson } from './security-context';
import { MigrationWaiterConfig } from './waiter';
import { mountProgramInto } from './waiter-program';

/** The init container that waits for the migration's turn. */
export const QUEUE_CONTAINER = 'wait-for-turn';

/**
 * The Job annotation the program's queue order adds to the Job's creation time (program/queue-order.ts
 * reads the same name; the program imports nothing from here).
 */
export const QUEUE_OFFSET_ANNOTATION = 'cdk8s-migrated-service.dev/queue-offset-seconds';

/** The container after which a post-deploy Job's pod waits for its turn. */
const ROLLOUT_WAITER = 'wait-for-rollout';

/** How the queue is wired to a migration. */
export interface ReleaseQueueProps {
  /** The Role, the RoleBinding and (when a Job's pod has no account) the ServiceAccount. */
  readonly name: string;
  readonly labels: { [key: string]: string };
  /**
   * The label selector of every Job of the migration across releases, pre- and post-deploy: its
   * pods carry the same labels.
   */
  readonly selector: string;
  /**
   * Annotations of the queue's ServiceAccount, Role and RoleBinding: under a hook engine they are
   * hooks ordered before the pre-deploy Job.
   */
  readonly prerequisiteAnnotations: { [key: string]: string };
  readonly owner: string;
}

/** The queue of a database that several services migrate (`DatabaseQueue`), as one migration joins it. */
export interface SharedQueue {
  /** The DatabaseQueue. */
  readonly queue: Construct;
  /** The label every Job of the shared queue, and its pods, carry: the queue's selector. */
  readonly labelKey: string;
  readonly labelValue: string;
  /** The Jobs' queue offset: their rank in the stated order times the apply window. */
  readonly offsetSeconds: number;
}

/** One Job that waits for its turn. */
export interface QueuedJob {
  readonly job: kplus.Job;
  readonly jobName: string;
  /** The pod's ServiceAccount; the queue's own when the Job has none. */
  readonly serviceAccount?: kplus.ServiceAccount;
  /** The program, from the waiter's Node.js image, in `queue` mode. */
  readonly program: MigrationWaiterConfig;
  /** The copy of the program the Job mounts. */
  readonly programConfigMap: string;
  /** Seconds after the Job starts by which its turn must come (the rest of its deadline is the migration's). */
  readonly queueSeconds: number;
}

/**
 * One migration at a time across releases. Releases can come faster than a migration finishes
 * (`kubectl apply` and Flux apply the next release's Job beside the running one), and two
 * migration processes against one database may both apply the same change, or race on a schema
 * that has no transactional DDL. So the pod of every migration Job of this DatabaseMigration,
 * pre- and post-deploy, first waits in `wait-for-turn` until no Job created before it is unfinished
 * and no pod of theirs still runs (the program's `queue` mode).
 *
 * That container lists and watches the Jobs and pods of the namespace by label, which RBAC can only
 * grant namespace-wide: the Role allows `list` and `watch` on Jobs and pods, and nothing else (no
 * `get`, no write, no Secret). Only that container holds the token.
 */
export class ReleaseQueue extends Construct {
  /**
   * Only `DatabaseMigration` creates one.
   *
   * @internal
   */
  public static _create(scope: Construct, id: string, props: ReleaseQueueProps): ReleaseQueue {
    return new ReleaseQueue(scope, id, props);
  }

  /** The Role that lets the queue read the Jobs and pods of the namespace. */
  public readonly role: kplus.Role;

  /** The RoleBinding of `role` to the accounts of the migration Jobs' pods. */
  public readonly roleBinding: kplus.RoleBinding;

  private readonly bound = new Set<string>();
  private ownAccount?: kplus.ServiceAccount;
  private shared?: SharedQueue;

  private constructor(scope: Construct, id: string, private readonly props: ReleaseQueueProps) {
    super(scope, id);
    const metadata = { name: props.name, labels: props.labels, annotations: props.prerequisiteAnnotations };
    this.role = new kplus.Role(this, 'Role', { metadata });
    this.role.allow(['list', 'watch'], kplus.ApiResource.JOBS, kplus.ApiResource.PODS);
    this.roleBinding = new kplus.RoleBinding(this, 'RoleBinding', { metadata, role: this.role });
    this.roleBinding.node.addDependency(this.role);
  }

  /**
   * The ServiceAccount of the migration Jobs' pods that have no other (a waiter that is not the
   * watch waiter has no recorder); undefined when every Job's pod has one.
   */
  public get serviceAccount(): kplus.ServiceAccount | undefined {
    return this.ownAccount;
  }

  /**
   * Makes `queued.job`'s pod wait for its turn: first of its init containers, or right after a
   * post-deploy Job's rollout waiter.
   *
   * @internal
   */
  public _add(queued: QueuedJob): void {
    const serviceAccount = queued.serviceAccount ?? this.ownServiceAccount();
    const account = serviceAccount.name;
    if (!this.bound.has(account)) {
      this.bound.add(account);
      this.roleBinding.addSubjects(serviceAccount);
    }
    queued.job.node.addDependency(this.role, this.roleBinding, ...(this.serviceAccount ? [this.serviceAccount] : []));
    const program = queued.program;
    afterSerialization(ApiObject.of(queued.job), (json) => {
      const pod = podSpecOf(json);
      const shared = this.shared;
      if (shared !== undefined) {
        // The queue selects by the database's label, so the Jobs and their pods carry it; the
        // offset is read from the Jobs the queue lists (the pods do not need it).
        json.metadata.labels = { ...json.metadata.labels, [shared.labelKey]: shared.labelValue };
        json.spec.template.metadata = json.spec.template.metadata ?? {};
        json.spec.template.metadata.labels = { ...json.spec.template.metadata.labels, [shared.labelKey]: shared.labelValue };
        if (shared.offsetSeconds > 0) {
          json.metadata.annotations = { ...json.metadata.annotations, [QUEUE_OFFSET_ANNOTATION]: `${shared.offsetSeconds}` };
        }
      }
      const selector = shared === undefined ? this.props.selector : `${shared.labelKey}=${shared.labelValue}`;
      pod.serviceAccountName = account;
      const container = {
        name: QUEUE_CONTAINER,
        image: program.image,
        command: program.command,
        args: program.args,
        env: [
          ...envJson({ MIGRATION_JOB: queued.jobName, MIGRATION_SELECTOR: selector, QUEUE_TIMEOUT_SECONDS: `${queued.queueSeconds}` }),
          // A node drain replaces the pod while the evicted one may still be migrating: the queue
          // tells its own pod from that one by name.
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ],
        resources: resourcesJson(PROGRAM_RESOURCES),
        securityContext: restrictedSecurityContextJson(program.user),
        imagePullPolicy: 'IfNotPresent',
      };
      const initContainers: any[] = pod.initContainers ?? [];
      const after = initContainers.findIndex((c) => c.name === ROLLOUT_WAITER) + 1;
      pod.initContainers = [...initContainers.slice(0, after), container, ...initContainers.slice(after)];
      mountTokenInto(pod, QUEUE_CONTAINER, 'queue-token');
      mountProgramInto(pod, QUEUE_CONTAINER, queued.programConfigMap, this.props.owner, this.node.path);
    });
  }

  /**
   * The database's queue this migration joins: its Jobs then wait for the Jobs of every service
   * of that queue, not only for its own releases'.
   *
   * @internal
   */
  public _share(shared: SharedQueue): void {
    this.shared = shared;
  }

  /**
   * The shared queue this migration joined, if any.
   *
   * @internal
   */
  public get _shared(): SharedQueue | undefined {
    return this.shared;
  }

  private ownServiceAccount(): kplus.ServiceAccount {
    this.ownAccount = this.ownAccount ?? new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name: this.props.name, labels: this.props.labels, annotations: this.props.prerequisiteAnnotations },
      automountToken: false,
    });
    return this.ownAccount;
  }
}
