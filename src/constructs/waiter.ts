import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { checkOptions, DURATION, integer, PropTypes, RESOURCES, STRING } from './prop-types';
import { invalidProp, validateInteger, validateObjectNames, validatePinnedImage, validatePositiveDuration } from './validation';
import { PROGRAM_COMMAND, PROGRAM_PER_CHART } from './waiter-program';
import { MIN_PROGRAM_MEMORY_LIMIT_MIB } from '../shared/waiter-resources';

/**
 * Options shared by every waiter.
 */
export interface MigrationWaiterOptions {
  /**
   * The waiter's image, pinned to a full version tag or a digest. A tag that moves is refused:
   * `latest` and other names without a version, a bare major or major.minor (`node:20`,
   * `node:20-alpine`, `kubectl:v1.28`), `-SNAPSHOT`, a channel (`stable-1`).
   *
   * @default - the waiter's own default, see each factory
   */
  readonly image?: string;

  /**
   * The UID the waiter runs as. It is set explicitly because the pod runs with `runAsNonRoot: true`,
   * and the kubelet refuses to start an image whose user is root or not numeric.
   *
   * @default - the non-root UID of the default image
   */
  readonly user?: number;

  /**
   * Resources of the waiter container. The waiter only polls the API server, so it asks for
   * little. Init container requests do not add to the pod's: the scheduler takes the larger of the
   * init containers' and the sum of the app containers'. `MigrationWaiter.watch()` refuses a memory
   * limit below 64Mi: its Node.js program would be OOMKilled, and no gated pod would start.
   *
   * @default - cpu 10m request / 200m limit, memory 64Mi request / 128Mi limit
   */
  readonly resources?: kplus.ContainerResources;
}

/**
 * Options for `MigrationWaiter.k8sWaitFor()`.
 */
export interface K8sWaitForOptions extends MigrationWaiterOptions {}

/**
 * Options for `MigrationWaiter.watch()`.
 */
export interface WatchWaiterOptions extends MigrationWaiterOptions {
  /**
   * The name of the ConfigMap that holds the waiter program, written once per chart and shared by
   * its migrations (under Argo CD and Helm, `<name>-hook` too). The default is named after the
   * chart, so that two charts (two Argo CD Applications, Flux Kustomizations or Helm releases) in
   * one namespace never own one object. Name it yourself when one chart is delivered more than
   * once into one namespace (one Helm chart installed as two releases): each delivery needs its own.
   *
   * @default - `<chart>-migration-waiter`, from the chart's id
   */
  readonly programConfigMapName?: string;
}

/**
 * Options for `MigrationWaiter.kubectlWait()`.
 */
export interface KubectlWaitOptions extends MigrationWaiterOptions {
  /**
   * How long `kubectl wait` waits before it exits 1. The kubelet then restarts the init container,
   * which waits again, so the timeout bounds one attempt, not the rollout.
   *
   * @default Duration.hours(1)
   */
  readonly timeout?: Duration;
}

/**
 * How the waiter container is built, as returned by `MigrationWaiter.bind()`.
 */
export interface MigrationWaiterConfig {
  /** The image, pinned. */
  readonly image: string;

  /**
   * The command, replacing the image's entrypoint.
   *
   * @default - the image's entrypoint
   */
  readonly command?: string[];

  /** The arguments. */
  readonly args: string[];

  /**
   * The ConfigMap holding the library's program (`waiter/migration-waiter.js`), when the container
   * runs it by path: mounted read-only at `/opt/migration-waiter`. `(per chart)` stands for the
   * chart's own, `<chart>-migration-waiter`, which the migration resolves in its chart.
   *
   * @default - the container does not run the library's program
   */
  readonly programConfigMap?: string;

  /** Environment variables of the waiter container. */
  readonly env: { [name: string]: string };

  /** The UID to run as. */
  readonly user: number;

  /**
   * Arguments of a second init container, with the same image and command, that runs after the
   * first and exits non-zero unless the Job completed: for a waiter whose first container returns
   * on either outcome and cannot tell them apart itself.
   *
   * @default - no second container
   */
  readonly verifyArgs?: string[];

