import { Duration } from 'cdk8s';
import { IConstruct } from 'constructs';
import { defaultDeliveryOf, recordEngine, setDefaultDelivery } from './delivery-scope';
import { checkArgument, checkOptions, CONSTRUCT, DELIVERY, integer, oneOf, PropTypes, refuseOptions } from './prop-types';
import { invalidProp, validateInteger } from './validation';

/**
 * Values of `argocd.argoproj.io/hook-delete-policy`.
 */
export enum ArgoCdHookDeletePolicy {
  /** Delete the previous hook of the same name just before the next sync creates it again. */
  BEFORE_HOOK_CREATION = 'BeforeHookCreation',
  /** Delete the hook once it has succeeded. Rejected: the waiter still needs the Job. */
  HOOK_SUCCEEDED = 'HookSucceeded',
  /** Delete the hook when it has failed, with its pods and their logs. */
  HOOK_FAILED = 'HookFailed',
}

/**
 * Values of `helm.sh/hook-delete-policy`.
 */
export enum HelmHookDeletePolicy {
  /** Delete the previous hook of the same name just before the next release creates it again. */
  BEFORE_HOOK_CREATION = 'before-hook-creation',
  /** Delete the hook once it has succeeded. Rejected: the waiter still needs the Job. */
  HOOK_SUCCEEDED = 'hook-succeeded',
  /** Delete the hook when it has failed, with its pods and their logs. */
  HOOK_FAILED = 'hook-failed',
}

/**
 * Options for `Delivery.argoCd()`.
 */
export interface ArgoCdDeliveryOptions {
  /**
   * The hook's `argocd.argoproj.io/sync-wave`, an integer that may be negative. Hooks of lower
   * waves run first.
   *
   * @default - no sync-wave annotation (wave 0)
   */
  readonly syncWave?: number;

  /**
   * When Argo CD deletes the migration Job.
   *
   * `HookSucceeded` is rejected: the Job would be gone when the new pods' waiter looks for it.
   *
   * @default ArgoCdHookDeletePolicy.BEFORE_HOOK_CREATION
   */
  readonly hookDeletePolicy?: ArgoCdHookDeletePolicy;
}

/**
 * Options for `Delivery.helm()`.
 */
export interface HelmDeliveryOptions {
  /**
   * The hook's `helm.sh/hook-weight`, an integer that may be negative. Hooks of lower weight run
   * first.
   *
   * @default 0
   */
  readonly hookWeight?: number;

  /**
   * When Helm deletes the migration Job.
   *
   * `hook-succeeded` is rejected: the Job would be gone when the new pods' waiter looks for it.
   *
   * @default HelmHookDeletePolicy.BEFORE_HOOK_CREATION
   */
  readonly hookDeletePolicy?: HelmHookDeletePolicy;
}

/**
 * The tool that applies the synthesized manifests to the cluster. It decides how the migration
 * Job is annotated so that it runs once per release, before the new pods.
 *
 * Whatever the engine, every pod of the Deployment still waits for the Job in its init container:
 * a pod restarted on another node must never start against a schema that is not migrated yet.
 */
export class Delivery {
  /**
   * Sets the engine of every migration created below `scope` (the App, or a chart) without a
   * `delivery` prop of its own: `DatabaseMigration`, `MigratedService` and their post-deploy Jobs.
   * Set it once, on the App, before creating the migrations; the nearest scope that sets one wins.
   *
   * One App is applied by one engine: at synth, an App whose migrations resolve to different
   * engines is refused, with the paths of both. Without any, migrations are delivered by Flux.
   *
   * @param scope the App or chart whose migrations the engine applies to
   * @param delivery the engine
   */
  public static setDefault(scope: IConstruct, delivery: Delivery): void {
    checkArgument('Delivery.setDefault()', 'scope', scope, CONSTRUCT);
    setDefaultDelivery(scope, delivery, DELIVERY.problem(delivery) === undefined);
  }

  /**
   * The engine of a migration created in `scope` without a `delivery` prop: the one set with
   * `setDefault` on `scope` or the nearest construct above it, else `Delivery.flux()`.
   *
   * @param scope any construct
   */
  public static of(scope: IConstruct): Delivery {
    checkArgument('Delivery.of()', 'scope', scope, CONSTRUCT);
    return defaultDeliveryOf(scope) as Delivery | undefined ?? Delivery.flux();
  }

