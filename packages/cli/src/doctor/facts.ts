import { SERVICE_ACCOUNT_PATH } from 'cdk8s-migrated-service/lib/shared/pod-spec';
import { LiveWaiter, envValue, looksLikeMigration, podSpecOf, rolloutWaiterOf, waitersOf } from './model';
import { Snapshot } from './snapshot';

/* The facts of each release, read from one snapshot of the namespace: no API call here. */

export const COMPONENT = 'app.kubernetes.io/component';
export const INSTANCE = 'app.kubernetes.io/instance';
export const VERSION = 'app.kubernetes.io/version';
const JOB_NAME_LABELS = ['batch.kubernetes.io/job-name', 'job-name'];

export type JobState = 'Complete' | 'Failed' | 'Running' | 'Suspended' | 'Pending';

export interface WorkloadFacts {
  readonly kind: string;
  readonly name: string;
  readonly object: any;
  readonly desired: number;
  readonly updated: number;
  readonly available: number;
  readonly rolledOut: boolean;
  /** The rollout is reported failed (ProgressDeadlineExceeded). */
  readonly stalled: boolean;
  /** Whether its pod template waits for this release (it is rolling to it, or has). */
  readonly templateWaits: boolean;
  /** Its pods of this release that are still held by a waiter, oldest first. */
  readonly heldPods: readonly any[];
  /** Its pods of this release that passed their waiter, then crash: the app and the schema may disagree. */
  readonly crashingPods: readonly any[];
  /** The waiters, from a held pod when there is one, else from the template. */
  readonly waiters: readonly LiveWaiter[];
  /** The pod the waiters were read from, if any. */
  readonly waiterPod?: any;
}

export interface ReleaseFacts {
  readonly jobName: string;
  /** Where its waiters look for the Job (the namespace diagnosed, unless a waiter says otherwise). */
  readonly namespace: string;
  readonly job?: any;
  readonly jobPods: readonly any[];
  readonly tag?: string;
  /** When it started: the Job's creation, else its oldest waiting pod's, else the ledger entry's. */
  readonly createdAt: number;
  readonly ledgerName?: string;
  readonly ledgerConfigMap?: any;
  readonly ledgerEntry?: { readonly succeededAt?: string };
  readonly workloads: readonly WorkloadFacts[];
  readonly postDeployJobs: readonly any[];
  /** Other migration Jobs of the same application that are active now. */
  readonly concurrent: readonly any[];
  /** When the waited Job is missing: a migration Job of the same application that nothing waits for. */
  readonly unwaitedCandidate?: any;
}

/** A timestamp of the API (RFC 3339) in milliseconds, NaN when absent. */
export const time = (value: unknown): number => (typeof value === 'string' ? Date.parse(value) : NaN);
const labels = (o: any): Record<string, string> => o?.metadata?.labels ?? {};
/** An object's name, '' when it has none. */
export const name = (o: any): string => o?.metadata?.name ?? '';

export function condition(o: any, type: string): any | undefined {
  return (o?.status?.conditions ?? []).find((c: any) => c?.type === type && c?.status === 'True');
}

export function jobState(job: any): JobState {
  if (condition(job, 'Complete')) return 'Complete';
  if (condition(job, 'Failed') || condition(job, 'FailureTarget')) return 'Failed';
  if (job?.spec?.suspend) return 'Suspended';
  return (job?.status?.active ?? 0) > 0 ? 'Running' : 'Pending';
}

export function isPostDeploy(job: any): boolean {
  return labels(job)[COMPONENT] === 'post-migration' || rolloutWaiterOf(job) !== undefined;
}

/** What `kubectl get pods` shows in its STATUS column, for the cases that matter here. */
export function podState(pod: any): string {
  if (pod?.metadata?.deletionTimestamp) return 'Terminating';
  const inits: any[] = pod?.spec?.initContainers ?? [];
  const initStatuses: any[] = pod?.status?.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const s = initStatuses.find((x) => x?.name === inits[i]?.name);
    const state = s?.state ?? {};
    if (state.terminated?.exitCode === 0) continue;
    if (state.terminated) return `Init:${state.terminated.reason && state.terminated.reason !== 'Error' ? state.terminated.reason : 'Error'}`;
    if (state.waiting?.reason && state.waiting.reason !== 'PodInitializing') return `Init:${state.waiting.reason}`;
    return `Init:${i}/${inits.length}`;
  }
  for (const s of pod?.status?.containerStatuses ?? []) {
    if (s?.state?.waiting?.reason && s.state.waiting.reason !== 'ContainerCreating') return s.state.waiting.reason;
    if (s?.state?.terminated && pod?.status?.phase !== 'Succeeded') return s.state.terminated.reason ?? 'Error';
  }
  return pod?.status?.phase ?? 'Unknown';
}

