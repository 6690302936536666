import { before, keyOf } from 'cdk8s-migrated-service/lib/program/queue-order';
import { COMPONENT, initNotDone, INSTANCE, jobState, JobState, migrationContainer, name, podState, ReleaseFacts, time, tokenMounted, VERSION, WorkloadFacts } from './facts';
import { Kubectl, KubectlError } from './kubectl';
import { Need } from './model';
import { nearestName } from './nearest';
import { missingPrograms } from './program';
import { Snapshot } from './snapshot';

export type Verdict = 'OK' | 'WAITING' | 'FAILED';

export interface WaiterReport {
  readonly container: string;
  readonly kind: string;
  /** The Job it waits for, and where it looks. */
  readonly job: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly jobExists: boolean;
  /** False for a waiter that cannot end on a failed Job (`kubectl wait --for=condition=complete`). */
  readonly noticesFailure: boolean;
  readonly tokenMounted: boolean;
  /** Each permission it needs: true, false, or undefined when it could not be checked. */
  readonly access: ReadonlyArray<{ readonly need: string; readonly allowed?: boolean }>;
  readonly accessNote?: string;
  readonly pod?: string;
  readonly lastLog?: string;
  readonly logNote?: string;
}

export interface WorkloadReport {
  readonly kind: string;
  readonly name: string;
  readonly desired: number;
  readonly updated: number;
  readonly available: number;
  readonly rolledOut: boolean;
  readonly stalled: boolean;
  /** Its pod template waits for this release: it is rolling out to it, or has. */
  readonly templateWaits: boolean;
  readonly heldPods: ReadonlyArray<{ readonly name: string; readonly state: string }>;
  /** Pods of this release past their waiter whose containers crash. */
  readonly crashingPods: ReadonlyArray<{ readonly name: string; readonly state: string }>;
  readonly waiters: readonly WaiterReport[];
}

export interface JobReport {
  readonly name: string;
  readonly state: JobState;
  readonly reason?: string;
  readonly message?: string;
  readonly ageSeconds: number;
  readonly deadlineSeconds?: number;
  readonly pod?: { readonly name: string; readonly state: string };
  readonly logContainer?: string;
  readonly log?: readonly string[];
  readonly logNote?: string;
  /** The newest warning event about the Job or its pod. */
  readonly event?: string;
}

export interface ReleaseReport {
  readonly job: string;
  readonly namespace: string;
  readonly tag?: string;
  readonly verdict: Verdict;
  /** Why, in one line. */
  readonly reason: string;
  /** The command to run, or the fix. */
  readonly next: string;
  /** WAITING for longer than the threshold: counts as a problem. */
  readonly stuck: boolean;
  readonly migration?: JobReport;
  /** When the Job the waiters name does not exist: the existing Job whose name is nearest to it. */
  readonly nearestJob?: string;
  readonly ledger?: { readonly name: string; readonly exists: boolean; readonly succeededAt?: string };
  readonly workloads: readonly WorkloadReport[];
  readonly postDeploy?: JobReport & { readonly waitingFor?: string };
  readonly concurrent: ReadonlyArray<{ readonly job: string; readonly tag?: string }>;
  readonly notes: readonly string[];
}

export interface DoctorOptions {
  readonly job?: string;
  readonly release?: string;
  /** How many releases to report, newest first. */
  readonly last: number;
  /** WAITING longer than this is a problem. */
  readonly stuckAfterSeconds: number;
  readonly logLines: number;
}

export interface DoctorReport {
  readonly namespace: string;
  readonly releases: readonly ReleaseReport[];
  /** How many releases the namespace holds, before --last and the filters. */
  readonly found: number;
  readonly notes: readonly string[];
}

const LOG_READERS = 6;

export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}

function needText(n: Need): string {
  return `${n.verb} ${n.group ? `${n.resource}.${n.group}` : n.resource} "${n.name}" in ${n.namespace}`;
}

function userOf(namespace: string, serviceAccount: string): string {
  return `system:serviceaccount:${namespace}:${serviceAccount}`;
}

function reviewOf(user: string, namespace: string, n: Need): any {
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
      resourceAttributes: { namespace: n.namespace, verb: n.verb, group: n.group, resource: n.resource, name: n.name },
    },
  };
}

/** Whether the release matches `--job` / `--release`. */
export function selected(r: ReleaseFacts, options: DoctorOptions): boolean {
  if (options.job !== undefined && r.jobName !== options.job) return false;
  if (options.release !== undefined) {
    const tag = options.release;
    const images: string[] = [...(r.job?.spec?.template?.spec?.containers ?? []), ...(r.job?.spec?.template?.spec?.initContainers ?? [])].map((c: any) => String(c?.image ?? ''));
    const sanitized = tag.replace(/[^A-Za-z0-9_.-]/g, '-');
    return r.tag === tag || r.tag === sanitized || r.jobName === tag || images.some((i) => i.endsWith(`:${tag}`))
      || (r.tag === undefined && r.workloads.some((w) => w.object?.spec?.template?.metadata?.labels?.[VERSION] === sanitized));
  }
  return true;
}

