import { jobState, name, ReleaseFacts } from './facts';
import { mountedProgramConfigMaps } from './model';
import { Snapshot } from './snapshot';

/*
 * The waiter program's ConfigMap (`<chart>-migration-waiter`, `-hook` for a hook Job, the name
 * given to MigrationWaiter.watch(), or `migration-waiter` from earlier library versions), found by
 * the name the pod's volume references, whatever it is: every container that runs the program mounts it, and
 * the kubelet starts no container of a pod while a non-optional ConfigMap volume is missing. The
 * pod shows only `Init:0/1` or `ContainerCreating`; the cause is in a FailedMount event.
 */

export interface MissingProgram {
  readonly configMap: string;
  readonly reason: string;
  readonly next: string;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Objects of the release that will start pods which mount the program, with those pods. */
function holdersOf(snapshot: Snapshot, r: ReleaseFacts): Array<{ what: string; role: string; spec: any; pods: readonly any[] }> {
  const holders: Array<{ what: string; role: string; spec: any; pods: readonly any[] }> = [];
  for (const w of r.workloads.filter((x) => x.templateWaits || x.heldPods.length > 0)) {
    holders.push({ what: `${w.kind} ${w.name}`, role: 'waiter', spec: w.heldPods[0] ?? w.object, pods: w.heldPods });
  }
  // A finished Job starts no pod any more: what it mounted no longer matters.
  const unfinished = (job: any): boolean => job !== undefined && jobState(job) !== 'Complete' && jobState(job) !== 'Failed';
  const running = (pods: readonly any[]): any[] => pods.filter((p) => !['Succeeded', 'Failed'].includes(p?.status?.phase));
  if (unfinished(r.job)) {
    const pods = running(r.jobPods);
    holders.push({ what: `the migration Job ${r.jobName}`, role: 'recorder', spec: pods[0] ?? r.job, pods });
  }
  const post = r.postDeployJobs[0];
  if (unfinished(post)) {
    const pods = running(snapshot.pods.filter((p) => (p?.metadata?.ownerReferences ?? []).some((o: any) => o?.kind === 'Job' && o?.name === name(post))));
    holders.push({ what: `the post-deploy Job ${name(post)}`, role: 'rollout waiter', spec: pods[0] ?? post, pods });
  }
  return holders;
}

/**
 * The program ConfigMaps this release's waiters mount that the namespace does not hold. Nothing
 * when ConfigMaps could not be listed: their absence from the snapshot then proves nothing.
 */
export function missingPrograms(snapshot: Snapshot, r: ReleaseFacts): MissingProgram[] {
  if (snapshot.unreadable.has('configmaps')) {
    return [];
  }
  const present = new Set(snapshot.configMaps.map(name));
  const eventsRead = !snapshot.unreadable.has('events');
  const found: MissingProgram[] = [];
  for (const h of holdersOf(snapshot, r)) {
    for (const configMap of mountedProgramConfigMaps(h.spec, snapshot.namespace).filter((c) => !present.has(c))) {
      // The pods the kubelet says it cannot mount for; without events, the pods still held.
      const failedMount = new Set(snapshot.events
        .filter((e) => e?.reason === 'FailedMount' && e?.involvedObject?.kind === 'Pod' && String(e?.message ?? '').includes(`configmap "${configMap}" not found`))
        .map((e) => e.involvedObject.name));
      const pods = eventsRead ? h.pods.filter((p) => failedMount.has(name(p))) : h.pods;
      const who = pods.length > 0
        ? `${plural(pods.length, 'pod')} of ${h.what} cannot start ${pods.length === 1 ? 'its' : 'their'} ${h.role}${eventsRead ? ' (FailedMount)' : ''}`
        : `new pods of ${h.what} cannot start their ${h.role}`;
      found.push({
        configMap,
        reason: `the waiter program's ConfigMap ${configMap} is missing, so ${who}`,
        next: 're-apply the chart that carries it (flux reconcile, argocd app sync, helm upgrade or kubectl apply -f); the kubelet retries the mount and the pods start once it exists',
      });
    }
  }
  return found;
}