  /** The verbs on this release's Job that the waiter needs. */
  readonly jobVerbs: string[];

  /**
   * The verbs on the migration's ledger ConfigMap that the waiter needs; empty when it does not
   * read the ledger.
   */
  readonly ledgerVerbs: string[];

  /**
   * Resources of the waiter container.
   *
   * @default - see `MigrationWaiterOptions.resources`
   */
  readonly resources?: kplus.ContainerResources;
}

/**
 * The init container that holds every gated pod until this release's migration Job has completed.
 */
export class MigrationWaiter {
  /**
   * The library's own waiter (the default): a small program shipped in this package
   * (`waiter/migration-waiter.js`), run by the official Node.js image, that watches this release's
   * Job.
   *
   * - **Fast:** it watches the Job instead of polling, so it exits as soon as the Job is Complete.
   * - **Loud:** on a Failed Job it exits 1 at once, with the Job's reason and message and the
   *   command to read the migration's logs; the pod shows `Init:Error`, and a re-created Job that
   *   succeeds lets the next restart through.
   * - **Durable:** when the Job is gone (TTL, prune, deleted by hand), it reads the migration's
   *   ledger ConfigMap, in which the migration Job records its success: a pod of a release that
   *   migrated still starts. A Job that does not exist yet means "keep waiting", never "fail".
   * - **Cheap:** one watch per pod, no requests while nothing changes.
   *
   * The program is written once per namespace, in the ConfigMap `migration-waiter`, which every
   * container that runs it mounts read-only and runs by path (`node
   * /opt/migration-waiter/migration-waiter.js job`), so no image has to be built or published and
   * no pod spec carries the program's text. The pod template carries its hash instead
   * (`MIGRATION_WAITER_SHA256`), so that a library upgrade that changes the program rolls the pods.
   * The default image is `node:24.11.0-alpine3.22` (multi-arch, Node.js 24 LTS), run as its
   * numeric non-root user 1000.
   */
  public static watch(options: WatchWaiterOptions = {}): MigrationWaiter {
    checkOptions('MigrationWaiter.watch()', options, WATCH_OPTIONS);
    validateWaiterOptions('MigrationWaiter.watch()', options);
    validateProgramMemory('MigrationWaiter.watch()', options.resources);
    const image = options.image ?? WATCH_WAITER_IMAGE;
    const user = options.user ?? WATCH_WAITER_USER;
    if (options.programConfigMapName !== undefined) {
      validateObjectNames('MigrationWaiter.watch()', 'programConfigMapName', [options.programConfigMapName], 'ConfigMap');
    }
    const program = options.programConfigMapName ?? PROGRAM_PER_CHART;
    return new MigrationWaiter((jobName, ledgerName) => ({
      image,
      command: PROGRAM_COMMAND,
      args: ['job'],
      programConfigMap: program,
      env: { MIGRATION_JOB: jobName, MIGRATION_LEDGER: ledgerName },
      user,
      // It lists and watches the Job with a `metadata.name` field selector, which a rule with
      // `resourceNames` allows for that Job alone, and gets the ledger only when the Job is gone.
      jobVerbs: ['list', 'watch'],
      ledgerVerbs: ['get'],
      resources: options.resources,
    }), image, user, program);
  }

