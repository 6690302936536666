import { ApiObject, Chart, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Delivery } from './delivery';
import { MigrationTool } from './migration-tool';
import { isDns1035Label, LONGEST_NAME_SUFFIX, MAX_BASE_NAME_LENGTH, versionedName, versionLabelValue } from './names';
import {
  invalidProp,
  validateAnnotationKeys,
  validateCommand,
  validateImageRepository,
  validateImageTag,
  validateInteger,
  validateLabels,
  validateObjectNames,
  validatePositiveDuration,
} from './validation';
import { MigrationWaiter } from './waiter';

/**
 * Props of `MigratedService`.
 */
export interface MigratedServiceProps {
  /**
   * The image tag of this release, shared by the service image, the migration image and the name of
   * the migration Job. Any Docker tag except `latest`.
   */
  readonly imageTag: string;

  /**
   * The service image repository, without tag or digest, e.g. `registry.example.com/myapp`.
   */
  readonly image: string;

  /**
   * The migration image repository, without tag or digest. It is tagged with `imageTag` too, so
   * the migration always matches the service it prepares the schema for.
   *
   * @default - `image`
   */
  readonly migrationImage?: string;

  /**
   * The command that applies pending migrations, e.g. `['npx', 'prisma', 'migrate', 'deploy']`.
   * Give this or `migrationTool`, not both.
   *
   * @default - the command of `migrationTool`
   */
  readonly migrationCommand?: string[];

  /**
   * A migration tool preset: its command, and the environment and writable paths it needs under a
   * read-only root filesystem. Give this or `migrationCommand`, not both.
   *
   * @default - `MigrationTool.custom(migrationCommand)`
   */
  readonly migrationTool?: MigrationTool;

  /**
   * The base name of every object: the Deployment, ServiceAccount and Service are named `<name>`,
   * the Job `<name>-migration-<tag>`, the Role and RoleBinding `<name>-migration-reader`. A DNS-1035
   * label (lowercase letters, digits and `-`, starting with a letter) of at most 42 characters, so
   * that every derived name fits the 63-character limit.
   *
   * @default - the construct id
   */
  readonly name?: string;

  /**
   * Number of service replicas. Every replica waits for the migration Job, so any number is safe.
   *
   * @default 2
   */
  readonly replicas?: number;

  /**
   * ConfigMaps exposed as environment variables (`envFrom`), identically in the migration Job and
   * the service, so both reach the same database.
   *
   * @default - none
   */
  readonly configMapNames?: string[];

  /**
   * Secrets exposed as environment variables (`envFrom`), identically in the migration Job and the
   * service (typically the one holding `DATABASE_URL`). Only the names reach the YAML.
   *
   * @default - none
   */
  readonly secretNames?: string[];

  /**
   * Environment variables set identically in the migration Job and the service.
   *
   * @default - none
   */
  readonly env?: { [name: string]: kplus.EnvValue };

  /**
   * The port the service listens on. It is declared on the container and exposed by a ClusterIP
   * Service named `<name>`; cdk8s-plus also adds a TCP startup probe on it unless `startup` is given.
   *
   * @default - no port and no Service
   */
  readonly port?: number;

  /**
   * Resources of the service container.
   *
   * @default - cdk8s-plus defaults: cpu 1000m request / 1500m limit, memory 512Mi / 2048Mi
   */
  readonly resources?: kplus.ContainerResources;

  /**
   * Resources of the migration container. The migration runs the service's code and runtime, so it
   * takes the service's resources unless told otherwise.
   *
   * @default - `resources`
   */
  readonly migrationResources?: kplus.ContainerResources;

  /**
   * Readiness probe of the service container.
   *
   * @default - none
   */
  readonly readiness?: kplus.Probe;

  /**
   * Liveness probe of the service container.
   *
   * @default - none
   */
  readonly liveness?: kplus.Probe;

  /**
   * Startup probe of the service container.
   *
   * @default - a TCP probe on `port` when a port is given, else none
   */
  readonly startup?: kplus.Probe;

  /**
   * Security context of the service and migration containers, laid over the defaults, which meet
   * the Pod Security Standards "restricted" profile: non-root, no privilege escalation, all
   * capabilities dropped, RuntimeDefault seccomp profile, read-only root filesystem.
   *
   * `runAsNonRoot` needs images whose `USER` is a non-zero number: with a root or named user the
   * kubelet refuses to start the container (`CreateContainerConfigError`). Build the images with
   * e.g. `USER 1000:1000`, or set `user` here.
   *
   * @default - the restricted defaults above
   */
  readonly securityContext?: kplus.ContainerSecurityContextProps;

