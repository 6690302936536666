/**
 * Whether a workload whose pods wait for a migration loses serving capacity while they wait (MS015):
 * one judgement, which the constructs' warning and `lint` both call, so that they say the same of
 * the same strategy.
 *
 * A rollout that replaces old pods by new ones that wait for the migration stops up to
 * `maxUnavailable` old pods before a new one is ready; if the migration fails, they never come back.
 */
import { text } from './text';

/** How bad it is: `warning` when the workload loses capacity as it is, `info` when only a larger replica count would. */
export type CapacitySeverity = 'warning' | 'info';

export interface CapacityVerdict {
  readonly severity: CapacitySeverity;
  /**
   * What the strategy does, to follow the workload's name and "has": `maxUnavailable 25% (the
   * default): at 4 replicas a stuck rollout stops 1 old pod, ...`.
   */
  readonly finding: string;
  /** The field the finding is about, in the workload's JSON. */
  readonly field: readonly string[];
  /**
   * What to do, when the usual fix (`maxUnavailable: 0` with a surge) is wrong for this workload:
   * a singleton must never run twice, so it keeps `Recreate`.
   */
  readonly advice?: string;
}

/** The HorizontalPodAutoscaler that scales the workload, as far as the judgement needs it. */
export interface Autoscaler {
  /** How a message names it. */
  readonly description: string;
  readonly minReplicas?: number;
  readonly maxReplicas?: number;
}

/**
 * The verdict on a waiting Deployment's or DaemonSet's update strategy, from its JSON `spec`;
 * undefined when it loses nothing at any replica count, or is of another kind.
 */
export function rolloutCapacity(kind: string, spec: any, autoscaler?: Autoscaler): CapacityVerdict | undefined {
  if (kind === 'Deployment') {
    const strategy = spec?.strategy ?? {};
    if (strategy.type === 'Recreate') {
      const replicas = num(spec?.replicas) ?? autoscaler?.minReplicas ?? 1;
      if (replicas === 1 && (autoscaler?.maxReplicas ?? 1) <= 1) {
        // One replica with Recreate is how a singleton (a scheduler such as Celery beat, a
        // consumer that must not run twice) is written: a surge would run the old and the new pod
        // side by side once the migration is done. The finding is the pause, not the strategy.
        return {
          severity: 'warning',
          finding: 'strategy Recreate at 1 replica (a singleton): its pod stops when the rollout starts, and the new one waits for the migration, '
            + 'so the workload does not run at all until the migration has succeeded (a scheduler skips its runs meanwhile), nor while it stays failed',
          field: ['spec', 'strategy', 'type'],
          advice: 'Recreate is right for a workload that must never run twice: keep it. A surge (maxSurge: 1, maxUnavailable: 0) would keep the old pod '
            + 'running while the new one waits, then run both side by side. If the pause is acceptable, acknowledge it; '
            + 'if it is not, make the work tolerate a second instance (a lock, or a scheduler with leader election) and then surge',
        };
      }
      return { severity: 'warning', finding: 'strategy Recreate: every old pod stops while the new ones wait for the migration', field: ['spec', 'strategy', 'type'] };
    }
    return deploymentCapacity(spec, strategy.rollingUpdate ?? {}, autoscaler);
  }
  if (kind === 'DaemonSet') {
    const strategy = spec?.updateStrategy ?? {};
    const value = strategy.rollingUpdate?.maxUnavailable;
    if (strategy.type === 'OnDelete' || isZero(value)) {
      return undefined;
    }
    return {
      severity: 'warning',
      finding: `maxUnavailable ${value === undefined ? '1 (the default)' : text(value)}: old pods stop while new ones wait for the migration`,
      field: ['spec', 'updateStrategy'],
    };
  }
  return undefined;
}