  /**
   * The engine of the migration `migration`: `given`, or the one of its scope; recorded so that
   * the synth refuses an App whose migrations are delivered by different engines.
   *
   * @internal
   */
  public static _resolve(migration: IConstruct, owner: string, given: Delivery | undefined): Delivery {
    const delivery = given ?? Delivery.of(migration.node.scope ?? migration);
    recordEngine(migration, owner, delivery, given !== undefined);
    return delivery;
  }

  /**
   * FluxCD's kustomize-controller (the default).
   *
   * The Job carries `kustomize.toolkit.fluxcd.io/force: Enabled`, so that Flux re-creates it
   * instead of failing when an immutable field changes. The Job has no TTL: Flux re-creates every
   * object of the source that is missing from the cluster, so a Job deleted by its TTL would run
   * again at every reconcile. It also carries `kustomize.toolkit.fluxcd.io/prune: disabled`: with
   * `prune: true`, Flux would delete the previous release's Job, and so kill its migration if it
   * still runs, when the next release removes it from the source.
   */
  public static flux(): Delivery {
    // eslint-disable-next-line prefer-rest-params
    refuseOptions('Delivery.flux()', arguments);
    const annotations = {
      'kustomize.toolkit.fluxcd.io/force': 'Enabled',
      // With `prune: true`, the reconcile that applies the next release deletes this release's
      // Job, and the garbage collector its pod: the migration would be killed midway if it still
      // runs. Flux leaves an object with this annotation in place when the source drops it; the
      // finished Jobs of earlier releases stay until someone deletes them (doctor lists them).
      'kustomize.toolkit.fluxcd.io/prune': 'disabled',
    };
    return new Delivery('flux', false, annotations, annotations, (ttl) =>
      `the TTL controller deletes the finished Job after ${ttl.toHumanString()}, and Flux re-creates every object `
      + 'of the source that is missing from the cluster at its next reconcile: the migration runs again every interval. '
      + 'Leave ttlAfterFinished unset: the ledger keeps the evidence of its success, and `doctor` names the finished Jobs of earlier releases that you may delete.');
  }

  /**
   * Argo CD: the Job is a `PreSync` hook, so the sync applies the Deployment only after the
   * migration has succeeded. `BeforeHookCreation` keeps the running release's Job until the next
   * sync, so pods started later still find it. A post-deploy migration is a `PostSync` hook.
   *
   * Argo CD runs `PreSync` hooks at every sync, changed or not (a manual sync, an automated one, a
   * `selfHeal`): each re-creates the Job and runs the migration again, a pod and a no-op run of an
   * idempotent migration tool, behind any migration still running in the release queue. The
   * migration command must be idempotent, as the presets are.
   *
   * The ConfigMaps and Secrets of the App that the Job reads are ordinary objects, which Argo CD
   * applies only after the hooks: the Job reads hook copies of them, `<job name>-<object name>`.
   */
  public static argoCd(options: ArgoCdDeliveryOptions = {}): Delivery {
    checkOptions('Delivery.argoCd()', options, ARGO_CD_OPTIONS);
    validateHookOptions('Delivery.argoCd()', 'syncWave', options.syncWave, 'a sync-wave',
      options.hookDeletePolicy, ArgoCdHookDeletePolicy.HOOK_SUCCEEDED, ArgoCdHookDeletePolicy.BEFORE_HOOK_CREATION);
    const hook = (phase: string) => ({
      'argocd.argoproj.io/hook': phase,
      'argocd.argoproj.io/hook-delete-policy': options.hookDeletePolicy ?? ArgoCdHookDeletePolicy.BEFORE_HOOK_CREATION,
      ...(options.syncWave !== undefined ? { 'argocd.argoproj.io/sync-wave': `${options.syncWave}` } : {}),
    });
    return new Delivery('argocd', true, hook('PreSync'), hook('PostSync'), (ttl) =>
      `the TTL controller deletes the finished Job after ${ttl.toHumanString()}; Argo CD creates hooks only during a sync. `
      + 'Leave ttlAfterFinished unset: BeforeHookCreation replaces the Job at the next sync.');
  }

