import { ApiObject, Chart, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { envFromNames, mountWritablePaths, toEnvValues } from './containers';
import { DatabaseMigrationProps } from './database-migration-props';
import { libraryVersion } from './library-version';
import { restrictedSecurityContext } from './security-context';
import { programConfigMapNameOf, programHash } from './waiter-program';
import { templateHash } from '../shared/names';

/**
 * A digest of what the migration Jobs' pod templates are made of: the props (image, tag, command,
 * env, resources, waiter...), the base name, the library's version and its program, whose upgrade
 * may change the containers the library adds, and the name of the chart's program ConfigMap that
 * the Jobs mount (derived from the chart's id, which no prop shows). Two synths that give the same
 * digest write the same templates; a change to any of them changes it (and sometimes an input that
 * the template does not show, which only costs one more run of a migration that has nothing left to do).
 */
export function jobTemplateHash(scope: Construct, name: string, props: DatabaseMigrationProps): string {
  const { delivery: _engine, ...template } = props;
  const programConfigMap = programConfigMapNameOf(Chart.of(scope));
  return templateHash(canonicalJson({ name, library: libraryVersion(), program: programHash(), programConfigMap, props: template }));
}

/**
 * `value` as JSON with sorted keys, without functions, and with each construct (a Secret of an
 * env value, say) as its name: the same props always give the same text.
 */
function canonicalJson(value: unknown, seen: WeakSet<object> = new WeakSet()): string {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' || value === undefined ? 'null' : JSON.stringify(value);
  }
  if (Construct.isConstruct(value)) {
    const named = (value as { name?: unknown }).name;
    return JSON.stringify(typeof named === 'string' ? named : value.node.path);
  }
  if (seen.has(value)) {
    return '"(cycle)"';
  }
  seen.add(value);
  const text = Array.isArray(value)
    ? `[${value.map((item) => canonicalJson(item, seen)).join(',')}]`
    : `{${Object.keys(value).sort()
      .filter((key) => typeof (value as any)[key] !== 'function' && (value as any)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as any)[key], seen)}`).join(',')}}`;
  seen.delete(value);
  return text;
}

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