/** Whether an init container of the pod has not finished successfully yet. */
export function initNotDone(pod: any, container: string): boolean {
  const s = (pod?.status?.initContainerStatuses ?? []).find((x: any) => x?.name === container);
  return pod?.status?.phase !== 'Succeeded' && pod?.status?.phase !== 'Failed' && s?.state?.terminated?.exitCode !== 0;
}

/**
 * Whether the waiter container has a service-account token. A live pod shows it as a volume mounted
 * at the token path (admission adds the automounted one); a template leaves it to admission.
 */
export function tokenMounted(podSpec: any, container: string, isPod: boolean): boolean {
  const c = (podSpec?.initContainers ?? []).find((x: any) => x?.name === container);
  if ((c?.volumeMounts ?? []).some((m: any) => typeof m?.mountPath === 'string' && m.mountPath.replace(/\/$/, '') === SERVICE_ACCOUNT_PATH)) {
    return true;
  }
  return !isPod && podSpec?.automountServiceAccountToken !== false;
}

/** The container whose log tells what the migration did. */
export function migrationContainer(podOrJob: any): string | undefined {
  const spec = podSpecOf(podOrJob) ?? podOrJob?.spec;
  const annotated = (podOrJob?.spec?.template?.metadata ?? podOrJob?.metadata)?.annotations?.['kubectl.kubernetes.io/default-container'];
  const all: any[] = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  const named = all.find((c) => c?.name === annotated) ?? all.find((c) => c?.name === 'migrate');
  return named?.name ?? spec?.containers?.[0]?.name;
}

/** A main container that keeps failing after the init containers finished. */
function crashes(pod: any): boolean {
  return (pod?.status?.containerStatuses ?? []).some((s: any) =>
    /CrashLoopBackOff|RunContainerError/.test(s?.state?.waiting?.reason ?? '') || (s?.state?.terminated && s.state.terminated.exitCode !== 0));
}

const newestFirst = (a: any, b: any): number => (time(b.metadata?.creationTimestamp) || 0) - (time(a.metadata?.creationTimestamp) || 0);

function ownerOf(o: any, kind: string): string | undefined {
  return (o?.metadata?.ownerReferences ?? []).find((r: any) => r?.kind === kind)?.name;
}

function jobOfPod(pod: any): string | undefined {
  const l = labels(pod);
  return ownerOf(pod, 'Job') ?? JOB_NAME_LABELS.map((k) => l[k]).find((v) => v !== undefined);
}

function rollout(kind: string, o: any): { desired: number; updated: number; available: number; rolledOut: boolean; stalled: boolean } {
  const s = o?.status ?? {};
  if (kind === 'Job' || kind === 'CronJob' || kind === 'Pod') {
    // Nothing rolls out: their pods wait, then run to completion.
    return { desired: 0, updated: 0, available: 0, rolledOut: true, stalled: false };
  }
  if (kind === 'DaemonSet') {
    const desired = s.desiredNumberScheduled ?? 0;
    const updated = s.updatedNumberScheduled ?? 0;
    const available = s.numberAvailable ?? 0;
    return { desired, updated, available, rolledOut: updated === desired && available === desired, stalled: false };
  }
  const desired = o?.spec?.replicas ?? 1;
  const updated = s.updatedReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const stalled = (s.conditions ?? []).some((c: any) => c.reason === 'ProgressDeadlineExceeded');
  return { desired, updated, available, rolledOut: updated === desired && available === desired && (s.replicas ?? desired) === desired, stalled };
}

