import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Delivery } from './delivery';
import { MigrationTool } from './migration-tool';
import { MigrationWaiter } from './waiter';

/**
 * Props of `DatabaseMigration`.
 */
export interface DatabaseMigrationProps {
  /**
   * The image tag of this release. The migration image is tagged with it, and the Job's name is
   * derived from it, so that each release runs its own migration once. A Docker tag that names
   * one release: it carries a version (a digit) or is a commit SHA; moving tags such as `latest`
   * or `main` (in any case) are refused.
   */
  readonly imageTag: string;

  /**
   * The migration image repository, without tag or digest, e.g.
   * `registry.example.com/myapp-migration`. It is tagged with `imageTag`.
   */
  readonly image: string;

  /**
   * The command that applies pending migrations, e.g. `['npx', 'prisma', 'migrate', 'deploy']`.
   * Give this or `migrationTool`, not both.
   *
   * @default - the command of `migrationTool`
   */
  readonly migrationCommand?: string[];

  /**
   * A migration tool preset: its command, and the environment and writable paths it needs under a
   * read-only root filesystem. Give this or `migrationCommand`, not both.
   *
   * @default - `MigrationTool.custom(migrationCommand)`
   */
  readonly migrationTool?: MigrationTool;

  /**
   * The base name of the migration's objects: the Job is named `<name>-migration-<tag>`, the Role
   * and RoleBinding `<name>-migration-reader`. A DNS-1035 label (lowercase letters, digits and `-`,
   * starting with a letter) of at most 63 characters. Up to 42 characters it is used verbatim;
   * longer names are shortened with a hash in derived names, so that every name fits in 63.
   *
   * @default - the construct id
   */
  readonly name?: string;

  /**
   * ConfigMaps exposed as environment variables (`envFrom`) of the migration. Give the gated
   * workloads the same ones, so that the migration reaches the database they use.
   *
   * @default - none
   */
  readonly configMapNames?: string[];

  /**
   * Secrets exposed as environment variables (`envFrom`) of the migration, typically the one
   * holding `DATABASE_URL`. Only the names reach the YAML.
   *
   * @default - none
   */
  readonly secretNames?: string[];

  /**
   * Environment variables of the migration container.
   *
   * @default - none
   */
  readonly env?: { [name: string]: kplus.EnvValue };

  /**
   * Resources of the migration container.
   *
   * @default - cdk8s-plus defaults: cpu 1000m request / 1500m limit, memory 512Mi / 2048Mi
   */
  readonly resources?: kplus.ContainerResources;

  /**
   * Security context of the migration container, laid over the defaults, which meet the Pod
   * Security Standards "restricted" profile. `runAsNonRoot` needs an image whose `USER` is a
   * non-zero number (e.g. `USER 1000:1000`), or set `user` here.
   *
   * @default - the restricted profile, with a read-only root filesystem
   */
  readonly securityContext?: kplus.ContainerSecurityContextProps;

  /**
   * Labels added to the migration's pod, e.g. for a workload identity webhook. Keys under
   * `app.kubernetes.io/` are the construct's own and are refused.
   *
   * @default - none besides the construct's own
   */
  readonly podLabels?: { [key: string]: string };

  /**
   * Annotations added to the migration's pod.
   *
   * @default - none
   */
  readonly podAnnotations?: { [key: string]: string };

  /**
   * Pull policy of the migration image. The tag names one release and is never reused, so a node
   * that has the image need not ask the registry again.
   *
   * @default kplus.ImagePullPolicy.IF_NOT_PRESENT
   */
  readonly imagePullPolicy?: kplus.ImagePullPolicy;

  /**
   * `kubernetes.io/dockerconfigjson` Secrets for pulling images from private registries: two when
   * the migration image and the app image come from two registries. Every pod the construct creates
   * lists them (the migration Job, the post-deploy Job), and so does every gated pod that
   * runs a ServiceAccount the construct created for it, or that lists pull secrets of its own.
   *
   * The pull secrets a cluster attaches to the namespace's `default` ServiceAccount do not apply
   * here: these pods run their own ServiceAccounts, and the API server copies a ServiceAccount's
   * `imagePullSecrets` into a pod only from the pod's own account, and only when the pod lists none.
   * A gated pod that runs your own ServiceAccount and lists no pull secrets is left as it is, so that
   * your account's secrets still apply: add these to that account.
   *
   * @default - none
   */
  readonly imagePullSecretNames?: string[];

