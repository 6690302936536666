import { Kubectl, KubectlError } from './kubectl';

/** What doctor reads of a namespace: one LIST per kind, and nothing else up front. */
export interface Snapshot {
  readonly namespace: string;
  /** When the lists were read: ages are counted from here. */
  readonly now: number;
  readonly jobs: readonly any[];
  readonly pods: readonly any[];
  readonly deployments: readonly any[];
  readonly statefulSets: readonly any[];
  readonly daemonSets: readonly any[];
  readonly replicaSets: readonly any[];
  readonly cronJobs: readonly any[];
  readonly configMaps: readonly any[];
  readonly events: readonly any[];
  /** Kinds that could not be listed, with why: the report says what it could not see. */
  readonly unreadable: ReadonlyMap<string, string>;
}

// Without Jobs and pods there is nothing to diagnose: a failure to list them stops doctor.
const REQUIRED = ['jobs', 'pods'] as const;
// ConfigMaps hold the ledger and the waiter program (only their names and the ledger's entries are
// read); Secrets are never listed.
const OPTIONAL = ['deployments', 'statefulsets', 'daemonsets', 'replicasets', 'cronjobs', 'configmaps', 'events'] as const;

/** Lists every kind at once, in parallel. Throws the first failure to list a required kind. */
export async function readSnapshot(kubectl: Kubectl, namespace: string): Promise<Snapshot> {
  const unreadable = new Map<string, string>();
  const now = Date.now();
  const lists = await Promise.all([...REQUIRED, ...OPTIONAL].map(async (kind) => {
    try {
      return { kind, items: await kubectl.list(kind, namespace) };
    } catch (e) {
      return { kind, error: e as Error };
    }
  }));
  const failure = lists.find((l) => l.error && ((REQUIRED as readonly string[]).includes(l.kind) || !(l.error instanceof KubectlError) || l.error.kind === 'unreachable' || l.error.kind === 'no-kubectl'));
  if (failure?.error) {
    throw failure.error;
  }
  const items = (kind: string): any[] => {
    const l = lists.find((x) => x.kind === kind)!;
    if (l.error) {
      unreadable.set(kind, l.error.message);
    }
    return l.items ?? [];
  };
  return {
    namespace,
    now,
    jobs: items('jobs'),
    pods: items('pods'),
    deployments: items('deployments'),
    statefulSets: items('statefulsets'),
    daemonSets: items('daemonsets'),
    replicaSets: items('replicasets'),
    cronJobs: items('cronjobs'),
    configMaps: items('configmaps'),
    events: items('events'),
    unreadable,
  };
}