/** Finds every release in the snapshot: Jobs labelled as migrations, and Jobs that waiters name. */
export function collectReleases(snapshot: Snapshot): ReleaseFacts[] {
  const ns = snapshot.namespace;
  const jobsByName = new Map(snapshot.jobs.map((j) => [name(j), j]));
  const rsOwner = new Map(snapshot.replicaSets.map((rs) => [name(rs), ownerOf(rs, 'Deployment')]));
  // Every kind gate() accepts: a gated Job, CronJob or bare Pod holds its pods like a Deployment.
  const gatedJobs = snapshot.jobs.filter((j) => ownerOf(j, 'CronJob') === undefined && waitersOf(j, ns).length > 0);
  const workloads = [
    ...snapshot.deployments.map((o) => ({ kind: 'Deployment', o })),
    ...snapshot.statefulSets.map((o) => ({ kind: 'StatefulSet', o })),
    ...snapshot.daemonSets.map((o) => ({ kind: 'DaemonSet', o })),
    ...snapshot.cronJobs.map((o) => ({ kind: 'CronJob', o })),
    ...gatedJobs.map((o) => ({ kind: 'Job', o })),
    ...snapshot.pods.filter((p) => (p?.metadata?.ownerReferences ?? []).length === 0 && waitersOf(p, ns).length > 0).map((o) => ({ kind: 'Pod', o })),
  ];
  const cronJobOfJob = new Map(snapshot.jobs.map((j) => [name(j), ownerOf(j, 'CronJob')]));
  const workloadOfPod = (pod: any): string | undefined => {
    const job = ownerOf(pod, 'Job');
    if (job !== undefined) {
      const cronJob = cronJobOfJob.get(job);
      return cronJob !== undefined ? `CronJob/${cronJob}` : `Job/${job}`;
    }
    if ((pod?.metadata?.ownerReferences ?? []).length === 0) return `Pod/${name(pod)}`;
    const rs = ownerOf(pod, 'ReplicaSet');
    if (rs !== undefined) {
      // Without the ReplicaSets, the Deployment's name is the ReplicaSet's without its hash.
      const deployment = rsOwner.has(rs) ? rsOwner.get(rs) : rs.replace(/-[a-z0-9]+$/, '');
      return deployment !== undefined ? `Deployment/${deployment}` : undefined;
    }
    const sts = ownerOf(pod, 'StatefulSet');
    if (sts !== undefined) return `StatefulSet/${sts}`;
    const ds = ownerOf(pod, 'DaemonSet');
    return ds !== undefined ? `DaemonSet/${ds}` : undefined;
  };

  // key of release -> facts under construction
  const releases = new Map<string, { jobName: string; namespace: string; templates: Set<string>; pods: any[]; waiters: LiveWaiter[] }>();
  const release = (jobName: string, namespace: string) => {
    const key = `${namespace}/${jobName}`;
    const r = releases.get(key) ?? { jobName, namespace, templates: new Set<string>(), pods: [], waiters: [] };
    releases.set(key, r);
    return r;
  };
  const waited = new Set<string>();
  for (const { kind, o } of workloads) {
    for (const w of waitersOf(o, ns)) {
      const r = release(w.jobName, w.namespace);
      r.templates.add(`${kind}/${name(o)}`);
      r.waiters.push(w);
      waited.add(w.jobName);
    }
  }
  for (const pod of snapshot.pods) {
    for (const w of waitersOf(pod, ns)) {
      const r = release(w.jobName, w.namespace);
      r.pods.push(pod);
      r.waiters.push(w);
      waited.add(w.jobName);
    }
  }
  const migrationJobs = snapshot.jobs.filter((j) => !isPostDeploy(j) && (labels(j)[COMPONENT] === 'migration' || waited.has(name(j)) || looksLikeMigration(j)));
  for (const job of migrationJobs) {
    release(name(job), ns);
  }

  const podsByJob = new Map<string, any[]>();
  for (const pod of snapshot.pods) {
    const j = jobOfPod(pod);
    if (j !== undefined) podsByJob.set(j, [...(podsByJob.get(j) ?? []), pod]);
  }
  const active = migrationJobs.filter((j) => jobState(j) === 'Running' || jobState(j) === 'Pending');
  const postDeploy = snapshot.jobs.filter(isPostDeploy);

  return [...releases.values()].map((r) => {
    const job = r.namespace === ns ? jobsByName.get(r.jobName) : undefined;
    // The application: the Job's instance label, else that of the workloads that wait for it.
    const appOf = (): string | undefined => (job ? labels(job)[INSTANCE] : undefined)
      ?? workloads.filter(({ kind, o }) => r.templates.has(`${kind}/${name(o)}`)).map(({ o }) => labels(o)[INSTANCE]).find((v) => v);
    const ledgerName = r.waiters.find((w) => w.ledger)?.ledger
      ?? (job ? (podSpecOf(job)?.containers ?? []).map((c: any) => envValue(c, 'MIGRATION_LEDGER')).find((v: any) => v) : undefined)
      ?? (appOf() !== undefined ? `${appOf()}-migration-ledger` : undefined);
    const ledgerConfigMap = ledgerName !== undefined ? snapshot.configMaps.find((c) => name(c) === ledgerName) : undefined;
    let ledgerEntry: { succeededAt?: string } | undefined;
    try {
      ledgerEntry = ledgerConfigMap?.data?.[r.jobName] !== undefined ? JSON.parse(ledgerConfigMap.data[r.jobName]) : undefined;
    } catch {
      ledgerEntry = { succeededAt: undefined };
    }
    const keys = new Set([...r.templates, ...r.pods.map(workloadOfPod).filter((k): k is string => k !== undefined)]);
    const built: WorkloadFacts[] = workloads.filter(({ kind, o }) => keys.has(`${kind}/${name(o)}`)).map(({ kind, o }) => {
      const key = `${kind}/${name(o)}`;
      const mine = r.pods.filter((p) => workloadOfPod(p) === key);
      const held = mine.filter((p) => waitersOf(p, ns).some((w) => w.jobName === r.jobName && initNotDone(p, w.container)))
        .sort((a, b) => -newestFirst(a, b));
      const waiterPod = held[0] ?? mine[0];
      const source = waiterPod ?? o;
      return {
        kind,
        name: name(o),
        object: o,
        ...rollout(kind, o),
        templateWaits: r.templates.has(key),
        heldPods: held,
        crashingPods: mine.filter((p) => !held.includes(p) && crashes(p)),
        // Only waiters that still matter: of the template (new pods will wait) or of held pods.
        waiters: r.templates.has(key) || held.length > 0 ? waitersOf(source, ns).filter((w) => w.jobName === r.jobName) : [],
        waiterPod,
      };
    });
    // A workload whose template moved on to another release, and none of whose pods still wait for
    // this one, is no longer gated by it: its started pods need nothing from this Job any more,
    // unless they crash (a newer migration may have changed the schema under them).
    const workloadFacts = built.filter((w) => w.templateWaits || w.heldPods.length > 0 || w.crashingPods.length > 0);
    const app = job ? labels(job)[INSTANCE] : workloadFacts.map((w) => labels(w.object)[INSTANCE]).find((v) => v);
    const tag = job
      ? labels(job)[VERSION]
      : workloadFacts.map((w) => labels(w.object.spec?.template)[VERSION] ?? labels(w.object)[VERSION]).find((v) => v);
    const jobPods = [...(podsByJob.get(r.jobName) ?? [])].sort(newestFirst);
    const gatedNames = new Set(workloadFacts.map((w) => `${w.kind}/${w.name}`));
    const concurrent = job && (jobState(job) === 'Running' || jobState(job) === 'Pending')
      ? active.filter((other) => other !== job && (app !== undefined ? labels(other)[INSTANCE] === app : true))
      : [];
    const unwaitedCandidate = job ? undefined : migrationJobs
      .filter((j) => !waited.has(name(j)) && (app === undefined || labels(j)[INSTANCE] === undefined || labels(j)[INSTANCE] === app)
        && (tag === undefined || labels(j)[VERSION] === undefined || labels(j)[VERSION] === tag))
      .sort(newestFirst)[0];
    const createdAt = time(job?.metadata?.creationTimestamp)
      || Math.min(...r.pods.map((p) => time(p.metadata?.creationTimestamp) || Infinity), time(ledgerEntry?.succeededAt) || Infinity);
    return {
      jobName: r.jobName,
      namespace: r.namespace,
      job,
      jobPods,
      tag,
      createdAt: Number.isFinite(createdAt) ? createdAt : 0,
      ledgerName,
      ledgerConfigMap,
      ledgerEntry,
      workloads: workloadFacts,
      postDeployJobs: postDeploy.filter((p) => {
        const w = rolloutWaiterOf(p);
        const names = w ? envValue(w, 'RELEASE_MIGRATION_JOB') : undefined;
        return names !== undefined ? names === r.jobName : (tag !== undefined && labels(p)[VERSION] === tag && labels(p)[INSTANCE] === app);
      }).sort(newestFirst),
      concurrent,
      unwaitedCandidate: gatedNames.size > 0 ? unwaitedCandidate : undefined,
    };
  }).sort((a, b) => b.createdAt - a.createdAt);
}
