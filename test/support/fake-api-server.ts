/**
 * A fake Kubernetes API server for testing the waiter program (src/program, bundled into waiter/migration-waiter.js): HTTPS on 127.0.0.1, with the
 * semantics the waiter relies on, as kube-apiserver implements them:
 *
 * - GET by name (200, or 404 with a Status object), PUT with optimistic concurrency (409);
 * - LIST with `fieldSelector=metadata.name=X`, whose List carries `metadata.resourceVersion`;
 * - WATCH (`watch=1`) from a resourceVersion: chunked, one JSON event per line, the events after that
 *   version first; an ERROR event with a 410 Status when the version was compacted away;
 *   `timeoutSeconds` ends the stream; BOOKMARK events when asked for;
 * - bearer tokens (401) and RBAC like the real authorizer: a LIST or WATCH whose field selector
 *   names one object is authorized as a request for that name, so a rule with `resourceNames`
 *   allows it and nothing else (403 with the real message otherwise);
 * - one etcd-like resourceVersion counter across all objects;
 * - `labelSelector` on LIST and WATCH (`k=v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`);
 * - a clock (`now`) for `creationTimestamp` (whole seconds, as the real server writes it) and for the
 *   `Date` header of every answer;
 * - graceful deletion of pods, and Jobs deleted with Background, Foreground or Orphan propagation:
 *   a bound pod gets a `deletionTimestamp` and stays while its containers run, up to its grace
 *   period; a pod no kubelet has bound (no `spec.nodeName`) goes at once.
 *
 * It counts every request by verb and resource. The TLS key under test/support is a test-only key
 * generated for this server; it protects nothing.
 */
import { readFileSync } from 'fs';
import { IncomingMessage, ServerResponse } from 'http';
import { createServer, Server } from 'https';
import { AddressInfo, Socket } from 'net';
import { join } from 'path';

/* eslint-disable @typescript-eslint/no-explicit-any */
// Kubernetes objects are plain JSON here; tests build and inspect them freely.
export type KubeObject = any;

/** A Role rule: as in rbac.authorization.k8s.io/v1, `'*'` matching anything. */
export interface RbacRule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
  readonly resourceNames?: string[];
}

export const FULL_ACCESS: RbacRule[] = [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }];

/** The authorizer's view of one request. */
export interface RequestInfo {
  readonly verb: 'get' | 'list' | 'watch' | 'update' | 'create';
  readonly group: string;
  readonly resource: string;
  readonly namespace: string;
  /** The name in the path, or the one a `metadata.name=` field selector names. */
  readonly name?: string;
  readonly token?: string;
  readonly at: number;
}

/**
 * What an interceptor tells the server to do with a request: answer with this HTTP status (and a
 * Status object), `'reset'` the connection, or `undefined` to serve it normally.
 */
export type Interception = number | 'reset' | undefined;

/** How `FakeApiServer.restart()` behaves. */
export interface RestartOptions {
  /** How long connections are refused. @default 3000 */
  readonly downMs?: number;
  /** How long, once it listens again, it answers 403 to requests its RBAC allows. @default 1000 */
  readonly forbiddenMs?: number;
}

interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

const RESOURCES: Record<string, ResourceType> = {
  jobs: { group: 'batch', version: 'v1', kind: 'Job' },
  configmaps: { group: '', version: 'v1', kind: 'ConfigMap' },
  deployments: { group: 'apps', version: 'v1', kind: 'Deployment' },
  statefulsets: { group: 'apps', version: 'v1', kind: 'StatefulSet' },
  daemonsets: { group: 'apps', version: 'v1', kind: 'DaemonSet' },
  // What `doctor` reads besides: a release's pods, their ReplicaSets, CronJobs and events.
  pods: { group: '', version: 'v1', kind: 'Pod' },
  replicasets: { group: 'apps', version: 'v1', kind: 'ReplicaSet' },
  cronjobs: { group: 'batch', version: 'v1', kind: 'CronJob' },
  events: { group: '', version: 'v1', kind: 'Event' },
  serviceaccounts: { group: '', version: 'v1', kind: 'ServiceAccount' },
};

/** One requirement of a label selector. */
interface LabelRequirement {
  readonly key: string;
  readonly op: 'in' | 'notin' | 'exists' | '!exists';
  readonly values: readonly string[];
}

interface Scope {
  readonly resource: string;
  readonly namespace: string;
  readonly name?: string;
  readonly labels?: readonly LabelRequirement[];
}

/**
 * Parses a label selector as the API server does, or returns undefined when it is not one. Commas
 * outside parentheses separate requirements.
 */
export function parseLabelSelector(text: string): LabelRequirement[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  const requirements: LabelRequirement[] = [];
  for (const part of parts.map((p) => p.trim()).filter((p) => p)) {
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part))) {
      requirements.push({ key: m[1], op: m[2] as 'in' | 'notin', values: m[3].split(',').map((v) => v.trim()) });
    } else if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(part))) {
      requirements.push({ key: m[1], op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]] });
    } else if ((m = /^(!?)([\w./-]+)$/.exec(part))) {
      requirements.push({ key: m[2], op: m[1] ? '!exists' : 'exists', values: [] });
    } else {
      return undefined;
    }
  }
  return requirements;
}