  /**
   * Labels added to the pods of the Job and the Deployment, e.g. for a workload identity webhook.
   *
   * @default - none besides the construct's own
   */
  readonly podLabels?: { [key: string]: string };

  /**
   * Annotations added to the pods of the Job and the Deployment.
   *
   * @default - none besides the construct's own
   */
  readonly podAnnotations?: { [key: string]: string };

  /**
   * Pull policy of the service and migration images. The tag names one release and is never
   * reused, so a node that has the image need not ask the registry again.
   *
   * @default kplus.ImagePullPolicy.IF_NOT_PRESENT
   */
  readonly imagePullPolicy?: kplus.ImagePullPolicy;

  /**
   * A `kubernetes.io/dockerconfigjson` Secret used to pull the images, for private registries.
   *
   * @default - none
   */
  readonly imagePullSecretName?: string;

  /**
   * The init container that holds every pod until the migration Job has completed.
   *
   * @default MigrationWaiter.k8sWaitFor()
   */
  readonly waiter?: MigrationWaiter;

  /**
   * The tool that applies the manifests; it decides the Job's annotations.
   *
   * @default Delivery.flux()
   */
  readonly delivery?: Delivery;

  /**
   * Deletes the Job this long after it finishes (`ttlSecondsAfterFinished`).
   *
   * Unset by default, deliberately: once the Job is deleted, every pod that starts afterwards
   * (scale-up, reschedule, node drain) finds nothing to wait for and loops in
   * `Init:CrashLoopBackOff`; under Flux the deleted Job is also re-created at the next reconcile
   * and the migration runs again every interval. The construct warns when it is set. Without a TTL,
   * the previous release's Job goes away when the engine prunes it (Flux `prune: true`) or replaces
   * it (Argo CD and Helm `BeforeHookCreation`).
   *
   * @default - the Job is kept until the next release replaces it
   */
  readonly ttlAfterFinished?: Duration;

  /**
   * How long the migration may run before Kubernetes stops it and marks the Job failed
   * (`activeDeadlineSeconds`, reason `DeadlineExceeded`), so that a hung migration fails visibly
   * instead of holding the release forever.
   *
   * @default Duration.hours(1)
   */
  readonly migrationTimeout?: Duration;

  /**
   * The larger application this service is part of (`app.kubernetes.io/part-of`).
   *
   * @default - no part-of label
   */
  readonly partOf?: string;

  /**
   * Also emit a ConfigMap `<name>-deployment-variables` with `IMAGE_TAG`, recording the deployed
   * tag in the cluster as the pattern's version tracking does.
   *
   * @default false
   */
  readonly deploymentVariables?: boolean;
}

/**
 * A database-backed service whose schema migrations run once per release, before any replica of
 * the new release starts:
 *
 * - a migration Job named `<name>-migration-<tag>`, one per release;
 * - a Deployment whose pods wait for exactly that Job in an init container;
 * - a ServiceAccount, Role and RoleBinding that let the waiter read that Job, and nothing else;
 * - one image tag shared by all of them, and one namespace: the chart's.
 */
export class MigratedService extends Construct {
  /** The base name of every object. */
  public readonly name: string;

  /** The name of this release's migration Job, which the init container waits for. */
  public readonly jobName: string;

  /** The migration Job. */
  public readonly job: kplus.Job;

  /** The service Deployment. */
  public readonly deployment: kplus.Deployment;

  /** The ServiceAccount of the service pods, bound to `role`. */
  public readonly serviceAccount: kplus.ServiceAccount;

  /** The Role that lets the waiter read this release's Job. */
  public readonly role: kplus.Role;

  /** The RoleBinding of `role` to `serviceAccount`. */
  public readonly roleBinding: kplus.RoleBinding;

  /** The service container. */
  public readonly serviceContainer: kplus.Container;

  /** The migration container of the Job. */
  public readonly migrationContainer: kplus.Container;

  /** The init container that waits for the Job. */
  public readonly waiterContainer: kplus.Container;

  /**
   * The ClusterIP Service, when `port` is given.
   */
  public readonly service?: kplus.Service;

  /**
   * The `<name>-deployment-variables` ConfigMap, when `deploymentVariables` is true.
   */
  public readonly deploymentVariablesConfigMap?: kplus.ConfigMap;

  /** The delivery engine the manifests are annotated for. */
  public readonly delivery: Delivery;

  /**
   * Warnings about opted-in traps (such as a TTL on the Job). Each is also printed when the
   * construct is created.
   */
  public readonly warnings: string[] = [];

