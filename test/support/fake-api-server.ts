/**
 * A fake Kubernetes API server for testing the waiter program (src/program, bundled into
 * waiter/migration-waiter.js) and doctor: HTTPS on 127.0.0.1, answering as kube-apiserver 1.32 and
 * its controller manager do. test/fake-api-server.recordings.test.ts holds it to recordings of the
 * real ones (test/fixtures/k8s-api); what it does on purpose otherwise is listed there.
 *
 * - GET by name (200, or 404 with a Status object), PUT with optimistic concurrency (409), POST
 *   (201, 409 AlreadyExists), DELETE of pods and Jobs;
 * - LIST, whose List alone carries `kind`/`apiVersion` (its items do not) and `metadata.resourceVersion`;
 *   field selectors as the real server parses them (`metadata.name=X`, `==`, `!=`, several terms, the
 *   fields each kind supports, 400 otherwise), label selectors (`k=v`, `k!=v`, `k in (a,b)`,
 *   `k notin (a,b)`, `k`, `!k`);
 * - WATCH (`watch=1`) from a resourceVersion: chunked, one JSON event per line, the events after that
 *   version first; from none or `0` a synthetic ADDED per object, then (with allowWatchBookmarks) a
 *   BOOKMARK annotated `k8s.io/initial-events-end`; an ERROR event with a 410 Status when the version
 *   was compacted away; an object leaving a label selector as DELETED (its previous state), coming
 *   back as ADDED; `timeoutSeconds` ends the stream, a BOOKMARK about a second before it and every
 *   60 s when asked for;
 * - bearer tokens (401 for an unknown one, 403 as `system:anonymous` with none) and RBAC like the
 *   real authorizer: a LIST or WATCH whose field selector names one object is authorized as a
 *   request for that name, so a rule with `resourceNames` allows it and nothing else (403 with the
 *   real message, naming the caller, otherwise);
 * - one etcd-like resourceVersion counter across all objects;
 * - a clock (`now`) for timestamps (whole seconds, as the real server writes them) and for the
 *   `Date` header of every answer;
 * - the Job controller's steps, in the real order (succeedJobPod, failJobPod, exceedJobDeadline):
 *   SuccessCriteriaMet then Complete, FailureTarget then Failed, the job-tracking finalizer removed
 *   from each pod it counted; a Job's deleted pod counted as a failure;
 * - deletion: every pod deletion a MODIFIED (`deletionTimestamp`) before its DELETED; a pod no
 *   kubelet has bound (no `spec.nodeName`) gets grace 0 and goes once no finalizer holds it; a
 *   bound pod stays while its containers run, up to its grace period; Jobs deleted with Background,
 *   Foreground or Orphan propagation, Orphan being what a DELETE without a policy gets.
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
  readonly verb: 'get' | 'list' | 'watch' | 'update' | 'create' | 'delete';
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

/** One term of a field selector: `field=value`, `field==value` or `field!=value`. */
interface FieldTerm {
  readonly field: string;
  readonly equal: boolean;
  readonly value: string;
}

interface Scope {
  readonly resource: string;
  /** Empty for a cluster-wide LIST or WATCH. */
  readonly namespace: string;
  readonly fields?: readonly FieldTerm[];
  readonly labels?: readonly LabelRequirement[];
}

/** The fields each kind may be selected by, besides metadata.name and metadata.namespace. */
const SELECTABLE_FIELDS: Record<string, string[]> = {
  jobs: ['status.successful'],
  pods: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  events: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion',
    'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
};

/**
 * Parses a field selector as the API server does: terms separated by commas, each `f=v`, `f==v`
 * or `f!=v` on a field the kind supports. Answers the terms, or the 400 message.
 */
export function parseFieldSelector(resource: string, text: string): FieldTerm[] | string {
  const terms: FieldTerm[] = [];
  for (const part of text.split(',').filter((p) => p)) {
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(part);
    if (!m) return `invalid selector: '${text}'; can't understand '${part}'`;
    const field = m[1];
    if (!['metadata.name', 'metadata.namespace', ...(SELECTABLE_FIELDS[resource] ?? [])].includes(field)) {
      return `field label "${field}" not supported for ${RESOURCES[resource].kind}`;
    }
    terms.push({ field, equal: m[2] !== '!=', value: m[3] });
  }
  return terms;
}

/** The name a field selector pins, which the authorizer takes as the request's name. */
function selectedName(terms: readonly FieldTerm[] | undefined): string | undefined {
  return terms?.find((t) => t.field === 'metadata.name' && t.equal)?.value;
}

function fieldValue(object: KubeObject, field: string): string {
  // A Job's status.successful is its status.succeeded, 0 when the field is left out.
  if (field === 'status.successful') return String(object.status?.succeeded ?? 0);
  const value = field.split('.').reduce((o: KubeObject, k) => o?.[k], object);
  return value === undefined || value === null ? '' : String(value);
}

function fieldsMatch(terms: readonly FieldTerm[] | undefined, object: KubeObject): boolean {
  return (terms ?? []).every((t) => (fieldValue(object, t.field) === t.value) === t.equal);
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
  /** The object before this change, for a watch whose selector it leaves or enters. */
  readonly previous?: KubeObject;
}

