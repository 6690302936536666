import { ApiObject, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { autoscalerOf } from './autoscaler';
import { envFromNames, mountWritablePaths } from './containers';
import { DatabaseMigration } from './database-migration';
import { DatabaseMigrationProps } from './database-migration-props';
import { Delivery } from './delivery';
import { MigrationGate } from './gate';
import { recommendedLabels, selectorLabels } from './labels';
import { setImagePullSecrets } from './migration-job';
import { imagePullSecretNamesOf, SHARED_MIGRATION_PROPS, validateMigrationProps } from './migration-props';
import { MigrationTool } from './migration-tool';
import { afterSerialization } from './pod-template';
import { BOOLEAN, checkProps, COMMAND, DURATION, integer, PropTypes, RESOURCES, SERVICE_PROBE, SERVICE_STRATEGY, STRING, STRING_LIST } from './prop-types';
import { restrictedSecurityContext } from './security-context';
import { ServiceProbe } from './service-probe';
import { ServiceStrategy } from './service-strategy';
import { refuseDuplicateObjects } from './unique-objects';
import { invalidProp, validateImageRepository, validateInteger, validatePositiveDuration, validateProgram, validateResources, validateShellOnlySyntax, validateWritablePaths } from './validation';
import { MigrationWaiter } from './waiter';
import { derivedName, LONGEST_NAME_SUFFIX } from '../shared/names';

/**
 * Props of `MigratedService`.
 */
export interface MigratedServiceProps {
  /**
   * The image tag of this release, shared by the service image, the migration image and the name of
   * the migration Job. A Docker tag that names one release: it carries a version (a digit) or is a
   * commit SHA; moving tags such as `latest` or `main` (in any case) are refused.
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
   * label (lowercase letters, digits and `-`, starting with a letter) of at most 63 characters. Up
   * to 42 characters it is used verbatim in every derived name; longer names are shortened with a
   * hash there, so that every name fits the 63-character limit.
   *
   * @default - the construct id
   */
  readonly name?: string;

  /**
   * The entrypoint of the service container (`command`), e.g. `['bundle', 'exec', 'puma']`.
   *
   * @default - the image's ENTRYPOINT
   */
  readonly command?: string[];

  /**
   * The arguments of the service container (`args`), e.g. `['-C', 'config/puma.rb']`.
   *
   * @default - the image's CMD
   */
  readonly args?: string[];

  /**
   * Number of service replicas. Every replica waits for the migration Job, so any number is safe.
   *
   * Leave it unset for a Deployment an autoscaler scales: `spec.replicas` is then left out of the
   * YAML (see `autoscaled`), and setting it is refused, since every apply would reset the count
   * the autoscaler chose.
   *
   * @default 2, or none when the Deployment is autoscaled
   */
  readonly replicas?: number;

  /**
   * Whether an autoscaler owns the Deployment's replica count, so that `spec.replicas` is left out
   * of the YAML, as cdk8s-plus and Helm charts (`autoscaling.enabled`) do: a GitOps engine that
   * applies a replica count resets the autoscaler's choice at every sync.
   *
   * Detected at synth, so you need not set it, when a HorizontalPodAutoscaler (cdk8s-plus's
   * `new kplus.HorizontalPodAutoscaler(chart, 'hpa', { target: svc.deployment, ... })`, an L1 or
   * an `ApiObject`) or a KEDA `ScaledObject` of the App, in the service's namespace, targets the
   * Deployment. Set it to `true` for an autoscaler that is not in the App (another repository,
   * a platform controller).
   *
   * @default - true when an autoscaler of the App targets the Deployment, else false
   */
  readonly autoscaled?: boolean;

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
  readonly readiness?: ServiceProbe;

  /**
   * Liveness probe of the service container.
   *
   * @default - none
   */
  readonly liveness?: ServiceProbe;

  /**
   * Startup probe of the service container.
   *
   * @default - a TCP probe on `port` when a port is given, else none
   */
  readonly startup?: ServiceProbe;

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
   * The construct's own `app.kubernetes.io/` labels are refused: the selectors depend on them.
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
   * `kubernetes.io/dockerconfigjson` Secrets for pulling images from private registries: two when
   * the migration image and the app image come from two registries. Every pod the construct creates
   * lists them (the migration Job, the post-deploy Job, the service Deployment), and so does every gated pod that
   * runs a ServiceAccount the construct created for it, or that lists pull secrets of its own.
   *
   * The pull secrets a cluster attaches to the namespace's `default` ServiceAccount do not apply
   * here: these pods run their own ServiceAccounts, and the API server copies a ServiceAccount's
   * `imagePullSecrets` into a pod only from the pod's own account, and only when the pod lists none.
   * A gated pod that runs your own ServiceAccount and lists no pull secrets is left as it is, so that
   * your account's secrets still apply: add these to that account.
   *
   * @default - none
   */
  readonly imagePullSecretNames?: string[];

  /**
   * One `kubernetes.io/dockerconfigjson` Secret for pulling images.
   *
   * @deprecated Use `imagePullSecretNames`, which takes several and applies them to every pod the
   * construct creates or gates. Giving both is refused.
   * @default - none
   */
  readonly imagePullSecretName?: string;

  /**
   * The init container that holds every pod until the migration Job has completed.
   *
   * @default MigrationWaiter.watch()
   */
  readonly waiter?: MigrationWaiter;

  /**
   * How the Deployment replaces its pods. While new pods wait for the migration, they are not
   * ready; the default never takes a serving pod down for one of them (`maxUnavailable: 0`) and
   * surges new pods instead, so a failed migration costs no serving capacity.
   *
   * @default - rolling update with maxSurge 25% (at least 1 pod) and maxUnavailable 0
   */
  readonly strategy?: ServiceStrategy;

  /**
   * How long a rollout may make no progress before the Deployment reports
   * `ProgressDeadlineExceeded` (and Flux's health check fails). New pods wait for the migration,
   * so the deadline must cover the migration and the pods' start-up; a shorter one is reported as
   * a warning.
   *
   * @default - queueTimeout plus migrationTimeout plus 10 minutes
   */
  readonly progressDeadline?: Duration;

  /**
   * Absolute paths the service writes to, besides `/tmp` and the migration tool's
   * `appWritablePaths` (Rails: `tmp/` and `log/` of the app root). The service container has a
   * read-only root filesystem, so each path gets its own emptyDir volume; `/tmp` always has one.
   *
   * @default - none besides /tmp and the tool's appWritablePaths
   */
  readonly writablePaths?: string[];

  /**
   * The tool that applies the manifests; it decides the Job's annotations. Set it once for the
   * whole App with `Delivery.setDefault(app, ...)` rather than on each migration: the synth refuses
   * an App whose migrations are delivered by different engines.
   *
   * @default - the engine set with `Delivery.setDefault` on the App or a chart above, else `Delivery.flux()`
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
   * How long this release's migration may wait for the migrations of earlier releases that still
   * run. See `DatabaseMigrationProps.queueTimeout`.
   *
   * @default - the `migrationTimeout`
   */
  readonly queueTimeout?: Duration;

  /**
   * The command that applies the post-deploy (contract) migrations, in a Job that runs once the
   * Deployment (and every other workload gated by `migration`) has rolled out this release. See
   * `DatabaseMigrationProps.postDeployMigrationCommand`.
   *
   * @default - the post-deploy command of `migrationTool`, if it has one; else no post-deploy Job
   */
  readonly postDeployMigrationCommand?: string[];

  /**
   * How long the post-deploy migration may run once the rollout is complete.
   *
   * @default - `migrationTimeout`
   */
  readonly postDeployMigrationTimeout?: Duration;

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
 * the new release starts: a `DatabaseMigration` gating a Deployment.
 *
 * - a migration Job named `<name>-migration-<tag>`, one per release;
 * - a Deployment whose pods wait for exactly that Job in an init container;
 * - a ServiceAccount, Role and RoleBinding that let the waiter read that Job, and nothing else;
 * - one image tag shared by all of them, and one namespace: the chart's.
 *
 * `migration.gate(worker)` makes more workloads wait for the same Job.
 */
export class MigratedService extends Construct {
  /** The base name of every object. */
  public readonly name: string;

  /** The migration: its Job, its RBAC, and `gate()` for more workloads. */
  public readonly migration: DatabaseMigration;

  /** The name of this release's migration Job, which the init container waits for. */
  public readonly jobName: string;

  /** The migration Job. */
  public readonly job: kplus.Job;

  /** The service Deployment. */
  public readonly deployment: kplus.Deployment;

  /** The gate that holds the Deployment's pods until the migration has succeeded. */
  public readonly gate: MigrationGate;

  /** The ServiceAccount of the service pods, bound to the migration's Role. */
  public readonly serviceAccount: kplus.ServiceAccount;

  /** The service container. */
  public readonly serviceContainer: kplus.Container;

  /** The migration container of the Job. */
  public readonly migrationContainer: kplus.Container;

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

  constructor(scope: Construct, id: string, props: MigratedServiceProps) {
    super(scope, id);
    const owner = `MigratedService "${this.node.path}"`;
    checkProps(owner, 'MigratedService', props, PROPS);
    this.name = props.name ?? id;
    const migrationProps = this.migrationProps(props);
    validateServiceProps(owner, props);
    validateMigrationProps(owner, this.name, props.name === undefined, migrationProps);
    const labels = recommendedLabels(this.name, props.imageTag, 'service', props.partOf);
    const selector = selectorLabels(this.name, 'service');

    this.migration = new DatabaseMigration(this, 'Migration', migrationProps);
    this.jobName = this.migration.jobName;
    this.job = this.migration.job;
    this.migrationContainer = this.migration.migrationContainer;
    this.delivery = this.migration.delivery;

    this.serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', {
      metadata: { name: this.name, labels },
      // Tokens stay off for any pod that uses this account; the gate turns the Deployment's on.
      automountToken: false,
    });
    ({ deployment: this.deployment, container: this.serviceContainer } = this.createDeployment(owner, props, labels, selector));
    this.gate = this.migration.gate(this.deployment);
    this.leaveReplicasToAutoscaler(owner, props);
    this.deployment.node.addDependency(this.serviceAccount);

    this.service = props.port !== undefined ? this.createService(props.port, labels, selector) : undefined;
    this.deploymentVariablesConfigMap = props.deploymentVariables ? this.createDeploymentVariables(props.imageTag, labels) : undefined;
    const ownObjects = [this.deployment, this.serviceAccount, this.service, this.deploymentVariablesConfigMap];
    refuseDuplicateObjects(owner, this, ownObjects.flatMap((resource) => resource !== undefined ? [ApiObject.of(resource)] : []), {
      baseName: this.name,
    });
  }

  /**
   * Warnings about opted-in traps (such as a TTL on the Job) and gated workloads that can lose
   * capacity. Each is also printed.
   */
  public get warnings(): string[] {
    return this.migration.warnings;
  }

  /**
   * Leaves `spec.replicas` out of the Deployment when an autoscaler owns it, and refuses a
   * replica count given as well. cdk8s-plus does the first for its own HorizontalPodAutoscaler;
   * an L1 one, a KEDA ScaledObject or one outside the App is only seen here.
   */
  private leaveReplicasToAutoscaler(owner: string, props: MigratedServiceProps): void {
    const deployment = ApiObject.of(this.deployment);
    // Refused in a validation, so the error is reported with cdk8s-plus's own on its autoscaler.
    this.node.addValidation({
      validate: () => {
        const autoscaler = autoscalerOf(deployment);
        if (autoscaler !== undefined && props.autoscaled === false) {
          return [invalidProp(owner, 'autoscaled', false,
            `${autoscaler.description} scales the Deployment "${this.name}". Remove autoscaled: false, or the autoscaler.`).message];
        }
        if (autoscaler !== undefined && props.replicas !== undefined) {
          return [replicasOwnedByAutoscaler(owner, props.replicas, autoscaler.description).message];
        }
        return [];
      },
    });
    afterSerialization(deployment, (json) => {
      if (props.autoscaled === true || autoscalerOf(deployment) !== undefined) {
        delete json.spec.replicas;
      }
    });
  }

  private createDeployment(
    owner: string, props: MigratedServiceProps, labels: { [key: string]: string }, selector: { [key: string]: string },
  ): { deployment: kplus.Deployment; container: kplus.Container } {
    const deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name: this.name, labels },
      podMetadata: {
        labels: { ...props.podLabels, ...labels },
        annotations: { ...props.podAnnotations, 'kubectl.kubernetes.io/default-container': 'service' },
      },
      select: false,
      // Left to cdk8s-plus's default (2), which it leaves out when its HorizontalPodAutoscaler
      // targets the Deployment, and refuses to combine with one when given.
      replicas: props.replicas,
      serviceAccount: this.serviceAccount,
      strategy: props.strategy?._toStrategy() ?? kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: kplus.PercentOrAbsolute.percent(25),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      progressDeadline: props.progressDeadline ?? this.migration.progressDeadline,
    });
    setImagePullSecrets(deployment, imagePullSecretNamesOf(owner, props));
    deployment.select(kplus.LabelSelector.of({ labels: selector }));
    const container = deployment.addContainer({
      name: 'service',
      image: `${props.image}:${props.imageTag}`,
      command: props.command,
      args: props.args,
      portNumber: props.port,
      // The same ConfigMaps and Secrets as the migration: it must reach the same database.
      envFrom: envFromNames(this, props.configMapNames, props.secretNames),
      envVariables: props.env,
      resources: props.resources,
      readiness: props.readiness?._toProbe(),
      liveness: props.liveness?._toProbe(),
      startup: props.startup?._toProbe(),
      securityContext: restrictedSecurityContext(props.securityContext),
      imagePullPolicy: props.imagePullPolicy ?? kplus.ImagePullPolicy.IF_NOT_PRESENT,
    });
      // The root filesystem is read-only; Node, Python, Ruby and the JVM all write temporary files.
    // The tool's own runtime paths first (a Rails server writes tmp/pids at boot), then the user's.
    const writablePaths = validateWritablePaths(owner, 'writablePaths', props.writablePaths ?? []);
    const paths = [...this.migration.migrationTool.appWritablePaths.filter((path) => !writablePaths.includes(path)), ...writablePaths];
    mountWritablePaths(this, container, paths, 'Service', 'writable', Size.gibibytes(1));
    return { deployment, container };
  }

  private createService(port: number, labels: { [key: string]: string }, selector: { [key: string]: string }): kplus.Service {
    const service = new kplus.Service(this, 'Service', {
      metadata: { name: this.name, labels },
      ports: [{ port, targetPort: port }],
    });
    // Select the pods by the Deployment's own stable labels, not by cdk8s's path-derived label.
    for (const [key, value] of Object.entries(selector)) {
      service.selectLabel(key, value);
    }
    service.node.addDependency(this.deployment);
    return service;
  }

  private createDeploymentVariables(imageTag: string, labels: { [key: string]: string }): kplus.ConfigMap {
    const configMap = new kplus.ConfigMap(this, 'DeploymentVariables', {
      metadata: { name: derivedName('', this.name, LONGEST_NAME_SUFFIX), labels },
      data: { IMAGE_TAG: imageTag },
    });
    this.job.node.addDependency(configMap);
    this.migration.postDeploy?.job.node.addDependency(configMap);
    return configMap;
  }

  private migrationProps(props: MigratedServiceProps): DatabaseMigrationProps {
    return {
      imageTag: props.imageTag,
      image: props.migrationImage ?? props.image,
      migrationCommand: props.migrationCommand,
      migrationTool: props.migrationTool,
      name: this.name,
      configMapNames: props.configMapNames,
      secretNames: props.secretNames,
      env: props.env,
      // The migration runs the service's code and runtime, so it takes the service's resources.
      resources: props.migrationResources ?? props.resources,
      securityContext: props.securityContext,
      podLabels: props.podLabels,
      podAnnotations: props.podAnnotations,
      imagePullPolicy: props.imagePullPolicy,
      imagePullSecretName: props.imagePullSecretName,
      imagePullSecretNames: props.imagePullSecretNames,
      waiter: props.waiter,
      delivery: props.delivery,
      ttlAfterFinished: props.ttlAfterFinished,
      migrationTimeout: props.migrationTimeout,
      queueTimeout: props.queueTimeout,
      postDeployMigrationCommand: props.postDeployMigrationCommand,
      postDeployMigrationTimeout: props.postDeployMigrationTimeout,
      partOf: props.partOf,
      // A worker gated by this migration must run the service image of this release too.
      releaseImages: props.migrationImage !== undefined && props.migrationImage !== props.image ? [props.image] : undefined,
    };
  }
}

