import { createHash } from 'crypto';
import { ApiObject, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { Delivery } from './delivery';
import { libraryVersion } from './library-version';
import { afterSerialization } from './pod-template';
import { refuseDuplicateObjects } from './unique-objects';
import { invalidProp } from './validation';
import { migrationWaiterScript } from './waiter-script';
import { derivedName } from '../shared/names';

/** Where every container that runs the library's program finds it. */
export const PROGRAM_DIRECTORY = '/opt/migration-waiter';
const PROGRAM_FILE = 'migration-waiter.js';

/** The command of every container that runs the library's program; the mode is its argument. */
export const PROGRAM_COMMAND = ['node', `${PROGRAM_DIRECTORY}/${PROGRAM_FILE}`];

/** The name of the pod volume that holds the program. */
export const PROGRAM_VOLUME = 'migration-waiter-program';

/**
 * The ConfigMap that gated pods, the post-deploy Job and (under Flux and kubectl) the migration
 * Job mount: `<chart>-migration-waiter`, named after the chart unless the waiter names it
 * (`MigrationWaiter.watch({ programConfigMapName })`).
 *
 * Its name is stable, not derived from the program's hash: a new name per program version would
 * let Flux (prune) or Helm delete the previous one as soon as a release applies the next, while
 * pods of the previous release may still restart and mount it during the rollout. Under a stable
 * name the object is updated in place and never missing.
 *
 * It is named per chart, not per namespace: a chart is what one Argo CD Application, one Flux
 * Kustomization or one Helm release delivers, and two of those in one namespace must never own one
 * object. Argo CD would report it as shared, and a cascading delete of one Application would delete
 * the program the other's pods mount; two Helm releases' hooks would delete and re-create each
 * other's copy at every upgrade.
 */
export const PROGRAM_CONFIG_MAP_SUFFIX = '-migration-waiter';

/**
 * What a waiter says when it has no ConfigMap name of its own: the chart's name is used. Not a
 * valid object name, so it can never be mistaken for one a user gave.
 */
export const PROGRAM_PER_CHART = '(per chart)';

/**
 * The suffix of the copy (`migration-waiter-hook`) that is a hook of the pre-deploy phase (Helm
 * `pre-install,pre-upgrade`, Argo CD `PreSync`): on a first install the migration Job runs before
 * any ordinary object of the release exists, so it needs a copy that is itself a hook of that phase,
 * ordered before it.
 *
 * Under Helm it is the only copy: every pod of the release mounts it (see `forPods`). Under Argo CD
 * the Jobs mount it and the workloads mount the ordinary copy.
 */
export const PROGRAM_HOOK_SUFFIX = '-hook';

/** The env var that carries the program's content hash into every pod template that runs it. */
export const PROGRAM_HASH_ENV = 'MIGRATION_WAITER_SHA256';

/**
 * The annotations that say, at a glance in a GitOps diff, what changed in the ConfigMap: the
 * library that wrote it, and the SHA-256 of the program (minified, so its text is no diff to read;
 * the same hash as `MIGRATION_WAITER_SHA256` in the pods that run it).
 */
export const PROGRAM_VERSION_ANNOTATION = 'cdk8s-migrated-service.dev/version';
export const PROGRAM_HASH_ANNOTATION = 'cdk8s-migrated-service.dev/program-sha256';

let hash: string | undefined;

/**
 * The SHA-256 of the program text in the ConfigMap. Every container that runs the program carries
 * it in `MIGRATION_WAITER_SHA256`, so that a library upgrade changes the pod templates, and rolls
 * the pods, exactly when the program changed: a ConfigMap volume alone is re-read only by new pods.
 */
export function programHash(): string {
  hash = hash ?? createHash('sha256').update(migrationWaiterScript()).digest('hex');
  return hash;
}

/**
 * The library's waiter program, once per chart, shared by every migration of the chart:
 * `<chart>-migration-waiter` for the pods, and `<chart>-migration-waiter-hook` for the pre-deploy
 * hook Jobs under Argo CD and for every pod under Helm, where it is the only copy. Two charts of
 * one App that would write one name in one namespace are refused at synth.
 */
export class WaiterProgram extends Construct {
  /**
   * The program named `name` (`PROGRAM_PER_CHART`: `<chart>-migration-waiter`, unless the waiter
   * names it) of the chart `scope` is in, created by the first migration that needs it.
   */
  public static of(scope: Construct, name: string): WaiterProgram {
    const chart = Chart.of(scope);
    const perChart = name === PROGRAM_PER_CHART;
    const id = perChart ? ID : `${ID}-${name}`;
    const existing = chart.node.tryFindChild(id) as WaiterProgram | undefined;
    return existing ?? new WaiterProgram(chart, id, perChart ? programConfigMapNameOf(chart) : name, perChart);
  }

  private ordinaryCopy?: ApiObject;
  private hookCopy?: ApiObject;
  private readonly hookAnnotations: { [key: string]: string }[] = [];
  private readonly hookEngines = new Set<string>();

  private constructor(scope: Chart, id: string, private readonly name: string, private readonly perChart: boolean) {
    super(scope, id);
  }

  /** The ordinary copy (`<chart>-migration-waiter`), an object of the release like its Deployments. */
  public get configMap(): ApiObject {
    this.ordinaryCopy = this.ordinaryCopy ?? this.copy('ConfigMap', this.name);
    return this.ordinaryCopy;
  }

  /**
   * The copy that the pods of the release mount (gated workloads, the post-deploy Job): the
   * ordinary copy, or under Helm the hook copy, so that a Helm chart carries the program once.
   *
   * Why that is safe under Helm, where the next `helm upgrade` deletes the hook copy
   * (`before-hook-creation`) while the running release's pods mount it:
   * - Helm creates it again at once, before the hooks that follow it; a pod whose volume is set up
   *   in between sees "configmap not found", and the kubelet retries the mount (FailedMount, within
   *   a second), it does not fail the pod. Running pods keep their mounted files, and read the program
   *   only when a container starts.
   * - On a first install it exists before the migration Job, and so before every other object.
   * - The pods of the previous release then read the next release's program, as they do under Flux
   *   and kubectl, where the ordinary copy is updated in place: the program reads only the env its
   *   containers are given, which every library version keeps.
   * - Hooks are not objects of the release: `helm uninstall` leaves it, as it leaves the hook Jobs,
   *   and it is named after the chart, so two charts installed as two releases in one namespace
   *   never replace each other's copy. One chart installed twice there would: give each release its
   *   own (`MigrationWaiter.watch({ programConfigMapName })`).
   * A policy that deletes it when the hooks succeed would leave the pods without it: the delete
   * policy of the copy is always `before-hook-creation` (`Delivery._programHookAnnotations`).
   */
  public forPods(delivery: Delivery, owner: string): ApiObject {
    return delivery.engine === 'helm' ? this.forJob(delivery, owner) : this.configMap;
  }

  /**
   * The copy that the pre-deploy Job of a migration delivered by `delivery` mounts: the ordinary
   * one, or, under a hook engine, the hook copy, whose hook order comes before every Job of the
   * chart that mounts it.
   */
  public forJob(delivery: Delivery, owner: string): ApiObject {
    const annotations = delivery._programHookAnnotations();
    if (Object.keys(annotations).length === 0) {
      return this.configMap;
    }
    this.hookAnnotations.push(annotations);
    this.hookEngines.add(delivery.engine);
    if (this.hookCopy === undefined) {
      const hookCopy = this.copy('HookConfigMap', `${this.name}${PROGRAM_HOOK_SUFFIX}`);
      afterSerialization(hookCopy, (json) => {
        json.metadata.annotations = { ...json.metadata.annotations, ...earliest(this.hookAnnotations) };
      });
      this.hookCopy = hookCopy;
    }
    if (this.hookEngines.size > 1) {
      throw invalidProp(owner, 'delivery', delivery.engine,
        `another migration of chart "${Chart.of(this).node.path}" is delivered by a different hook engine, and both Jobs would mount `
        + `the hook copy "${this.hookCopy.name}" of the waiter program. Deliver every migration of a chart with the same engine.`);
    }
    return this.hookCopy;
  }

  private copy(id: string, name: string): ApiObject {
    const configMap = new ApiObject(this, id, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name,
        labels: { 'app.kubernetes.io/name': 'migration-waiter', 'app.kubernetes.io/managed-by': 'cdk8s' },
        annotations: { [PROGRAM_VERSION_ANNOTATION]: libraryVersion(), [PROGRAM_HASH_ANNOTATION]: programHash() },
      },
      data: { [PROGRAM_FILE]: migrationWaiterScript() },
    });
    const chart = Chart.of(this).node.path;
    refuseDuplicateObjects(`the waiter program of chart "${chart}"`, this, [configMap], {
      fix: this.perChart
        ? `Its name is derived from the chart's id ("${chart}"): give the charts ids that differ in more than case and punctuation, or put them in different namespaces.`
        : 'Its name is the waiter\'s programConfigMapName: give each chart its own (MigrationWaiter.watch({ programConfigMapName })), '
          + 'or leave it unset for a name derived from the chart.',
    });
    return configMap;
  }
}