interface Watcher extends Scope {
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

const JOB_TRACKING = 'batch.kubernetes.io/job-tracking';

/** Kinds whose objects carry `metadata.generation` (pods, ConfigMaps and Events do not). */
const WITH_GENERATION = new Set(['jobs', 'deployments', 'statefulsets', 'daemonsets', 'replicasets', 'cronjobs']);

function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** `details` of a Status: the real server leaves out an empty group and a missing name. */
function statusDetails(name: string | undefined, group: string, kind: string): object {
  return { ...(name !== undefined ? { name } : {}), ...(group ? { group } : {}), kind };
}

function isTrue(object: KubeObject, type: string): boolean {
  return (object?.status?.conditions ?? []).some((c: KubeObject) => c.type === type && c.status === 'True');
}

/**
 * What a BOOKMARK carries: an empty object of the resource with only its resourceVersion (and
 * `creationTimestamp: null`, as Go marshals an empty time), with the spec and status skeleton.
 */
function bookmarkObject(resource: string, resourceVersion: string, initialEventsEnd: boolean): KubeObject {
  const type = RESOURCES[resource];
  const metadata: KubeObject = { resourceVersion, creationTimestamp: null };
  if (initialEventsEnd) {
    const blueprint = `${JSON.stringify({ kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: {}, items: null })}\n`;
    metadata.annotations = { 'k8s.io/initial-events-end': 'true', 'kubernetes.io/initial-events-list-blueprint': Buffer.from(blueprint).toString('base64') };
  }
  const object: KubeObject = { kind: type.kind, apiVersion: apiVersionOf(type), metadata };
  if (resource === 'pods') return { ...object, spec: { containers: null }, status: {} };
  if (resource === 'configmaps' || resource === 'events' || resource === 'serviceaccounts') return object;
  return { ...object, spec: { template: { metadata: { creationTimestamp: null }, spec: { containers: null } } }, status: {} };
}

/** A Job as the API server stores a new one: its defaults filled in, its selector on its uid. */
function withJobDefaults(job: KubeObject, uid: string): KubeObject {
  const controllerLabels = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': job.metadata.name, 'controller-uid': uid, 'job-name': job.metadata.name };
  const spec = job.spec ?? {};
  return {
    ...job,
    metadata: { ...job.metadata, uid, labels: { ...controllerLabels, ...job.metadata.labels } },
    spec: {
      parallelism: 1,
      completions: 1,
      backoffLimit: 6,
      ...spec,
      completionMode: spec.completionMode ?? 'NonIndexed',
      suspend: spec.suspend ?? false,
      manualSelector: spec.manualSelector ?? false,
      podReplacementPolicy: spec.podReplacementPolicy ?? (spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed'),
      ...(spec.podFailurePolicy ? {
        podFailurePolicy: {
          rules: spec.podFailurePolicy.rules.map((rule: KubeObject) => ({
            ...rule, ...(rule.onPodConditions ? { onPodConditions: rule.onPodConditions.map((c: KubeObject) => ({ status: 'True', ...c })) } : {}),
          })),
        },
      } : {}),
      selector: spec.selector ?? { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
      template: { ...spec.template, metadata: { ...spec.template?.metadata, labels: { ...controllerLabels, ...spec.template?.metadata?.labels } } },
    },
    status: {},
  };
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
  /**
   * Bearer token -> the rules its service account is granted. Other tokens get 401; a request with
   * no token is `system:anonymous`, allowed nothing (403).
   */
  public readonly tokens = new Map<string, RbacRule[]>();
  /**
   * Bearer token -> the user it authenticates as, named in 403 messages. A token not here is
   * `system:serviceaccount:<namespace>:waiter` on a namespaced request, `doctor` otherwise.
   */
  public readonly users = new Map<string, string>();
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
   * When set, the server's clock stands at this time (ms): timestamps of new objects and
   * the `Date` header of every answer. A test sets it to make creation times tie or to hold time.
   */
  public fixedTime?: number;
  /**
   * When set, the Job controller reacts to a pod's end this many milliseconds later, as the real
   * one does (it batches pod updates, about 1 s): a client watching pods and Jobs on two streams
   * then sees the pod end before its Job does. Unset, it reacts at once, in the same call.
   */
  public jobControllerLagMs?: number;

  private readonly server: Server;
  private readonly objects = new Map<string, KubeObject>();
  private readonly history: Array<WatchEvent & { rv: number }> = [];
  private readonly watchers = new Set<Watcher>();
  private readonly sockets = new Set<Socket>();
  private readonly watchListeners: Array<() => void> = [];
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  private revision = 100;
  // The history before the first revision was never kept: a watch from an older one gets 410.
  private compactedRevision = 100;
  private uid = 0;
  private podSuffix = 0;
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

  /**
   * Creates or replaces an object (kind from `resource`), bumping its resourceVersion and, for the
   * kinds that have one, its generation. The object is stored as given: no controller reacts.
   */
  public apply(resource: string, namespace: string, object: KubeObject): KubeObject {
    const type = RESOURCES[resource];
    const name = object.metadata.name;
    const key = this.key(resource, namespace, name);
    const previous = this.objects.get(key);
    const stored = clone(object);
    stored.apiVersion = apiVersionOf(type);
    stored.kind = type.kind;
    stored.metadata = {
      ...stored.metadata,
      namespace,
      uid: previous?.metadata.uid ?? stored.metadata.uid ?? `uid-${++this.uid}`,
      // A test may backdate an object it creates (doctor reports ages).
      creationTimestamp: previous?.metadata.creationTimestamp ?? object.metadata.creationTimestamp ?? this.timestamp(),
      resourceVersion: String(++this.revision),
    };
    if (WITH_GENERATION.has(resource)) {
      const specChanged = !previous || JSON.stringify(previous.spec) !== JSON.stringify(stored.spec);
      stored.metadata.generation = (previous?.metadata.generation ?? 0) + (specChanged ? 1 : 0);
    } else {
      delete stored.metadata.generation;
    }
    this.objects.set(key, stored);
    this.emit({ type: previous ? 'MODIFIED' : 'ADDED', resource, object: stored, previous });
    return clone(stored);
  }

  /** The stored object, or undefined. */
  public get(resource: string, namespace: string, name: string): KubeObject | undefined {
    const stored = this.objects.get(this.key(resource, namespace, name));
    return stored && clone(stored);
  }

  /**
   * Removes an object from the store at once, as etcd does once nothing holds it; watchers get
   * DELETED with its last state. For a pod, `deletePod()` is what the API does on a DELETE.
   */
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
   * Deletes a pod as the API server and a kubelet do. It first gets a `deletionTimestamp`
   * (MODIFIED). A pod that no kubelet has bound (no `spec.nodeName`) gets grace 0 whatever was
   * asked, and goes (DELETED) once no finalizer holds it; a Job's pod is held by the Job
   * controller's `batch.kubernetes.io/job-tracking` finalizer until the controller counted it, as
   * a failure. A bound pod stays while its containers run, until `endPod()` or its grace period
   * (`graceSeconds`, else the pod's `terminationGracePeriodSeconds`, else 30) has passed. Answers
   * the pod as the DELETE does.
   */
  public deletePod(namespace: string, name: string, graceSeconds?: number): KubeObject | undefined {
    const pod = this.get('pods', namespace, name);
    if (!pod || pod.metadata.deletionTimestamp) return pod;
    const answer = this.markDeleted(namespace, pod, graceSeconds);
    if (pod.spec?.nodeName) {
      const grace = answer.metadata.deletionGracePeriodSeconds;
      this.graceTimers.set(this.key('pods', namespace, name), setTimeout(() => this.endPod(namespace, name), grace * 1000));
    } else if ((pod.metadata.finalizers ?? []).length === 0) {
      this.delete('pods', namespace, name);
      this.releaseForegroundOwner(namespace, pod);
    } else {
      this.syncJobOfPod(namespace, answer);
    }
    return answer;
  }

  /**
   * The containers of a pod have exited, as its kubelet reports: a terminating pod goes (DELETED);
   * another one ends in `phase` (default Succeeded), which the Job controller then counts.
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
    this.setPodPhase(namespace, name, phase);
  }

  /**
   * A pod's phase as its kubelet reports it (a merge PATCH of the status subresource), with
   * conditions to add (a DisruptionTarget, say); the Job controller reacts to a Job's pod that
   * ended as the real one does (see succeedJobPod and failJobPod).
   */
  public setPodPhase(namespace: string, name: string, phase: string, conditions: KubeObject[] = []): void {
    const pod = this.get('pods', namespace, name);
    if (!pod) throw new Error(`no pod ${namespace}/${name}`);
    pod.status = { ...pod.status, phase };
    if (conditions.length > 0) pod.status.conditions = [...(pod.status.conditions ?? []), ...conditions];
    this.apply('pods', namespace, pod);
    if (this.jobControllerLagMs === undefined) return this.syncJobOfPod(namespace, pod);
    setTimeout(() => {
      const current = this.get('pods', namespace, name);
      if (current) this.syncJobOfPod(namespace, current);
    }, this.jobControllerLagMs);
  }

  /**
   * Creates a Job as a POST does: the server fills its defaults (parallelism, completions,
   * completionMode, podReplacementPolicy, its selector on its uid, ...), then the Job controller
   * starts it (see startJob). Answers the Job as created.
   */
  public createJob(namespace: string, object: KubeObject, podName?: string): KubeObject {
    const job = this.apply('jobs', namespace, withJobDefaults(object, `uid-${++this.uid}`));
    this.startJob(namespace, object.metadata.name, podName);
    return job;
  }

  /**
   * Starts a Job as the Job controller does: creates its pod (Pending, the controller's labels,
   * owner reference and job-tracking finalizer; named `podName`, else with a random suffix), then
   * sets `startTime` and `active: 1`. Answers the pod. A Job created through the API or createJob()
   * is started so; one stored with apply() is not.
   */
  public startJob(namespace: string, name: string, podName?: string): KubeObject {
    const job = this.get('jobs', namespace, name);
    if (!job) throw new Error(`no Job ${namespace}/${name}`);
    const pod = this.createJobPod(namespace, job, podName);
    const now = this.timestamp();
    job.status = { ...job.status, startTime: job.status?.startTime ?? now, active: 1, terminating: 0, uncountedTerminatedPods: {}, ready: 0 };
    this.apply('jobs', namespace, job);
    return pod;
  }

  /**
   * The Job's running pod succeeds, and the Job controller completes the Job in its real steps:
   * MODIFIED with SuccessCriteriaMet (the pod still uncounted), the pod's finalizer removed,
   * MODIFIED adding Complete with `succeeded: 1`. A Job with no pod left (one a test created with
   * apply()) goes through the same steps on its status alone.
   */
  public succeedJobPod(namespace: string, job: string): void {
    const pod = this.podsOfJob(namespace, job).find((p) => !['Succeeded', 'Failed'].includes(p.status?.phase) && !p.metadata.deletionTimestamp);
    if (pod) return this.setPodPhase(namespace, pod.metadata.name, 'Succeeded');
    const stored = this.get('jobs', namespace, job);
    if (!stored) throw new Error(`no Job ${namespace}/${job}`);
    this.jobSucceeded(namespace, stored, undefined);
  }

  /**
   * The Job's running pod fails (phase Failed), and the Job controller fails the Job if that
   * exceeds its backoffLimit: MODIFIED with FailureTarget, the finalizer removed, MODIFIED adding
   * Failed with `failed: 1`. With no pod left, the same steps on the Job's status alone.
   */
  public failJobPod(namespace: string, job: string, conditions: KubeObject[] = []): void {
    const pod = this.podsOfJob(namespace, job).find((p) => !['Succeeded', 'Failed'].includes(p.status?.phase) && !p.metadata.deletionTimestamp);
    if (pod) return this.setPodPhase(namespace, pod.metadata.name, 'Failed', conditions);
    const stored = this.get('jobs', namespace, job);
    if (!stored) throw new Error(`no Job ${namespace}/${job}`);
    this.jobFailed(namespace, stored, undefined, 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
  }

  /**
   * The Job's activeDeadlineSeconds has passed (the fake keeps no timer for it): its running pods
   * are deleted, the Job gets FailureTarget DeadlineExceeded with `terminating`, then Failed once
   * its pods are gone.
   */
  public exceedJobDeadline(namespace: string, job: string): void {
    const stored = this.get('jobs', namespace, job);
    if (!stored) throw new Error(`no Job ${namespace}/${job}`);
    const running = this.podsOfJob(namespace, job).filter((p) => !['Succeeded', 'Failed'].includes(p.status?.phase));
    for (const pod of running) this.markDeleted(namespace, pod);
    this.jobFailed(namespace, stored, running[0], 'DeadlineExceeded', 'Job was active longer than specified deadline');
  }

  /**
   * Deletes a Job as the API server and the garbage collector do, with `propagation` (what
   * `kubectl delete` sends is Background; a DELETE with no policy gets the batch/v1 default,
   * Orphan). Background: the Job goes at once, then each pod loses its job-tracking finalizer and
   * is deleted. Foreground: the Job gets a `deletionTimestamp` and the `foregroundDeletion`
   * finalizer, its pods are deleted, and it goes once they are gone. Orphan: the Job gets the
   * `orphan` finalizer, its pods lose their owner reference and finalizer and stay, the Job goes.
   * Answers what the DELETE answers: a Success Status (Background) or the Job.
   */
  public deleteJob(namespace: string, name: string, propagation: 'Background' | 'Foreground' | 'Orphan' = 'Background'): KubeObject | undefined {
    const job = this.get('jobs', namespace, name);
    if (!job) return undefined;
    const pods = this.podsOfJob(namespace, name);
    if (propagation === 'Background') {
      this.delete('jobs', namespace, name);
      for (const pod of pods) {
        this.removeFinalizer('pods', namespace, pod.metadata.name, JOB_TRACKING);
        this.deletePod(namespace, pod.metadata.name);
      }
      return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: 'batch', kind: 'jobs', uid: job.metadata.uid } };
    }
    job.metadata.deletionTimestamp = this.timestamp();
    job.metadata.deletionGracePeriodSeconds = 0;
    job.metadata.finalizers = [...(job.metadata.finalizers ?? []), propagation === 'Foreground' ? 'foregroundDeletion' : 'orphan'];
    const answer = this.apply('jobs', namespace, job);
    for (const pod of pods) {
      if (propagation === 'Orphan') {
        // The Job controller lets go of the pod first, then the garbage collector orphans it,
        // removing the whole field, not just the Job's entry.
        this.removeFinalizer('pods', namespace, pod.metadata.name, JOB_TRACKING);
        const orphan = this.get('pods', namespace, pod.metadata.name);
        delete orphan.metadata.ownerReferences;
        this.apply('pods', namespace, orphan);
      } else {
        this.removeFinalizer('pods', namespace, pod.metadata.name, JOB_TRACKING);
        this.deletePod(namespace, pod.metadata.name);
      }
    }
    if (propagation === 'Orphan' || this.podsOfJob(namespace, name).length === 0) this.delete('jobs', namespace, name);
    return answer;
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

  /**
   * Sets one Job condition to True (Complete, Failed, FailureTarget, ...) in a single change, with
   * the status fields the real Job controller writes. The controller itself never writes Complete
   * or Failed alone: succeedJobPod() and failJobPod() emit its real steps.
   */
  public setJobCondition(namespace: string, name: string, type: string, reason?: string, message?: string): void {
    const job = this.get('jobs', namespace, name);
    if (!job) throw new Error(`no Job ${namespace}/${name}`);
    const now = this.timestamp();
    const { active: _active, ...status } = job.status ?? {};
    job.status = {
      ...status,
      conditions: [
        ...(status.conditions ?? []).filter((c: KubeObject) => c.type !== type),
        { type, status: 'True', reason, message, lastProbeTime: now, lastTransitionTime: now },
      ],
      terminating: status.terminating ?? 0,
      uncountedTerminatedPods: {},
      ready: status.ready ?? 0,
    };
    if (type === 'Complete') job.status = { ...job.status, succeeded: 1, completionTime: now };
    if (type === 'Failed') job.status = { ...job.status, failed: (job.status.failed ?? 0) + 1 };
    this.apply('jobs', namespace, job);
  }

  /** Forgets history up to now: a watch from an older resourceVersion gets 410 Gone. */
  public compact(): void {
    this.compactedRevision = this.revision;
  }

  /** Sends a BOOKMARK with the current resourceVersion to every watch that allowed bookmarks. */
  public sendBookmarks(): void {
    for (const w of this.watchers) this.bookmark(w);
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

  /** Now (plus `offsetMs`), as the API server writes timestamps: RFC 3339 in whole seconds, truncated. */
  private timestamp(offsetMs = 0): string {
    return new Date(this.now() + offsetMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /** Gives a pod its `deletionTimestamp` (MODIFIED); grace 0 for a pod no kubelet has bound. */
  private markDeleted(namespace: string, pod: KubeObject, graceSeconds?: number): KubeObject {
    const bound = !!pod.spec?.nodeName;
    const grace = bound ? graceSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30 : 0;
    const marked = this.get('pods', namespace, pod.metadata.name);
    marked.metadata.deletionTimestamp = this.timestamp(grace * 1000);
    marked.metadata.deletionGracePeriodSeconds = grace;
    return this.apply('pods', namespace, marked);
  }

  /**
   * Removes one finalizer, as the controller that put it there does; an object being deleted goes
   * once its last finalizer is removed, its DELETED event still listing that finalizer.
   */
  private removeFinalizer(resource: string, namespace: string, name: string, finalizer: string): void {
    const object = this.get(resource, namespace, name);
    if (!object || !(object.metadata.finalizers ?? []).includes(finalizer)) return;
    const rest = object.metadata.finalizers.filter((f: string) => f !== finalizer);
    // A bound pod still has its containers to stop: it goes when its kubelet says so (endPod).
    if (object.metadata.deletionTimestamp && rest.length === 0 && !(resource === 'pods' && object.spec?.nodeName)) {
      this.delete(resource, namespace, name);
      if (resource === 'pods') this.releaseForegroundOwner(namespace, object);
      return;
    }
    if (rest.length === 0) delete object.metadata.finalizers;
    else object.metadata.finalizers = rest;
    this.apply(resource, namespace, object);
  }

  /** The Job controller creates a pod for `job`: its template, labels, owner reference and finalizer. */
  private createJobPod(namespace: string, job: KubeObject, podName?: string): KubeObject {
    const name = job.metadata.name;
    const uid = job.metadata.uid;
    const suffix = (++this.podSuffix).toString(36).padStart(5, 'x');
    return this.apply('pods', namespace, {
      metadata: {
        name: podName ?? `${name}-${suffix}`,
        generateName: `${name}-`,
        labels: {
          ...job.spec?.template?.metadata?.labels,
          'batch.kubernetes.io/controller-uid': uid,
          'batch.kubernetes.io/job-name': name,
          'controller-uid': uid,
          'job-name': name,
        },
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid, controller: true, blockOwnerDeletion: true }],
        finalizers: [JOB_TRACKING],
      },
      spec: clone(job.spec?.template?.spec ?? {}),
      status: { phase: 'Pending', qosClass: 'BestEffort' },
    });
  }

  /** The Job controller, on a change to one of a Job's pods that it has not counted yet. */
  private syncJobOfPod(namespace: string, pod: KubeObject): void {
    const name = pod.metadata.labels?.['batch.kubernetes.io/job-name'] ?? pod.metadata.labels?.['job-name'];
    if (!name || !(pod.metadata.finalizers ?? []).includes(JOB_TRACKING)) return;
    const ended = ['Succeeded', 'Failed'].includes(pod.status?.phase) || !!pod.metadata.deletionTimestamp;
    if (!ended) return;
    const job = this.get('jobs', namespace, name);
    if (!job || isTrue(job, 'Complete') || isTrue(job, 'Failed')) {
      this.removeFinalizer('pods', namespace, pod.metadata.name, JOB_TRACKING);
      return;
    }
    if (pod.status?.phase === 'Succeeded') return this.jobSucceeded(namespace, job, pod);
    const { active: _active, ...status } = job.status ?? {};
    const ignored = (job.spec?.podFailurePolicy?.rules ?? []).some((rule: KubeObject) => rule.action === 'Ignore' &&
      (rule.onPodConditions ?? []).some((c: KubeObject) => (pod.status?.conditions ?? []).some((pc: KubeObject) => pc.type === c.type && pc.status === (c.status ?? 'True'))));
    // A pod that a DisruptionTarget rule ignores is not counted: the Job just gets a replacement.
    if (ignored || (status.failed ?? 0) + 1 <= (job.spec?.backoffLimit ?? 6)) {
      job.status = { ...status, ...(ignored ? {} : { failed: (status.failed ?? 0) + 1 }) };
      this.apply('jobs', namespace, job);
      this.removeFinalizer('pods', namespace, pod.metadata.name, JOB_TRACKING);
      this.createJobPod(namespace, job);
      const restarted = this.get('jobs', namespace, name);
      restarted.status = { ...restarted.status, active: 1 };
      this.apply('jobs', namespace, restarted);
      return;
    }
    this.jobFailed(namespace, job, pod, 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
  }

  /** SuccessCriteriaMet (the pod still uncounted), the pod's finalizer removed, then Complete. */
  private jobSucceeded(namespace: string, job: KubeObject, pod: KubeObject | undefined): void {
    const name = job.metadata.name;
    const now = this.timestamp();
    const condition = (type: string): KubeObject => ({ type, status: 'True', lastProbeTime: now, lastTransitionTime: now, reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' });
    const { active: _active, ...status } = job.status ?? {};
    job.status = {
      ...status,
      conditions: [...(status.conditions ?? []), condition('SuccessCriteriaMet')],
      startTime: status.startTime ?? now,
      terminating: 0,
      uncountedTerminatedPods: pod ? { succeeded: [pod.metadata.uid] } : {},
      ready: 0,
    };
    this.apply('jobs', namespace, job);
    if (pod) this.removeFinalizer('pods', namespace, pod.metadata.name, JOB_TRACKING);
    const complete = this.get('jobs', namespace, name);
    complete.status = {
      ...complete.status,
      conditions: [...complete.status.conditions, condition('Complete')],
      completionTime: now,
      succeeded: (complete.status.succeeded ?? 0) + 1,
      uncountedTerminatedPods: {},
    };
    this.apply('jobs', namespace, complete);
    // The TTL controller deletes a finished Job with ttlSecondsAfterFinished 0 at once, in the foreground.
    if (complete.spec?.ttlSecondsAfterFinished === 0) this.deleteJob(namespace, name, 'Foreground');
  }

  /**
   * FailureTarget (the pod uncounted, `terminating` while it is being deleted), the pod's
   * finalizer removed, `failed` counted, `terminating` back to 0, then Failed.
   */
  private jobFailed(namespace: string, job: KubeObject, pod: KubeObject | undefined, reason: string, message: string): void {
    const name = job.metadata.name;
    const condition = (type: string): KubeObject => {
      const now = this.timestamp();
      return { type, status: 'True', lastProbeTime: now, lastTransitionTime: now, reason, message };
    };
    const current = pod && this.get('pods', namespace, pod.metadata.name);
    const terminating = current?.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes(current.status?.phase) ? 1 : 0;
    const { active: _active, ...status } = job.status ?? {};
    job.status = {
      ...status,
      conditions: [...(status.conditions ?? []), condition('FailureTarget')],
      startTime: status.startTime ?? this.timestamp(),
      terminating,
      uncountedTerminatedPods: pod ? { failed: [pod.metadata.uid] } : {},
      ready: 0,
    };
    this.apply('jobs', namespace, job);
    if (pod) this.removeFinalizer('pods', namespace, pod.metadata.name, JOB_TRACKING);
    const counted = this.get('jobs', namespace, name);
    counted.status = { ...counted.status, failed: (counted.status.failed ?? 0) + 1, uncountedTerminatedPods: {} };
    if (!terminating) {
      counted.status.conditions = [...counted.status.conditions, condition('Failed')];
      this.apply('jobs', namespace, counted);
      return;
    }
    // Failed waits until no pod is terminating: counted first; then, once the pod is gone (at once
    // for one no kubelet runs, at the end of its grace period for a bound one), terminating back
    // to 0 and Failed (see afterPodGone).
    this.apply('jobs', namespace, counted);
    if (!this.get('pods', namespace, pod!.metadata.name)) this.jobTerminated(namespace, name);
  }

  /** The last terminating pod of a Job that has FailureTarget is gone: `terminating: 0`, then Failed. */
  private jobTerminated(namespace: string, name: string): void {
    const job = this.get('jobs', namespace, name);
    const target = (job?.status?.conditions ?? []).find((c: KubeObject) => c.type === 'FailureTarget' && c.status === 'True');
    if (!target || isTrue(job, 'Failed') || !job.status.terminating || Object.keys(job.status.uncountedTerminatedPods ?? {}).length > 0) return;
    if (this.podsOfJob(namespace, name).some((p) => p.metadata.deletionTimestamp)) return;
    job.status = { ...job.status, terminating: 0 };
    this.apply('jobs', namespace, job);
    const now = this.timestamp();
    const failed = this.get('jobs', namespace, name);
    failed.status = { ...failed.status, conditions: [...failed.status.conditions, { ...target, type: 'Failed', lastProbeTime: now, lastTransitionTime: now }] };
    this.apply('jobs', namespace, failed);
  }

  /**
   * A Job's pod is gone: a Job deleted in the foreground goes once the last of its pods has; a
   * failing Job waiting for its terminating pods gets Failed.
   */
  private releaseForegroundOwner(namespace: string, pod: KubeObject): void {
    const job = pod.metadata.labels?.['batch.kubernetes.io/job-name'] ?? pod.metadata.labels?.['job-name'];
    const owner = job && this.get('jobs', namespace, job);
    if (!owner) return;
    if (owner.metadata.deletionTimestamp && this.podsOfJob(namespace, job).length === 0) this.delete('jobs', namespace, job);
    else this.jobTerminated(namespace, job);
  }

  private key(resource: string, namespace: string, name: string): string {
    return `${resource}/${namespace}/${name}`;
  }

  private emit(event: WatchEvent): void {
    this.history.push({ ...event, rv: this.revision });
    for (const w of this.watchers) {
      const seen = this.seenBy(w, event);
      if (seen) this.write(w, seen);
    }
  }

  /**
   * The event a watch sees for a change, if any: an object that leaves its selectors arrives as
   * DELETED carrying its previous state (with the new resourceVersion), one that enters as ADDED.
   */
  private seenBy(w: Scope, event: WatchEvent): { type: string; object: KubeObject } | undefined {
    if (event.resource !== w.resource) return undefined;
    const now = this.matches(w, event.object);
    if (event.type !== 'MODIFIED') return now ? { type: event.type, object: event.object } : undefined;
    const before = event.previous !== undefined && this.matches(w, event.previous);
    if (now) return { type: before ? 'MODIFIED' : 'ADDED', object: event.object };
    if (!before) return undefined;
    return { type: 'DELETED', object: { ...event.previous, metadata: { ...event.previous.metadata, resourceVersion: event.object.metadata.resourceVersion } } };
  }

  private matches(w: Scope, object: KubeObject): boolean {
    return (!w.namespace || object.metadata.namespace === w.namespace) && fieldsMatch(w.fields, object)
      && labelsMatch(w.labels, object.metadata.labels);
  }

  private write(w: Watcher, event: object): void {
    if (!w.res.writableEnded) w.res.write(JSON.stringify(event) + '\n');
  }

  private bookmark(w: Watcher, initialEventsEnd = false): void {
    if (w.bookmarks) this.write(w, { type: 'BOOKMARK', object: bookmarkObject(w.resource, this.resourceVersion, initialEventsEnd) });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    if (this.handleKubectlRequest(req, res, url)) return;
    const match = /^\/(?:api\/v1|apis\/([a-z.]+)\/v1)(?:\/namespaces\/([^/]+))?\/([a-z]+)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!match || !RESOURCES[match[3]] || RESOURCES[match[3]].group !== (match[1] ?? '') || (match[4] && !match[2])) {
      return this.status(res, 404, 'NotFound', 'the server could not find the requested resource', {});
    }
    const [, group = '', namespace = '', resource, pathName] = match;
    const params = url.searchParams;
    const watch = params.get('watch') === '1' || params.get('watch') === 'true';
    let verb: RequestInfo['verb'];
    if (req.method === 'GET') verb = pathName ? 'get' : watch ? 'watch' : 'list';
    else if (req.method === 'PUT' && pathName) verb = 'update';
    else if (req.method === 'POST' && !pathName && namespace) verb = 'create';
    else if (req.method === 'DELETE' && pathName) verb = 'delete';
    else return this.status(res, 405, 'MethodNotAllowed', `${req.method} is not supported here`);
    const fields = parseFieldSelector(resource, params.get('fieldSelector') ?? '');
    // Like the real RequestInfoFactory: a LIST or WATCH whose field selector names one object is a
    // request for that name, which is how a rule with resourceNames can allow it.
    const name = pathName ?? (typeof fields === 'string' ? undefined : selectedName(fields));
    const fallbackUser = namespace ? `system:serviceaccount:${namespace}:waiter` : 'doctor';
    const info = this.admit(req, res, { verb, group, resource, namespace, name }, fallbackUser);
    if (!info) return;
    if (this.deniedWhileStartingUp(info, res, this.userOf(info.token, fallbackUser))) return;
    const intercepted = this.interceptor?.(info);
    if (intercepted === 'reset') {
      req.socket.destroy();
      return;
    }
    if (typeof intercepted === 'number') return this.status(res, intercepted, 'InternalError', `injected failure ${intercepted}`);

    if (typeof fields === 'string') return this.status(res, 400, 'BadRequest', fields);
    const labelText = params.get('labelSelector') ?? '';
    const labels = parseLabelSelector(labelText);
    if (!labels) {
      const unclosed = (labelText.match(/\(/g) ?? []).length > (labelText.match(/\)/g) ?? []).length;
      return this.status(res, 400, 'BadRequest', `unable to parse requirement: ${unclosed ? 'found \'\', expected: \',\' or \')\'' : labelText}`);
    }
    const rv = params.get('resourceVersion');
    if (rv !== null && rv !== '' && !/^\d+$/.test(rv)) {
      // The real server answers this with an internal error, and no reason.
      return this.status(res, 500, undefined, `resourceVersion: Invalid value: "${rv}": strconv.ParseUint: parsing "${rv}": invalid syntax`);
    }
    const type = RESOURCES[resource];
    const notFound = (n: string): void => this.status(res, 404, 'NotFound', `${group ? `${resource}.${group}` : resource} "${n}" not found`, statusDetails(n, group, resource));
    if (verb === 'get') {
      const stored = this.objects.get(this.key(resource, namespace, pathName!));
      return stored ? this.json(res, 200, stored) : notFound(pathName!);
    }
    if (verb === 'delete') {
      return this.readBody(req, (body) => {
        const stored = this.objects.get(this.key(resource, namespace, pathName!));
        if (!stored) return notFound(pathName!);
        if (resource === 'pods') return this.json(res, 200, this.deletePod(namespace, pathName!, body?.gracePeriodSeconds));
        if (resource === 'jobs') {
          // A DELETE with no propagationPolicy gets batch/v1's default, Orphan: the Job's pods stay.
          const propagation = body?.propagationPolicy ?? params.get('propagationPolicy') ?? 'Orphan';
          return this.json(res, 200, this.deleteJob(namespace, pathName!, propagation));
        }
        this.delete(resource, namespace, pathName!);
        return this.json(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { ...statusDetails(pathName!, group, resource), uid: stored.metadata.uid } });
      });
    }
    if (verb === 'update') {
      return this.readBody(req, (body) => {
        if (body?.metadata?.name !== pathName) {
          return this.status(res, 400, 'BadRequest', `the name of the object (${body?.metadata?.name}) does not match the name on the URL (${pathName})`);
        }
        const stored = this.objects.get(this.key(resource, namespace, pathName!));
        if (!stored) return notFound(pathName!);
        const sent = body?.metadata?.resourceVersion;
        if (sent !== undefined && sent !== stored.metadata.resourceVersion) {
          return this.status(res, 409, 'Conflict',
            `Operation cannot be fulfilled on ${group ? `${resource}.${group}` : resource} "${pathName}": the object has been modified; please apply your changes to the latest version and try again`,
            statusDetails(pathName, group, resource));
        }
        return this.json(res, 200, this.apply(resource, namespace, body));
      });
    }
    if (verb === 'create') {
      return this.readBody(req, (body) => {
        const created = body?.metadata?.name;
        if (typeof created !== 'string' || !created) return this.status(res, 400, 'BadRequest', 'the body must be an object with metadata.name');
        if (this.objects.has(this.key(resource, namespace, created))) {
          return this.status(res, 409, 'AlreadyExists', `${group ? `${resource}.${group}` : resource} "${created}" already exists`, statusDetails(created, group, resource));
        }
        // A new pod is Pending until a scheduler and a kubelet take it.
        if (resource === 'pods') return this.json(res, 201, this.apply(resource, namespace, { ...body, status: { phase: 'Pending', qosClass: 'BestEffort' } }));
        if (resource !== 'jobs') return this.json(res, 201, this.apply(resource, namespace, body));
        // A new Job: the server fills its defaults, then the Job controller starts it.
        this.json(res, 201, this.createJob(namespace, body));
      });
    }
    const scope: Scope = { resource, namespace, fields, labels };
    if (verb === 'list') {
      if (rv && Number(rv) > this.revision) {
        return this.status(res, 504, 'Timeout', `Timeout: Too large resource version: ${rv}, current: ${this.revision}`,
          { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
      }
      if (rv && params.get('resourceVersionMatch') === 'Exact' && Number(rv) < this.compactedRevision) {
        return this.status(res, 410, 'Expired', 'The resourceVersion for the provided list is too old.');
      }
      // Only objects of this resource: the key starts with it (objects of other kinds share namespaces).
      const items = [...this.objects.entries()]
        .filter(([key, o]) => key.startsWith(`${resource}/`) && this.matches(scope, o))
        .map(([, o]) => listItem(o));
      return this.json(res, 200, { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata: { resourceVersion: this.resourceVersion }, items });
    }
    return this.watch(req, res, scope, params);
  }

  // --- What kubectl needs besides: discovery, pod logs, namespaces, SubjectAccessReviews ---

  /** Serves the requests outside the object routes; false when the path is not one. */
  private handleKubectlRequest(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const path = url.pathname.replace(/\/$/, '');
    if (req.method === 'GET' && (path === '/api' || path === '/apis' || path === '/version' || /^\/apis?(\/[a-z0-9.]+)?\/v1$/.test(path))) {
      const doc = this.discovery(path);
      if (!doc) this.status(res, 404, 'NotFound', 'the server could not find the requested resource', {});
      else this.json(res, 200, doc);
      return true;
    }
    const log = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(path);
    if (log && req.method === 'GET') {
      this.podLog(req, res, log[1], log[2], url.searchParams);
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

  private userOf(token: string | undefined, fallback: string): string {
    return token === undefined ? 'system:anonymous' : this.users.get(token) ?? fallback;
  }

  /**
   * Authenticates and authorizes a request as the real server does: an unknown token is 401; no
   * token at all is `system:anonymous`, which RBAC allows nothing (403). Answers 401/403 itself
   * and returns undefined then.
   */
  private admit(req: IncomingMessage, res: ServerResponse, info: Omit<RequestInfo, 'token' | 'at'>, fallbackUser = 'doctor'): RequestInfo | undefined {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const request: RequestInfo = { ...info, token, at: Date.now() };
    this.requests.push(request);
    const rules = token === undefined ? [] : this.tokens.get(token);
    if (!rules) {
      this.status(res, 401, 'Unauthorized', 'Unauthorized');
      return undefined;
    }
    if (!this.authorized(rules, request)) {
      this.forbidden(res, request, this.userOf(token, fallbackUser));
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

  private getNamespace(req: IncomingMessage, res: ServerResponse, name: string): void {
    if (!this.admit(req, res, { verb: 'get', group: '', resource: 'namespaces', namespace: '', name })) return;
    if (!this.namespaces.has(name) && ![...this.objects.values()].some((o) => o.metadata?.namespace === name)) {
      return this.status(res, 404, 'NotFound', `namespaces "${name}" not found`, statusDetails(name, '', 'namespaces'));
    }
    this.json(res, 200, {
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: { name, uid: `uid-namespace-${name}`, resourceVersion: '1', creationTimestamp: this.timestamp(), labels: { 'kubernetes.io/metadata.name': name } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
  }

  /**
   * The pods/log subresource. A pod no node was assigned to answers 204 with no body (its
   * containers never ran); an unknown container is 400; otherwise the stored log, or, for a
   * container that has not started, the kubelet's 400.
   */
  private podLog(req: IncomingMessage, res: ServerResponse, namespace: string, pod: string, params: URLSearchParams): void {
    if (!this.admit(req, res, { verb: 'get', group: '', resource: 'pods/log', namespace, name: pod })) return;
    const stored = this.objects.get(this.key('pods', namespace, pod));
    if (!stored) return this.status(res, 404, 'NotFound', `pods "${pod}" not found`, statusDetails(pod, '', 'pods'));
    const names = [...(stored.spec?.initContainers ?? []), ...(stored.spec?.containers ?? [])].map((c: KubeObject) => c.name);
    const container = params.get('container') ?? stored.spec?.containers?.[0]?.name;
    if (!names.includes(container)) return this.status(res, 400, 'BadRequest', `container ${container} is not valid for pod ${pod}`);
    if (!stored.spec?.nodeName && !this.podLogs.has(`${namespace}/${pod}/${container}`)) {
      if (res.headersSent) return;
      res.writeHead(204, { Date: new Date(this.now()).toUTCString() });
      res.end();
      return;
    }
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
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Date': new Date(this.now()).toUTCString() });
    res.end(shown.map((l) => `${l}\n`).join(''));
  }

  /**
   * Evaluates a SubjectAccessReview against `accounts`, as the API server does; nothing is stored.
   * The answer echoes the spec (an empty group left out), with `{allowed: true, reason}` or just
   * `{allowed: false}`.
   */
  private subjectAccessReview(req: IncomingMessage, res: ServerResponse): void {
    if (!this.admit(req, res, { verb: 'create', group: 'authorization.k8s.io', resource: 'subjectaccessreviews', namespace: '' })) return;
    this.readBody(req, (body) => {
      const attributes = body?.spec?.resourceAttributes;
      if (!body?.spec?.user || !attributes) return this.status(res, 400, 'BadRequest', 'spec.user and spec.resourceAttributes are required here');
      const user: string = body.spec.user;
      const rules = this.accounts.get(user) ?? [];
      const resource = attributes.subresource ? `${attributes.resource}/${attributes.subresource}` : attributes.resource;
      const allowed = this.authorized(rules, { verb: attributes.verb, group: attributes.group ?? '', resource, namespace: attributes.namespace ?? '', name: attributes.name, at: 0 });
      const { group, ...rest } = attributes;
      const spec = { ...body.spec, resourceAttributes: group ? attributes : rest };
      const account = /^system:serviceaccount:([^:]+):(.+)$/.exec(user);
      const reason = account
        ? `RBAC: allowed by RoleBinding "${account[2]}/${account[1]}" of Role "${account[2]}" to ServiceAccount "${account[2]}/${account[1]}"`
        : `RBAC: allowed by ClusterRoleBinding "${user}" of ClusterRole "${user}" to User "${user}"`;
      this.json(res, 201, { kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec, status: allowed ? { allowed: true, reason } : { allowed: false } });
    });
  }

  private watch(req: IncomingMessage, res: ServerResponse, scope: Scope, params: URLSearchParams): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Date': new Date(this.now()).toUTCString() });
    // The real server sends the headers at once; clients such as kubectl wait for them.
    res.flushHeaders();
    const socket = req.socket;
    const watcher: Watcher = { ...scope, bookmarks: params.get('allowWatchBookmarks') === 'true', res, socket };
    const from = Number(params.get('resourceVersion') || '0');
    if (from > 0 && from < this.compactedRevision) {
      // As the watch cache does: the stream opens, then carries one ERROR event with a 410 Status.
      this.write(watcher, {
        type: 'ERROR',
        object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${from} (${this.compactedRevision})`, reason: 'Expired', code: 410 },
      });
      res.end();
      return;
    }
    // A resourceVersion the server has not reached yet: the watch stays silent, with no bookmark.
    const future = from > this.revision;
    if (from > 0) {
      for (const event of this.history) {
        const seen = event.rv > from ? this.seenBy(scope, event) : undefined;
        if (seen) this.write(watcher, seen);
      }
    } else {
      // resourceVersion 0 or none: "any" state, sent as synthetic ADDED events, then a bookmark
      // that says the initial events are over.
      for (const [key, o] of this.objects.entries()) {
        if (key.startsWith(`${scope.resource}/`) && this.matches(scope, o)) this.write(watcher, { type: 'ADDED', object: o });
      }
      this.bookmark(watcher, true);
    }
    if (!future) this.watchers.add(watcher);
    const timers: NodeJS.Timeout[] = [];
    const asked = Number(params.get('timeoutSeconds') ?? '1800');
    const seconds = this.maxWatchSeconds === undefined ? asked : Math.min(asked, this.maxWatchSeconds);
    timers.push(setTimeout(() => res.end(), seconds * 1000));
    if (watcher.bookmarks && !future) {
      // A bookmark about a second before the timeout and every minute, as the watch cache sends them.
      if (seconds >= 3) timers.push(setTimeout(() => this.bookmark(watcher), (seconds - 1) * 1000));
      timers.push(setInterval(() => this.bookmark(watcher), 60_000));
    }
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
  private deniedWhileStartingUp(info: RequestInfo, res: ServerResponse, user: string): boolean {
    if (this.authorizerReady) return false;
    this.deniedWhileStarting.push(info);
    this.forbidden(res, info, user);
    return true;
  }

  /** RBAC's 403: `jobs.batch "X" is forbidden: User "U" cannot list resource "jobs" in API group "batch" in the namespace "N"`. */
  private forbidden(res: ServerResponse, info: RequestInfo, user: string): void {
    const { group, resource, namespace, verb, name } = info;
    const base = resource.split('/')[0];
    const qualified = group ? `${base}.${group}` : base;
    const subject = name ? `${qualified} "${name}"` : qualified;
    const where = namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope';
    this.status(res, 403, 'Forbidden', `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group}"${where}`,
      statusDetails(name, group, base));
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

  /** A Status answer; the real server leaves out `reason` on a 500 and `details` when it has none. */
  private status(res: ServerResponse, code: number, reason: string | undefined, message: string, details?: object): void {
    this.json(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, ...(reason ? { reason } : {}), ...(details ? { details } : {}), code });
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