/** The error for a replica count given to a Deployment whose replicas `autoscaler` owns. */
function replicasOwnedByAutoscaler(owner: string, replicas: number, autoscaler: string): Error {
  return invalidProp(owner, 'replicas', replicas,
    `${autoscaler} owns the Deployment's replica count, and every apply of a replica count would reset the one it chose. `
    + 'Remove replicas, and give the autoscaler its minimum (minReplicas) instead.');
}

function validateServiceProps(owner: string, props: MigratedServiceProps): void {
  if (props.migrationImage !== undefined) {
    validateImageRepository(owner, 'migrationImage', props.migrationImage);
  }
  validateImageRepository(owner, 'image', props.image);
  validateInteger(owner, 'replicas', props.replicas ?? 2, 0, 2147483647, 'the number of replicas');
  // (autoscaled's type is checked with the other props' in PROPS.)
  if (props.autoscaled === true && props.replicas !== undefined) {
    throw replicasOwnedByAutoscaler(owner, props.replicas, 'an autoscaler (autoscaled: true)');
  }
  for (const [prop, list] of [['command', props.command], ['args', props.args]] as const) {
    if (list !== undefined && (!Array.isArray(list) || list.some((item) => typeof item !== 'string') || (prop === 'command' && list.length === 0))) {
      throw invalidProp(owner, prop, list, `${prop} is a list of strings${prop === 'command' ? ', starting with the executable' : ''}; leave it unset to use the image's ${prop === 'command' ? 'ENTRYPOINT' : 'CMD'}.`);
    }
  }
  if (props.command !== undefined) {
    validateProgram(owner, 'command', props.command);
    validateShellOnlySyntax(owner, 'command', props.command, props.args);
  }
  if (props.port !== undefined) {
    validateInteger(owner, 'port', props.port, 1, 65535, 'a TCP port');
  }
  props.readiness?._validatePort(owner, 'readiness', props.port);
  props.liveness?._validatePort(owner, 'liveness', props.port);
  props.startup?._validatePort(owner, 'startup', props.port);
  if (props.progressDeadline !== undefined) {
    validatePositiveDuration(owner, 'progressDeadline', props.progressDeadline);
  }
  validateWritablePaths(owner, 'writablePaths', props.writablePaths ?? []);
  validateResources(owner, 'resources', props.resources);
  validateResources(owner, 'migrationResources', props.migrationResources);
}

// Each prop's type: a prop MigratedService does not know is refused, and so is a value of the wrong type.
const PROPS: PropTypes<MigratedServiceProps> = {
  ...SHARED_MIGRATION_PROPS,
  migrationImage: STRING,
  command: COMMAND,
  args: STRING_LIST,
  replicas: integer(0, 2147483647, 'the number of replicas'),
  autoscaled: BOOLEAN,
  port: integer(1, 65535, 'a TCP port'),
  migrationResources: RESOURCES,
  readiness: SERVICE_PROBE,
  liveness: SERVICE_PROBE,
  startup: SERVICE_PROBE,
  strategy: SERVICE_STRATEGY,
  progressDeadline: DURATION,
  writablePaths: STRING_LIST,
  deploymentVariables: BOOLEAN,
};