  /**
   * `groundnuty/k8s-wait-for` in `job-wr` mode, the pattern's own waiter.
   *
   * `job-wr` keeps waiting while the Job has no succeeded pod; plain `job` mode counts a Job whose
   * pod has not started yet (0 active, 0 succeeded, 0 failed) as done. It polls `kubectl describe`
   * every 2 s (about 1.2 Job reads per second per waiting pod). On a failed Job it waits forever and
   * logs nothing, so the pods stay in `Init:0/1`. On a missing Job it exits 1 and the pod loops in
   * `Init:CrashLoopBackOff`, even when that release's migration succeeded long ago.
   *
   * The default image is `groundnuty/k8s-wait-for:no-root-v2.0`, which runs as UID 1100: the root
   * image `v2.0` cannot start in a pod with `runAsNonRoot: true`, which cdk8s-plus sets.
   */
  public static k8sWaitFor(options: K8sWaitForOptions = {}): MigrationWaiter {
    const owner = 'MigrationWaiter.k8sWaitFor()';
    checkOptions(owner, options, K8S_WAIT_FOR_OPTIONS);
    validateWaiterOptions(owner, options);
    return new MigrationWaiter((jobName) => ({
      image: options.image ?? 'groundnuty/k8s-wait-for:no-root-v2.0',
      args: ['job-wr', jobName],
      // kubectl keeps its cache under $HOME; /tmp is the only writable path.
      env: { HOME: '/tmp' },
      // The UID the no-root image declares.
      user: options.user ?? 1100,
      // k8s-wait-for runs `kubectl describe jobs <name>`, which needs only `get`. Granting `list`
      // would serve nothing but its fallback of describing every Job whose name starts with
      // <name>, which we want refused.
      jobVerbs: ['get'],
      ledgerVerbs: [],
      resources: options.resources,
    }));
  }

  /**
   * `kubectl wait` from the official `registry.k8s.io/kubectl` image, in two init containers.
   *
   * `kubectl wait` takes one condition, and `--for=condition=complete` alone would wait out its
   * whole timeout on a failed Job. So the first container waits, watching, for either outcome: the
   * status of the Job condition whose type sorts before `FailureTarget`, which are exactly
   * `Complete` and `Failed`, to be `True`
   * (`--for=jsonpath={.status.conditions[?(@.type<"FailureTarget")].status}=True`). The second
   * checks once (`--timeout=0s`) for `Complete` and exits 1 on a failed Job, so the pod shows
   * `Init:Error` at once. The image has no shell to do both in one container.
   *
   * Why this JSONPath: kubectl 1.27 and 1.28 split `--for=jsonpath=` at every `=`, so a filter
   * `@.type=="Failed"` is rejected before kubectl contacts the server, and every kubectl up to 1.33
   * rejects two concatenated expressions. The comparison `<` has no `=`; it leaves out the interim
   * conditions `FailureTarget` and `SuccessCriteriaMet` (Kubernetes 1.31+), which come before
   * `Failed` and `Complete`, and `Suspended`. Tests run it with real kubectl 1.28 (the pinned
   * image's) and 1.33.
   *
   * On a missing Job it exits 1 at once (`NotFound`): it has no ledger, so a pod that restarts
   * after its release's Job is gone loops in `Init:CrashLoopBackOff`.
   */
  public static kubectlWait(options: KubectlWaitOptions = {}): MigrationWaiter {
    const owner = 'MigrationWaiter.kubectlWait()';
    checkOptions(owner, options, KUBECTL_WAIT_OPTIONS);
    validateWaiterOptions(owner, options);
    const timeout = options.timeout ?? Duration.hours(1);
    validatePositiveDuration(owner, 'timeout', timeout);
    return new MigrationWaiter((jobName) => ({
      image: options.image ?? 'registry.k8s.io/kubectl:v1.28.15',
      command: ['kubectl'],
      args: ['wait', `--for=jsonpath=${EITHER_OUTCOME}=True`, `job/${jobName}`, `--timeout=${timeout.toSeconds()}s`],
      verifyArgs: ['wait', '--for=condition=complete', `job/${jobName}`, '--timeout=0s'],
      env: { HOME: '/tmp' },
      // The distroless "nonroot" UID.
      user: options.user ?? 65532,
      // `kubectl wait` gets the Job, then lists and watches it with a `metadata.name` field
      // selector; `resourceNames` allows exactly those requests and refuses any list of other Jobs.
      jobVerbs: ['get', 'list', 'watch'],
      ledgerVerbs: [],
      resources: options.resources,
    }));
  }