  constructor(scope: Construct, id: string, props: MigratedServiceProps) {
    super(scope, id);
    const owner = `MigratedService "${this.node.path}"`;

    this.name = props.name ?? id;
    validateBaseName(owner, props.name === undefined, this.name);
    validateImageTag(owner, 'imageTag', props.imageTag);
    validateImageRepository(owner, 'image', props.image);
    const migrationImage = props.migrationImage ?? props.image;
    if (props.migrationImage !== undefined) {
      validateImageRepository(owner, 'migrationImage', props.migrationImage);
    }
    const migrationTool = resolveMigrationTool(owner, props);
    const replicas = props.replicas ?? 2;
    validateInteger(owner, 'replicas', replicas, 0, 2147483647, 'the number of replicas');
    if (props.port !== undefined) {
      validateInteger(owner, 'port', props.port, 1, 65535, 'a TCP port');
    }
    validateObjectNames(owner, 'configMapNames', props.configMapNames ?? [], 'ConfigMap');
    validateObjectNames(owner, 'secretNames', props.secretNames ?? [], 'Secret');
    if (props.imagePullSecretName !== undefined) {
      validateObjectNames(owner, 'imagePullSecretName', [props.imagePullSecretName], 'Secret');
    }
    const migrationTimeout = props.migrationTimeout ?? Duration.hours(1);
    validatePositiveDuration(owner, 'migrationTimeout', migrationTimeout);
    if (props.ttlAfterFinished !== undefined) {
      validatePositiveDuration(owner, 'ttlAfterFinished', props.ttlAfterFinished);
    }
    validateLabels(owner, 'podLabels', props.podLabels ?? {});
    validateAnnotationKeys(owner, 'podAnnotations', props.podAnnotations ?? {});
    if (props.partOf !== undefined) {
      validateLabels(owner, 'partOf', { 'app.kubernetes.io/part-of': props.partOf });
    }

    this.delivery = props.delivery ?? Delivery.flux();
    const waiter = props.waiter ?? MigrationWaiter.k8sWaitFor();
    const imagePullPolicy = props.imagePullPolicy ?? kplus.ImagePullPolicy.IF_NOT_PRESENT;
    const securityContext = restrictedSecurityContext(props.securityContext);
    const namespace = Chart.of(this).namespace;
    const dockerRegistryAuth = props.imagePullSecretName !== undefined
      ? kplus.Secret.fromSecretName(this, 'ImagePullSecret', props.imagePullSecretName)
      : undefined;

    this.jobName = versionedName(`${this.name}-migration-`, props.imageTag);
    const readerName = `${this.name}-migration-reader`;

    const labelsFor = (component: string): { [key: string]: string } => ({
      'app.kubernetes.io/name': this.name,
      'app.kubernetes.io/instance': this.name,
      'app.kubernetes.io/version': versionLabelValue(props.imageTag),
      'app.kubernetes.io/component': component,
      ...(props.partOf !== undefined ? { 'app.kubernetes.io/part-of': props.partOf } : {}),
      'app.kubernetes.io/managed-by': 'cdk8s',
    });
    const serviceLabels = labelsFor('service');
    const migrationLabels = labelsFor('migration');
    // The Deployment's selector is immutable, so it selects on labels that stay the same from one
    // release to the next: never the version, never a path-derived hash.
    const selectorLabels = {
      'app.kubernetes.io/name': this.name,
      'app.kubernetes.io/instance': this.name,
      'app.kubernetes.io/component': 'service',
    };

    // The same envFrom objects serve both containers: the migration must reach the same database,
    // with the same credentials, as the service it prepares.
    const envFrom = [
      ...(props.configMapNames ?? []).map((name, i) =>
        kplus.Env.fromConfigMap(kplus.ConfigMap.fromConfigMapName(this, `EnvConfigMap${i}`, name))),
      ...(props.secretNames ?? []).map((name, i) =>
        kplus.Env.fromSecret(kplus.Secret.fromSecretName(this, `EnvSecret${i}`, name))),
    ];

    // --- The service's identity: the only one whose pods get a token. ---------------------------
    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name: this.name, labels: serviceLabels },
      // Tokens stay off for any pod that uses this account; the Deployment turns its own on.
      automountToken: false,
    });

    // --- The migration Job. ------------------------------------------------------------------------
    this.job = new kplus.Job(this, 'Job', {
      metadata: {
        name: this.jobName,
        labels: migrationLabels,
        annotations: this.delivery.jobAnnotations(),
      },
      podMetadata: {
        labels: { ...props.podLabels, ...migrationLabels },
        annotations: props.podAnnotations,
      },
      select: false,
      // A failed migration must fail the release, not be retried against a half-migrated schema.
      backoffLimit: 0,
      activeDeadline: migrationTimeout,
      ttlAfterFinished: props.ttlAfterFinished,
      // The migration never calls the Kubernetes API: its pod gets no service-account token.
      automountServiceAccountToken: false,
      dockerRegistryAuth,
    });
    this.migrationContainer = this.job.addContainer({
      name: 'migrate',
      image: `${migrationImage}:${props.imageTag}`,
      command: migrationTool.command,
      envFrom,
      envVariables: { ...toEnvValues(migrationTool.env), ...props.env },
      resources: props.migrationResources ?? props.resources,
      securityContext,
      imagePullPolicy,
    });
    // The root filesystem is read-only; migration tools write temporary files, caches and logs.
    const writablePaths = ['/tmp', ...migrationTool.writablePaths.filter((path) => path !== '/tmp')];
    writablePaths.forEach((path, i) => {
      const volumeName = i === 0 ? 'tmp' : `writable-${i}`;
      this.migrationContainer.mount(path, kplus.Volume.fromEmptyDir(this, `MigrationVolume${i}`, volumeName, {
        sizeLimit: Size.gibibytes(1),
      }));
    });
    // A node drain evicts the migration pod with a DisruptionTarget condition. With backoffLimit 0
    // that would fail the Job and the release; ignoring such failures lets the Job start a new pod.
    ApiObject.of(this.job).addJsonPatch(JsonPatch.add('/spec/podFailurePolicy', {
      rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }],
    }));

    // --- RBAC: the waiter reads this release's Job, and nothing else. ---------------------------
    const waiterConfig = waiter.bind(this.jobName);
    this.role = new kplus.Role(this, 'Role', {
      metadata: { name: readerName, labels: serviceLabels },
    });
    // A cdk8s-plus Job as the resource yields `resourceNames: [<job name>]`.
    this.role.allow(waiterConfig.jobVerbs, this.job);

    this.roleBinding = new kplus.RoleBinding(this, 'RoleBinding', {
      metadata: { name: readerName, labels: serviceLabels },
      role: this.role,
    });
    // cdk8s-plus writes ServiceAccount subjects without a namespace. Kubernetes then reads the
    // binding's own namespace, which is right; when the chart names its namespace we write it out.
    this.roleBinding.addSubjects(namespace !== undefined
      ? kplus.ServiceAccount.fromServiceAccountName(this, 'Subject', this.name, { namespaceName: namespace })
      : this.serviceAccount);
    this.roleBinding.node.addDependency(this.serviceAccount, this.role);

    // --- The Deployment. ---------------------------------------------------------------------------
    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name: this.name, labels: serviceLabels },
      podMetadata: {
        labels: { ...props.podLabels, ...serviceLabels },
        annotations: { ...props.podAnnotations, 'kubectl.kubernetes.io/default-container': 'service' },
      },
      select: false,
      replicas,
      serviceAccount: this.serviceAccount,
      // cdk8s-plus turns tokens off by default; the waiter needs one to read the Job.
      automountServiceAccountToken: true,
      dockerRegistryAuth,
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: selectorLabels }));

    this.waiterContainer = this.deployment.addInitContainer({
      name: 'wait-for-migration',
      image: waiterConfig.image,
      command: waiterConfig.command,
      args: waiterConfig.args,
      // Both waiters keep kubectl's cache under $HOME; /tmp is the non-root image's home.
      envVariables: { HOME: kplus.EnvValue.fromValue('/tmp') },
      resources: waiterConfig.resources ?? WAITER_RESOURCES,
      securityContext: { ...RESTRICTED_CONTAINER_SECURITY_CONTEXT, user: waiterConfig.user, group: waiterConfig.user },
      // The waiter image is pinned; pulling it from Docker Hub at every pod start invites rate limits.
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
    });
    this.waiterContainer.mount('/tmp', kplus.Volume.fromEmptyDir(this, 'WaiterTmp', 'wait-for-migration-tmp', {
      sizeLimit: Size.mebibytes(64),
    }));

    this.serviceContainer = this.deployment.addContainer({
      name: 'service',
      image: `${props.image}:${props.imageTag}`,
      portNumber: props.port,
      envFrom,
      envVariables: props.env,
      resources: props.resources,
      readiness: props.readiness,
      liveness: props.liveness,
      startup: props.startup,
      securityContext,
      imagePullPolicy,
    });

    // The Job and the RBAC come before the Deployment in the synthesized YAML, so that kubectl
    // apply and GitOps engines that apply in order create them first.
    this.deployment.node.addDependency(this.serviceAccount, this.role, this.roleBinding, this.job);

    if (props.port !== undefined) {
      this.service = new kplus.Service(this, 'Service', {
        metadata: { name: this.name, labels: serviceLabels },
        ports: [{ port: props.port, targetPort: props.port }],
      });
      // Select the pods by the Deployment's own stable labels, not by cdk8s's path-derived label.
      for (const [key, value] of Object.entries(selectorLabels)) {
        this.service.selectLabel(key, value);
      }
      this.service.node.addDependency(this.deployment);
    }

    if (props.deploymentVariables) {
      this.deploymentVariablesConfigMap = new kplus.ConfigMap(this, 'DeploymentVariables', {
        metadata: { name: `${this.name}${LONGEST_NAME_SUFFIX}`, labels: serviceLabels },
        data: { IMAGE_TAG: props.imageTag },
      });
      this.job.node.addDependency(this.deploymentVariablesConfigMap);
    }

    if (props.ttlAfterFinished !== undefined) {
      this.warn(`ttlAfterFinished is set: ${this.delivery._ttlConsequence(props.ttlAfterFinished)}`);
    }
  }

  private warn(message: string): void {
    const warning = `MigratedService "${this.node.path}": ${message}`;
    this.warnings.push(warning);
    console.warn(`[WARNING] ${warning}`);
  }
}

