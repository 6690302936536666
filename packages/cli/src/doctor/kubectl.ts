import { execFile } from 'child_process';
import { existsSync } from 'fs';
import { homedir } from 'os';
import { delimiter, join } from 'path';

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
export type FailureKind = 'no-kubectl' | 'no-kubeconfig' | 'unreachable' | 'unauthorized' | 'forbidden' | 'not-found' | 'config' | 'other';

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

/** Each resource doctor lists: its API path and the kind of its objects. */
const RESOURCES: { readonly [resource: string]: { readonly path: string; readonly apiVersion: string; readonly kind: string } } = {
  pods: { path: '/api/v1', apiVersion: 'v1', kind: 'Pod' },
  configmaps: { path: '/api/v1', apiVersion: 'v1', kind: 'ConfigMap' },
  events: { path: '/api/v1', apiVersion: 'v1', kind: 'Event' },
  serviceaccounts: { path: '/api/v1', apiVersion: 'v1', kind: 'ServiceAccount' },
  jobs: { path: '/apis/batch/v1', apiVersion: 'batch/v1', kind: 'Job' },
  cronjobs: { path: '/apis/batch/v1', apiVersion: 'batch/v1', kind: 'CronJob' },
  deployments: { path: '/apis/apps/v1', apiVersion: 'apps/v1', kind: 'Deployment' },
  statefulsets: { path: '/apis/apps/v1', apiVersion: 'apps/v1', kind: 'StatefulSet' },
  daemonsets: { path: '/apis/apps/v1', apiVersion: 'apps/v1', kind: 'DaemonSet' },
  replicasets: { path: '/apis/apps/v1', apiVersion: 'apps/v1', kind: 'ReplicaSet' },
};

function resourceOf(resource: string): { readonly path: string; readonly apiVersion: string; readonly kind: string } {
  const type = RESOURCES[resource];
  if (type === undefined) {
    throw new Error(`no API path known for ${resource}`);
  }
  return type;
}

/**
 * The items of a LIST answer, each with its `kind` and `apiVersion`. A real API server leaves them
 * out of the items (only the List carries them: `"kind": "JobList"`), and everything downstream
 * (lint's model finds a pod spec by kind) needs them: they are put back here, once, from the List,
 * else from the resource that was listed.
 */
export function listItems(text: string, resource: string): any[] {
  const list = JSON.parse(text);
  const type = resourceOf(resource);
  const kind = typeof list?.kind === 'string' && list.kind.endsWith('List') && list.kind !== 'List' ? list.kind.slice(0, -'List'.length) : type.kind;
  const apiVersion = typeof list?.apiVersion === 'string' && list.apiVersion !== '' ? list.apiVersion : type.apiVersion;
  const items: any[] = Array.isArray(list?.items) ? list.items : [];
  return items.map((item) => ({ ...item, kind: item?.kind ?? kind, apiVersion: item?.apiVersion ?? apiVersion }));
}

/**
 * Why kubectl would not read the kubeconfig the user meant, or undefined. kubectl's own answers do
 * not name the file: a `--kubeconfig` that does not exist makes `config view --minify` say
 * "current-context must exist in order to minify", and a KUBECONFIG whose files do not exist is
 * skipped without a word, so kubectl talks to localhost:8080 ("connection ... refused").
 */
export function missingKubeconfig(options: KubectlOptions): string | undefined {
  const env = options.env ?? process.env;
  if (options.kubeconfig !== undefined) {
    return existsSync(options.kubeconfig) ? undefined
      : `the kubeconfig file ${options.kubeconfig} does not exist. Give the path of an existing kubeconfig with --kubeconfig, or leave it out to use KUBECONFIG or ~/.kube/config`;
  }
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '');
  if (listed.length > 0) {
    return listed.some((f) => existsSync(f)) ? undefined
      : `KUBECONFIG names ${listed.join(', ')}, which ${listed.length === 1 ? 'does' : 'do'} not exist, so kubectl would fall back to localhost:8080. Set KUBECONFIG to your kubeconfig file, or give --kubeconfig`;
  }
  // In a pod, kubectl uses the pod's service account instead.
  const defaultFile = join(env.HOME ?? homedir(), '.kube', 'config');
  return existsSync(defaultFile) || env.KUBERNETES_SERVICE_HOST ? undefined
    : `no kubeconfig: KUBECONFIG is not set and ${defaultFile} does not exist, so kubectl would fall back to localhost:8080. Set KUBECONFIG to your kubeconfig file, or give --kubeconfig`;
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
    const out = await this.run(['get', '--raw', `${resourceOf(resource).path}/namespaces/${encodeURIComponent(namespace)}/${resource}`]);
    return listItems(out, resource);
  }

  /** The objects of that name in every namespace the user may list. */
  public async listNamedEverywhere(resource: string, name: string): Promise<any[]> {
    const out = await this.run(['get', '--raw', `${resourceOf(resource).path}/${resource}?fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`]);
    return listItems(out, resource);
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
    const noKubeconfig = missingKubeconfig(this.options);
    if (noKubeconfig !== undefined) {
      return Promise.reject(new KubectlError(noKubeconfig, 'no-kubeconfig', command));
    }
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