  private constructor(
    private readonly configure: (jobName: string, ledgerName: string) => MigrationWaiterConfig,
    /** The Node.js image that runs the library's own program, for the ledger and rollout helpers. */
    private readonly nodeImage: string = WATCH_WAITER_IMAGE,
    private readonly nodeUser: number = WATCH_WAITER_USER,
    private readonly programConfigMap: string = PROGRAM_PER_CHART,
  ) {}

  /**
   * Describes the waiter container for the Job named `jobName`, whose migration records its
   * successes in the ConfigMap `ledgerName`.
   */
  public bind(jobName: string, ledgerName: string): MigrationWaiterConfig {
    return this.configure(jobName, ledgerName);
  }

  /**
   * The library's program in `mode` (`record` or `rollout`), run by this waiter's Node.js image.
   *
   * @internal
   */
  public _program(mode: string, env: { [name: string]: string }): MigrationWaiterConfig {
    return {
      image: this.nodeImage,
      command: PROGRAM_COMMAND,
      args: [mode],
      programConfigMap: this.programConfigMap,
      env,
      user: this.nodeUser,
      jobVerbs: [],
      ledgerVerbs: [],
    };
  }
}

// "True" once the Job has completed or failed. Of the Job condition types (Complete, Failed,
// FailureTarget, SuccessCriteriaMet, Suspended) only Complete and Failed sort before
// FailureTarget, and a Job never has both. No `=` in the filter: kubectl 1.27 and 1.28 split the
// argument at each one, and no kubectl up to 1.33 accepts two concatenated expressions.
const EITHER_OUTCOME = '{.status.conditions[?(@.type<"FailureTarget")].status}';

// The official Node.js image: multi-arch, maintained, pinned to a release. Node.js 24 is LTS until
// April 2028 and Alpine 3.22 supported until May 2027. Its `node` user is UID 1000.
const WATCH_WAITER_IMAGE = 'node:24.11.0-alpine3.22';
const WATCH_WAITER_USER = 1000;

// Each waiter's options, by name: an option a waiter does not know is refused, not ignored.
const K8S_WAIT_FOR_OPTIONS: PropTypes<K8sWaitForOptions> = { image: STRING, user: integer(1, 2147483647, 'the waiter runs as a non-root UID (the pod sets runAsNonRoot: true), which'), resources: RESOURCES };
const WATCH_OPTIONS: PropTypes<WatchWaiterOptions> = { ...K8S_WAIT_FOR_OPTIONS, programConfigMapName: STRING };
const KUBECTL_WAIT_OPTIONS: PropTypes<KubectlWaitOptions> = { ...K8S_WAIT_FOR_OPTIONS, timeout: DURATION };

// The least memory limit the program runs in, as lint judges it too (the kernel kills a container
// at its limit: the waiter never succeeds, and no gated pod starts).
const MIN_PROGRAM_MEMORY_LIMIT = Size.mebibytes(MIN_PROGRAM_MEMORY_LIMIT_MIB);

function validateProgramMemory(owner: string, resources: kplus.ContainerResources | undefined): void {
  const limit = resources?.memory?.limit;
  const kib = (size: Size) => size.toKibibytes({ rounding: SizeRoundingBehavior.NONE });
  if (limit !== undefined && kib(limit) < kib(MIN_PROGRAM_MEMORY_LIMIT)) {
    throw invalidProp(owner, 'resources.memory.limit', limit.asString(),
      `the waiter runs a Node.js program, which needs at least ${MIN_PROGRAM_MEMORY_LIMIT.asString()} (Node.js alone takes about 40 MiB): `
      + 'below that the container is OOMKilled at start, the waiter never succeeds, and no gated pod ever starts. '
      + `Set the limit to ${MIN_PROGRAM_MEMORY_LIMIT.asString()} or more (the default is 128Mi), or leave resources unset.`);
  }
}

function validateWaiterOptions(owner: string, options: MigrationWaiterOptions): void {
  if (options.image !== undefined) {
    validatePinnedImage(owner, 'image', options.image);
  }
  if (options.user !== undefined) {
    validateInteger(owner, 'user', options.user, 1, 2147483647,
      'the waiter runs as a non-root UID (the pod sets runAsNonRoot: true), which');
  }
}