function deploymentCapacity(spec: any, rollingUpdate: any, autoscaler: Autoscaler | undefined): CapacityVerdict | undefined {
  const { maxUnavailable, maxSurge } = rollingUpdate;
  if (isZero(maxUnavailable) && !isZero(maxSurge ?? '25%')) {
    return undefined;
  }
  const replicas = num(spec?.replicas) ?? autoscaler?.minReplicas ?? 1;
  const stopped = podsStopped(maxUnavailable, maxSurge, replicas);
  if (stopped === undefined) {
    return undefined;
  }
  // The smallest replica count at which a stuck rollout stops an old pod.
  let from: number | undefined;
  for (let n = 1; n <= 1000; n++) {
    if ((podsStopped(maxUnavailable, maxSurge, n) ?? 0) > 0) {
      from = n;
      break;
    }
  }
  const maxReplicas = autoscaler?.maxReplicas;
  const stoppedAtMax = maxReplicas !== undefined ? podsStopped(maxUnavailable, maxSurge, maxReplicas) ?? 0 : 0;
  const setting = `maxUnavailable ${maxUnavailable === undefined ? '25% (the default)' : text(maxUnavailable)}`
    + `${maxSurge === undefined ? '' : ` and maxSurge ${text(maxSurge)}`}`;
  const rounding = /%/.test(text(maxUnavailable ?? '25%')) ? ' (a percentage of maxUnavailable rounds down)' : '';
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (stopped === 0 && stoppedAtMax === 0) {
    // Charts are rendered at their default replica count and scaled in production: a count that
    // loses nothing today says nothing of the count the workload runs at. An autoscaler whose
    // maximum loses nothing caps it below that count.
    if (from === undefined || (autoscaler !== undefined && maxReplicas !== undefined)) {
      return undefined;
    }
    return {
      severity: 'info',
      finding: `${setting}: at ${plural(replicas, 'replica')} a stuck rollout stops no old pod, `
        + `but scaled to ${from} replicas or more it stops ${podsStopped(maxUnavailable, maxSurge, from)} or more while new pods wait for the migration${rounding}`,
      field: spec?.strategy ? ['spec', 'strategy', 'rollingUpdate', 'maxUnavailable'] : ['spec', 'replicas'],
    };
  }
  const now = `at ${plural(replicas, 'replica')} a stuck rollout stops ${plural(stopped, 'old pod')}`;
  const scaled = autoscaler !== undefined && maxReplicas !== undefined ? `; ${autoscaler.description} scales it to ${maxReplicas}, where it stops ${stoppedAtMax}` : '';
  return {
    severity: 'warning',
    finding: `${setting}: ${now}${scaled}, and loses capacity from ${from === undefined ? '?' : plural(from, 'replica')} on${rounding}, `
      + 'while new pods wait for the migration',
    field: ['spec', 'strategy', 'rollingUpdate', 'maxUnavailable'],
  };
}

/** An IntOrString of a rolling update against a replica count: percentages of maxUnavailable round down, of maxSurge up. */
function resolveIntOrPercent(value: unknown, replicas: number, roundUp: boolean): number | undefined {
  const t = text(value).trim();
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (percent) {
    const exact = (replicas * Number(percent[1])) / 100;
    return roundUp ? Math.ceil(exact) : Math.floor(exact);
  }
  return num(value);
}

/** How many old pods a stuck rollout stops at `replicas` (the controller makes it 1 when both resolve to 0). */
function podsStopped(maxUnavailable: unknown, maxSurge: unknown, replicas: number): number | undefined {
  const unavailable = resolveIntOrPercent(maxUnavailable ?? '25%', replicas, false);
  const surge = resolveIntOrPercent(maxSurge ?? '25%', replicas, true);
  if (unavailable === undefined || surge === undefined) {
    return undefined;
  }
  return Math.min(replicas, unavailable === 0 && surge === 0 ? 1 : unavailable);
}

export function num(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

export function isZero(value: unknown): boolean {
  return value === 0 || value === '0' || value === '0%';
}