  /**
   * Helm: the Job is a `pre-install,pre-upgrade` hook, so the release applies the Deployment only
   * after the migration has succeeded, and a failed migration fails the release. A post-deploy
   * migration is a `post-install,post-upgrade` hook, which runs after the workloads are ready only
   * under `helm install/upgrade --wait`.
   *
   * Hooks are not part of the release, and `before-hook-creation` deletes only a hook of the same
   * name: the versioned Jobs of earlier releases stay until you delete them. ConfigMaps and Secrets
   * that the Job reads must exist before the hook runs: the Job reads hook copies of those the App
   * defines (`<job name>-<object name>`, one weight before it); create the others outside the chart.
   */
  public static helm(options: HelmDeliveryOptions = {}): Delivery {
    checkOptions('Delivery.helm()', options, HELM_OPTIONS);
    validateHookOptions('Delivery.helm()', 'hookWeight', options.hookWeight, 'a hook weight',
      options.hookDeletePolicy, HelmHookDeletePolicy.HOOK_SUCCEEDED, HelmHookDeletePolicy.BEFORE_HOOK_CREATION);
    const hook = (phases: string) => ({
      'helm.sh/hook': phases,
      'helm.sh/hook-weight': `${options.hookWeight ?? 0}`,
      'helm.sh/hook-delete-policy': options.hookDeletePolicy ?? HelmHookDeletePolicy.BEFORE_HOOK_CREATION,
    });
    return new Delivery('helm', true, hook('pre-install,pre-upgrade'), hook('post-install,post-upgrade'), (ttl) =>
      `the TTL controller deletes the finished Job after ${ttl.toHumanString()}; Helm runs hooks only during install and upgrade.`);
  }

  /**
   * Plain `kubectl apply -f`: no engine annotations; the Job comes before the Deployment in the
   * output. Earlier releases' Jobs stay until you delete them (or apply with `--prune`).
   *
   * The Jobs' names end with a digest of their pod template
   * (`<name>-migration-<tag>-<8 hex digits>`): `kubectl apply` cannot change the template of an
   * existing Job (`spec.template: field is immutable`), so the same tag synthesized with another
   * template (a library upgrade, another command, env or resources) gives a new Job, which runs the
   * migration again (a no-op for a migration tool), and the gated pods wait for it.
   */
  public static kubectl(): Delivery {
    // eslint-disable-next-line prefer-rest-params
    refuseOptions('Delivery.kubectl()', arguments);
    return new Delivery('kubectl', false, {}, {}, (ttl) =>
      `the TTL controller deletes the finished Job after ${ttl.toHumanString()}; it comes back only with the next kubectl apply, which runs the migration again.`);
  }

  private constructor(
    /** The engine's name: `flux`, `argocd`, `helm` or `kubectl`. */
    public readonly engine: string,
    private readonly runsJobAsHook: boolean,
    private readonly preDeployAnnotations: { [key: string]: string },
    private readonly postDeployAnnotations: { [key: string]: string },
    private readonly ttlConsequence: (ttl: Duration) => string,
  ) {}

  /**
   * Whether the migration Job's name carries a digest of its pod template: under plain kubectl,
   * whose `apply` cannot replace an existing Job's template, where the engines re-create the Job.
   *
   * @internal
   */
  public _jobNameCarriesTemplate(): boolean {
    return this.engine === 'kubectl';
  }

  /** The annotations this engine needs on the (pre-deploy) migration Job. */
  public jobAnnotations(): { [key: string]: string } {
    return { ...this.preDeployAnnotations };
  }

  /** The annotations this engine needs on the post-deploy migration Job. */
  public postDeployJobAnnotations(): { [key: string]: string } {
    return { ...this.postDeployAnnotations };
  }

  /**
   * Annotations of the objects the pre-deploy Job's pod needs (its ServiceAccount and RBAC). A hook
   * engine runs the Job before it applies the release's other objects, so they are hooks too, of
   * the same phase and order: within one, both engines create ServiceAccounts and RBAC before Jobs.
   *
   * @internal
   */
  public _jobPrerequisiteAnnotations(): { [key: string]: string } {
    return this.runsJobAsHook ? this.beforeJob(this.jobAnnotations()) : {};
  }

