import { ApiObject, App, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { autoscalerOf, watchAutoscalers } from './autoscaler';
import { PROGRAM_RESOURCES, resourcesJson } from './containers';
import { oversizedRequests } from './node-capacity';
import { afterSerialization, apiObjectOf, envJson, GATEABLE_KINDS, hasPodTemplate, podSpecOf } from './pod-template';
import { restrictedSecurityContextJson } from './security-context';
import { invalidProp } from './validation';
import { MigrationWaiterConfig } from './waiter';
import { mountProgramInto } from './waiter-program';
import { isUnsplitCommandLine, shellOnlySyntaxProblem, unsplitCommandProblem } from '../shared/command';
import { carriesTag, MAX_VERBATIM_BASE_LENGTH } from '../shared/names';
import { Autoscaler, rolloutCapacity } from '../shared/rollout-capacity';

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
    refuseReusedRunName(apiObject, workload.node.path, spec);
    watchAutoscalers(App.of(workload));
    const found = existingServiceAccountName(workload, apiObject);
    // A second migration gating the same workload binds the account the first one created: one
    // workload, one account, however many migrations hold it.
    const createdServiceAccount = found === undefined
      ? createdServiceAccounts.get(apiObject) ?? spec.serviceAccountFor(apiObject.name, workload.node.path)
      : undefined;
    if (createdServiceAccount !== undefined) {
      createdServiceAccounts.set(apiObject, createdServiceAccount);
    }
    const gate = new MigrationGate(apiObject, workload.node.path, found ?? apiObject.name, spec.waiterContainerName, createdServiceAccount);
    gate.checkNamespace(spec);
    afterSerialization(apiObject, (json) => gate.addWaiter(json, spec, found === undefined));
    afterSerialization(apiObject, (json) => gate.applyRelease(json, spec));
    afterSerialization(apiObject, (json) => gate.checkPrograms(json, spec));
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

  /**
   * Refuses a container whose program is a whole command line: the workload waits for the
   * migration, then every pod fails to start ("executable file not found").
   */
  private checkPrograms(json: any, spec: GateSpec): void {
    const pod = podSpecOf(json);
    for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
      if (Array.isArray(c.command) && isUnsplitCommandLine(c.command[0])) {
        throw invalidProp(spec.owner, 'gate(workload)', this.workloadPath,
          `its container "${c.name}" has the command ${JSON.stringify(c.command)}: ${unsplitCommandProblem(c.command)}`);
      }
      const found = Array.isArray(c.command) ? shellOnlySyntaxProblem([...c.command, ...(c.args ?? [])]) : undefined;
      if (found !== undefined) {
        throw invalidProp(spec.owner, 'gate(workload)', this.workloadPath,
          `its container "${c.name}" has the command ${JSON.stringify([...c.command, ...(c.args ?? [])])}: ${found.problem}`);
      }
    }
  }

  /**
   * Checks that the workload runs this release of the release's images (by its tag: a digest is
   * refused, as it may be any build), and gives it the migration's environment when asked to.
   */
  private applyRelease(json: any, spec: GateSpec): void {
    const pod = podSpecOf(json);
    const release = spec.release;
    const containers: any[] = pod.containers ?? [];
    if (!spec.options.allowOtherImageTags) {
      // The waiters are the library's own containers, whose image the user chose separately.
      const waiters = [spec.waiterContainerName, spec.verifierContainerName];
      for (const c of [...(pod.initContainers ?? []), ...containers].filter((own) => !waiters.includes(own.name))) {
        const { repository, tag, digest } = parseImage(String(c.image ?? ''));
        if (!release.repositories.includes(repository)) {
          continue;
        }
        const fix = `Use migration.releaseImage('${repository}') for its image, or gate(workload, { allowOtherImageTags: true }) if it must run another release.`;
        if (digest !== undefined) {
          // The runtime pulls the digest and ignores any tag beside it: nothing says which build it is.
          throw invalidProp(spec.owner, 'gate(workload)', this.workloadPath,
            `its container "${c.name}" runs ${c.image}, pinned by digest, but this release, whose migration it waits for, is ${repository}:${release.imageTag}: `
            + 'the node pulls the digest, which may be any build of the repository (the migration Job runs the tag), so it may run code of another release '
            + `against this release's schema. ${fix}`);
        }
        if (tag !== release.imageTag) {
          throw invalidProp(spec.owner, 'gate(workload)', this.workloadPath,
            `its container "${c.name}" runs ${repository}:${tag ?? '(no tag: latest)'}, but this release, whose migration it waits for, is ${repository}:${release.imageTag}: `
            + `it would run code of another release against this release's schema. ${fix}`);
        }
      }
    }
    if (!spec.options.shareEnvironment) {
      return;
    }
    for (const c of containers) {
      const envFrom: any[] = c.envFrom ?? [];
      const refName = (e: any) => JSON.stringify([e.configMapRef?.name, e.secretRef?.name]);
      const extraEnvFrom = release.envFrom.filter((e) => !envFrom.some((own) => refName(own) === refName(e)));
      if (extraEnvFrom.length > 0) {
        c.envFrom = [...envFrom, ...extraEnvFrom];
      }
      // The workload's own variables win: they are what the user wrote for it.
      const env: any[] = c.env ?? [];
      const extraEnv = release.env.filter((e) => !env.some((own) => own.name === e.name));
      if (extraEnv.length > 0) {
        c.env = [...env, ...extraEnv];
      }
      const mounts: any[] = c.volumeMounts ?? [];
      // /tmp as the service and the Job have it: under a read-only root filesystem (cdk8s-plus-33's
      // default) nothing else is writable, and Node, Python, Ruby and the JVM all write there.
      const extraMounts = [
        { name: `${release.volumePrefix}-0`, mountPath: '/tmp' },
        ...release.appWritablePaths
          .map((path, i) => ({ name: `${release.volumePrefix}-${i + 1}`, mountPath: path }))
          .filter((m) => m.mountPath !== '/tmp'),
      ].filter((m) => !mounts.some((own) => own.mountPath === m.mountPath));
      if (extraMounts.length > 0) {
        c.volumeMounts = [...mounts, ...extraMounts];
        const volumes: any[] = pod.volumes ?? [];
        const missing = extraMounts.filter((m) => !volumes.some((v) => v.name === m.name));
        pod.volumes = [...volumes, ...missing.map((m) => ({ name: m.name, emptyDir: { sizeLimit: '1Gi' } }))];
      }
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
    // The API server copies a ServiceAccount's pull secrets into a pod only when the pod lists none.
    // A pod on the account created for it gets the migration's; so does a pod that lists its own,
    // whose account's are not read anyway. A pod on the user's own account that lists none keeps
    // reading that account's: listing any here would switch them off.
    const pullSecrets: any[] = pod.imagePullSecrets ?? [];
    if (assignServiceAccount || pullSecrets.length > 0) {
      const missing = spec.release.imagePullSecrets.filter((name) => !pullSecrets.some((own) => own.name === name));
      if (missing.length > 0) {
        pod.imagePullSecrets = [...pullSecrets, ...missing.map((name) => ({ name }))];
      }
    }

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
      // The copy the delivery engine gives the pods (WaiterProgram.forPods): the ordinary one, or
      // under Helm the hook copy, which is never missing for longer than Helm takes to re-create it.
      mountProgramInto(pod, spec.waiterContainerName, spec.waiter.programConfigMap, spec.owner, this.workloadPath);
    }

    if (!this.warned) {
      this.warned = true;
      for (const { id, message } of [...capacityWarnings(json, spec.migrationTimeout, json.kind === 'Deployment' ? autoscalerOf(this.workload) : undefined), ...containerWarnings(pod)]) {
        this.warnings.push(message);
        spec.warn(id, `${this.workload.kind} "${this.workloadPath}": ${message}`, this.workload);
      }
    }
  }
}

