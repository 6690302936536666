import { K8sObject } from '../lint/load';
import * as lint from '../lint/model';
import { text } from '../lint/text';

/*
 * The one place doctor reads the manifest model of `lint`: what an init container waits for, and
 * whether a Job looks like a migration. Live objects are wrapped as `lint` objects here, so that
 * changes to the model's internals stay behind these few functions.
 */

/** How a waiter waits: k8s-wait-for, `kubectl wait`, or the library's own waiter. */
export type WaiterKind = lint.WaiterKind;

/** One permission a waiter needs, as a SubjectAccessReview asks for it. */
export interface Need {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly name: string;
  readonly namespace: string;
}

/** An init container that holds its pod until a Job completes. */
export interface LiveWaiter {
  readonly container: string;
  readonly kind: WaiterKind;
  readonly jobName: string;
  /** Where the waiter looks for the Job: its `-n`, else its pod's namespace. */
  readonly namespace: string;
  readonly mode?: string;
  /** The ledger ConfigMap the library's waiter reads when the Job is gone. */
  readonly ledger?: string;
  /** False for a `kubectl wait --for=condition=complete`, which never ends on a failed Job. */
  readonly noticesFailure: boolean;
  readonly needs: readonly Need[];
}

const noLines = (): number => 0;

/** A live object (from `kubectl get -o json`) as the manifest model sees one. */
export function asObject(raw: any, order = 0): K8sObject {
  const metadata = raw?.metadata ?? {};
  return {
    apiVersion: String(raw?.apiVersion ?? ''),
    kind: String(raw?.kind ?? ''),
    name: String(metadata.name ?? ''),
    namespace: metadata.namespace,
    annotations: metadata.annotations ?? {},
    raw,
    source: { file: '<cluster>', line: 0 },
    order,
    lineOf: noLines,
  };
}

/** The pod spec of a live workload, Job, CronJob or pod. */
export function podSpecOf(raw: any): any | undefined {
  return lint.podSpecOf(asObject(raw))?.podSpec;
}

// Each object is read several times (by release, by workload); its waiters are parsed once.
const parsed = new WeakMap<object, { namespace: string; waiters: LiveWaiter[] }>();

/** What each init container of a live workload, Job or pod waits for. */
export function waitersOf(raw: any, namespace: string): LiveWaiter[] {
  const cached = typeof raw === 'object' && raw !== null ? parsed.get(raw) : undefined;
  if (cached && cached.namespace === namespace) {
    return cached.waiters;
  }
  const waiters = parseWaiters(raw, namespace);
  if (typeof raw === 'object' && raw !== null) {
    parsed.set(raw, { namespace, waiters });
  }
  return waiters;
}

function parseWaiters(raw: any, namespace: string): LiveWaiter[] {
  const object = asObject({ ...raw, metadata: { ...raw?.metadata, namespace } });
  const workload = lint.podSpecOf(object);
  if (!workload) {
    return [];
  }
  return lint.containersOf(workload.podSpec, 'initContainers').flatMap((container, index) =>
    // A target the pod spec does not tell (a script's `$1`, a run-time value) names no Job to look up.
    lint.waitersOf(workload, container, index).filter((w) => !w.unresolved).map((w) => ({
      container: text(container.name),
      kind: w.kind,
      jobName: w.jobName,
      namespace: w.namespace ?? namespace,
      mode: w.mode,
      ledger: w.kind === 'library' ? lint.envValue(container, 'MIGRATION_LEDGER') : undefined,
      noticesFailure: w.noticesFailure,
      needs: w.needs.map((n) => ({ verb: n.verb, group: n.group, resource: n.resource, name: n.name, namespace: n.namespace ?? namespace })),
    })));
}

/** The init container of a post-deploy Job that waits for workloads to roll out, if any. */
export function rolloutWaiterOf(raw: any): any | undefined {
  const spec = podSpecOf(raw);
  return lint.containersOf(spec, 'initContainers').find((c) => lint.waitsForRollout(c));
}

/** A literal environment variable of a container. */
export function envValue(container: any, name: string): string | undefined {
  return lint.envValue(container, name);
}

/** A Job that nobody waits for, but whose name or commands say it migrates a schema. */
export function looksLikeMigration(raw: any): boolean {
  return lint.looksLikeMigration(asObject(raw));
}

/**
 * The ConfigMaps a pod cannot start without because a container that waits (or runs the library's
 * program: a waiter, a recorder, a rollout waiter) mounts them: its configMap volumes that are not
 * `optional: true`. The kubelet holds the whole pod (`Init:0/1`, `ContainerCreating`) while one is missing.
 */
export function mountedProgramConfigMaps(raw: any, namespace: string): string[] {
  const spec = podSpecOf(raw);
  if (!spec) {
    return [];
  }
  const waiterNames = new Set(waitersOf(raw, namespace).map((w) => w.container));
  const runsWaiter = (c: any): boolean => waiterNames.has(text(c?.name)) || lint.waitsForRollout(c)
    || [c?.command, c?.args].flatMap((a) => (Array.isArray(a) ? a : []))
      .some((word: unknown) => /(^|\/)migration-waiter\.js$/.test(text(word)));
  const mounted = new Set([...lint.containersOf(spec, 'initContainers'), ...lint.containersOf(spec, 'containers')]
    .filter(runsWaiter)
    .flatMap((c) => (Array.isArray(c?.volumeMounts) ? c.volumeMounts : []).map((m: any) => text(m?.name))));
  const names = (Array.isArray(spec.volumes) ? spec.volumes : [])
    .filter((v: any) => mounted.has(text(v?.name)) && v?.configMap && v.configMap.optional !== true && v.configMap.name)
    .map((v: any) => text(v.configMap.name));
  return [...new Set<string>(names)];
}