  /**
   * Annotations of the copy of the waiter program that the pre-deploy Job mounts under a hook
   * engine (none under Flux and kubectl, where the Job mounts the ordinary copy): a hook of the
   * Job's phase, ordered before it, that the next release deletes just before it creates it again
   * (under Helm the gated pods mount it too: see `WaiterProgram.forPods`). A policy that deletes
   * it when a hook succeeds or fails would leave the pods without it, and the next release to
   * re-create an object that may still exist.
   *
   * @internal
   */
  public _programHookAnnotations(): { [key: string]: string } {
    if (!this.runsJobAsHook) {
      return {};
    }
    const annotations = this.beforeJob(this.jobAnnotations());
    for (const policy of ['helm.sh/hook-delete-policy', 'argocd.argoproj.io/hook-delete-policy']) {
      if (annotations[policy] !== undefined) {
        annotations[policy] = policy.startsWith('helm') ? HelmHookDeletePolicy.BEFORE_HOOK_CREATION : ArgoCdHookDeletePolicy.BEFORE_HOOK_CREATION;
      }
    }
    return annotations;
  }

  /**
   * `annotations` of a hook that must exist before the Job's pod starts. Helm creates the hooks of
   * one phase one at a time, in order of weight, and waits for each Job to complete before it
   * creates the next hook. Within one weight, some Helm 3 releases order hooks by name alone
   * (helm/helm issue 12414), so an object named after the Job would come after it, and the Job's pod
   * could never start. A weight one below the Job's orders it first in every release. Argo CD
   * applies a whole wave at once, ConfigMaps, ServiceAccounts and RBAC before Jobs, so the Job's own
   * wave suffices.
   */
  private beforeJob(annotations: { [key: string]: string }): { [key: string]: string } {
    const weight = annotations['helm.sh/hook-weight'];
    if (weight !== undefined) {
      annotations['helm.sh/hook-weight'] = `${Math.max(Number(weight) - 1, -2147483648)}`;
    }
    return annotations;
  }

  /**
   * Whether the Job's recorder creates the ledger ConfigMap, which the chart then leaves out: a
   * hook engine runs the Job before the release's ordinary objects exist (see `MigrationLedger`).
   *
   * @internal
   */
  public _recorderCreatesLedger(): boolean {
    return this.runsJobAsHook;
  }

  /**
   * How long the Job's recorder waits for the ledger ConfigMap when it may not create it. Under a
   * hook engine it creates the ledger itself, so the wait only bounds a refused create; elsewhere
   * the ledger is applied with the Job, and comes before it.
   *
   * @internal
   */
  public _ledgerWaitSeconds(): number {
    return this.runsJobAsHook ? 10 : 120;
  }

  /**
   * What goes wrong with this engine when the Job is deleted `ttl` after it finishes.
   *
   * @internal
   */
  public _ttlConsequence(ttl: Duration): string {
    return this.ttlConsequence(ttl);
  }
}

/**
 * Checks what both hook engines share: the hook's order is a whole number (negative runs earlier),
 * and the delete policy keeps the Job after it succeeds, because the new pods' waiter still needs it.
 */
// Each engine's options, by name: an option an engine does not know is refused, not ignored.
const ARGO_CD_OPTIONS: PropTypes<ArgoCdDeliveryOptions> = {
  syncWave: integer(-2147483648, 2147483647, 'a sync-wave'),
  hookDeletePolicy: oneOf('ArgoCdHookDeletePolicy', Object.values(ArgoCdHookDeletePolicy)),
};
const HELM_OPTIONS: PropTypes<HelmDeliveryOptions> = {
  hookWeight: integer(-2147483648, 2147483647, 'a hook weight'),
  hookDeletePolicy: oneOf('HelmHookDeletePolicy', Object.values(HelmHookDeletePolicy)),
};

function validateHookOptions(
  owner: string, orderProp: string, order: number | undefined, orderMeaning: string,
  policy: string | undefined, deletesOnSuccess: string, keepsUntilNextRelease: string,
): void {
  if (order !== undefined) {
    validateInteger(owner, orderProp, order, -2147483648, 2147483647, orderMeaning);
  }
  if (policy === deletesOnSuccess) {
    throw invalidProp(owner, 'hookDeletePolicy', policy,
      `${deletesOnSuccess} deletes the migration Job as soon as it succeeds, before the new pods start: their waiter finds no Job `
      + `and every pod loops in Init:CrashLoopBackOff. Use ${keepsUntilNextRelease} (the default).`);
  }
}