/**
 * Options of `DatabaseMigration.gate()`.
 */
export interface GateOptions {
  /**
   * Give every container of the workload what the migration's container has, so that both reach
   * the same database without retyping it: the migration's `configMapNames` and `secretNames` as
   * `envFrom`, its `env` (a variable the container sets itself is kept), and an emptyDir at each
   * of the migration tool's `appWritablePaths` (e.g. Rails `tmp/` and `log/`) and at `/tmp`, as the
   * service and the Job have (a container that mounts something at `/tmp` itself keeps it). It is added to the
   * workload's JSON as it is written out, so it works on any workload `gate()` accepts.
   *
   * @default false
   */
  readonly shareEnvironment?: boolean;

  /**
   * Let a container of the workload run one of the release's image repositories (the migration's,
   * or a `MigratedService`'s) with another tag than the release's, or pinned by digest. By default
   * that is refused: the workload would wait for this release's migration, then run another
   * release's code on it (a digest may be any build, and the node ignores a tag beside it).
   *
   * @default false
   */
  readonly allowOtherImageTags?: boolean;
}

/**
 * The release a migration belongs to, as a gate sees it.
 *
 * @internal
 */
export interface ReleaseSpec {
  readonly imageTag: string;
  /** Image repositories built per release: a gated container that runs one runs `imageTag`. */
  readonly repositories: string[];
  /** The migration's envFrom and env, as pod-spec JSON. */
  readonly envFrom: any[];
  readonly env: any[];
  readonly appWritablePaths: string[];
  /** The prefix of the emptyDir volumes of `appWritablePaths`. */
  readonly volumePrefix: string;
  /** The migration's pull secrets, for gated pods that do not read their ServiceAccount's. */
  readonly imagePullSecrets: string[];
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
  /** The digest of the migration Job's template that its name ends with (under kubectl only). */
  readonly jobTemplateHash?: string;
  readonly waiterContainerName: string;
  /** The second init container of a waiter that needs one (`verifyArgs`). */
  readonly verifierContainerName: string;
  /** The emptyDir mounted on the waiter's /tmp. */
  readonly waiterVolumeName: string;
  readonly waiter: MigrationWaiterConfig;
  readonly migrationTimeout: Duration;
  /** What the migration knows of the release, which the gated workload must agree with or may share. */
  readonly release: ReleaseSpec;
  readonly options: GateOptions;
  /** Creates the ServiceAccount of a workload that has none. */
  serviceAccountFor(workloadName: string, workloadPath: string): kplus.ServiceAccount;
  /** Reports a warning (by its stable id, see `MigrationWarnings`) about `subject`, while the workload is written out. */
  warn(id: string, message: string, subject: IConstruct): void;
}