const ID = 'MigrationWaiterProgram';

/**
 * `<chart>-migration-waiter`: the chart's path (its id, for a chart directly under the App) as a
 * DNS label, cut with a hash to leave room for the hook copy's `-hook` within 63 characters. A
 * path that is not a DNS label as it is (`Shop`, `shop_api`) is lowercased, other characters
 * become `-`, and a hash of the path is appended, so that `Shop` and `shop` stay distinct.
 */
export function programConfigMapNameOf(chart: Chart): string {
  const path = chart.node.path;
  const readable = path.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  const base = readable === path ? readable : [readable, createHash('sha256').update(path).digest('hex').slice(0, 8)].filter((p) => p !== '').join('-');
  return derivedName('', base, `${PROGRAM_CONFIG_MAP_SUFFIX}${PROGRAM_HOOK_SUFFIX}`).slice(0, -PROGRAM_HOOK_SUFFIX.length);
}

/**
 * The hook annotations of the lowest order among `all` (one per migration): the copy must exist
 * before the first Job that mounts it.
 */
function earliest(all: { [key: string]: string }[]): { [key: string]: string } {
  const merged: { [key: string]: string } = { ...all[0] };
  for (const key of ORDER_ANNOTATIONS) {
    const orders = all.map((a) => a[key]).filter((v) => v !== undefined).map(Number);
    if (orders.length > 0) {
      merged[key] = `${Math.min(...orders)}`;
    }
  }
  return merged;
}

