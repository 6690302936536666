/**
 * Mode `rollout`: waits until workloads have rolled out this release, before a post-deploy
 * migration.
 */
import { connection } from './api';
import { env, RECHECK_MS, required } from './config';
import { deniedMessage } from './errors';
import { follow, followList, tracked } from './follow';
import { finish, finished, log } from './log';
import { before, JobState, keyOf } from './queue-order';

const WORKLOAD_PLURALS: Record<string, string> = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' };

/** How far a workload is: whether it has rolled out the release, and the text for the log. */
export interface RolloutProgress {
  readonly done: boolean;
  readonly text: string;
}

// Whether a workload has rolled out `release` everywhere: { done, text } with text for the log.
export function rolloutProgress(kind: string, name: string, obj: any, release: string): RolloutProgress {
  const label = `${kind} ${name}`;
  if (!obj) return { done: false, text: `${label}: does not exist (yet)` };
  const spec = obj.spec || {};
  const status = obj.status || {};
  const initContainers: any[] = ((spec.template || {}).spec || {}).initContainers || [];
  const isRelease = initContainers.some((c) => (c.env || []).some((e: any) => e.name === 'MIGRATION_JOB' && e.value === release));
  if (!isRelease) return { done: false, text: `${label}: its pod template is not this release's yet (no init container waits for Job ${release})` };
  const generation = (obj.metadata || {}).generation || 0;
  if ((status.observedGeneration || 0) < generation) {
    return { done: false, text: `${label}: its controller has not yet observed generation ${generation}` };
  }
  let done: boolean;
  let text: string;
  if (kind === 'DaemonSet') {
    const desired = status.desiredNumberScheduled || 0;
    const updated = status.updatedNumberScheduled || 0;
    const available = status.numberAvailable || 0;
    const unavailable = status.numberUnavailable || 0;
    done = updated === desired && available === desired && unavailable === 0;
    text = `${label}: ${updated}/${desired} updated, ${available} available, ${unavailable} unavailable`;
  } else {
    const wanted = spec.replicas === undefined || spec.replicas === null ? 1 : spec.replicas;
    const updated = status.updatedReplicas || 0;
    const available = status.availableReplicas || 0;
    const total = status.replicas || 0;
    // status.replicas counts the pods of every ReplicaSet or revision, so total == wanted means
    // none of the previous release is left.
    done = updated === wanted && total === wanted && available === wanted;
    text = `${label}: ${updated}/${wanted} updated, ${available} available, ${total} total`;
    if (kind === 'StatefulSet') {
      const ready = status.readyReplicas || 0;
      done = done && ready === wanted;
      text += `, ${ready} ready`;
      // Under OnDelete the controller never moves currentRevision, so the counts decide alone.
      // A RollingUpdate partition above 0 holds the rollout back by design: this keeps waiting.
      const onDelete = (spec.updateStrategy || {}).type === 'OnDelete';
      if (!onDelete && status.currentRevision !== status.updateRevision) {
        done = false;
        text += `, revision ${status.currentRevision} -> ${status.updateRevision}`;
      }
    }
    const stalled = (status.conditions || []).find((c: any) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded');
    if (stalled) text += ' (ProgressDeadlineExceeded: is the pre-deploy migration failing?)';
  }
  return { done, text: done ? `${text}: rolled out` : text };
}

interface Workload {
  readonly kind: string;
  readonly name: string;
}

/** The Jobs that a workload's pod template waits for: the `MIGRATION_JOB` of its init containers. */
function gatingJobs(obj: any): string[] {
  const initContainers: any[] = (((obj || {}).spec || {}).template || {}).spec?.initContainers || [];
  return initContainers.flatMap((c) => (c.env || []).filter((e: any) => e.name === 'MIGRATION_JOB').map((e: any) => String(e.value)));
}

/**
 * The later release whose pod template replaced this one's on a workload, if any: its pre-deploy
 * Job is one of `jobs` (this migration's, across releases) and was created after `release`. This
 * release's rollout will then never complete, and its post-deploy migration would hold the later
 * release's migrations back until its deadline.
 */
export function supersededBy(release: string, templates: Iterable<string[]>, jobs: ReadonlyMap<string, JobState>): JobState | undefined {
  const ours = jobs.get(release);
  if (!ours) return undefined;
  for (const names of templates) {
    for (const name of names) {
      const other = jobs.get(name);
      if (name !== release && other && before(keyOf(ours.metadata), keyOf(other.metadata))) return other;
    }
  }
  return undefined;
}

export async function waitForRollout(): Promise<void> {
  const release = required('RELEASE_MIGRATION_JOB');
  const listed = required('ROLLOUT_WORKLOADS');
  if (finished()) return;
  const { namespace } = connection();
  let workloads: Workload[] | null;
  try {
    workloads = JSON.parse(listed);
  } catch (err) {
    workloads = null;
  }
  const valid = Array.isArray(workloads) && workloads.length > 0 &&
    workloads.every((w) => w && Object.prototype.hasOwnProperty.call(WORKLOAD_PLURALS, w.kind) && typeof w.name === 'string' && w.name);
  if (!valid || !workloads) {
    return finish(2, `ROLLOUT_WORKLOADS must be a JSON array of {"kind":"Deployment"|"StatefulSet"|"DaemonSet","name":"..."}, got ${listed}`);
  }
  const unique = new Map(workloads.map((w) => [`${w.kind} ${w.name}`, w]));
  const progress = new Map<string, RolloutProgress | null>([...unique.keys()].map((key) => [key, null]));
  const summary = () => [...progress.values()].filter((p) => !p!.done).map((p) => p!.text).join('; ');
  let reported = false;
  const update = (key: string, value: RolloutProgress) => {
    progress.set(key, value);
    const known = [...progress.values()];
    if (known.every((p) => p && p.done)) {
      return finish(0, `every workload has rolled out release ${release}: ${known.map((p) => p!.text).join('; ')}`);
    }
    if (!reported && known.every((p) => p)) {
      reported = true;
      log(`waiting: ${summary()}`);
    }
    return;
  };
  setInterval(() => {
    if (reported) log(`still waiting: ${summary()}`);
  }, RECHECK_MS);
  // With MIGRATION_SELECTOR, a release whose workloads a later release took over gives up.
  const selector = env.MIGRATION_SELECTOR || '';
  const templates = new Map<string, string[]>();
  const jobs = tracked<JobState>(() => checkSuperseded());
  const checkSuperseded = () => {
    const later = selector ? supersededBy(release, templates.values(), jobs.objects) : undefined;
    if (!later) return;
    const version = (later.metadata.labels || {})['app.kubernetes.io/version'];
    void finish(1, `superseded by ${version ? `release ${version}` : 'a later release'} (Job ${namespace}/${later.metadata.name}), whose pods replaced this release's: `
      + 'this release\'s rollout will not complete, and the later release\'s post-deploy migration runs this one\'s pending migrations');
  };
  const followJobs = selector ? [followList('/apis/batch/v1', 'jobs', `labelSelector=${encodeURIComponent(selector)}`, `jobs ${selector}`, jobs.handlers, (err) => finish(1, deniedMessage(err, `the Jobs of ${selector}`, `list and watch on jobs (API group batch) in namespace ${namespace}`)))] : [];
  log(`waiting for ${[...progress.keys()].join(', ')} to roll out release ${release} (pods gated on Job ${release})`);
  await Promise.all([...followJobs, ...[...unique].map(([key, { kind, name }]) => {
    const plural = WORKLOAD_PLURALS[kind];
    return follow('/apis/apps/v1', plural, name, (obj) => {
      templates.set(key, gatingJobs(obj));
      checkSuperseded();
      if (!finished()) void update(key, rolloutProgress(kind, name, obj, release));
    }, (err) =>
      finish(1, deniedMessage(err, `${kind} ${namespace}/${name}`, `list and watch on ${plural} (API group apps) named ${name} in namespace ${namespace}`)));
  })]);
}