  /**
   * One `kubernetes.io/dockerconfigjson` Secret for pulling images.
   *
   * @deprecated Use `imagePullSecretNames`, which takes several and applies them to every pod the
   * construct creates or gates. Giving both is refused.
   * @default - none
   */
  readonly imagePullSecretName?: string;

  /**
   * The init container that holds every gated pod until the migration Job has completed.
   *
   * @default MigrationWaiter.watch()
   */
  readonly waiter?: MigrationWaiter;

  /**
   * The tool that applies the manifests; it decides the Job's annotations. Set it once for the
   * whole App with `Delivery.setDefault(app, ...)` rather than on each migration: the synth refuses
   * an App whose migrations are delivered by different engines.
   *
   * @default - the engine set with `Delivery.setDefault` on the App or a chart above, else `Delivery.flux()`
   */
  readonly delivery?: Delivery;

  /**
   * Deletes the Job this long after it finishes (`ttlSecondsAfterFinished`).
   *
   * Unset by default, deliberately: under Flux the deleted Job is re-created at the next reconcile
   * and the migration runs again every interval, and waiters that need the Job (k8s-wait-for,
   * kubectl wait) loop in `Init:CrashLoopBackOff` in every pod that starts afterwards. The
   * construct warns when it is set.
   *
   * @default - the Job is kept until the next release replaces it
   */
  readonly ttlAfterFinished?: Duration;

  /**
   * How long the migration may run before Kubernetes stops it and marks the Job failed
   * (`activeDeadlineSeconds`, reason `DeadlineExceeded`), so that a hung migration fails visibly
   * instead of holding the release forever.
   *
   * @default Duration.hours(1)
   */
  readonly migrationTimeout?: Duration;

  /**
   * How long a release's migration may wait for its turn: for the migrations of earlier releases
   * of this DatabaseMigration that still run (releases that overlap). Migrations run one at a
   * time; one whose turn has not come by then fails without migrating, and the next release runs
   * the pending migrations. The Job's deadline (`activeDeadlineSeconds`) is this plus
   * `migrationTimeout`, because Kubernetes counts it from the Job's start, queue included: a
   * migration that starts always has its whole `migrationTimeout`.
   *
   * @default - the `migrationTimeout`: one earlier migration may run to its end
   */
  readonly queueTimeout?: Duration;

  /**
   * The command that applies the post-deploy (contract) migrations: dropping what the previous
   * release still used, backfills, tightened constraints. It runs in a second Job,
   * `<name>-post-migration-<tag>`, only once every workload gated by this migration has rolled out
   * this release completely. The pre-deploy command must leave these migrations out.
   *
   * Give it with `migrationCommand` or `MigrationTool.custom()`. A preset whose tool can split the
   * phases takes its own post-deploy option instead (e.g. `MigrationTool.flyway({ locations,
   * postDeployLocations })`); a preset that cannot would run the contract migrations in the
   * pre-deploy Job too, so it is refused here.
   *
   * @default - the post-deploy command of `migrationTool`, if it has one; else no post-deploy Job
   */
  readonly postDeployMigrationCommand?: string[];

  /**
   * How long the post-deploy migration may run once the rollout is complete. The post-deploy Job's
   * own deadline adds the time the rollout may take: the pre-deploy `migrationTimeout` and 10
   * minutes of start-up.
   *
   * @default - `migrationTimeout`
   */
  readonly postDeployMigrationTimeout?: Duration;

  /**
   * The larger application this migration is part of (`app.kubernetes.io/part-of`).
   *
   * @default - no part-of label
   */
  readonly partOf?: string;

  /**
   * Other image repositories built for each release and tagged with `imageTag`, e.g. the service
   * image when the migration has its own. A gated container that runs one of them (or `image`)
   * with another tag is refused, unless the gate allows it (`allowOtherImageTags`).
   *
   * @default - `image` only
   */
  readonly releaseImages?: string[];
}