const ORDER_ANNOTATIONS = ['helm.sh/hook-weight', 'argocd.argoproj.io/sync-wave'];

/**
 * Mounts the program ConfigMap `configMapName` read-only into the container `containerName` of a
 * pod spec (JSON), adding the volume unless the pod already has it (a workload gated by two
 * migrations), and sets the program's hash. Refuses a volume of that name that is something else.
 */
export function mountProgramInto(pod: any, containerName: string, configMapName: string, owner: string, path: string): void {
  const volume = { name: PROGRAM_VOLUME, configMap: { name: configMapName, defaultMode: 0o444 } };
  const existing = (pod.volumes ?? []).find((v: any) => v.name === PROGRAM_VOLUME);
  if (existing === undefined) {
    pod.volumes = [...(pod.volumes ?? []), volume];
  } else if (existing.configMap?.name !== configMapName || Object.keys(existing).length !== 2) {
    throw invalidProp(owner, 'gate(workload)', path,
      `the pod already has a volume named "${PROGRAM_VOLUME}" that is not the waiter program's ConfigMap "${configMapName}". Rename that volume.`);
  }
  const container = [...(pod.initContainers ?? []), ...(pod.containers ?? [])].find((c: any) => c.name === containerName);
  container.volumeMounts = [...(container.volumeMounts ?? []), { name: PROGRAM_VOLUME, mountPath: PROGRAM_DIRECTORY, readOnly: true }];
  container.env = [...(container.env ?? []), { name: PROGRAM_HASH_ENV, value: programHash() }];
}
