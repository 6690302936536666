/**
 * Whose turn it is: the order of the migrations of one DatabaseMigration across releases, and what
 * holds a migration back. Pure functions of what the API server reported; `queue.ts` feeds them.
 *
 * Migrations go one at a time in the order their Jobs were created: a Job's key is its
 * (creationTimestamp + queue offset, name); the offset is 0 but in a queue shared by several
 * services (QUEUE_OFFSET_ANNOTATION). A migration waits for every Job with a lower key that has not
 * finished, and for every pod of this migration that may still run a migration: a pod that is
 * terminating, or whose Job is gone, counts as running until it is gone, whatever its order. A pod waits only for keys
 * below its own and for terminating pods (which wait for nothing and end within their grace
 * period), so no two pods ever wait for each other.
 */

/** The fields of a Job or pod that the order reads. */
export interface ObjectMeta {
  readonly name: string;
  readonly creationTimestamp?: string;
  readonly deletionTimestamp?: string;
  readonly labels?: { readonly [key: string]: string };
  readonly annotations?: { readonly [key: string]: string };
  readonly ownerReferences?: ReadonlyArray<{ readonly kind?: string; readonly name?: string }>;
}

export interface JobState {
  readonly metadata: ObjectMeta;
  readonly spec?: { readonly activeDeadlineSeconds?: number };
  readonly status?: {
    readonly startTime?: string;
    readonly conditions?: ReadonlyArray<{ readonly type: string; readonly status: string }>;
  };
}

export interface PodState {
  readonly metadata: ObjectMeta;
  readonly status?: { readonly phase?: string };
}

/** What holds a migration back: a Job that has not finished, or a pod that may still run. */
export interface Holder {
  /** The Job, of another release or (a pod replaced after a node drain) of this one. */
  readonly job: string;
  /** Set when the holder is a pod; undefined when it is the Job itself. */
  readonly pod?: string;
  /** The release: the Job's `app.kubernetes.io/version` label, when it has one. */
  readonly version?: string;
  /** Since when it runs: the Job's start (or creation), or the pod's creation. */
  readonly since?: string;
  /** The pod is terminating (its Job pruned or deleted, or past its deadline). */
  readonly terminating: boolean;
}

export type Turn =
  /** The own Job does not exist: deleted, so the migration must not start. */
  | { readonly kind: 'gone' }
  /** Earlier migrations, first one first. */
  | { readonly kind: 'wait'; readonly holders: readonly Holder[] }
  /** Nothing holds it back. */
  | { readonly kind: 'clear' };

/**
 * The order key of a Job: creation time (ms; unknown sorts first, so it is waited for) plus its
 * queue offset, then name.
 */
export interface OrderKey {
  readonly time: number;
  readonly name: string;
}

/**
 * The annotation of a Job in a queue shared by several services (`DatabaseQueue`): the seconds its
 * Job counts as created later than it was, `rank × applyWindow`. A service that runs after another
 * thus goes after that service's Jobs created up to `applyWindow` after its own (one apply of the
 * whole App), and the key stays one total order: no two pods wait for each other.
 */
export const QUEUE_OFFSET_ANNOTATION = 'cdk8s-migrated-service.dev/queue-offset-seconds';

export function keyOf(meta: ObjectMeta, name: string = meta.name): OrderKey {
  const time = Date.parse(meta.creationTimestamp ?? '');
  const offset = Number(meta.annotations?.[QUEUE_OFFSET_ANNOTATION] ?? 0);
  return { time: Number.isNaN(time) ? -Infinity : time + (Number.isFinite(offset) && offset > 0 ? offset * 1000 : 0), name };
}

/** Whether `a` goes before `b`. Two different Jobs never tie: names are unique in a namespace. */
export function before(a: OrderKey, b: OrderKey): boolean {
  return a.time < b.time || (a.time === b.time && a.name < b.name);
}

/** The Job a pod belongs to: the Job controller's labels, else its owner reference. */
export function jobOfPod(pod: PodState): string | undefined {
  const labels = pod.metadata.labels ?? {};
  return labels['batch.kubernetes.io/job-name'] ?? labels['job-name']
    ?? (pod.metadata.ownerReferences ?? []).find((o) => o.kind === 'Job')?.name;
}