function labelsMatch(requirements: readonly LabelRequirement[] | undefined, labels: Record<string, string> | undefined): boolean {
  return (requirements ?? []).every(({ key, op, values }) => {
    const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, key);
    if (op === 'exists') return has;
    if (op === '!exists') return !has;
    if (op === 'in') return has && values.includes(labels![key]);
    return !has || !values.includes(labels![key]);
  });
}

interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly resource: string;
  readonly object: KubeObject;
}

interface Watcher {
  readonly resource: string;
  readonly namespace: string;
  readonly name?: string;
  readonly bookmarks: boolean;
  readonly res: ServerResponse;
  readonly socket: Socket;
}

const SHORT_NAMES: Record<string, string[] | undefined> = {
  pods: ['po'],
  configmaps: ['cm'],
  events: ['ev'],
  serviceaccounts: ['sa'],
  deployments: ['deploy'],
  statefulsets: ['sts'],
  daemonsets: ['ds'],
  replicasets: ['rs'],
  cronjobs: ['cj'],
};

export const FIXTURES = __dirname;
export const CA_FILE = join(__dirname, 'fake-api-ca.crt');

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value));

/** An object as a LIST carries it: the real server leaves `kind` and `apiVersion` to the List alone. */
function listItem(object: KubeObject): KubeObject {
  const { kind: _kind, apiVersion: _apiVersion, ...rest } = object;
  return rest;
}

