import { App, Chart, ChartProps, Cron, Duration } from 'cdk8s';
import { DatabaseMigration, ImageTag, MigratedService, MigrationTool, MigrationWarnings, ServiceProbe } from 'cdk8s-migrated-service';
import * as kplus from 'cdk8s-plus-33';
import { Construct } from 'constructs';

export interface ShopChartProps extends ChartProps {
  /** The image tag of this release, from the pipeline. */
  readonly imageTag: string;
}

/**
 * The app a new user brings, as `cdk8s init typescript-app` (cdk8s-plus-33) sets it up: a Rails
 * shop with a web service, a Sidekiq worker, a nightly report CronJob and an event consumer
 * StatefulSet, on two databases (the shop's, and analytics), with post-deploy migrations on the
 * shop's. Every workload waits for every migration of the databases it uses, and runs the release's
 * image. It type-checks and synthesizes against cdk8s-plus-33 and cdk8s-plus-28
 * (`tsconfig.plus28.json` maps the import onto the older major).
 */
export class ShopChart extends Chart {
  public readonly web: MigratedService;
  public readonly analytics: DatabaseMigration;
  public readonly worker: kplus.Deployment;
  public readonly nightly: kplus.CronJob;
  public readonly events: kplus.StatefulSet;

  constructor(scope: Construct, id: string, props: ShopChartProps) {
    super(scope, id, { namespace: 'shop', ...props });

    // The storefront. Rails' post-deploy migrations run after the rollout, in a second Job.
    this.web = new MigratedService(this, 'web', {
      name: 'shop',
      imageTag: props.imageTag,
      image: 'registry.example.com/shop',
      migrationTool: MigrationTool.rails({ skipPostDeployMigrationsEnv: 'SKIP_POST_DEPLOYMENT_MIGRATIONS' }),
      command: ['bundle', 'exec', 'puma'],
      args: ['-C', 'config/puma.rb'],
      port: 3000,
      readiness: ServiceProbe.fromHttpGet('/up', { port: 3000 }),
      configMapNames: ['shop-config'],
      secretNames: ['shop-secrets'],
      securityContext: { user: 1000, group: 1000 },
    });

    // The second database, migrated by its own Rails task from the same image.
    this.analytics = new DatabaseMigration(this, 'analytics', {
      imageTag: props.imageTag,
      image: 'registry.example.com/shop',
      migrationTool: MigrationTool.custom(['bundle', 'exec', 'rails', 'db:migrate:analytics'], {
        env: { RAILS_LOG_TO_STDOUT: '1', HOME: '/tmp' },
        writablePaths: ['/rails/tmp', '/rails/log'],
      }),
      configMapNames: ['shop-config'],
      secretNames: ['shop-analytics-secrets'],
      securityContext: { user: 1000, group: 1000 },
    });

    // Every other workload runs this release's image, and reads what the migrations read.
    const image = this.web.migration.releaseImage('registry.example.com/shop');
    const securityContext = { user: 1000, group: 1000 };
    // New pods wait for the migrations: never take a serving pod down for one of them, and let
    // the rollout last as long as a migration Job may (its turn, then its run).
    const strategy = kplus.DeploymentStrategy.rollingUpdate({
      maxSurge: kplus.PercentOrAbsolute.absolute(1),
      maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
    });

    this.worker = new kplus.Deployment(this, 'worker', {
      metadata: { name: 'shop-worker' },
      replicas: 2,
      strategy,
      progressDeadline: Duration.minutes(140),
    });
    this.worker.addContainer({ name: 'worker', image, command: ['bundle', 'exec', 'sidekiq'], securityContext });

    this.nightly = new kplus.CronJob(this, 'nightly', { metadata: { name: 'shop-nightly' }, schedule: Cron.daily() });
    this.nightly.addContainer({ name: 'report', image, command: ['bundle', 'exec', 'rails', 'reports:nightly'], securityContext });

    const eventsService = new kplus.Service(this, 'events-headless', { metadata: { name: 'shop-events' }, clusterIP: 'None', ports: [{ port: 9394 }] });
    this.events = new kplus.StatefulSet(this, 'events', { metadata: { name: 'shop-events' }, replicas: 3, service: eventsService });
    this.events.addContainer({ name: 'consumer', image, command: ['bundle', 'exec', 'rails', 'events:consume'], portNumber: 9394, securityContext });
    MigrationWarnings.acknowledge(this.events, 'MS101', 'three consumers share the partitions; one less while a migration runs only slows them');

    // The worker and the nightly report use both databases; the event consumer only the shop's.
    for (const workload of [this.worker, this.nightly, this.events]) {
      this.web.migration.gate(workload, { shareEnvironment: true });
    }
    for (const workload of [this.worker, this.nightly]) {
      this.analytics.gate(workload, { shareEnvironment: true });
    }
  }
}

if (require.main === module) {
  const app = new App();
  // CI fails on any new warning that nobody has acknowledged.
  MigrationWarnings.strict(app);
  new ShopChart(app, 'shop', { imageTag: ImageTag.fromEnv() });
  app.synth();
}
