import { ApiObject, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { resourcesJson } from './containers';
import { DatabaseMigrationProps } from './database-migration-props';
import { Delivery } from './delivery';
import { GateOptions, MigrationGate, ReleaseSpec } from './gate';
import { copyJobConfigAsHooks } from './hook-config';
import { migrationSelector, recommendedLabels } from './labels';
import { jobTemplateHash, migrationJob } from './migration-job';
import { MigrationLedger } from './migration-ledger';
import { imagePullSecretNamesOf, resolveMigrationTool, resolvePostDeployPhase, SHARED_MIGRATION_PROPS, validateMigrationProps } from './migration-props';
import { MigrationTool } from './migration-tool';
import { oversizedRequests } from './node-capacity';
import { PostDeployMigration, ROLLOUT_ALLOWANCE } from './post-deploy-migration';
import { BOOLEAN, checkArgument, checkOptions, checkProps, CONSTRUCT, PropTypes, STRING_LIST } from './prop-types';
import { ReleaseQueue } from './release-queue';
import { refuseDuplicateObjects } from './unique-objects';
import { invalidProp, validateEnvNames, validateImageRepository } from './validation';
import { MigrationWaiter, MigrationWaiterConfig } from './waiter';
import { WaiterProgram } from './waiter-program';
import { RaisedWarning, reportWarning } from './warnings';
import { derivedName, isDnsLabel, versionedResourceName } from '../shared/names';
import { conventionallyMoves } from '../shared/release-tag';

/**
 * A database migration that runs once per release, and holds every workload it gates until it has
 * succeeded:
 *
 * - a migration Job named `<name>-migration-<tag>`, one per release (under `Delivery.kubectl()`
 *   followed by a digest of its pod template, which `kubectl apply` cannot change);
 * - `gate(workload)`: an init container in that workload's pods that waits for exactly that Job;
 * - a Role that lets the waiters read that Job and nothing else, bound to each gated workload's
 *   ServiceAccount;
 * - the Job and the RBAC ordered before every gated workload in the YAML.
 *
 * @example
 * const migration = new DatabaseMigration(chart, 'shop', {
 *   imageTag: 'v1.2.3',
 *   image: 'registry.example.com/shop-migration',
 *   migrationTool: MigrationTool.prisma(),
 *   secretNames: ['shop-secrets'],
 * });
 * migration.gate(web);
 * migration.gate(worker);
 */
export class DatabaseMigration extends Construct {
  /** The base name of the migration's objects. */
  public readonly name: string;

  /** The migration tool: its command, environment and writable paths. */
  public readonly migrationTool: MigrationTool;

  /** The image tag of this release. */
  public readonly imageTag: string;

  /** The name of this release's migration Job, which every gated pod waits for. */
  public readonly jobName: string;

  /** The migration Job. */
  public readonly job: kplus.Job;

  /** The migration container of the Job. */
  public readonly migrationContainer: kplus.Container;

  /** The Role that lets the waiters read this release's Job. */
  public readonly role: kplus.Role;

  /** The RoleBinding of `role` to the ServiceAccount of every gated workload. */
  public readonly roleBinding: kplus.RoleBinding;

  /** The delivery engine the manifests are annotated for. */
  public readonly delivery: Delivery;

  /**
   * Where the migration records its success, for waiters that still start pods after the Job is
   * gone; present when the waiter reads it (`MigrationWaiter.watch()`).
   */
  public readonly ledger?: MigrationLedger;

  /** The waiter every gated pod runs. */
  public readonly waiter: MigrationWaiter;

  /** How long the migration may run. */
  public readonly migrationTimeout: Duration;

  /** How long a release's migration may wait for the migrations of earlier releases. */
  public readonly queueTimeout: Duration;

  /**
   * Migrations of this DatabaseMigration run one at a time across releases: the Role and
   * RoleBinding (and, when the Job's pod has no other, the ServiceAccount) of the `wait-for-turn`
   * container in every migration Job's pod.
   */
  public readonly queue: ReleaseQueue;

  /** The name of the init container that waits, in every gated pod. */
  public readonly waiterContainerName: string;

  /**
   * The post-deploy (contract) migration, when there is one: its Job runs once every gated
   * workload has rolled out this release.
   */
  public readonly postDeploy?: PostDeployMigration;

  /** The workloads gated so far. */
  public readonly gates: MigrationGate[] = [];

  /**
   * Warnings about opted-in traps (such as a TTL on the Job) and about gated workloads that can
   * lose capacity while they wait, acknowledged or not. Each unacknowledged one is printed at synth
   * with its stable id, or fails the synth in strict mode (see `MigrationWarnings`).
   */
  public readonly warnings: string[] = [];

  private readonly owner: string;
  private readonly namespace?: string;
  private readonly jobTemplateHash?: string;
  /** The pull secrets of every pod the migration creates or gates. */
  private readonly imagePullSecrets: string[];
  private readonly waiterConfig: MigrationWaiterConfig;
  private readonly podProgram?: ApiObject;
  private readonly boundAccounts = new Set<string>();
  private readonly raisedWarnings: RaisedWarning[] = [];
  private readonly release: ReleaseSpec;
  private readonly configSources: string[];
  private sharedConfigWarnings?: RaisedWarning[];

  constructor(scope: Construct, id: string, props: DatabaseMigrationProps) {
    super(scope, id);
    this.owner = `DatabaseMigration "${this.node.path}"`;
    checkProps(this.owner, 'DatabaseMigration', props, PROPS);
    this.name = props.name ?? id;
    validateMigrationProps(this.owner, this.name, props.name === undefined, props);
    const migrationTool = resolveMigrationTool(this.owner, props);
    this.imagePullSecrets = imagePullSecretNamesOf(this.owner, props);
    this.migrationTool = migrationTool;
    this.delivery = Delivery._resolve(this, this.owner, props.delivery);
    this.waiter = props.waiter ?? MigrationWaiter.watch();
    this.migrationTimeout = props.migrationTimeout ?? Duration.hours(1);
    this.queueTimeout = props.queueTimeout ?? this.migrationTimeout;
    this.namespace = Chart.of(this).namespace;
    // Under plain kubectl the name carries a digest of the pod template too: `kubectl apply` cannot
    // change the template of an existing Job ("field is immutable"), so the same tag with another
    // template (a library upgrade, new env or resources) needs a new Job. The engines re-create
    // the Job of the same name themselves (Flux's force annotation, Argo CD's and Helm's hooks).
    this.jobTemplateHash = this.delivery._jobNameCarriesTemplate() ? jobTemplateHash(this, this.name, props) : undefined;
    this.jobName = versionedResourceName(this.name, '-migration-', props.imageTag, this.jobTemplateHash);
    this.waiterContainerName = derivedName('wait-for-', this.name, '-migration');
    const labels = recommendedLabels(this.name, props.imageTag, 'migration', props.partOf);
    const bound = this.waiter.bind(this.jobName, this.ledgerName);
    // The gated pods mount the copy of the program the delivery engine gives them (WaiterProgram.forPods).
    this.podProgram = bound.programConfigMap === undefined ? undefined
      : WaiterProgram.of(this, bound.programConfigMap).forPods(this.delivery, this.owner);
    this.waiterConfig = this.podProgram === undefined ? bound : { ...bound, programConfigMap: this.podProgram.name };
    // Only a waiter that reads the ledger needs the migration to record its success there.
    const recordsSuccess = this.waiterConfig.ledgerVerbs.length > 0;

    ({ job: this.job, migrationContainer: this.migrationContainer } = migrationJob(this, 'Job', props, {
      name: this.jobName,
      labels,
      annotations: this.delivery.jobAnnotations(),
      command: migrationTool.command,
      toolEnv: migrationTool.env,
      writablePaths: migrationTool.writablePaths,
      // The deadline counts from the Job's start, queue included (Kubernetes cannot pause it): the
      // queue gives up after queueTimeout, so a migration that starts always has its whole timeout.
      timeout: Duration.seconds(this.queueTimeout.toSeconds() + this.migrationTimeout.toSeconds()),
      migrateFirst: recordsSuccess,
      imagePullSecrets: this.imagePullSecrets,
    }));
    // Under a hook engine the Job runs before the release's ordinary objects exist: it reads hook
    // copies of the ConfigMaps and Secrets of the App it names (see copyJobConfigAsHooks).
    copyJobConfigAsHooks(this, ApiObject.of(this.job), this.jobName, labels, this.delivery);
    this.ledger = recordsSuccess ? this.createLedger(props, labels) : undefined;
    this.queue = ReleaseQueue._create(this, 'Queue', {
      name: derivedName('', this.name, '-migration-queue'),
      labels,
      selector: migrationSelector(this.name),
      prerequisiteAnnotations: this.delivery._jobPrerequisiteAnnotations(),
      owner: this.owner,
    });
    const queueProgram = this.waiter._program('queue', {});
    this.queue._add({
      job: this.job,
      jobName: this.jobName,
      serviceAccount: this.ledger?.serviceAccount,
      program: queueProgram,
      programConfigMap: WaiterProgram.of(this, queueProgram.programConfigMap!).forJob(this.delivery, this.owner).name,
      queueSeconds: this.queueTimeout.toSeconds(),
    });

    this.postDeploy = this.createPostDeployMigration(props, migrationTool, recommendedLabels(this.name, props.imageTag, 'post-migration', props.partOf));
    const rolloutProgram = this.waiter._program('rollout', {}).programConfigMap;
    if (this.postDeploy !== undefined && rolloutProgram !== undefined) {
      this.postDeploy.job.node.addDependency(WaiterProgram.of(this, rolloutProgram).forPods(this.delivery, this.owner));
    }
    if (this.postDeploy !== undefined) {
      this.queue._add({
        job: this.postDeploy.job,
        jobName: this.postDeploy.jobName,
        serviceAccount: this.postDeploy.serviceAccount,
        program: queueProgram,
        // Even under a hook engine this Job runs after the release's ordinary objects exist.
        programConfigMap: WaiterProgram.of(this, queueProgram.programConfigMap!).forPods(this.delivery, this.owner).name,
        // Its deadline less its own migration's time: the pre-deploy migration's queue and run, the
        // rollout, then its own queue.
        queueSeconds: 2 * this.queueTimeout.toSeconds() + this.migrationTimeout.toSeconds() + ROLLOUT_ALLOWANCE.toSeconds(),
      });
    }

    const readerName = derivedName('', this.name, '-migration-reader');
    this.role = new kplus.Role(this, 'Role', { metadata: { name: readerName, labels } });
    // A cdk8s-plus Job as the resource yields `resourceNames: [<job name>]`: the waiters may read
    // this release's Job and no other, and the ledger only by its name.
    this.role.allow(this.waiterConfig.jobVerbs, this.job);
    if (recordsSuccess) {
      this.role.allow(this.waiterConfig.ledgerVerbs, kplus.ConfigMap.fromConfigMapName(this, 'LedgerName', this.ledgerName));
    }
    this.roleBinding = new kplus.RoleBinding(this, 'RoleBinding', { metadata: { name: readerName, labels }, role: this.role });
    this.roleBinding.node.addDependency(this.role);

    refuseDuplicateObjects(this.owner, this, this.node.findAll().filter(ApiObject.isApiObject), { baseName: this.name });
    this.imageTag = props.imageTag;
    this.release = {
      imageTag: props.imageTag,
      repositories: [props.image, ...(props.releaseImages ?? [])],
      envFrom: [
        ...(props.configMapNames ?? []).map((name) => ({ configMapRef: { name } })),
        ...(props.secretNames ?? []).map((name) => ({ secretRef: { name } })),
      ],
      env: Object.entries(props.env ?? {})
        .map(([name, value]) => (value.valueFrom !== undefined ? { name, valueFrom: value.valueFrom } : { name, value: value.value })),
      appWritablePaths: migrationTool.appWritablePaths,
      volumePrefix: derivedName('', this.name, '-writable'),
      imagePullSecrets: this.imagePullSecrets,
    };
    // Where a database's URL or credentials come from: a Secret, or one ConfigMap key. A whole
    // ConfigMap (configMapNames) is most often the app's common settings, shared by services on
    // separate databases, so it is not taken as a sign of a shared database.
    this.configSources = [
      ...(props.secretNames ?? []).map((name) => `Secret "${name}"`),
      ...Object.values(props.env ?? {}).flatMap((value) => {
        const from = value.valueFrom;
        return [
          ...(from?.secretKeyRef?.name !== undefined ? [`Secret "${from.secretKeyRef.name}"`] : []),
          ...(from?.configMapKeyRef?.name !== undefined ? [`key "${from.configMapKeyRef.key}" of ConfigMap "${from.configMapKeyRef.name}"`] : []),
        ];
      }),
    ];
    // Warnings raised here are reported at synth, once every acknowledgment has been made.
    this.node.addValidation({ validate: () => this.raisedWarnings.flatMap((warning) => reportWarning(warning) ?? []) });
    this.node.addValidation({ validate: () => this.unqueuedNeighbours().flatMap((warning) => reportWarning(warning) ?? []) });
    for (const warning of [
      ...validateEnvNames(this.owner, 'env', Object.keys(props.env ?? {})),
      ...validateEnvNames(this.owner, 'migrationTool env', Object.keys(this.migrationTool.env)),
      ...validateEnvNames(this.owner, 'migrationTool postDeployEnv', Object.keys(this.migrationTool.postDeployEnv)),
    ]) {
      this.warn('MS103', warning);
    }
    const moving = conventionallyMoves(props.imageTag);
    if (moving !== undefined) {
      this.warn('MS105', `imageTag ${moving}. The migration Job is named after the tag (${this.jobName}): every release of that line gets this `
        + 'name, and kubectl apply and Flux leave the first one\'s completed Job in place, so the later releases skip their migrations '
        + '(Argo CD and Helm re-create their hook Jobs, but the image the tag names still changes under the pods). '
        + 'Tag each build uniquely: a full version ("v1.2.3") or a commit SHA.');
    }
    for (const problem of props.resources !== undefined ? oversizedRequests(resourcesJson(props.resources)) : []) {
      this.warn('MS107', `resources: the migration Job (${this.jobName}) ${problem} Acknowledge it only if your nodes are that large.`);
    }
    if (props.ttlAfterFinished !== undefined) {
      this.warn('MS005', `ttlAfterFinished is set: ${this.delivery._ttlConsequence(props.ttlAfterFinished)}`
        + (recordsSuccess ? '' : ' Until the next release, every pod that starts after that (scale-up, '
          + 'reschedule, node drain) finds no Job, and its waiter exits 1: the pod loops in Init:CrashLoopBackOff.'));
    }
  }

  /**
   * `repository` tagged with this release's image tag, for the containers of the workloads it
   * gates: `worker.addContainer({ image: migration.releaseImage('registry.example.com/shop') })`.
   *
   * @param repository an image repository without tag or digest
   */
  public releaseImage(repository: string): string {
    validateImageRepository(this.owner, 'releaseImage(repository)', repository);
    return `${repository}:${this.imageTag}`;
  }

  /**
   * `base` with this release's image tag appended, as a name of at most 63 characters (like the
   * migration Job's own name): the name a gated Job or Pod needs,
   * `new kplus.Job(chart, 'backfill', { metadata: { name: migration.releaseName('shop-backfill') } })`.
   *
   * A Job's pod template and a Pod's spec cannot be changed once created, and the gated pod
   * template changes at every release (its waiter waits for another Job), so a gated Job or Pod
   * must be a new object at every release: `gate()` refuses one whose name does not carry the
   * release's tag. The tag is copied when it is a valid name part, else hashed (`versionedName`).
   * Under `Delivery.kubectl()` the name ends with the migration Job's template digest too, as the
   * Job's own name does, and `gate()` requires it: the same tag with a new migration Job changes the
   * gated pod's template as well.
   *
   * @param base a DNS label: lowercase letters, digits and `-`
   */
  public releaseName(base: string): string {
    if (typeof base !== 'string' || !isDnsLabel(base)) {
      throw invalidProp(this.owner, 'releaseName(base)', base,
        'the base of a Job or Pod name is a DNS-1123 label: lowercase letters, digits and "-", alphanumeric at both ends, at most 63 characters.');
    }
    // Under kubectl it ends with the migration Job's template digest too: the gated pod's waiter
    // names that Job, so a new migration Job of the same tag changes this object's template.
    return versionedResourceName(base, '-', this.imageTag, this.jobTemplateHash);
  }

  /**
   * The `progressDeadline` a gated Deployment needs: `queueTimeout` plus `migrationTimeout` plus
   * 10 minutes for its pods to start. New pods wait in their init container while the migration
   * waits for its turn and runs, so a shorter deadline reports a failed rollout (and `gate()` warns,
   * MS102). `MigratedService` gives its Deployment this one;
   * `new kplus.Deployment(scope, id, { progressDeadline: migration.progressDeadline })` for yours.
   */
  public get progressDeadline(): Duration {
    return Duration.seconds(this.queueTimeout.toSeconds() + this.migrationTimeout.toSeconds() + ROLLOUT_ALLOWANCE.toSeconds());
  }

  /** The ConfigMap in which the migration records its successes, for waiters that outlive the Job. */
  public get ledgerName(): string {
    return derivedName('', this.name, '-migration-ledger');
  }

  /**
   * Holds every pod of `workload` until this release's migration Job has completed: adds the
   * waiter init container, turns the pod's service-account token on, lets the workload's
   * ServiceAccount read the Job (and nothing else), and orders the Job and RBAC before the
   * workload in the YAML, whatever order they were created in.
   *
   * `workload` is any construct that synthesizes one object with a pod template: a cdk8s-plus
   * Deployment, StatefulSet, DaemonSet, Job, CronJob (every run waits) or Pod, or an L1 object of
   * those kinds (`cdk8s import`, `ApiObject`, an object of an `Include`). A workload without a
   * ServiceAccount gets one named after it: a gated pod never runs as the namespace's `default`.
   *
   * The workload's rollout strategy is left as it is; a warning says when it can lose serving
   * capacity while new pods wait.
   *
   * It may be called before the workload's containers are added: what it adds to the pod, and the
   * checks of the containers, happen when the workload is written out.
   */
  public gate(workload: IConstruct, options: GateOptions = {}): MigrationGate {
    checkArgument(`${this.owner}.gate()`, 'workload', workload, CONSTRUCT);
    checkOptions(`${this.owner}.gate()`, options, GATE_OPTIONS);
    const ownJobs = [this.job, this.postDeploy?.job].filter((job) => job !== undefined).map((job) => ApiObject.of(job!));
    if (ownJobs.some((job) => workload === job || workload.node.defaultChild === job)) {
      throw invalidProp(this.owner, 'gate(workload)', workload.node.path,
        'it is this migration\'s own Job, which cannot wait for itself. Gate the workloads that need the migrated schema (the service, workers, CronJobs).');
    }
    const gate = MigrationGate._apply(workload, {
      owner: this.owner,
      namespace: this.namespace,
      jobName: this.jobName,
      jobTemplateHash: this.jobTemplateHash,
      waiterContainerName: this.waiterContainerName,
      verifierContainerName: derivedName('check-', this.name, '-migration'),
      waiterVolumeName: derivedName('wait-for-', this.name, '-migration-tmp'),
      waiter: this.waiterConfig,
      migrationTimeout: Duration.seconds(this.queueTimeout.toSeconds() + this.migrationTimeout.toSeconds()),
      serviceAccountFor: (workloadName, workloadPath) => this.serviceAccountFor(workloadName, workloadPath),
      warn: (id, message, subject) => this.warnAtSynth(id, message, subject),
      release: this.release,
      options,
    });
    if (this.gates.some((existing) => existing.workload === gate.workload)) {
      throw invalidProp(this.owner, 'gate(workload)', workload.node.path, 'this workload is already gated by this migration; gate it once.');
    }
    this.gates.push(gate);
    this.postDeploy?._waitFor(gate);
    if (!this.boundAccounts.has(gate.serviceAccountName)) {
      this.boundAccounts.add(gate.serviceAccountName);
      this.roleBinding.addSubjects(new ServiceAccountSubject(this, `Subject${this.boundAccounts.size}`, gate.serviceAccountName, this.namespace));
    }
    workload.node.addDependency(this.job, this.role, this.roleBinding);
    if (this.podProgram !== undefined) {
      workload.node.addDependency(this.podProgram);
    }
    if (gate.serviceAccount !== undefined) {
      workload.node.addDependency(gate.serviceAccount);
    }
    return gate;
  }

  private createLedger(props: DatabaseMigrationProps, labels: { [key: string]: string }): MigrationLedger {
    const recorder = this.waiter._program('record', {});
    return MigrationLedger._create(this, 'Ledger', {
      name: this.ledgerName,
      recorderName: derivedName('', this.name, '-migration-recorder'),
      labels,
      job: this.job,
      jobName: this.jobName,
      migrationImage: `${props.image}:${props.imageTag}`,
      recorder,
      program: recorder.programConfigMap !== undefined
        ? WaiterProgram.of(this, recorder.programConfigMap).forJob(this.delivery, this.owner) : undefined,
      recorderCreatesLedger: this.delivery._recorderCreatesLedger(),
      prerequisiteAnnotations: this.delivery._jobPrerequisiteAnnotations(),
      ledgerWaitSeconds: this.delivery._ledgerWaitSeconds(),
    });
  }

  private createPostDeployMigration(
    props: DatabaseMigrationProps, migrationTool: MigrationTool, labels: { [key: string]: string },
  ): PostDeployMigration | undefined {
    const phase = resolvePostDeployPhase(this.owner, props, migrationTool);
    if (phase === undefined) {
      return undefined;
    }
    const timeout = props.postDeployMigrationTimeout ?? this.migrationTimeout;
    const { job } = migrationJob(this, 'PostDeployJob', props, {
      name: versionedResourceName(this.name, '-post-migration-', props.imageTag, this.jobTemplateHash),
      labels,
      annotations: this.delivery.postDeployJobAnnotations(),
      command: phase.command,
      toolEnv: phase.env,
      writablePaths: migrationTool.writablePaths,
      // The Job's clock starts before the rollout: the rollout waits for the pre-deploy migration
      // and the pods' start-up, then the contract migration gets its own timeout.
      timeout: Duration.seconds(this.queueTimeout.toSeconds() + this.migrationTimeout.toSeconds() + ROLLOUT_ALLOWANCE.toSeconds()
        + this.queueTimeout.toSeconds() + timeout.toSeconds()),
      migrateFirst: false,
      imagePullSecrets: this.imagePullSecrets,
    });
    return PostDeployMigration._create(this, 'PostDeploy', {
      job,
      readerName: derivedName('', this.name, '-post-migration'),
      labels,
      releaseJobName: this.jobName,
      rolloutWaiter: (env) => {
        const program = this.waiter._program('rollout', env);
        return program.programConfigMap === undefined ? program
          : { ...program, programConfigMap: WaiterProgram.of(this, program.programConfigMap).forPods(this.delivery, this.owner).name };
      },
      selector: migrationSelector(this.name),
      owner: this.owner,
    });
  }

  private serviceAccountFor(workloadName: string, workloadPath: string): kplus.ServiceAccount {
    const serviceAccount = new kplus.ServiceAccount(this, `ServiceAccount${this.gates.length}`, {
      metadata: { name: workloadName, labels: { 'app.kubernetes.io/managed-by': 'cdk8s' } },
      // Only the gated pods, which set it themselves, get a token.
      automountToken: false,
    });
    refuseDuplicateObjects(this.owner, this, [ApiObject.of(serviceAccount)], {
      fix: `gate() created the ServiceAccount "${workloadName}" for the workload "${workloadPath}", which had none of its own. `
      + 'Give the workload the account it should run as before gating it (cdk8s-plus: the serviceAccount prop; '
      + 'an L1 object: spec.template.spec.serviceAccountName), and gate() binds that one instead.',
    });
    return serviceAccount;
  }

  /**
   * Two migrations of one namespace that read the same Secret or ConfigMap key (a database URL,
   * most often) but queue apart may run at once against one database (MS104). Each pair is reported
   * once, on the migration found later in the App.
   */
  private unqueuedNeighbours(): RaisedWarning[] {
    if (this.sharedConfigWarnings !== undefined) {
      return this.sharedConfigWarnings;
    }
    const warnings: RaisedWarning[] = [];
    const mine = new Set(this.configSources);
    const queue = this.queue._shared?.queue;
    for (const other of this.node.root.node.findAll()) {
      if (other === this) {
        break;
      }
      const sameQueue = queue !== undefined && other instanceof DatabaseMigration && other.queue._shared?.queue === queue;
      if (!(other instanceof DatabaseMigration) || other.namespace !== this.namespace || sameQueue) {
        continue;
      }
      const shared = [...new Set(other.configSources.filter((source) => mine.has(source)))];
      if (shared.length === 0) {
        continue;
      }
      const message = `${this.owner}: it and DatabaseMigration "${other.node.path}" both read ${shared.join(', ')} but queue apart, so their `
        + 'migrations can run at the same time. If they migrate one database, queue them together, in the order they must run: '
        + `new DatabaseQueue(scope, 'Database', { migrations: [<"${other.node.path}">, <"${this.node.path}">] }) (docs/several-services.md).`;
      this.warnings.push(message);
      warnings.push({ subject: this, id: 'MS104', message });
    }
    this.sharedConfigWarnings = warnings;
    return warnings;
  }

  private warn(id: string, message: string): void {
    const warning = `${this.owner}: ${message}`;
    this.warnings.push(warning);
    this.raisedWarnings.push({ subject: this, id, message: warning });
  }

  /** A warning raised while a gated workload is written out: reported at once, and fatal in strict mode. */
  private warnAtSynth(id: string, message: string, subject: IConstruct): void {
    const warning = `${this.owner}: ${message}`;
    this.warnings.push(warning);
    const error = reportWarning({ subject, id, message: warning });
    if (error !== undefined) {
      throw new Error(error);
    }
  }
}

// A prop DatabaseMigration does not know is refused, not ignored.
const PROPS: PropTypes<DatabaseMigrationProps> = { ...SHARED_MIGRATION_PROPS, releaseImages: STRING_LIST };

// An option gate() does not know is refused, not ignored.
const GATE_OPTIONS: PropTypes<GateOptions> = { shareEnvironment: BOOLEAN, allowOtherImageTags: BOOLEAN };

/**
 * A ServiceAccount of the migration's namespace as a RoleBinding subject. The namespace is written
 * out when the chart has one; without one, Kubernetes reads the binding's own namespace, which is
 * the workload's. (cdk8s-plus's `ServiceAccount.fromServiceAccountName` would write "default".)
 */
class ServiceAccountSubject extends Construct implements kplus.ISubject {
  constructor(scope: Construct, id: string, private readonly accountName: string, private readonly namespace?: string) {
    super(scope, id);
  }

  public toSubjectConfiguration(): kplus.SubjectConfiguration {
    return {
      kind: 'ServiceAccount',
      name: this.accountName,
      apiGroup: '',
      ...(this.namespace !== undefined ? { namespace: this.namespace } : {}),
    };
  }
}
