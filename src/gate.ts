import { ApiObject, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { PROGRAM_RESOURCES, resourcesJson } from './containers';
import { afterSerialization, apiObjectOf, envJson, GATEABLE_KINDS, hasPodTemplate, podSpecOf } from './pod-template';
import { restrictedSecurityContextJson } from './security-context';
import { invalidProp } from './validation';
import { MigrationWaiterConfig } from './waiter';
import { mountProgramInto } from './waiter-program';

/**
 * A workload held by a migration: the result of `DatabaseMigration.gate()`.
 */
export class MigrationGate {
  /**
   * Gates `workload` as described by `spec`. Only `DatabaseMigration` gates.
   *
   * @internal
   */
  public static _apply(workload: IConstruct, spec: GateSpec): MigrationGate {
    const apiObject = gateableObjectOf(workload, spec.owner);
    const found = existingServiceAccountName(workload, apiObject);
    const createdServiceAccount = found === undefined ? spec.serviceAccountFor(apiObject.name) : undefined;
    const gate = new MigrationGate(apiObject, workload.node.path, found ?? apiObject.name, spec.waiterContainerName, createdServiceAccount);
    gate.checkNamespace(spec);
    afterSerialization(apiObject, (json) => gate.addWaiter(json, spec, found === undefined));
    return gate;
  }

  /** Capacity and deadline warnings, collected the first time the workload is written out. */
  public readonly warnings: string[] = [];

  private warned = false;

  private constructor(
    /** The object whose pods wait. */
    public readonly workload: ApiObject,
    /** The construct path of the gated workload, as the user knows it. */
    public readonly workloadPath: string,
    /** The ServiceAccount the gated pods run as, which the migration's Role is bound to. */
    public readonly serviceAccountName: string,
    /** The name of the init container that waits. */
    public readonly waiterContainerName: string,
    /**
     * The ServiceAccount created for the workload, when it had none: a gated pod never runs as the
     * namespace's `default` account, whose permissions every other pod of the namespace shares.
     */
    public readonly serviceAccount?: kplus.ServiceAccount,
  ) {}

  private checkNamespace(spec: GateSpec): void {
    const namespace = this.workload.metadata.namespace ?? Chart.of(this.workload).namespace;
    if (namespace !== spec.namespace) {
      throw invalidProp(spec.owner, 'gate(workload)', this.workloadPath,
        `the workload is in namespace ${describeNamespace(namespace)} but the migration Job in ${describeNamespace(spec.namespace)}: `
        + 'the waiter reads the Job in its own pod\'s namespace. Create the migration in a chart with the workload\'s namespace.');
    }
  }

  private addWaiter(json: any, spec: GateSpec, assignServiceAccount: boolean): void {
    const pod = podSpecOf(json);
    const serviceAccount = pod.serviceAccountName ?? pod.serviceAccount;
    if (assignServiceAccount && serviceAccount === undefined) {
      pod.serviceAccountName = this.serviceAccountName;
    } else if (serviceAccount !== this.serviceAccountName) {
      throw invalidProp(spec.owner, 'gate(workload)', this.workloadPath,
        `the workload's service account changed from "${this.serviceAccountName}" to "${serviceAccount}" after it was gated, `
        + 'so the RoleBinding would name the wrong account. Set the service account before calling gate().');
    }
    // cdk8s-plus turns tokens off by default; the waiter needs one to read the Job.
    pod.automountServiceAccountToken = true;

    const containerNames = [...(pod.initContainers ?? []), ...(pod.containers ?? [])].map((c: any) => c.name);
    const taken = [spec.waiterContainerName, spec.verifierContainerName].find((name) => containerNames.includes(name));
    if (taken !== undefined) {
      throw invalidProp(spec.owner, 'gate(workload)', this.workloadPath,
        `the pod already has a container named "${taken}": gate each workload once per migration.`);
    }
    const volumeName = spec.waiterVolumeName;
    if ((pod.volumes ?? []).some((v: any) => v.name === volumeName)) {
      throw invalidProp(spec.owner, 'gate(workload)', this.workloadPath, `the pod already has a volume named "${volumeName}".`);
    }
    // The waiter runs first: init containers that the user added may already need the new schema.
    pod.initContainers = [...waiterContainers(spec, volumeName), ...(pod.initContainers ?? [])];
    pod.volumes = [...(pod.volumes ?? []), { name: volumeName, emptyDir: { sizeLimit: '64Mi' } }];
    if (spec.waiter.programConfigMap !== undefined) {
      // Gated pods mount the ordinary copy, never a hook's: they restart at any time.
      mountProgramInto(pod, spec.waiterContainerName, spec.waiter.programConfigMap, spec.owner, this.workloadPath);
    }

    if (!this.warned) {
      this.warned = true;
      for (const warning of capacityWarnings(json, spec.migrationTimeout)) {
        this.warnings.push(warning);
        spec.warn(`${this.workload.kind} "${this.workloadPath}": ${warning}`);
      }
    }
  }
}

/**
 * What a migration hands to `MigrationGate._apply()`.
 *
 * @internal
 */
export interface GateSpec {
  /** The gating construct, for error messages. */
  readonly owner: string;
  /** The migration's namespace, which every gated workload must share. */
  readonly namespace?: string;
  /** The Job every gated pod waits for. */
  readonly jobName: string;
  readonly waiterContainerName: string;
  /** The second init container of a waiter that needs one (`verifyArgs`). */
  readonly verifierContainerName: string;
  /** The emptyDir mounted on the waiter's /tmp. */
  readonly waiterVolumeName: string;
  readonly waiter: MigrationWaiterConfig;
  readonly migrationTimeout: Duration;
  /** Creates the ServiceAccount of a workload that has none. */
  serviceAccountFor(workloadName: string): kplus.ServiceAccount;
  /** Reports a warning for this migration. */
  warn(message: string): void;
}

function gateableObjectOf(workload: IConstruct, owner: string): ApiObject {
  const apiObject = apiObjectOf(workload);
  if (apiObject === undefined || !hasPodTemplate(apiObject.kind)) {
    const found = apiObject === undefined ? 'it synthesizes no single ApiObject' : `it synthesizes a ${apiObject.kind}`;
    throw invalidProp(owner, 'gate(workload)', workload.node.path,
      `${found}. gate() accepts a construct that synthesizes one object with a pod template: ${GATEABLE_KINDS.join(', ')}. `
      + 'Pass a cdk8s-plus workload, an L1 object (cdk8s import, ApiObject) or one object of an Include.');
  }
  return apiObject;
}

/**
 * The ServiceAccount the workload already runs as, if any: cdk8s-plus workloads know theirs; an L1
 * or plain object says so in its pod spec.
 */
function existingServiceAccountName(workload: IConstruct, apiObject: ApiObject): string | undefined {
  if (workload instanceof kplus.AbstractPod) {
    return workload.serviceAccount?.name;
  }
  const pod = podSpecOf(apiObject.toJson());
  return pod.serviceAccountName ?? pod.serviceAccount;
}

function waiterContainers(spec: GateSpec, volumeName: string): any[] {
  const waiter = spec.waiter;
  const container = (containerName: string, args: string[]) => ({
    name: containerName,
    image: waiter.image,
    ...(waiter.command !== undefined ? { command: waiter.command } : {}),
    args,
    // Every waiter names its Job in MIGRATION_JOB too: the post-deploy migration's rollout waiter
    // recognises a pod template of this release by it, whatever the waiter.
    env: envJson({ MIGRATION_JOB: spec.jobName, ...waiter.env }),
    resources: resourcesJson(waiter.resources ?? PROGRAM_RESOURCES),
    securityContext: restrictedSecurityContextJson(waiter.user),
    // The waiter image is pinned; pulling it at every pod start invites registry rate limits.
    imagePullPolicy: 'IfNotPresent',
    volumeMounts: [{ name: volumeName, mountPath: '/tmp' }],
  });
  return [
    container(spec.waiterContainerName, waiter.args),
    ...(waiter.verifyArgs !== undefined ? [container(spec.verifierContainerName, waiter.verifyArgs)] : []),
  ];
}

/**
 * Why a gated workload may lose serving capacity or be reported failed while its pods wait for the
 * migration. The workload's strategy is the user's to choose: `gate()` never changes it.
 */
function capacityWarnings(json: any, migrationTimeout: Duration): string[] {
  const warnings: string[] = [];
  const strategy = json.spec?.strategy ?? json.spec?.updateStrategy;
  const maxUnavailable = strategy?.rollingUpdate?.maxUnavailable;
  if ((json.kind === 'Deployment' || json.kind === 'DaemonSet') && strategy?.type === 'Recreate') {
    warnings.push('strategy Recreate stops every pod of the previous release before the new ones wait for the migration: '
      + 'the workload serves nothing until the migration succeeds. Use a rolling update with maxUnavailable: 0.');
  } else if (json.kind === 'Deployment' || json.kind === 'DaemonSet') {
    if (maxUnavailable === undefined || !isZero(maxUnavailable)) {
      warnings.push(`maxUnavailable is ${maxUnavailable === undefined ? 'the default (25% for a Deployment, 1 for a DaemonSet)' : JSON.stringify(maxUnavailable)}: `
        + 'a rollout takes serving pods down for new ones that wait on the migration, and if it fails they never come back. '
        + 'Set maxUnavailable: 0 (with maxSurge of at least 1 on a Deployment).');
    }
  } else if (json.kind === 'StatefulSet') {
    warnings.push('a StatefulSet replaces its pods in place: while a new pod waits on the migration, that replica does not serve. '
      + 'Consider partition-based rollouts, or accept one replica less while migrations run.');
  }
  if (json.kind === 'Deployment') {
    const progressDeadline = json.spec?.progressDeadlineSeconds ?? 600;
    if (progressDeadline <= migrationTimeout.toSeconds()) {
      warnings.push(`progressDeadlineSeconds (${progressDeadline}) is not longer than the migration timeout (${migrationTimeout.toSeconds()} s): `
        + 'a migration that legitimately runs long marks the rollout failed (ProgressDeadlineExceeded) before it can finish. '
        + 'Set progressDeadlineSeconds to the migration timeout plus the pods\' start-up time.');
    }
  }
  return warnings;
}

function isZero(value: unknown): boolean {
  return value === 0 || value === '0' || value === '0%';
}

function describeNamespace(namespace: string | undefined): string {
  return namespace === undefined ? '(none: the namespace it is applied to)' : `"${namespace}"`;
}