/** The ServiceAccount a gate created for a workload without one, by the workload's object. */
const createdServiceAccounts = new WeakMap<ApiObject, kplus.ServiceAccount>();

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
 * The kinds whose pod template cannot change once created: a Job's `spec.template` and a Pod's
 * `spec` are immutable. A CronJob's template is not, and each run is a new Job anyway.
 */
const RUN_ONCE_KINDS = ['Job', 'Pod'];

/**
 * Refuses a gated Job or Pod whose name does not carry the release's tag. Its pod template changes
 * at every release (the waiter waits for that release's Job, the containers run its image), and
 * Kubernetes refuses to patch an existing Job's template or Pod's spec: the second release would
 * fail to apply (`spec.template: field is immutable`) under kubectl, Argo CD, Flux and Helm alike.
 * Under a name per release each release creates a new object, and the engine prunes the previous.
 * Forcing a replace (Argo CD `Replace=true`/`Force=true`, Flux `kustomize.toolkit.fluxcd.io/force`)
 * would work too, but would delete and re-run the same Job whenever anything in it changed: the
 * library leaves that choice to the user.
 */
function refuseReusedRunName(apiObject: ApiObject, path: string, spec: GateSpec): void {
  if (!RUN_ONCE_KINDS.includes(apiObject.kind)) {
    return;
  }
  const field = apiObject.kind === 'Job' ? 'spec.template' : 'spec';
  if (!carriesTag(apiObject.name, spec.release.imageTag)) {
    throw invalidProp(spec.owner, 'gate(workload)', path,
      `the ${apiObject.kind} "${apiObject.name}" keeps its name from release to release, but its ${field} cannot change once created `
      + `and the gate changes it at every release: the next release would fail to apply ("${field}: field is immutable"). `
      + `Name it per release: metadata: { name: migration.releaseName('${baseOfName(apiObject.name)}') } (the name must carry the release's image tag). For work that runs on a schedule, gate a CronJob, whose template may change.`);
  }
  if (spec.jobTemplateHash !== undefined && !apiObject.name.endsWith(`-${spec.jobTemplateHash}`)) {
    throw invalidProp(spec.owner, 'gate(workload)', path,
      `the ${apiObject.kind} "${apiObject.name}" does not end with the digest of the migration Job's template ("${spec.jobTemplateHash}", `
      + `as in "${spec.jobName}"). Under Delivery.kubectl() the same tag synthesized with another migration Job names another Job, which `
      + `the gate's waiter waits for: the ${field} changes under the same name and kubectl apply fails ("${field}: field is immutable"). `
      + 'Name it with migration.releaseName(base), which appends the digest under kubectl, rather than with a name built from the tag.');
  }
}

