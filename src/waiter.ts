import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { validateInteger, validatePinnedImage, validatePositiveDuration } from './validation';

/**
 * Options shared by every waiter.
 */
export interface MigrationWaiterOptions {
  /**
   * The waiter's image, pinned to a tag or digest.
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
   * init containers' and the sum of the app containers'.
   *
   * @default - cpu 10m request / 200m limit, memory 32Mi request / 128Mi limit
   */
  readonly resources?: kplus.ContainerResources;
}

/**
 * Options for `MigrationWaiter.k8sWaitFor()`.
 */
export interface K8sWaitForOptions extends MigrationWaiterOptions {}

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

  /** Environment variables of the waiter container. */
  readonly env: { [name: string]: string };

  /** The UID to run as. */
  readonly user: number;

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
   * `groundnuty/k8s-wait-for` in `job-wr` mode (the pattern's own waiter).
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
   * `kubectl wait --for=condition=complete` from the official `registry.k8s.io/kubectl` image.
   *
   * It watches instead of polling, so it adds no delay. On a failed Job it waits until the
   * timeout, then exits 1; on a missing Job it exits 1 at once. Either way the kubelet restarts it.
   */
  public static kubectlWait(options: KubectlWaitOptions = {}): MigrationWaiter {
    const owner = 'MigrationWaiter.kubectlWait()';
    validateWaiterOptions(owner, options);
    const timeout = options.timeout ?? Duration.hours(1);
    validatePositiveDuration(owner, 'timeout', timeout);
    return new MigrationWaiter((jobName) => ({
      image: options.image ?? 'registry.k8s.io/kubectl:v1.28.15',
      command: ['kubectl'],
      args: ['wait', '--for=condition=complete', `job/${jobName}`, `--timeout=${timeout.toSeconds()}s`],
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

  private constructor(private readonly configure: (jobName: string, ledgerName: string) => MigrationWaiterConfig) {}

  /**
   * Describes the waiter container for the Job named `jobName`, whose migration records its
   * successes in the ConfigMap `ledgerName`.
   */
  public bind(jobName: string, ledgerName: string): MigrationWaiterConfig {
    return this.configure(jobName, ledgerName);
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