export class FakeApiServer {
  /** Starts a server on 127.0.0.1 and a random port. */
  public static async start(): Promise<FakeApiServer> {
    const fake = new FakeApiServer();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** Every request, in order. */
  public readonly requests: RequestInfo[] = [];
  /** Bearer token -> the rules its service account is granted. Other tokens get 401. */
  public readonly tokens = new Map<string, RbacRule[]>();
  /** Consulted before each request is served, after authentication and authorization. */
  public interceptor?: (request: RequestInfo) => Interception;
  /** When set, every watch stream is cut abruptly this many milliseconds after it opens. */
  public dropWatchesAfterMs?: number;
  /** When set, a watch ends (cleanly) after at most this many seconds, whatever it asked for. */
  public maxWatchSeconds?: number;
  /**
   * User name (`system:serviceaccount:<ns>:<name>`) -> its rules, for answering SubjectAccessReviews.
   * A user not in the map is allowed nothing.
   */
  public readonly accounts = new Map<string, RbacRule[]>();
  /** `<namespace>/<pod>/<container>` -> the container's log, served by the pods/log subresource. */
  public readonly podLogs = new Map<string, string>();
  /** Namespaces that exist though they hold no object (a GET of one answers 200). */
  public readonly namespaces = new Set<string>();
  /** Allowed requests answered 403 because the server was starting up (see restart()). */
  public readonly deniedWhileStarting: RequestInfo[] = [];
  /** Phase of the last restart(), with the time it began (Date.now()). */
  public readonly restartPhases: Array<{ phase: 'down' | 'forbidding' | 'serving'; at: number }> = [];
  /**
   * When set, the server's clock stands at this time (ms): `creationTimestamp` of new objects and
   * the `Date` header of every answer. A test sets it to make creation times tie or to hold time.
   */
  public fixedTime?: number;

  private readonly server: Server;
  private readonly objects = new Map<string, KubeObject>();
  private readonly history: Array<WatchEvent & { rv: number }> = [];
  private readonly watchers = new Set<Watcher>();
  private readonly sockets = new Set<Socket>();
  private readonly watchListeners: Array<() => void> = [];
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  private revision = 100;
  private compactedRevision = 0;
  private uid = 0;
  private authorizerReady = true;
  private restartingPort?: number;

  private constructor() {
    this.server = createServer({
      key: readFileSync(join(FIXTURES, 'fake-api-server.key')),
      cert: readFileSync(join(FIXTURES, 'fake-api-server.crt')),
    }, (req, res) => this.handle(req, res));
    this.server.on('secureConnection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  public get port(): number {
    // While restart() has the port closed, it is still the server's port.
    return (this.server.address() as AddressInfo | null)?.port ?? this.restartingPort!;
  }

  /** The server's clock, in ms (see `fixedTime`). */
  public now(): number {
    return this.fixedTime ?? Date.now();
  }

  /** The current resourceVersion, as a LIST would return it. */
  public get resourceVersion(): string {
    return String(this.revision);
  }

  /** Requests so far, optionally only those of one verb and resource. */
  public count(verb?: RequestInfo['verb'], resource?: string): number {
    return this.requests.filter((r) => (!verb || r.verb === verb) && (!resource || r.resource === resource)).length;
  }

  /** Watches open right now, optionally only those of one resource. */
  public openWatches(resource?: string): number {
    return [...this.watchers].filter((w) => !resource || w.resource === resource).length;
  }

  /** Resolves once at least `n` watches of `resource` are open. */
  public async waitForWatches(n: number, resource?: string): Promise<void> {
    while (this.openWatches(resource) < n) {
      await new Promise<void>((resolve) => this.watchListeners.push(resolve));
    }
  }

  /** Creates or replaces an object (kind from `resource`), bumping its resourceVersion and generation. */
  public apply(resource: string, namespace: string, object: KubeObject): KubeObject {
    const type = RESOURCES[resource];
    const name = object.metadata.name;
    const key = this.key(resource, namespace, name);
    const previous = this.objects.get(key);
    const stored = clone(object);
    stored.apiVersion = type.group ? `${type.group}/${type.version}` : type.version;
    stored.kind = type.kind;
    stored.metadata = {
      ...stored.metadata,
      namespace,
      uid: previous?.metadata.uid ?? `uid-${++this.uid}`,
      // A test may backdate an object it creates (doctor reports ages).
      creationTimestamp: previous?.metadata.creationTimestamp ?? object.metadata.creationTimestamp ?? this.timestamp(),
      resourceVersion: String(++this.revision),
    };
    if (resource !== 'configmaps') {
      const specChanged = !previous || JSON.stringify(previous.spec) !== JSON.stringify(stored.spec);
      stored.metadata.generation = (previous?.metadata.generation ?? 0) + (specChanged ? 1 : 0);
    }
    this.objects.set(key, stored);
    this.emit({ type: previous ? 'MODIFIED' : 'ADDED', resource, object: stored });
    return clone(stored);
  }

  /** The stored object, or undefined. */
  public get(resource: string, namespace: string, name: string): KubeObject | undefined {
    const stored = this.objects.get(this.key(resource, namespace, name));
    return stored && clone(stored);
  }

  /** Deletes an object; watchers get DELETED with its last state. */
  public delete(resource: string, namespace: string, name: string): void {
    const key = this.key(resource, namespace, name);
    const stored = this.objects.get(key);
    if (!stored) return;
    this.objects.delete(key);
    const object = clone(stored);
    object.metadata.resourceVersion = String(++this.revision);
    this.emit({ type: 'DELETED', resource, object });
  }

  /**
   * Deletes a pod as the API server and a kubelet do: a pod that no kubelet has bound (no
   * `spec.nodeName`) goes at once; a bound one gets a `deletionTimestamp` and stays (MODIFIED)
   * while its containers run, until `endPod()` or its grace period (`graceSeconds`, else the pod's
   * `terminationGracePeriodSeconds`, else 30) has passed, when it goes (DELETED).
   */
  public deletePod(namespace: string, name: string, graceSeconds?: number): void {
    const pod = this.get('pods', namespace, name);
    if (!pod || pod.metadata.deletionTimestamp) return;
    if (!pod.spec?.nodeName) return this.delete('pods', namespace, name);
    const grace = graceSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    pod.metadata.deletionTimestamp = new Date(this.now() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    pod.metadata.deletionGracePeriodSeconds = grace;
    this.apply('pods', namespace, pod);
    this.graceTimers.set(this.key('pods', namespace, name), setTimeout(() => this.endPod(namespace, name), grace * 1000));
  }

  /**
   * The containers of a pod have exited, as its kubelet reports: a terminating pod goes (DELETED);
   * another one ends in `phase` (default Succeeded).
   */
  public endPod(namespace: string, name: string, phase: 'Succeeded' | 'Failed' = 'Succeeded'): void {
    const key = this.key('pods', namespace, name);
    clearTimeout(this.graceTimers.get(key));
    this.graceTimers.delete(key);
    const pod = this.get('pods', namespace, name);
    if (!pod) return;
    if (pod.metadata.deletionTimestamp) {
      this.delete('pods', namespace, name);
      this.releaseForegroundOwner(namespace, pod);
      return;
    }
    pod.status = { ...pod.status, phase };
    this.apply('pods', namespace, pod);
  }

  /**
   * Deletes a Job as `kubectl delete` or an engine's prune does, with the garbage collector's
   * propagation: Background deletes the Job at once and then its pods (gracefully); Foreground
   * gives the Job a `deletionTimestamp` and the `foregroundDeletion` finalizer, deletes its pods,
   * and deletes the Job once they are gone; Orphan deletes the Job and leaves its pods.
   */
  public deleteJob(namespace: string, name: string, propagation: 'Background' | 'Foreground' | 'Orphan' = 'Background'): void {
    const job = this.get('jobs', namespace, name);
    if (!job) return;
    const pods = this.podsOfJob(namespace, name);
    if (propagation === 'Foreground' && pods.length > 0) {
      job.metadata.deletionTimestamp = this.timestamp();
      job.metadata.finalizers = [...(job.metadata.finalizers ?? []), 'foregroundDeletion'];
      this.apply('jobs', namespace, job);
    } else {
      this.delete('jobs', namespace, name);
    }
    for (const pod of pods) {
      if (propagation === 'Orphan') {
        pod.metadata.ownerReferences = [];
        this.apply('pods', namespace, pod);
      } else {
        this.deletePod(namespace, pod.metadata.name);
      }
    }
  }

  /** The pods of a Job: by the Job controller's labels or their owner reference. */
  public podsOfJob(namespace: string, job: string): KubeObject[] {
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(`pods/${namespace}/`))
      .map(([, pod]) => pod)
      .filter((pod) => pod.metadata.labels?.['batch.kubernetes.io/job-name'] === job || pod.metadata.labels?.['job-name'] === job
        || (pod.metadata.ownerReferences ?? []).some((o: KubeObject) => o.kind === 'Job' && o.name === job))
      .map((pod) => clone(pod));
  }

  /** Sets a Job condition to True (Complete, Failed, FailureTarget, ...). */
  public setJobCondition(namespace: string, name: string, type: string, reason?: string, message?: string): void {
    const job = this.get('jobs', namespace, name);
    if (!job) throw new Error(`no Job ${namespace}/${name}`);
    const now = new Date().toISOString();
    job.status = job.status ?? {};
    job.status.conditions = [
      ...(job.status.conditions ?? []).filter((c: KubeObject) => c.type !== type),
      { type, status: 'True', reason, message, lastProbeTime: now, lastTransitionTime: now },
    ];
    if (type === 'Complete') job.status = { ...job.status, succeeded: 1, active: 0, completionTime: now };
    if (type === 'Failed') job.status = { ...job.status, failed: (job.status.failed ?? 0) + 1, active: 0 };
    this.apply('jobs', namespace, job);
  }

  /** Forgets history up to now: a watch from an older resourceVersion gets 410 Gone. */
  public compact(): void {
    this.compactedRevision = this.revision;
  }

  /** Sends a BOOKMARK with the current resourceVersion to every watch that allowed bookmarks. */
  public sendBookmarks(): void {
    for (const w of this.watchers) {
      if (!w.bookmarks) continue;
      const type = RESOURCES[w.resource];
      this.write(w, { type: 'BOOKMARK', object: { kind: type.kind, apiVersion: type.group ? `${type.group}/${type.version}` : type.version, metadata: { resourceVersion: this.resourceVersion } } });
    }
  }

  /** Cuts every open watch abruptly, as a restarting API server or a proxy would. */
  public dropWatches(): void {
    for (const w of this.watchers) w.socket.destroy();
  }

  /**
   * Restarts the server as kube-apiserver restarts (SIGTERM, then back some seconds later): every
   * connection is cut and the port refuses connections for `downMs`; then it listens again on the
   * same port but, its authorizer not caught up yet, answers 403 to requests its RBAC allows for
   * `forbiddenMs`; then it serves normally, with a new resourceVersion history: a watch or LIST
   * from any resourceVersion handed out before the restart gets 410 Gone. Resolves once it serves
   * normally again.
   */
  public async restart(options: RestartOptions = {}): Promise<void> {
    const port = this.port;
    this.restartingPort = port;
    this.restartPhases.push({ phase: 'down', at: Date.now() });
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    await new Promise((resolve) => setTimeout(resolve, options.downMs ?? 3000));
    // The watch cache is rebuilt from a newer etcd revision: older versions are gone.
    this.revision += 1000;
    this.compactedRevision = this.revision;
    this.authorizerReady = false;
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.restartPhases.push({ phase: 'forbidding', at: Date.now() });
    await new Promise((resolve) => setTimeout(resolve, options.forbiddenMs ?? 1000));
    this.authorizerReady = true;
    this.restartPhases.push({ phase: 'serving', at: Date.now() });
  }

  public async close(): Promise<void> {
    for (const timer of this.graceTimers.values()) clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Now, as the API server writes timestamps: RFC 3339 in whole seconds. */
  private timestamp(): string {
    return new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /** A Job deleted in the foreground goes once the last of its pods has. */
  private releaseForegroundOwner(namespace: string, pod: KubeObject): void {
    const job = pod.metadata.labels?.['batch.kubernetes.io/job-name'] ?? pod.metadata.labels?.['job-name'];
    const owner = job && this.get('jobs', namespace, job);
    if (owner?.metadata.deletionTimestamp && this.podsOfJob(namespace, job).length === 0) this.delete('jobs', namespace, job);
  }

  private key(resource: string, namespace: string, name: string): string {
    return `${resource}/${namespace}/${name}`;
  }

  private emit(event: WatchEvent): void {
    this.history.push({ ...event, rv: this.revision });
    for (const w of this.watchers) {
      if (this.matches(w, event)) this.write(w, { type: event.type, object: event.object });
    }
  }

  private matches(w: Scope, event: WatchEvent): boolean {
    return event.resource === w.resource && event.object.metadata.namespace === w.namespace &&
      (!w.name || event.object.metadata.name === w.name) && labelsMatch(w.labels, event.object.metadata.labels);
  }

  private write(w: Watcher, event: object): void {
    if (!w.res.writableEnded) w.res.write(JSON.stringify(event) + '\n');
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    if (this.handleKubectlRequest(req, res, url)) return;
    const match = /^\/(?:api\/v1|apis\/([a-z.]+)\/v1)\/namespaces\/([^/]+)\/([a-z]+)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!match || !RESOURCES[match[3]] || RESOURCES[match[3]].group !== (match[1] ?? '')) {
      return this.status(res, 404, 'NotFound', 'the server could not find the requested resource');
    }
    const [, group = '', namespace, resource, pathName] = match;
    const watch = url.searchParams.get('watch') === '1' || url.searchParams.get('watch') === 'true';
    const selector = url.searchParams.get('fieldSelector') ?? '';
    const selected = /^metadata\.name=([^,]+)$/.exec(selector)?.[1];
    if (selector && !selected) return this.status(res, 400, 'BadRequest', `unsupported field selector ${selector}`);
    const labels = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
    if (!labels) return this.status(res, 400, 'BadRequest', `unable to parse requirement: ${url.searchParams.get('labelSelector')}`);
    let verb: RequestInfo['verb'];
    if (req.method === 'GET') verb = pathName ? 'get' : watch ? 'watch' : 'list';
    else if (req.method === 'PUT' && pathName) verb = 'update';
    else if (req.method === 'POST' && !pathName) verb = 'create';
    else return this.status(res, 405, 'MethodNotAllowed', `${req.method} is not supported here`);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    // Like the real RequestInfoFactory: a LIST or WATCH whose field selector names one object is a
    // request for that name, which is how a rule with resourceNames can allow it.
    const info: RequestInfo = { verb, group, resource, namespace, name: pathName ?? selected, token, at: Date.now() };
    this.requests.push(info);

    const rules = token === undefined ? undefined : this.tokens.get(token);
    if (!rules) return this.status(res, 401, 'Unauthorized', 'Unauthorized');
    if (!this.authorized(rules, info)) return this.forbidden(res, info);
    if (this.deniedWhileStartingUp(info, res)) return;
    const intercepted = this.interceptor?.(info);
    if (intercepted === 'reset') {
      req.socket.destroy();
      return;
    }
    if (typeof intercepted === 'number') return this.status(res, intercepted, 'InternalError', `injected failure ${intercepted}`);

    const type = RESOURCES[resource];
    const apiVersion = type.group ? `${type.group}/${type.version}` : type.version;
    const notFound = (name: string): void => this.status(res, 404, 'NotFound', `${group ? `${resource}.${group}` : resource} "${name}" not found`, { name, group, kind: resource });
    if (verb === 'get') {
      const stored = this.objects.get(this.key(resource, namespace, pathName!));
      return stored ? this.json(res, 200, stored) : notFound(pathName!);
    }
    if (verb === 'update') {
      return this.readBody(req, (body) => {
        if (body?.metadata?.name !== pathName) return this.status(res, 400, 'BadRequest', 'the body must be the object named in the path');
        const stored = this.objects.get(this.key(resource, namespace, pathName!));
        if (!stored) return notFound(pathName!);
        const sent = body?.metadata?.resourceVersion;
        if (sent !== undefined && sent !== stored.metadata.resourceVersion) {
          return this.status(res, 409, 'Conflict',
            `Operation cannot be fulfilled on ${group ? `${resource}.${group}` : resource} "${pathName}": the object has been modified; please apply your changes to the latest version and try again`,
            { name: pathName, group, kind: resource });
        }
        return this.json(res, 200, this.apply(resource, namespace, body));
      });
    }
    if (verb === 'create') {
      return this.readBody(req, (body) => {
        const name = body?.metadata?.name;
        if (typeof name !== 'string' || !name) return this.status(res, 400, 'BadRequest', 'the body must be an object with metadata.name');
        if (this.objects.has(this.key(resource, namespace, name))) {
          return this.status(res, 409, 'AlreadyExists', `${group ? `${resource}.${group}` : resource} "${name}" already exists`, { name, group, kind: resource });
        }
        return this.json(res, 201, this.apply(resource, namespace, body));
      });
    }
    const scope: Scope = { resource, namespace, name: selected, labels };
    if (verb === 'list') {
      // Only objects of this resource: the key starts with it (objects of other kinds share namespaces).
      const items = [...this.objects.entries()]
        .filter(([key, o]) => key.startsWith(`${resource}/`) && this.matches(scope, { type: 'ADDED', resource, object: o }))
        .map(([, o]) => listItem(o));
      return this.json(res, 200, { kind: `${type.kind}List`, apiVersion, metadata: { resourceVersion: this.resourceVersion }, items });
    }
    return this.watch(req, res, scope, url.searchParams);
  }

  // --- What kubectl needs besides: discovery, pod logs, cluster-wide lists, SubjectAccessReviews ---

  /** Serves the requests outside the namespaced object routes; false when the path is not one. */
  private handleKubectlRequest(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const path = url.pathname.replace(/\/$/, '');
    if (req.method === 'GET' && (path === '/api' || path === '/apis' || path === '/version' || /^\/apis?(\/[a-z0-9.]+)?\/v1$/.test(path))) {
      const doc = this.discovery(path);
      if (!doc) this.status(res, 404, 'NotFound', 'the server could not find the requested resource');
      else this.json(res, 200, doc);
      return true;
    }
    const log = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(path);
    if (log && req.method === 'GET') {
      this.podLog(req, res, log[1], log[2], url.searchParams);
      return true;
    }
    const clusterList = /^\/(?:api\/v1|apis\/([a-z.]+)\/v1)\/([a-z]+)$/.exec(path);
    if (clusterList && req.method === 'GET' && RESOURCES[clusterList[2]] && RESOURCES[clusterList[2]].group === (clusterList[1] ?? '')) {
      this.clusterList(req, res, clusterList[2], url.searchParams);
      return true;
    }
    const namespace = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path);
    if (namespace && req.method === 'GET') {
      this.getNamespace(req, res, decodeURIComponent(namespace[1]));
      return true;
    }
    if (path === '/apis/authorization.k8s.io/v1/subjectaccessreviews' && req.method === 'POST') {
      this.subjectAccessReview(req, res);
      return true;
    }
    if (path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews' && req.method === 'POST') {
      this.selfSubjectAccessReview(req, res);
      return true;
    }
    return false;
  }

  /** Authenticates and authorizes like `handle`; answers 401/403 itself and returns false then. */
  private admit(req: IncomingMessage, res: ServerResponse, info: Omit<RequestInfo, 'token' | 'at'>): RequestInfo | undefined {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const request: RequestInfo = { ...info, token, at: Date.now() };
    this.requests.push(request);
    const rules = token === undefined ? undefined : this.tokens.get(token);
    if (!rules) {
      this.status(res, 401, 'Unauthorized', 'Unauthorized');
      return undefined;
    }
    if (!this.authorized(rules, request)) {
      const qualified = info.group ? `${info.resource}.${info.group}` : info.resource;
      const where = info.namespace ? ` in the namespace "${info.namespace}"` : ' at the cluster scope';
      this.status(res, 403, 'Forbidden',
        `${info.name ? `${qualified} "${info.name}"` : qualified} is forbidden: User "doctor" cannot ${info.verb} resource "${info.resource}" in API group "${info.group}"${where}`,
        { name: info.name, group: info.group, kind: info.resource });
      return undefined;
    }
    return request;
  }

  private discovery(path: string): object | undefined {
    const groups = [...new Set(Object.values(RESOURCES).map((t) => t.group).filter((g) => g))].concat('authorization.k8s.io');
    if (path === '/version') return { major: '1', minor: '32', gitVersion: 'v1.32.0-fake', platform: 'linux/amd64' };
    if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }] };
    if (path === '/apis') {
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: groups.map((name) => ({ name, versions: [{ groupVersion: `${name}/v1`, version: 'v1' }], preferredVersion: { groupVersion: `${name}/v1`, version: 'v1' } })),
      };
    }
    const group = path === '/api/v1' ? '' : /^\/apis\/([a-z0-9.]+)\/v1$/.exec(path)?.[1];
    if (group === undefined || (group !== '' && !groups.includes(group))) return undefined;
    const verbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
    const resources: object[] = Object.entries(RESOURCES).filter(([, t]) => t.group === group).map(([name, t]) => ({
      name, singularName: t.kind.toLowerCase(), namespaced: true, kind: t.kind, verbs, shortNames: SHORT_NAMES[name],
    }));
    if (group === '') resources.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
    if (group === 'authorization.k8s.io') {
      resources.push({ name: 'subjectaccessreviews', singularName: 'subjectaccessreview', namespaced: false, kind: 'SubjectAccessReview', verbs: ['create'] });
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/v1` : 'v1', resources };
  }

  /** The pods/log subresource: the stored log, or 400 as the kubelet answers for a container that has not started. */
  private podLog(req: IncomingMessage, res: ServerResponse, namespace: string, pod: string, params: URLSearchParams): void {
    if (!this.admit(req, res, { verb: 'get', group: '', resource: 'pods/log', namespace, name: pod })) return;
    const stored = this.objects.get(this.key('pods', namespace, pod));
    if (!stored) return this.status(res, 404, 'NotFound', `pods "${pod}" not found`, { name: pod, kind: 'pods' });
    const container = params.get('container') ?? stored.spec?.containers?.[0]?.name;
    const text = this.podLogs.get(`${namespace}/${pod}/${container}`);
    if (text === undefined) {
      const statuses = [...(stored.status?.initContainerStatuses ?? []), ...(stored.status?.containerStatuses ?? [])];
      const status = statuses.find((s: KubeObject) => s.name === container);
      const reason = status?.state?.waiting?.reason ?? 'PodInitializing';
      return this.status(res, 400, 'BadRequest', `container "${container}" in pod "${pod}" is waiting to start: ${reason}`);
    }
    const tail = Number(params.get('tailLines') ?? '-1');
    const lines = text.split('\n').filter((l) => l);
    const shown = tail >= 0 ? lines.slice(Math.max(lines.length - tail, 0)) : lines;
    if (res.headersSent) return;
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(shown.map((l) => `${l}\n`).join(''));
  }

  /** LIST across namespaces (`kubectl get -A`), with an optional `metadata.name=` field selector. */
  private clusterList(req: IncomingMessage, res: ServerResponse, resource: string, params: URLSearchParams): void {
    const type = RESOURCES[resource];
    const name = /^metadata\.name=([^,]+)$/.exec(params.get('fieldSelector') ?? '')?.[1];
    if (!this.admit(req, res, { verb: 'list', group: type.group, resource, namespace: '', name })) return;
    const items = [...this.objects.entries()]
      .filter(([key, o]) => key.startsWith(`${resource}/`) && (!name || o.metadata.name === name))
      .map(([, o]) => listItem(o));
    this.json(res, 200, { kind: `${type.kind}List`, apiVersion: type.group ? `${type.group}/${type.version}` : type.version, metadata: { resourceVersion: this.resourceVersion }, items });
  }

  /** GET of a Namespace: one of `namespaces`, or one that holds an object; else 404, as the real server answers. */
  private getNamespace(req: IncomingMessage, res: ServerResponse, name: string): void {
    if (!this.admit(req, res, { verb: 'get', group: '', resource: 'namespaces', namespace: '', name })) return;
    if (!this.namespaces.has(name) && ![...this.objects.values()].some((o) => o.metadata?.namespace === name)) {
      return this.status(res, 404, 'NotFound', `namespaces "${name}" not found`, { name, group: '', kind: 'namespaces' });
    }
    this.json(res, 200, { kind: 'Namespace', apiVersion: 'v1', metadata: { name }, status: { phase: 'Active' } });
  }

  /** Evaluates a SubjectAccessReview against `accounts`, as the API server does; nothing is stored. */
  private subjectAccessReview(req: IncomingMessage, res: ServerResponse): void {
    if (!this.admit(req, res, { verb: 'create', group: 'authorization.k8s.io', resource: 'subjectaccessreviews', namespace: '' })) return;
    this.readBody(req, (body) => {
      const attributes = body?.spec?.resourceAttributes;
      if (!body?.spec?.user || !attributes) return this.status(res, 400, 'BadRequest', 'spec.user and spec.resourceAttributes are required here');
      const rules = this.accounts.get(body.spec.user) ?? [];
      const resource = attributes.subresource ? `${attributes.resource}/${attributes.subresource}` : attributes.resource;
      const allowed = this.authorized(rules, { verb: attributes.verb, group: attributes.group ?? '', resource, namespace: attributes.namespace ?? '', name: attributes.name, at: 0 });
      this.json(res, 201, { ...body, metadata: { creationTimestamp: null }, status: allowed ? { allowed: true, reason: 'allowed by the fake\'s RBAC' } : { allowed: false } });
    });
  }

  private watch(req: IncomingMessage, res: ServerResponse, scope: Scope, params: URLSearchParams): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Date': new Date(this.now()).toUTCString() });
    // The real server sends the headers at once; clients such as kubectl wait for them.
    res.flushHeaders();
    const socket = req.socket;
    const watcher: Watcher = { ...scope, bookmarks: params.get('allowWatchBookmarks') === 'true', res, socket };
    const from = Number(params.get('resourceVersion') ?? '0');
    if (from > 0 && from < this.compactedRevision) {
      // As the watch cache does: the stream opens, then carries one ERROR event with a 410 Status.
      this.write(watcher, {
        type: 'ERROR',
        object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${from} (${this.compactedRevision})`, reason: 'Expired', code: 410 },
      });
      res.end();
      return;
    }
    if (from > 0) {
      for (const event of this.history) {
        if (event.rv > from && this.matches(scope, event)) this.write(watcher, { type: event.type, object: event.object });
      }
    } else {
      // resourceVersion 0 or none: "any" state, sent as synthetic ADDED events first.
      for (const [key, o] of this.objects.entries()) {
        if (key.startsWith(`${scope.resource}/`) && this.matches(scope, { type: 'ADDED', resource: scope.resource, object: o })) this.write(watcher, { type: 'ADDED', object: o });
      }
    }
    this.watchers.add(watcher);
    const timers: NodeJS.Timeout[] = [];
    const asked = Number(params.get('timeoutSeconds') ?? '1800');
    const seconds = this.maxWatchSeconds === undefined ? asked : Math.min(asked, this.maxWatchSeconds);
    timers.push(setTimeout(() => res.end(), seconds * 1000));
    if (this.dropWatchesAfterMs !== undefined) timers.push(setTimeout(() => socket.destroy(), this.dropWatchesAfterMs));
    const closed = (): void => {
      this.watchers.delete(watcher);
      timers.forEach(clearTimeout);
    };
    res.on('close', closed);
    res.on('finish', closed);
    for (const listener of this.watchListeners.splice(0)) listener();
  }

  /**
   * `kubectl auth can-i`: a SelfSubjectAccessReview, evaluated for the user that `--as` impersonates
   * (the `Impersonate-User` header, looked up in `accounts`), else for the caller's own token.
   * kubectl sends it as protobuf; the answer is JSON, which client-go decodes by its Content-Type.
   */
  private selfSubjectAccessReview(req: IncomingMessage, res: ServerResponse): void {
    if (!this.admit(req, res, { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews', namespace: '' })) return;
    const impersonated = req.headers['impersonate-user'];
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const rules = typeof impersonated === 'string' ? this.accounts.get(impersonated) ?? [] : this.tokens.get(token ?? '') ?? [];
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let a: KubeObject;
      if (/protobuf/.test(req.headers['content-type'] ?? '')) {
        // The k8s envelope ("k8s\0", runtime.Unknown: raw = field 2) holding spec (2) > resourceAttributes (1).
        const attributes = protoField(protoField(protoField(raw.subarray(4), 2), 2), 1);
        const names = ['', 'namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name'];
        a = Object.fromEntries(names.map((n, i) => [n, protoField(attributes, i)?.toString('utf8')]).filter(([n, v]) => n && v !== undefined));
      } else {
        a = JSON.parse(raw.toString('utf8') || '{}')?.spec?.resourceAttributes;
      }
      if (!a?.verb) return this.status(res, 400, 'BadRequest', 'spec.resourceAttributes is required here');
      const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
      const allowed = this.authorized(rules, { verb: a.verb, group: a.group ?? '', resource, namespace: a.namespace ?? '', name: a.name, at: 0 });
      this.json(res, 201, { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec: { resourceAttributes: a }, status: { allowed } });
    });
  }

  /** Right after restart(): 403 to a request the rules allow, with the message RBAC would give. */
  private deniedWhileStartingUp(info: RequestInfo, res: ServerResponse): boolean {
    if (this.authorizerReady) return false;
    this.deniedWhileStarting.push(info);
    this.forbidden(res, info);
    return true;
  }

  private forbidden(res: ServerResponse, info: RequestInfo): void {
    const { group, resource, namespace, verb } = info;
    const qualified = group ? `${resource}.${group}` : resource;
    const subject = info.name ? `${qualified} "${info.name}"` : qualified;
    this.status(res, 403, 'Forbidden',
      `${subject} is forbidden: User "system:serviceaccount:${namespace}:waiter" cannot ${verb} resource "${resource}" in API group "${group}" in the namespace "${namespace}"`,
      { name: info.name, group, kind: resource });
  }

  private authorized(rules: RbacRule[], info: RequestInfo): boolean {
    const any = (list: string[] | undefined, value: string): boolean => !!list && (list.includes('*') || list.includes(value));
    return rules.some((rule) => any(rule.apiGroups, info.group) && any(rule.resources, info.resource) && any(rule.verbs, info.verb) &&
      (!rule.resourceNames || rule.resourceNames.length === 0 || (info.name !== undefined && rule.resourceNames.includes(info.name))));
  }

  private readBody(req: IncomingMessage, then: (body: KubeObject) => void): void {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      let body: KubeObject;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      then(body);
    });
  }

  private json(res: ServerResponse, code: number, body: object): void {
    if (res.headersSent) return;
    res.writeHead(code, { 'Content-Type': 'application/json', 'Date': new Date(this.now()).toUTCString() });
    res.end(JSON.stringify(body));
  }

  private status(res: ServerResponse, code: number, reason: string, message: string, details?: object): void {
    this.json(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code });
  }
}

/**
 * The environment a waiter process needs to reach the fake server as the pod's own client would:
 * the in-cluster address variables, and files in place of the mounted token, CA and namespace.
 */
export function waiterClientEnv(port: number, tokenFile: string, namespace: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    KUBERNETES_SERVICE_HOST: '127.0.0.1',
    KUBERNETES_SERVICE_PORT: String(port),
    WAITER_TOKEN_FILE: tokenFile,
    WAITER_CA_FILE: CA_FILE,
    WAITER_NAMESPACE: namespace,
  };
}

/** The first length-delimited field `n` of a protobuf message: enough to read what kubectl auth can-i sends. */
function protoField(message: Buffer | undefined, n: number): Buffer | undefined {
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = message![at++];
      value += (byte % 0x80) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (message !== undefined && at < message.length) {
    const key = varint();
    const type = key % 8;
    const length = type === 0 ? (varint(), 0) : type === 1 ? 8 : type === 5 ? 4 : varint();
    if (type === 2 && Math.floor(key / 8) === n) return message.subarray(at, at + length);
    at += length;
  }
  return undefined;
}