/**
 * A readable base for the suggested per-release name: the name itself, without the hash cdk8s
 * appends to a name it generates from the construct path (`shop-backfill-c8a1b2c3`).
 */
function baseOfName(name: string): string {
  const base = name.replace(/-c8[0-9a-f]{6}$/, '');
  return base.length > MAX_VERBATIM_BASE_LENGTH ? base.slice(0, MAX_VERBATIM_BASE_LENGTH).replace(/-+$/, '') : base;
}

/**
 * The ServiceAccount the workload already runs as, if any: cdk8s-plus workloads know theirs; an L1
 * or plain object says so in its pod spec.
 */
function existingServiceAccountName(workload: IConstruct, apiObject: ApiObject): string | undefined {
  if (workload instanceof kplus.AbstractPod || isPodOfAnyMajor(workload)) {
    // Read from the construct, not its JSON: a cdk8s-plus workload of another major (33 and later)
    // refuses to serialize before it has a container, and gate() may come before addContainer().
    return (workload as kplus.AbstractPod).serviceAccount?.name;
  }
  const pod = podSpecOf(apiObject.toJson());
  return pod.serviceAccountName ?? pod.serviceAccount;
}

/**
 * Whether `workload` is a cdk8s-plus pod or workload of any major: each major is a different class
 * to `instanceof`, but all of them have `addContainer()` and a `serviceAccount` field.
 */