/** The Pod Security Standards "restricted" profile, for every container the construct emits. */
const RESTRICTED_CONTAINER_SECURITY_CONTEXT: kplus.ContainerSecurityContextProps = {
  ensureNonRoot: true,
  privileged: false,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: [kplus.Capability.ALL] },
  seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
};

/**
 * The restricted defaults with the user's overrides laid over them. Capabilities merge field by
 * field: adding NET_BIND_SERVICE, which the restricted profile allows, must not lose `drop: [ALL]`.
 */
function restrictedSecurityContext(overrides: kplus.ContainerSecurityContextProps = {}): kplus.ContainerSecurityContextProps {
  return {
    ...RESTRICTED_CONTAINER_SECURITY_CONTEXT,
    ...overrides,
    capabilities: { ...RESTRICTED_CONTAINER_SECURITY_CONTEXT.capabilities, ...overrides.capabilities },
  };
}

// The waiter runs kubectl every few seconds and nothing else. cdk8s-plus would give it a full CPU.
const WAITER_RESOURCES: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(200) },
  memory: { request: Size.mebibytes(32), limit: Size.mebibytes(128) },
};

function validateBaseName(owner: string, fromId: boolean, name: string): void {
  if (!isDns1035Label(name) || name.length > MAX_BASE_NAME_LENGTH) {
    const source = fromId
      ? 'name (defaulted from the construct id)'
      : 'name';
    const fix = fromId ? ' Pass a valid `name` prop, or use such an id.' : '';
    throw invalidProp(owner, source, name,
      'the base name of every object is a DNS-1035 label: lowercase letters, digits and "-", starting with a letter, '
      + `ending with a letter or digit, at most ${MAX_BASE_NAME_LENGTH} characters (so that "<name>${LONGEST_NAME_SUFFIX}" `
      + `and the Job name fit in 63).${fix}`);
  }
}

function resolveMigrationTool(owner: string, props: MigratedServiceProps): MigrationTool {
  if (props.migrationCommand !== undefined && props.migrationTool !== undefined) {
    throw invalidProp(owner, 'migrationCommand', props.migrationCommand,
      `give migrationCommand or migrationTool, not both (migrationTool is ${props.migrationTool.toolName}, with its own command). `
      + 'For your own command with a tool\'s needs, use MigrationTool.custom(command, options).');
  }
  if (props.migrationTool !== undefined) {
    return props.migrationTool;
  }
  if (props.migrationCommand === undefined) {
    throw invalidProp(owner, 'migrationCommand', undefined,
      'the Job needs a command: set migrationCommand (e.g. ["npx", "prisma", "migrate", "deploy"]) or migrationTool (e.g. MigrationTool.prisma()).');
  }
  validateCommand(owner, 'migrationCommand', props.migrationCommand);
  return MigrationTool.custom(props.migrationCommand);
}

function toEnvValues(env: { [name: string]: string }): { [name: string]: kplus.EnvValue } {
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, kplus.EnvValue.fromValue(value)]));
}