function isTrue(job: JobState, type: string): boolean {
  return (job.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/**
 * A Job that has finished, or that its controller has decided will (1.31+): Complete or Failed, or
 * SuccessCriteriaMet or FailureTarget, which come first. A Job whose deadline passed has
 * FailureTarget for as long as its pod terminates (up to its grace period), and Failed only then:
 * what may still run is that pod, which counts on its own.
 */
export function hasFinished(job: JobState): boolean {
  return ['Complete', 'Failed', 'SuccessCriteriaMet', 'FailureTarget'].some((type) => isTrue(job, type));
}

function podHasEnded(pod: PodState): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/**
 * What holds back the migration of the Job `own` (run by the pod `ownPod`), given the Jobs and
 * pods of this migration across releases, as the API server lists them.
 */
export function turnOf(own: string, ownPod: string, jobs: readonly JobState[], pods: readonly PodState[]): Turn {
  const byName = new Map(jobs.map((j) => [j.metadata.name, j]));
  const ownJob = byName.get(own);
  if (!ownJob) return { kind: 'gone' };
  const ownKey = keyOf(ownJob.metadata);
  const holders: Array<Holder & { key: OrderKey }> = [];
  for (const job of jobs) {
    const { metadata } = job;
    // An earlier release that has not finished goes first, whether its pod exists yet or not. One
    // being deleted starts no pod any more; its pods that still run count below.
    if (metadata.name === own || metadata.deletionTimestamp || hasFinished(job) || !before(keyOf(metadata), ownKey)) continue;
    holders.push({ job: metadata.name, version: metadata.labels?.['app.kubernetes.io/version'], since: job.status?.startTime ?? metadata.creationTimestamp, terminating: false, key: keyOf(metadata) });
  }
  for (const pod of pods) {
    const job = jobOfPod(pod);
    if (pod.metadata.name === ownPod || podHasEnded(pod) || job === undefined) continue;
    // Without its own pod's name it cannot tell itself from a replaced pod of its Job.
    if (job === own && !ownPod) continue;
    const owner = byName.get(job);
    const key = owner ? keyOf(owner.metadata) : keyOf(pod.metadata, job);
    const terminating = pod.metadata.deletionTimestamp !== undefined;
    // A pod whose Job is gone holds whatever its age: right after a Background deletion the
    // garbage collector has not yet marked it terminating, and after an Orphan deletion a pod
    // created late (a retry) may be migrating. It waits for nothing: a queued pod whose Job is
    // gone exits. The own Job's other pod: the Job replaced it (a node drain) while it may still
    // be migrating.
    if (!(job === own || terminating || !owner || before(key, ownKey))) continue;
    holders.push({ job, pod: pod.metadata.name, version: owner?.metadata.labels?.['app.kubernetes.io/version'] ?? pod.metadata.labels?.['app.kubernetes.io/version'], since: pod.metadata.creationTimestamp, terminating, key });
  }
  if (holders.length === 0) return { kind: 'clear' };
  holders.sort((a, b) => (before(a.key, b.key) ? -1 : before(b.key, a.key) ? 1 : (a.pod ?? '').localeCompare(b.pod ?? '')));
  return { kind: 'wait', holders: holders.map(({ key, ...holder }) => holder) };
}

/**
 * Creation timestamps have whole seconds, so a Job created in the same second as the own one may
 * sort before it although it came later. Once the API server's clock is 2 s past the own Job's
 * creation second, every Job created from then on has a later timestamp and sorts after it: a list
 * read then shows every Job that may go first. (2 s, not 1: the Date header is whole seconds too,
 * and stamped after the read.)
 */
export const SETTLE_MS = 2000;

/**
 * Whether a list read at `serverTime` (ms, the answer's Date header) shows every Job that sorts
 * before `own`. With a queue offset, a Job of an earlier service created up to that offset after
 * the own one still sorts first: the own Job settles that much later.
 */
export function settled(own: JobState, serverTime: number): boolean {
  return serverTime >= keyOf(own.metadata).time + SETTLE_MS;
}

/**
 * When the own Job's turn must have come (ms by the API server's clock): `queueSeconds` after the
 * Job started. The Job's deadline adds the migration's own time to that, so a migration that starts
 * by then has all of it.
 */
export function turnDeadline(own: JobState, queueSeconds: number): number {
  const start = Date.parse(own.status?.startTime ?? own.metadata.creationTimestamp ?? '');
  return (Number.isNaN(start) ? Infinity : start) + queueSeconds * 1000;
}

/** How a holder reads in the log: `release v2's migration Job web-migration-v2 (running since …)`. */
export function describeHolder(holder: Holder): string {
  const release = holder.version ? `release ${holder.version}'s migration Job ${holder.job}` : `migration Job ${holder.job}`;
  if (holder.pod === undefined) return `${release} (running since ${holder.since ?? 'an unknown time'})`;
  const state = holder.terminating ? 'terminating' : 'running';
  return `pod ${holder.pod} of ${release} (${state}, created ${holder.since ?? 'at an unknown time'})`;
}