function isPodOfAnyMajor(workload: IConstruct): boolean {
  const candidate = workload as any;
  return typeof candidate.addContainer === 'function' && typeof candidate.addVolume === 'function' && 'serviceAccount' in candidate;
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

const DEPLOYMENT_FIX = 'Set maxUnavailable: 0 with maxSurge of at least 1 (cdk8s-plus: DeploymentStrategy.rollingUpdate({ maxSurge: '
  + 'PercentOrAbsolute.absolute(1), maxUnavailable: PercentOrAbsolute.absolute(0) })).';

// cdk8s-plus-28's DaemonSet has no strategy prop, and a JSON patch on its object runs before the L1
// serializer, which drops a plain number in an IntOrString field: the patch must wrap each value
// as { value: N }, or the rollingUpdate comes out empty.
const DAEMON_SET_FIX = 'Surge instead (Kubernetes 1.25+): ApiObject.of(daemonSet).addJsonPatch(JsonPatch.add(\'/spec/updateStrategy\', '
  + '{ type: \'RollingUpdate\', rollingUpdate: { maxSurge: { value: 1 }, maxUnavailable: { value: 0 } } })). '
  + 'Write the numbers as { value: N }: cdk8s drops plain numbers there.';

/**
 * Why a gated workload may lose serving capacity or be reported failed while its pods wait for the
 * migration. The workload's strategy is the user's to choose: `gate()` never changes it.
 */
function capacityWarnings(json: any, migrationTimeout: Duration, autoscaler?: Autoscaler): Array<{ id: string; message: string }> {
  const warnings: Array<{ id: string; message: string }> = [];
  const warn = (id: string, message: string) => warnings.push({ id, message });
  // The judgement lint's MS015 makes too: a lesser case (info, where only a larger replica count
  // loses capacity) is not raised here, as lint does not report it at its default severity.
  const capacity = rolloutCapacity(json.kind, json.spec, autoscaler);
  if (capacity?.severity === 'warning') {
    const fix = capacity.advice !== undefined ? `${capacity.advice}.` : json.kind === 'DaemonSet' ? DAEMON_SET_FIX : DEPLOYMENT_FIX;
    warn('MS015', `${capacity.finding}. ${fix}`);
  }
  if (json.kind === 'StatefulSet') {
    warn('MS101', 'a StatefulSet replaces its pods in place: while a new pod waits on the migration, that replica does not serve. '
      + 'Consider partition-based rollouts, or accept one replica less while migrations run.');
  }
  if (json.kind === 'Deployment') {
    const progressDeadline = json.spec?.progressDeadlineSeconds ?? 600;
    if (progressDeadline <= migrationTimeout.toSeconds()) {
      warn('MS102', `progressDeadlineSeconds (${progressDeadline}) is not longer than the migration timeout (${migrationTimeout.toSeconds()} s, its queue included): `
        + 'a migration that legitimately runs long, or waits for an earlier release\'s, marks the rollout failed (ProgressDeadlineExceeded) before it can finish. '
        + 'Set progressDeadlineSeconds to queueTimeout plus migrationTimeout plus the pods\' start-up time.');
    }
  }
  return warnings;
}

/**
 * What the gated pod's containers ask for that cannot work: a request no node can hold (MS107,
 * the waiter's included), and an HTTP or TCP probe on port 80 that the container does not declare
 * (MS106). cdk8s-plus probes `options.port ?? container.portNumber ?? 80`: a probe that names no
 * port, on a container that declares none, probes 80, where a worker seldom listens, and the pod
 * never becomes ready (or is restarted by its liveness probe) after it waited for the migration.
 * `MigratedService` refuses that for its own Deployment, where it knows the probe named no port;
 * here the JSON cannot tell a defaulted 80 from a written one, so it is a warning.
 */
function containerWarnings(pod: any): Array<{ id: string; message: string }> {
  const warnings: Array<{ id: string; message: string }> = [];
  for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
    for (const problem of oversizedRequests(c.resources)) {
      warnings.push({ id: 'MS107', message: `container "${c.name}" ${problem}` });
    }
    const declared = (c.ports ?? []).map((p: any) => Number(p.containerPort));
    const names = (c.ports ?? []).map((p: any) => p.name).filter((name: unknown) => typeof name === 'string');
    for (const field of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      const action = c[field]?.httpGet ?? c[field]?.tcpSocket;
      const port = action?.port;
      if (typeof port === 'string' && !/^\d+$/.test(port) && !names.includes(port)) {
        // A named port resolves against the container's own ports only; the kubelet fails the probe.
        warnings.push({
          id: 'MS106',
          message: `container "${c.name}" has a ${field} on the port named "${port}", which it does not declare${names.length > 0 ? ` (it names ${names.join(', ')})` : ''}: `
            + 'the kubelet cannot resolve it, so the probe fails on every pod. Declare the port under that name, or give the probe the port number.',
        });
        continue;
      }
      if (action === undefined || (port !== 80 && port !== '80') || declared.includes(80)) {
        continue;
      }
      const kind = c[field].httpGet !== undefined ? 'Probe.fromHttpGet(path, { port: 8080 })' : 'Probe.fromTcpSocket({ port: 8080 })';
      warnings.push({
        id: 'MS106',
        message: `container "${c.name}" has a ${field} on port 80, which it does not declare${declared.length > 0 ? ` (it declares ${declared.join(', ')})` : ''}: `
          + 'cdk8s-plus probes port 80 when neither the probe nor the container names a port. If the process does not listen on 80, '
          + 'the pod never becomes ready (or its liveness probe restarts it). Give the probe the port the process listens on '
          + `(cdk8s-plus: ${kind}), or give the container its port (portNumber: 8080); if it does listen on 80, declare it (portNumber: 80).`,
      });
    }
  }
  return warnings;
}

function describeNamespace(namespace: string | undefined): string {
  return namespace === undefined ? '(none: the namespace it is applied to)' : `"${namespace}"`;
}

/** An image reference's repository, tag and digest. */
function parseImage(image: string): { repository: string; tag?: string; digest?: string } {
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const withoutDigest = at >= 0 ? image.slice(0, at) : image;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > slash
    ? { repository: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1), digest }
    : { repository: withoutDigest, digest };
}
