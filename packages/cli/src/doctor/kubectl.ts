import { execFile } from 'child_process';

/*
 * The transport: the user's own kubectl. It reads their kubeconfig, current context and credential
 * plugins (EKS, GKE, OIDC) exactly as their other kubectl commands do, and adds no runtime
 * dependency to the package. Every call is a read (`get`, `logs`, `config view`), except the
 * SubjectAccessReviews, which the API server evaluates and does not store.
 */

/** How to reach the cluster: the flags the user gave, passed on to every kubectl call. */
export interface KubectlOptions {
  /** The kubectl program. */
  readonly binary: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  /** The environment of the kubectl processes (KUBECONFIG, HOME, PATH, credential plugins' variables). */
  readonly env?: NodeJS.ProcessEnv;
  /** kubectl's `--request-timeout`, so that an unreachable cluster fails instead of hanging. */
  readonly requestTimeout?: string;
}

/** What went wrong with a kubectl call, in the terms doctor reports. */
export type FailureKind = 'no-kubectl' | 'unreachable' | 'unauthorized' | 'forbidden' | 'not-found' | 'config' | 'other';

export class KubectlError extends Error {
  constructor(message: string, public readonly kind: FailureKind, public readonly command: string) {
    super(message);
  }
}

/** The first meaningful line of kubectl's error output, without klog prefixes. */
function firstError(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.replace(/^E\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] /, '').trim()).filter((l) => l);
  const error = lines.find((l) => /^error:|^Error from server|^The connection|^Unable to connect/.test(l)) ?? lines[lines.length - 1] ?? '';
  return error.replace(/^error: /, '');
}

function classify(stderr: string): FailureKind {
  if (/Unable to connect to the server|connection to the server .* was refused|connection refused|no such host|i\/o timeout|TLS handshake timeout|context deadline exceeded|dial tcp/i.test(stderr)) {
    return 'unreachable';
  }
  if (/Unauthorized|You must be logged in|provide credentials|getting credentials/i.test(stderr)) {
    return 'unauthorized';
  }
  if (/forbidden/i.test(stderr)) {
    return 'forbidden';
  }
  if (/current-context|cannot locate context|context .*(does not exist|not found)|kubeconfig|no configuration|invalid configuration/i.test(stderr)) {
    return 'config';
  }
  return /\(NotFound\)|not found/i.test(stderr) ? 'not-found' : 'other';
}

/** Parses kubectl's `-o json` output of several objects: one pretty-printed document after another. */
export function parseJsonDocuments(text: string): any[] {
  const trimmed = text.trim();
  if (trimmed === '') {
    return [];
  }
  return JSON.parse(`[${trimmed.replace(/\n\}\n\{/g, '\n},\n{')}]`);
}

const API_PATHS: { readonly [resource: string]: string } = {
  pods: '/api/v1',
  configmaps: '/api/v1',
  events: '/api/v1',
  serviceaccounts: '/api/v1',
  jobs: '/apis/batch/v1',
  cronjobs: '/apis/batch/v1',
  deployments: '/apis/apps/v1',
  statefulsets: '/apis/apps/v1',
  daemonsets: '/apis/apps/v1',
  replicasets: '/apis/apps/v1',
};

function apiPath(resource: string): string {
  const path = API_PATHS[resource];
  if (path === undefined) {
    throw new Error(`no API path known for ${resource}`);
  }
  return path;
}

export class Kubectl {
  /** Every kubectl invocation, for the benchmark and the tests: its arguments after the global flags. */
  public readonly calls: string[][] = [];

  constructor(private readonly options: KubectlOptions) {}

  /** The namespace to diagnose: the given one, else the current context's, else `default`. */
  public async contextNamespace(): Promise<string> {
    const out = await this.run(['config', 'view', '--minify', '-o', 'jsonpath={.contexts[0].context.namespace}']);
    return out.trim() || 'default';
  }

  /**
   * One LIST call: `kubectl get --raw <path>`, the API server's own JSON as it comes. `kubectl get
   * <resource> -o json` decodes and re-encodes every object: with the waiter's script in each pod
   * spec, that took 2 s for 550 pods where --raw takes 0.25 s (bench/RESULTS.md).
   */
  public async list(resource: string, namespace: string): Promise<any[]> {
    const out = await this.run(['get', '--raw', `${apiPath(resource)}/namespaces/${encodeURIComponent(namespace)}/${resource}`]);
    return JSON.parse(out).items ?? [];
  }

  /** The objects of that name in every namespace the user may list. */
  public async listNamedEverywhere(resource: string, name: string): Promise<any[]> {
    const out = await this.run(['get', '--raw', `${apiPath(resource)}/${resource}?fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`]);
    return JSON.parse(out).items ?? [];
  }

  /**
   * Whether the cluster has that namespace: false on a 404. LISTs in a namespace that does not exist
   * answer an empty list, which looks like a namespace without migrations.
   */
  public async namespaceExists(namespace: string): Promise<boolean> {
    try {
      await this.run(['get', '--raw', `/api/v1/namespaces/${encodeURIComponent(namespace)}`]);
      return true;
    } catch (e) {
      if (e instanceof KubectlError && e.kind === 'not-found') {
        return false;
      }
      throw e;
    }
  }

  /** The last lines of a container's log. */
  public async logs(namespace: string, pod: string, container: string, tail: number): Promise<string> {
    return this.run(['logs', pod, '-n', namespace, '-c', container, `--tail=${tail}`]);
  }

  /** Asks the API server to evaluate SubjectAccessReviews; it answers them without storing any. */
  public async review(reviews: readonly any[]): Promise<any[]> {
    if (reviews.length === 0) {
      return [];
    }
    const out = await this.run(['create', '--validate=false', '-f', '-', '-o', 'json'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: reviews }));
    return parseJsonDocuments(out);
  }

  private run(args: string[], input?: string): Promise<string> {
    const global = [
      ...(this.options.kubeconfig !== undefined ? ['--kubeconfig', this.options.kubeconfig] : []),
      ...(this.options.context !== undefined ? ['--context', this.options.context] : []),
      ...(args[0] !== 'config' ? [`--request-timeout=${this.options.requestTimeout ?? '30s'}`] : []),
    ];
    this.calls.push(args);
    const command = `kubectl ${args.join(' ')}`;
    return new Promise((resolve, reject) => {
      const child = execFile(this.options.binary, [...global, ...args], { env: this.options.env ?? process.env, maxBuffer: 1024 * 1024 * 1024, encoding: 'utf8' },
        (error, stdout, stderr) => {
          if (!error) {
            return resolve(stdout);
          }
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
            return reject(new KubectlError(`cannot run ${this.options.binary}: not found. Install kubectl, or name it with --kubectl`, 'no-kubectl', command));
          }
          reject(new KubectlError(firstError(stderr) || error.message, classify(stderr), command));
        });
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input ?? '');
    });
  }
}