/** The extra reads for the releases shown: bounded by their number, never by the namespace's pods. */
interface Lookups {
  readonly logs: Map<string, { text?: string; note?: string }>;
  readonly access: Map<string, boolean>;
  readonly accessNote?: string;
  /** Job name -> the namespaces where a Job of that name exists (outside the one diagnosed). */
  readonly elsewhere: Map<string, string[]>;
  readonly elsewhereNote: Map<string, string>;
}

function logNote(e: unknown): string {
  if (e instanceof KubectlError) {
    if (e.kind === 'forbidden') return `cannot read its log: you may not get pods/log (${e.message})`;
    return `cannot read its log: ${e.message}`;
  }
  return `cannot read its log: ${(e as Error).message}`;
}

function waiterPlan(facts: readonly ReleaseFacts[]): Array<{ user: string; namespace: string; need: Need }> {
  const plan = new Map<string, { user: string; namespace: string; need: Need }>();
  for (const r of facts) {
    for (const w of r.workloads) {
      const spec = w.waiterPod?.spec ?? w.object?.spec?.template?.spec;
      const sa = spec?.serviceAccountName ?? spec?.serviceAccount ?? 'default';
      const podNamespace = w.object?.metadata?.namespace ?? r.namespace;
      for (const waiter of w.waiters) {
        for (const need of waiter.needs) {
          const user = userOf(podNamespace, sa);
          plan.set(`${user} ${needText(need)}`, { user, namespace: podNamespace, need });
        }
      }
    }
  }
  return [...plan.values()];
}

async function lookUp(kubectl: Kubectl, snapshot: Snapshot, facts: readonly ReleaseFacts[], options: DoctorOptions): Promise<Lookups> {
  const logs = new Map<string, { text?: string; note?: string }>();
  const reads: Array<{ key: string; pod: any; container: string; tail: number }> = [];
  for (const r of facts) {
    // The migration's log matters while it runs or once it failed; a Complete one is not read.
    const pod = r.job && jobState(r.job) !== 'Complete' ? r.jobPods[0] : undefined;
    const container = pod ? migrationContainer(pod) : undefined;
    if (pod && container) reads.push({ key: `${name(pod)}/${container}`, pod, container, tail: options.logLines });
    for (const w of r.workloads) {
      const held = w.heldPods[0];
      for (const waiter of held ? w.waiters : []) reads.push({ key: `${name(held)}/${waiter.container}`, pod: held, container: waiter.container, tail: 1 });
    }
    for (const p of r.postDeployJobs.slice(0, 1)) {
      const ppod = snapshot.pods.find((x) => (x?.metadata?.ownerReferences ?? []).some((o: any) => o?.kind === 'Job' && o?.name === name(p)));
      const c = ppod ? (jobState(p) === 'Failed' ? migrationContainer(ppod) : ppod.spec?.initContainers?.[0]?.name) : undefined;
      if (ppod && c) reads.push({ key: `${name(ppod)}/${c}`, pod: ppod, container: c, tail: jobState(p) === 'Failed' ? options.logLines : 1 });
    }
  }
  const plan = waiterPlan(facts);
  const access = new Map<string, boolean>();
  let accessNote: string | undefined;
  const missing = [...new Set(facts.filter((r) => !r.job && r.workloads.length > 0).map((r) => r.jobName))];
  const elsewhere = new Map<string, string[]>();
  const elsewhereNote = new Map<string, string>();
  // One kubectl process per log: at most LOG_READERS at a time, so that many releases do not fork
  // dozens of processes at once.
  const queue = [...reads];
  const readLogs = async (): Promise<void> => {
    for (let read = queue.shift(); read; read = queue.shift()) {
      try {
        logs.set(read.key, { text: await kubectl.logs(snapshot.namespace, name(read.pod), read.container, read.tail) });
      } catch (e) {
        logs.set(read.key, { note: logNote(e) });
      }
    }
  };
  await Promise.all([
    ...Array.from({ length: LOG_READERS }, readLogs),
    (async () => {
      try {
        const answers = await kubectl.review(plan.map((p) => reviewOf(p.user, p.namespace, p.need)));
        plan.forEach((p, i) => access.set(`${p.user} ${needText(p.need)}`, answers[i]?.status?.allowed === true));
      } catch (e) {
        accessNote = e instanceof KubectlError && e.kind === 'forbidden'
          ? 'could not check the waiters\' permissions: you may not create SubjectAccessReviews (ask for create on subjectaccessreviews.authorization.k8s.io, or have an admin run kubectl auth can-i --as=system:serviceaccount:<namespace>:<account>)'
          : `could not check the waiters' permissions: ${(e as Error).message}`;
      }
    })(),
    ...missing.map(async (job) => {
      try {
        elsewhere.set(job, (await kubectl.listNamedEverywhere('jobs', job)).map((j) => j?.metadata?.namespace));
      } catch (e) {
        elsewhereNote.set(job, `could not look for Job ${job} in other namespaces: ${(e as Error).message}`);
      }
    }),
  ]);
  return { logs, access, accessNote, elsewhere, elsewhereNote };
}

