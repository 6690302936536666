/**
 * Runs a command line the library emits for a kubectl container with a real kubectl binary against
 * the fake API server, as the container would run it in a pod: the same arguments, the container's
 * environment, and the pod's service-account identity (its bearer token and namespace), given to
 * kubectl through a kubeconfig since in-cluster configuration reads fixed paths.
 *
 * The real builds are the Google Cloud CLI's `kubectl.1.NN` (1.27 to 1.33), in the folder that
 * `readlink -f "$(which kubectl)"` names.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { CA_FILE, FakeApiServer, RbacRule } from './fake-api-server';

/** The folder holding `kubectl.1.NN`, or undefined when the machine has none. */
export const KUBECTL_DIR: string | undefined = (() => {
  const which = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim();
  const candidates = [which && dirname(realpathSync(which)), '/usr/lib/google-cloud-sdk/bin'].filter((d): d is string => !!d);
  return candidates.find((d) => existsSync(join(d, 'kubectl.1.33')));
})();

/** The real kubectl of minor version `minor` (e.g. '1.28'). Throws when it is not installed. */
export function kubectlBinary(minor: string): string {
  const path = KUBECTL_DIR && join(KUBECTL_DIR, `kubectl.${minor}`);
  if (!path || !existsSync(path)) throw new Error(`no real kubectl ${minor}: expected kubectl.${minor} next to $(readlink -f $(which kubectl))`);
  return path;
}

/** The minor version of kubectl an image such as `registry.k8s.io/kubectl:v1.28.15` ships. */
export function kubectlMinorOfImage(image: string): string {
  const match = /:v(\d+\.\d+)\.\d+$/.exec(image);
  if (!match) throw new Error(`cannot tell the kubectl version of image ${image}`);
  return match[1];
}

/**
 * Writes a kubeconfig for the fake API server on `port` under `dir`, as the pod's service account
 * (bearer `token`, default namespace `namespace`), and returns its path.
 */
export function fakeServerKubeconfig(dir: string, port: number, token: string, namespace: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, JSON.stringify({
    'apiVersion': 'v1',
    'kind': 'Config',
    'clusters': [{ name: 'fake', cluster: { 'server': `https://127.0.0.1:${port}`, 'certificate-authority': CA_FILE } }],
    'users': [{ name: 'pod', user: { token } }],
    'contexts': [{ name: 'pod', context: { cluster: 'fake', user: 'pod', namespace } }],
    'current-context': 'pod',
  }));
  return path;
}

/** A process started by runContainer(). */
export class KubectlRun {
  public stdout = '';
  public stderr = '';
  public readonly exited: Promise<number | null>;

  constructor(public readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  }

  public get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
}

/** What a container runs: the manifest's command and args, and its env as name/value pairs. */
export interface ContainerCommand {
  readonly command?: string[];
  readonly args?: string[];
  readonly env?: Array<{ name: string; value?: string }>;
}

/**
 * Starts a container's command line with the real kubectl `minor`: `kubectl` as the command (or as
 * the program a script calls, through PATH) is that binary. `home` stands in for the container's
 * HOME (kubectl's cache).
 */
export interface RunOptions {
  readonly minor: string;
  readonly kubeconfig: string;
  readonly home: string;
  /** When set, PATH is this folder only (which must hold `kubectl`), instead of the host's PATH. */
  readonly onlyPath?: string;
}

export function runContainer(container: ContainerCommand, options: RunOptions): KubectlRun {
  const bin = join(options.home, 'bin');
  mkdirSync(bin, { recursive: true });
  // `kubectl` on PATH is the chosen version, for scripts that call it by name.
  spawnSync('ln', ['-sf', kubectlBinary(options.minor), join(bin, 'kubectl')]);
  const [program, ...rest] = [...(container.command ?? []), ...(container.args ?? [])];
  const env: Record<string, string> = {};
  for (const { name, value } of container.env ?? []) env[name] = value ?? '';
  const child = spawn(program === 'kubectl' ? join(bin, 'kubectl') : program, rest, {
    env: { ...env, HOME: options.home, KUBECONFIG: options.kubeconfig, PATH: options.onlyPath ?? `${bin}:${process.env.PATH}` },
  });
  return new KubectlRun(child);
}

/** Who the containers of a test file run as, and where their scratch folders go. */
export interface FakeClusterOptions {
  /** The pod's service-account token; the fake API server grants it `rules`. */
  readonly token: string;
  readonly rules: RbacRule[];
  /** The pod's namespace (kubectl's default namespace). */
  readonly namespace: string;
  /** Prefix of each test's scratch folder under the system's temporary folder. */
  readonly scratchPrefix: string;
}

/**
 * A fresh fake API server and scratch folder for each test of the file that calls useFakeCluster(),
 * and the containers started in it; after each test, what still runs is killed, then both are removed.
 */
export class FakeCluster {
  public server!: FakeApiServer;
  public dir!: string;
  /** The containers started in the current test, oldest first. */
  public runs: KubectlRun[] = [];

  constructor(private readonly options: FakeClusterOptions) {}

  /** The HOME the next container started gets. */
  public nextHome(): string {
    return join(this.dir, `home-${this.runs.length}`);
  }

  /** Starts one container with real kubectl `minor`, as the pod's service account. */
  public run(container: ContainerCommand, options: { minor: string; home?: string; onlyPath?: string }): KubectlRun {
    const home = options.home ?? this.nextHome();
    const kubeconfig = fakeServerKubeconfig(home, this.server.port, this.options.token, this.options.namespace);
    const started = runContainer(container, { minor: options.minor, home, kubeconfig, onlyPath: options.onlyPath });
    this.runs.push(started);
    return started;
  }

  /** @internal */
  public async _start(): Promise<void> {
    this.server = await FakeApiServer.start();
    this.server.tokens.set(this.options.token, this.options.rules);
    this.dir = mkdtempSync(join(tmpdir(), this.options.scratchPrefix));
  }

  /** @internal */
  public async _stop(): Promise<void> {
    for (const started of this.runs) started.child.kill('SIGKILL');
    await Promise.all(this.runs.map((r) => r.exited));
    this.runs = [];
    await this.server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Registers beforeEach/afterEach for a FakeCluster in the calling test file, and returns it. */
export function useFakeCluster(options: FakeClusterOptions): FakeCluster {
  const cluster = new FakeCluster(options);
  beforeEach(() => cluster._start());
  afterEach(() => cluster._stop());
  return cluster;
}
