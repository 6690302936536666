import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { envFromNames, mountWritablePaths, toEnvValues } from './containers';
import { DatabaseMigrationProps } from './database-migration-props';
import { restrictedSecurityContext } from './security-context';

/**
 * Lists `names` as the pull secrets of the pod template of `workload`. cdk8s-plus takes one
 * (`dockerRegistryAuth`); the migration image and the app image may come from two registries.
 */
export function setImagePullSecrets(workload: kplus.Workload, names: string[]): void {
  if (names.length > 0) {
    ApiObject.of(workload).addJsonPatch(JsonPatch.add('/spec/template/spec/imagePullSecrets', names.map((name) => ({ name }))));
  }
}

/** What distinguishes the pre-deploy Job from the post-deploy one. */
export interface MigrationJobSpec {
  readonly name: string;
  readonly labels: { [key: string]: string };
  readonly annotations: { [key: string]: string };
  readonly command: string[];
  readonly toolEnv: { [name: string]: string };
  readonly writablePaths: string[];
  readonly timeout: Duration;
  /**
   * Run the migration as an init container, so that a container after it can act on its success
   * (recording it in the ledger).
   */
  readonly migrateFirst: boolean;
  /** The pull secrets of the Job's pod. */
  readonly imagePullSecrets: string[];
}

export interface MigrationJob {
  readonly job: kplus.Job;
  readonly migrationContainer: kplus.Container;
}

/**
 * A Job that runs one migration command once, with the image, tag, envFrom and env of the
 * migration's props: the pre-deploy and the post-deploy Jobs differ only in `spec`.
 */
export function migrationJob(scope: Construct, id: string, props: DatabaseMigrationProps, spec: MigrationJobSpec): MigrationJob {
  const job = new kplus.Job(scope, id, {
    metadata: { name: spec.name, labels: spec.labels, annotations: spec.annotations },
    podMetadata: {
      labels: { ...props.podLabels, ...spec.labels },
      annotations: { ...props.podAnnotations, 'kubectl.kubernetes.io/default-container': 'migrate' },
    },
    select: false,
    // A failed migration must fail the release, not be retried against a half-migrated schema.
    backoffLimit: 0,
    activeDeadline: spec.timeout,
    ttlAfterFinished: props.ttlAfterFinished,
    // The migration never calls the Kubernetes API: its container gets no service-account token.
    automountServiceAccountToken: false,
  });
  setImagePullSecrets(job, spec.imagePullSecrets);
  const containerProps: kplus.ContainerProps = {
    name: 'migrate',
    image: `${props.image}:${props.imageTag}`,
    command: spec.command,
    envFrom: envFromNames(job, props.configMapNames, props.secretNames),
    envVariables: { ...toEnvValues(spec.toolEnv), ...props.env },
    resources: props.resources,
    securityContext: restrictedSecurityContext(props.securityContext),
    imagePullPolicy: props.imagePullPolicy ?? kplus.ImagePullPolicy.IF_NOT_PRESENT,
  };
  const migrationContainer = spec.migrateFirst ? job.addInitContainer(containerProps) : job.addContainer(containerProps);
  // The root filesystem is read-only; migration tools write temporary files, caches and logs.
  mountWritablePaths(job, migrationContainer, spec.writablePaths, 'Migration', 'writable', Size.gibibytes(1));
  // A node drain evicts the migration pod with a DisruptionTarget condition. With backoffLimit 0
  // that would fail the Job and the release; ignoring such failures lets the Job start a new pod.
  ApiObject.of(job).addJsonPatch(JsonPatch.add('/spec/podFailurePolicy', {
    rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }],
  }));
  return { job, migrationContainer };
}