/** The image tags of a pod spec's containers, without the waiters' (init containers) when asked. */
function tagsOf(podSpec: any, appOnly: boolean): Set<string> {
  const containers: any[] = [...(podSpec?.containers ?? []), ...(appOnly ? [] : podSpec?.initContainers ?? [])];
  const tags = containers.map((c) => /^[^@]+:([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/.exec(String(c?.image ?? '').replace(/^[^/]+:\d+\//, ''))?.[1])
    .filter((t): t is string => t !== undefined);
  return new Set(tags);
}

function lastLine(text: string | undefined): string | undefined {
  return text?.split('\n').map((l) => l.trim()).filter((l) => l).pop();
}

function warningEvent(snapshot: Snapshot, objectNames: readonly string[]): string | undefined {
  const events = snapshot.events.filter((e) => e?.type === 'Warning' && objectNames.includes(e?.involvedObject?.name))
    .sort((a, b) => (time(b.lastTimestamp ?? b.eventTime) || 0) - (time(a.lastTimestamp ?? a.eventTime) || 0));
  return events[0] ? `${events[0].reason}: ${events[0].message}` : undefined;
}

function jobReport(snapshot: Snapshot, job: any, pods: readonly any[], lookups: Lookups, logLines: number): JobReport {
  const state = jobState(job);
  const cond = (job.status?.conditions ?? []).find((c: any) => c?.status === 'True' && ['Failed', 'FailureTarget', 'Complete'].includes(c?.type));
  const started = time(job.status?.startTime) || time(job.metadata?.creationTimestamp) || snapshot.now;
  const ended = time(job.status?.completionTime) || (state === 'Failed' ? time(cond?.lastTransitionTime) : NaN);
  const pod = pods[0];
  const container = pod ? migrationContainer(pod) : undefined;
  const log = pod && container ? lookups.logs.get(`${name(pod)}/${container}`) : undefined;
  // A pod no node was assigned to has no log: the API server answers 204, and kubectl logs prints nothing.
  const unscheduled = log?.text !== undefined && !lastLine(log.text) && !pod?.spec?.nodeName;
  return {
    name: name(job),
    state,
    reason: cond?.reason,
    message: cond?.message,
    ageSeconds: ((Number.isFinite(ended) ? ended : snapshot.now) - started) / 1000,
    deadlineSeconds: job.spec?.activeDeadlineSeconds,
    pod: pod ? { name: name(pod), state: podState(pod) } : undefined,
    logContainer: container,
    log: log?.text !== undefined && !unscheduled ? log.text.split('\n').filter((l) => l).slice(-logLines) : undefined,
    logNote: log?.note ?? (unscheduled ? `no log yet: pod ${name(pod)} is not on a node (not scheduled); kubectl describe pod -n ${snapshot.namespace} ${name(pod)} shows why` : undefined),
    event: warningEvent(snapshot, [name(job), ...pods.map(name)]),
  };
}

interface Problem {
  readonly verdict: Verdict;
  readonly reason: string;
  readonly next: string;
}

function judge(snapshot: Snapshot, r: ReleaseFacts, lookups: Lookups, options: DoctorOptions): ReleaseReport {
  const ns = snapshot.namespace;
  const problems: Problem[] = [];
  const notes: string[] = [];
  const migration = r.job ? jobReport(snapshot, r.job, r.jobPods, lookups, options.logLines) : undefined;
  const jobRef = `Job ${r.namespace}/${r.jobName}`;
  // Its pod waits in wait-for-turn: the Job in front is another release's.
  const queued = waitsForTurn(r.jobPods[0]) ? inFront(snapshot, r) : undefined;
  const logsCommand = `kubectl logs -n ${r.namespace} job/${r.jobName}${migration?.logContainer ? ` -c ${migration.logContainer}` : ''}`;

  const workloads: WorkloadReport[] = r.workloads.map((w) => workloadReport(r, w, lookups));
  const waiters = workloads.flatMap((w) => w.waiters.map((x) => ({ w, x })));
  const held = workloads.reduce((n, w) => n + w.heldPods.length, 0);
  const heldText = (): string => workloads.filter((w) => w.heldPods.length > 0)
    .map((w) => `${w.heldPods.length} pod${w.heldPods.length === 1 ? '' : 's'} of ${w.kind} ${w.name} (${w.heldPods[0].state})`).join(', ');

  // The waiters: where they look, whether they may read, whether they have a token. Reported after
  // the Job's own state, which is the root cause when both are wrong.
  const waiterProblems: Problem[] = [];
  for (const { w, x } of waiters) {
    const who = `waiter ${x.container} of ${w.kind} ${w.name}`;
    if (!x.tokenMounted) {
      waiterProblems.push({ verdict: 'FAILED', reason: `${who} has no service-account token mounted (automountServiceAccountToken: false), so it cannot ask for ${jobRef}`, next: `mount the token in the waiter: automountServiceAccountToken: true on the ${w.kind}'s pod template` });
    }
    const denied = x.access.filter((a) => a.allowed === false);
    if (denied.length > 0) {
      waiterProblems.push({ verdict: 'FAILED', reason: `ServiceAccount ${ns}/${x.serviceAccount} may not ${denied.map((a) => a.need).join(', ')} (SubjectAccessReview), so ${who} cannot see ${jobRef}`, next: `grant it with a Role and RoleBinding; check: kubectl auth can-i ${denied[0].need.split(' ')[0]} jobs.batch/${x.job} -n ${x.namespace} --as=system:serviceaccount:${ns}:${x.serviceAccount}` });
    }
  }
  if (lookups.accessNote && waiters.length > 0) notes.push(lookups.accessNote);
  if (migration?.state === 'Failed') {
    for (const { w, x } of waiters.filter((e) => !e.x.noticesFailure)) {
      notes.push(`waiter ${x.container} of ${w.kind} ${w.name} waits for condition=complete only: on this failed Job it waits until its --timeout, then exits 1`);
    }
  }
  const elsewhereNote = lookups.elsewhereNote.get(r.jobName);
  if (elsewhereNote && !r.job) notes.push(elsewhereNote);

  // The existing Job whose name is nearest to the one the waiters name, when that one does not exist.
  const nearest = !r.job && r.namespace === ns ? nearestName(r.jobName, snapshot.jobs.map(name)) : undefined;
  if (!r.job) {
    const kinds = new Set(waiters.map(({ x }) => x.kind));
    const onlyLibrary = kinds.size > 0 && [...kinds].every((k) => k === 'library');
    const candidate = r.unwaitedCandidate;
    const elsewhere = (lookups.elsewhere.get(r.jobName) ?? []).filter((n) => n !== r.namespace);
    const whoList = waiters.map(({ w, x }) => `waiter ${x.container} of ${w.kind} ${w.name}`).filter((v, i, all) => all.indexOf(v) === i);
    const who = whoList.join(', ') || 'the waiters';
    // "waiter w of Deployment d waits", "the waiters wait"
    const verbS = whoList.length === 1 ? 's' : '';
    // k8s-wait-for's `kubectl describe jobs <name>` falls back to every Job whose name starts with it.
    const prefixed = kinds.has('k8s-wait-for') && r.namespace === ns ? snapshot.jobs.map(name).filter((n) => n.startsWith(r.jobName)) : [];
    if (prefixed.length > 0) {
      problems.push({
        verdict: 'FAILED',
        reason: `no Job is named ${r.jobName}, so k8s-wait-for's kubectl describe falls back to the ${prefixed.length} Job${prefixed.length === 1 ? '' : 's'} whose name starts with it (${prefixed.slice(0, 3).join(', ')}${prefixed.length > 3 ? ', …' : ''}) and judges them together`,
        next: `make the waiter name this release's Job exactly${prefixed.length === 1 ? `: ${prefixed[0]}` : ''}`,
      });
    } else if (elsewhere.length > 0) {
      problems.push({ verdict: 'FAILED', reason: `${who} look${verbS} for Job ${r.jobName} in namespace ${r.namespace}, but it is in ${elsewhere.join(', ')}`, next: `put the Job and the workload in one namespace (set the chart's namespace), or point the waiter at ${elsewhere[0]}` });
    } else if (candidate) {
      problems.push({ verdict: 'FAILED', reason: `${who} wait${verbS} for Job ${r.jobName}, which does not exist; this release's migration Job is ${name(candidate)}`, next: `make the waiter and the Job agree on one name (both come from the image tag): ${name(candidate)} or ${r.jobName}` });
    } else if (r.ledgerEntry?.succeededAt && onlyLibrary) {
      notes.push(`${jobRef} is gone, but ledger ConfigMap ${r.ledgerName} records its success at ${r.ledgerEntry.succeededAt}: its pods start from the ledger`);
    } else if (r.ledgerEntry?.succeededAt) {
      problems.push({ verdict: 'FAILED', reason: `${jobRef} is gone; ledger ${r.ledgerName} records its success, but the ${[...kinds].filter((k) => k !== 'library').join(', ')} waiter does not read the ledger and exits 1 on every restart`, next: 're-create the Job from this release\'s manifests (it finds its migrations applied), or use the library\'s waiter (MigrationWaiter.watch())' });
    } else if ((held > 0 || workloads.some((w) => w.templateWaits && !w.rolledOut)) && onlyLibrary) {
      // The library names the Job and its waiters from one tag: the Job is not applied yet, or was deleted.
      const why = r.ledgerName ? `and ledger ${r.ledgerName} has no record of its success` : 'and there is no ledger';
      problems.push({ verdict: 'WAITING', reason: `${jobRef} does not exist ${why}; ${held > 0 ? heldText() : 'the rollout'} wait${held <= 1 ? 's' : ''} for it`, next: 're-apply the release\'s manifests so that the Job runs (flux reconcile / argocd app sync / kubectl apply -f)' });
    } else if (held > 0 || workloads.some((w) => w.templateWaits && !w.rolledOut)) {
      // A hand-written waiter names its Job by hand: a missing Job is most often a misspelt or stale name.
      const nearestText = nearest !== undefined ? `; the nearest existing Job is ${nearest}` : `; no Job in namespace ${r.namespace} has a name near it`;
      problems.push({
        verdict: 'FAILED',
        reason: `${who} wait${verbS} for Job ${r.jobName} in namespace ${r.namespace}, which does not exist${nearestText}; ${held > 0 ? heldText() : 'the rollout'} wait${held <= 1 ? 's' : ''} for it`,
        next: nearest !== undefined
          ? `make the waiter name the Job that runs this release's migration (${nearest}?), or create Job ${r.jobName}: kubectl get jobs -n ${r.namespace}`
          : `create Job ${r.jobName}, or make the waiter name the Job that runs this release's migration: kubectl get jobs -n ${r.namespace}`,
      });
    } else {
      notes.push(`${jobRef} is gone${r.ledgerName ? ` and ledger ${r.ledgerName} has no record of it` : ''}; nothing waits for it any more`);
    }
  } else if (migration) {
    // One image tag per release: a Job whose images carry none of the tags its gated workloads run
    // is another release's, kept under a name that does not change with the tag.
    const jobTags = tagsOf(r.job?.spec?.template?.spec, false);
    for (const w of workloads.filter((x) => x.templateWaits)) {
      const workloadTags = tagsOf(r.workloads.find((f) => f.kind === w.kind && f.name === w.name)?.object?.spec?.template?.spec, true);
      if (jobTags.size > 0 && workloadTags.size > 0 && ![...jobTags].some((t) => workloadTags.has(t))) {
        problems.push({
          verdict: 'FAILED',
          reason: `Job ${r.jobName} runs tag ${[...jobTags].join(', ')}, but ${w.kind} ${w.name} runs ${[...workloadTags].join(', ')}: a Job name that stays the same across releases makes the new pods wait for the old migration, and the new one never runs`,
          next: 'put the image tag in the Job\'s name, so that each release gets its own Job (lint rule MS001)',
        });
      }
    }
    const deadline = migration.deadlineSeconds !== undefined ? ` of its ${duration(migration.deadlineSeconds)} deadline` : ' (no deadline)';
    if (migration.state === 'Failed') {
      const timedOut = migration.reason === 'DeadlineExceeded';
      problems.push({
        verdict: 'FAILED',
        reason: `the migration failed (${migration.reason ?? 'no reason'}: ${migration.message ?? 'no message'})${timedOut ? `: it ran into its own deadline, activeDeadlineSeconds=${migration.deadlineSeconds}` : ''}`,
        next: timedOut
          ? `${logsCommand}; look for a lock or an unreachable database, or raise migrationTimeout (and the engine's timeout with it)`
          : `${logsCommand}; fix the migration and ship a new tag, or re-create this Job`,
      });
    } else if (queued && (migration.state === 'Running' || migration.state === 'Pending')) {
      problems.push(queuedProblem(snapshot, r, queued));
    } else if (migration.state === 'Running' || migration.state === 'Pending' || migration.state === 'Suspended') {
      const podNote = migration.pod ? `; its pod ${migration.pod.name} is ${migration.pod.state}` : migration.event ? `; no pod: ${migration.event}` : '; no pod yet';
      // A Job that cannot create its pod (admission, quota, a missing ServiceAccount) says so in an event.
      const cannotCreate = !migration.pod && migration.event !== undefined && /^FailedCreate/.test(migration.event);
      const stuckPod = cannotCreate || (migration.pod && /ImagePull|ErrImage|CreateContainerConfigError|InvalidImageName|CrashLoopBackOff/.test(migration.pod.state));
      problems.push({
        verdict: stuckPod ? 'FAILED' : 'WAITING',
        reason: `the migration is ${migration.state === 'Suspended' ? 'suspended' : 'running'} for ${duration(migration.ageSeconds)}${deadline}${podNote}${held > 0 ? `; ${heldText()} wait${held === 1 ? 's' : ''} for it` : ''}`,
        next: cannotCreate ? `kubectl describe job -n ${ns} ${r.jobName}` : stuckPod ? `kubectl describe pod -n ${ns} ${migration.pod!.name}` : `${logsCommand} -f  (a hang: look for a lock held in the database, or a database it cannot reach)`,
      });
      for (const w of workloads.filter((x) => x.stalled)) {
        problems.push({ verdict: 'WAITING', reason: `${w.kind} ${w.name} is reported failed (ProgressDeadlineExceeded) while its migration still runs: its progressDeadlineSeconds is shorter than the migration's deadline`, next: 'make progressDeadlineSeconds longer than migrationTimeout, and the engine\'s timeout longer than both' });
      }
    } else if (held > 0) {
      const log = waiters.map(({ x }) => x.lastLog).find((l) => l);
      problems.push({ verdict: 'WAITING', reason: `${jobRef} is Complete, but ${heldText()} still wait${log ? `; waiter log: ${log}` : ''}`, next: `kubectl describe pod -n ${ns} ${workloads.find((w) => w.heldPods.length > 0)!.heldPods[0].name}` });
    }
  }

  // A missing program ConfigMap holds pods before any waiter runs: it outranks the waiters' own
  // problems (a failed migration, the root cause when both are wrong, is still reported first).
  problems.push(...missingPrograms(snapshot, r).map((m): Problem => ({ verdict: 'FAILED', reason: m.reason, next: m.next })));
  problems.push(...waiterProblems);

  // Rollouts of this release, once the migration is done.
  if (!migration || migration.state === 'Complete') {
    for (const w of workloads.filter((x) => x.crashingPods.length > 0)) {
      const pod = w.crashingPods[0];
      const app = r.workloads.find((f) => f.name === w.name && f.kind === w.kind)?.object?.spec?.template?.spec?.containers?.[0]?.name;
      const pods = `${w.crashingPods.length} pod${w.crashingPods.length === 1 ? '' : 's'} of ${w.kind} ${w.name}`;
      problems.push({
        verdict: 'FAILED',
        reason: w.templateWaits
          ? `the migration succeeded, but ${pods} crash after starting (${pod.state}): the app and the schema may disagree`
          : `${pods} of this release crash (${pod.state}) while the ${w.kind} runs a newer one: a newer migration may have changed the schema under them (expand, then contract)`,
        next: `kubectl logs -n ${ns} ${pod.name}${app ? ` -c ${app}` : ''} --previous`,
      });
    }
    for (const w of workloads.filter((x) => x.templateWaits && !x.rolledOut && x.heldPods.length === 0)) {
      problems.push({ verdict: w.stalled ? 'FAILED' : 'WAITING', reason: `${w.kind} ${w.name} has not rolled out: ${w.updated}/${w.desired} updated, ${w.available} available${w.stalled ? ' (ProgressDeadlineExceeded)' : ''}`, next: `kubectl rollout status -n ${ns} ${w.kind.toLowerCase()}/${w.name}` });
    }
  }

  // Two migrations at once: not one that waits for its turn behind the other.
  for (const other of r.concurrent.filter((o) => !queued && !waitsForTurn(podsOfJob(snapshot, name(o))[0]))) {
    problems.push({ verdict: 'FAILED', reason: `two migrations run at once: Job ${name(other)}${other.metadata?.labels?.[VERSION] ? ` (release ${other.metadata.labels[VERSION]})` : ''} is active too`, next: `check which one should run, and delete the other: kubectl delete job -n ${ns} ${name(other)}` });
  }

  // The post-deploy migration, and the rollout it waits for.
  let postDeploy: (JobReport & { waitingFor?: string }) | undefined;
  const post = r.postDeployJobs[0];
  if (post) {
    const podsOfPost = podsOfJob(snapshot, name(post));
    const report = jobReport(snapshot, post, podsOfPost, lookups, options.logLines);
    const rolloutLog = podsOfPost[0] ? lookups.logs.get(`${name(podsOfPost[0])}/${podsOfPost[0].spec?.initContainers?.[0]?.name}`)?.text : undefined;
    const notRolled = workloads.filter((w) => w.templateWaits && !w.rolledOut);
    const waitingFor = notRolled.map((w) => `${w.kind} ${w.name} (${w.updated}/${w.desired} updated, ${w.available} available)`).join(', ');
    postDeploy = { ...report, waitingFor: waitingFor || lastLine(rolloutLog) };
    const postLogs = `kubectl logs -n ${ns} job/${name(post)}${report.logContainer ? ` -c ${report.logContainer}` : ''}`;
    if (report.state === 'Failed') {
      problems.push({ verdict: 'FAILED', reason: `the post-deploy migration ${name(post)} failed (${report.reason ?? 'no reason'}); the release keeps serving`, next: `${postLogs}; fix it and re-run it before the next contract step` });
    } else if (report.state !== 'Complete') {
      const stuck = problems.some((p) => p.verdict === 'FAILED') || notRolled.some((w) => w.stalled || w.heldPods.length > 0 && migration?.state === 'Failed');
      problems.push({
        verdict: stuck ? 'FAILED' : 'WAITING',
        reason: waitingFor
          ? `the post-deploy migration ${name(post)} waits for ${waitingFor}${stuck ? ', a rollout that is stuck' : ''}`
          : `the post-deploy migration ${name(post)} is ${report.state === 'Running' ? 'running' : report.state.toLowerCase()}`,
        next: stuck ? 'fix the rollout first (see above); the post-deploy migration runs once it completes' : `${postLogs} -f`,
      });
    }
  }

  // Clocks that can be seen from the cluster.
  const deadlineSeconds = r.job?.spec?.activeDeadlineSeconds;
  for (const w of workloads) {
    const progress = w.kind === 'Deployment' ? (r.workloads.find((f) => f.name === w.name && f.kind === w.kind)?.object?.spec?.progressDeadlineSeconds ?? 600) : undefined;
    if (deadlineSeconds !== undefined && progress !== undefined && progress < deadlineSeconds) {
      notes.push(`Deployment ${w.name}'s progressDeadlineSeconds (${progress}) is shorter than the migration's deadline (${deadlineSeconds}): a long migration is reported as a failed rollout before it ends`);
    }
  }
  const hook = r.job?.metadata?.annotations?.['helm.sh/hook'];
  if (hook !== undefined && deadlineSeconds !== undefined && deadlineSeconds > 300) {
    notes.push(`the Job is a Helm hook with a ${duration(deadlineSeconds)} deadline: helm's default --timeout (5m) is shorter; pass --timeout longer than the deadline`);
  }
  if (r.job && r.job.metadata?.labels?.[COMPONENT] !== 'migration' && workloads.length === 0) {
    notes.push('nothing in the namespace waits for this Job');
  }

  const worst = problems.find((p) => p.verdict === 'FAILED') ?? problems.find((p) => p.verdict === 'WAITING');
  const verdict: Verdict = worst?.verdict ?? 'OK';
  const heldSince = r.workloads.flatMap((w) => w.heldPods.map((p) => time(p.metadata?.creationTimestamp) || snapshot.now));
  const oldest = Math.min(...heldSince, snapshot.now);
  const waitedSeconds = Math.max(migration && migration.state !== 'Complete' ? migration.ageSeconds : 0, (snapshot.now - oldest) / 1000);
  const rolling = workloads.filter((w) => !['Job', 'CronJob', 'Pod'].includes(w.kind));
  const okReason = !r.job
    ? (notes[0] ?? `${jobRef} is gone`)
    : `the migration is Complete${migration ? ` (took ${duration(migration.ageSeconds)})` : ''}${rolling.length > 0 ? `; ${rolling.map((w) => `${w.kind} ${w.name} ${w.available}/${w.desired} available`).join(', ')}` : ''}`;
  return {
    job: r.jobName,
    namespace: r.namespace,
    tag: r.tag,
    verdict,
    reason: worst?.reason ?? okReason,
    next: worst?.next ?? 'nothing to do',
    stuck: verdict === 'WAITING' && waitedSeconds > options.stuckAfterSeconds,
    migration,
    nearestJob: nearest,
    ledger: r.ledgerName ? { name: r.ledgerName, exists: r.ledgerConfigMap !== undefined, succeededAt: r.ledgerEntry?.succeededAt } : undefined,
    workloads,
    postDeploy,
    concurrent: r.concurrent.map((j) => ({ job: name(j), tag: j.metadata?.labels?.[VERSION] })),
    notes: [...problems.filter((p) => p !== worst).map((p) => `${p.verdict === 'FAILED' ? 'also' : 'and'}: ${p.reason}`), ...notes],
  };
}

function workloadReport(r: ReleaseFacts, w: WorkloadFacts, lookups: Lookups): WorkloadReport {
  const spec = w.waiterPod?.spec ?? w.object?.spec?.template?.spec;
  const sa = spec?.serviceAccountName ?? spec?.serviceAccount ?? 'default';
  const podNamespace = w.object?.metadata?.namespace ?? r.namespace;
  const held = w.heldPods[0];
  return {
    kind: w.kind,
    name: w.name,
    desired: w.desired,
    updated: w.updated,
    available: w.available,
    rolledOut: w.rolledOut,
    stalled: w.stalled,
    templateWaits: w.templateWaits,
    heldPods: w.heldPods.map((p) => ({ name: name(p), state: podState(p) })),
    crashingPods: w.crashingPods.map((p) => ({ name: name(p), state: podState(p) })),
    waiters: w.waiters.map((x) => {
      const log = held ? lookups.logs.get(`${name(held)}/${x.container}`) : undefined;
      const user = userOf(podNamespace, sa);
      return {
        container: x.container,
        kind: x.kind,
        job: x.jobName,
        namespace: x.namespace,
        serviceAccount: sa,
        jobExists: r.job !== undefined,
        noticesFailure: x.noticesFailure,
        tokenMounted: tokenMounted(spec, x.container, w.waiterPod !== undefined),
        access: x.needs.map((n) => ({ need: needText(n), allowed: lookups.access.get(`${user} ${needText(n)}`) })),
        accessNote: lookups.accessNote,
        pod: held ? name(held) : undefined,
        lastLog: lastLine(log?.text),
        logNote: log?.note ?? (held && log?.text !== undefined && !lastLine(log.text)
          ? (held.spec?.nodeName ? 'its log is empty (k8s-wait-for logs nothing while it waits on a failed Job)' : `no log yet: pod ${name(held)} is not on a node (not scheduled)`)
          : undefined),
      };
    }),
  };
}

/** The init container of every migration Job's pod that waits for the migrations of earlier releases. */
const QUEUE_CONTAINER = 'wait-for-turn';

function podsOfJob(snapshot: Snapshot, job: string): any[] {
  return snapshot.pods.filter((p) => p?.metadata?.labels?.['batch.kubernetes.io/job-name'] === job || p?.metadata?.labels?.['job-name'] === job
    || (p?.metadata?.ownerReferences ?? []).some((o: any) => o?.kind === 'Job' && o?.name === job));
}

/** Whether a pod is still in its wait-for-turn init container. */
function waitsForTurn(pod: any): boolean {
  return pod !== undefined && (pod.spec?.initContainers ?? []).some((c: any) => c?.name === QUEUE_CONTAINER) && initNotDone(pod, QUEUE_CONTAINER);
}

/** The label of the Jobs of a queue that several services share (the library's `DatabaseQueue`). */
const DATABASE = 'cdk8s-migrated-service.dev/database';

/**
 * The Job of another release of the same migration (or, in a queue shared by several services, of
 * any of them) that a queued release waits for: the earliest in the queue's order that has not
 * finished, or still has a pod that runs. The order is the program's own (creation time plus the
 * queue offset, then name), so that doctor names the Job the program lets go first.
 */
function inFront(snapshot: Snapshot, r: ReleaseFacts): any | undefined {
  const own = r.job;
  const labelsOf = (o: any) => o?.metadata?.labels ?? {};
  const key = (o: any) => keyOf(o?.metadata ?? {}, name(o));
  const database = labelsOf(own)[DATABASE];
  const sameQueue = (j: any) => (database !== undefined ? labelsOf(j)[DATABASE] === database : labelsOf(j)[INSTANCE] === labelsOf(own)[INSTANCE])
    && ['migration', 'post-migration'].includes(labelsOf(j)[COMPONENT]);
  return snapshot.jobs
    .filter((j) => j !== own && sameQueue(j))
    .filter((j) => before(key(j), key(own)))
    .filter((j) => !['Complete', 'Failed'].includes(jobState(j)) || podsOfJob(snapshot, name(j)).some((p) => !['Succeeded', 'Failed'].includes(p?.status?.phase)))
    .sort((a, b) => (before(key(a), key(b)) ? -1 : 1))[0];
}

/** WAITING behind the Job in front; FAILED when that one runs past its own deadline. */
function queuedProblem(snapshot: Snapshot, r: ReleaseFacts, front: any): Problem {
  const ns = r.namespace;
  const started = time(front.status?.startTime) || time(front.metadata?.creationTimestamp) || snapshot.now;
  const running = duration((snapshot.now - started) / 1000);
  const version = front.metadata?.labels?.[VERSION];
  const who = `${version ? `release ${version}'s` : 'another release\'s'} migration Job ${name(front)}`;
  const database = r.job?.metadata?.labels?.[DATABASE];
  const deadline = front.spec?.activeDeadlineSeconds;
  if (deadline !== undefined && snapshot.now - started > deadline * 1000) {
    return {
      verdict: 'FAILED',
      reason: `queued behind ${who}, which runs past its own deadline (${duration(deadline)}, running for ${running}): its pod does not end`,
      next: `kubectl describe job -n ${ns} ${name(front)}; if its migration is stuck, delete it on purpose: kubectl delete job -n ${ns} ${name(front)}`,
    };
  }
  return {
    verdict: 'WAITING',
    reason: `queued behind ${who} (running for ${running}): ${database === undefined ? 'migrations of this DatabaseMigration'
      : `migrations of database ${database} (DatabaseQueue)`} run one at a time`,
    next: `kubectl logs -n ${ns} job/${name(front)} -f; this release's turn comes when it ends (kubectl logs -n ${ns} job/${r.jobName} -c ${QUEUE_CONTAINER})`,
  };
}

/**
 * The finished migration Jobs of earlier releases that Flux keeps (prune disabled): a note on the
 * newest release, with the command that deletes them and never the newest release's Job (Flux would
 * re-create that one and run it again).
 */
function keptJobsNote(snapshot: Snapshot, newest: ReleaseFacts): string | undefined {
  const app = newest.job?.metadata?.labels?.[INSTANCE];
  if (app === undefined) return undefined;
  const kept = snapshot.jobs.filter((j) => j !== newest.job && j?.metadata?.labels?.[INSTANCE] === app
    && j?.metadata?.annotations?.['kustomize.toolkit.fluxcd.io/prune'] === 'disabled'
    && ['Complete', 'Failed'].includes(jobState(j)) && !newest.postDeployJobs.includes(j)
    && j?.metadata?.labels?.[VERSION] !== newest.tag).map(name).sort();
  if (kept.length === 0) return undefined;
  return `${kept.length} finished migration Job${kept.length === 1 ? '' : 's'} of earlier releases ${kept.length === 1 ? 'is' : 'are'} kept (Flux does not prune them): `
    + `delete them when you no longer need their logs: kubectl delete job -n ${snapshot.namespace} ${kept.join(' ')}`;
}

/** Reads the namespace and diagnoses its releases, newest first. */
export async function diagnose(kubectl: Kubectl, snapshot: Snapshot, facts: readonly ReleaseFacts[], options: DoctorOptions): Promise<DoctorReport> {
  const shown = facts.filter((r) => selected(r, options)).slice(0, options.last);
  const lookups = await lookUp(kubectl, snapshot, shown, options);
  const notes = [...snapshot.unreadable].map(([kind, why]) => `could not list ${kind}: ${why}`);
  const releases = shown.map((r) => judge(snapshot, r, lookups, options));
  const kept = facts[0] && releases[0]?.job === facts[0].jobName ? keptJobsNote(snapshot, facts[0]) : undefined;
  if (kept) releases[0] = { ...releases[0], notes: [...releases[0].notes, kept] };
  return { namespace: snapshot.namespace, releases, found: facts.length, notes };
}
