import { App, Chart, ChartProps, Duration, Size } from 'cdk8s';
import { Delivery, ImageTag, MigratedService, MigrationTool } from 'cdk8s-migrated-service';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';

export interface MyAppChartProps extends ChartProps {
  /** The image tag of this release, from the pipeline. */
  readonly imageTag: string;
  /** The engine that applies the manifests. */
  readonly delivery?: Delivery;
}

/**
 * The pattern document's example: a Prisma service with two replicas, its migration image built
 * from the same commit, and both reading the same ConfigMap and Secret; and a background worker,
 * from the same image, that waits for the same migration.
 */
export class MyAppChart extends Chart {
  public readonly service: MigratedService;
  public readonly worker: kplus.Deployment;

  constructor(scope: Construct, id: string, props: MyAppChartProps) {
    super(scope, id, { namespace: 'myapp', ...props });
    this.service = new MigratedService(this, 'myapp', {
      imageTag: props.imageTag,
      image: 'registry.example.com/myapp',
      migrationImage: 'registry.example.com/myapp-migration',
      migrationTool: MigrationTool.prisma(),
      replicas: 2,
      configMapNames: ['myapp-config'],
      secretNames: ['myapp-secrets'],
      port: 3000,
      delivery: props.delivery,
      deploymentVariables: true,
    });

    // The worker runs the service's image with another command, reads the same database, and must
    // not start against an unmigrated schema either: the service's migration gates it too.
    this.worker = new kplus.Deployment(this, 'worker', {
      metadata: { name: 'myapp-worker' },
      replicas: 1,
      // New pods wait for the migration: never take a running worker down for one of them.
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: kplus.PercentOrAbsolute.absolute(1),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      // The migration Job may take its whole deadline (1 hour for its turn behind another
      // release's migration, 1 hour for the migration) before the new pods can start.
      progressDeadline: Duration.minutes(130),
    });
    this.worker.addContainer({
      name: 'worker',
      image: `registry.example.com/myapp:${props.imageTag}`,
      command: ['node', 'dist/worker.js'],
      envFrom: [
        kplus.Env.fromConfigMap(kplus.ConfigMap.fromConfigMapName(this, 'WorkerConfig', 'myapp-config')),
        kplus.Env.fromSecret(kplus.Secret.fromSecretName(this, 'WorkerSecrets', 'myapp-secrets')),
      ],
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      securityContext: {
        ensureNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: [kplus.Capability.ALL] },
        seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
      },
      resources: {
        cpu: { request: kplus.Cpu.millis(250), limit: kplus.Cpu.millis(500) },
        memory: { request: Size.mebibytes(256), limit: Size.mebibytes(512) },
      },
    }).mount('/tmp', kplus.Volume.fromEmptyDir(this, 'WorkerTmp', 'tmp', { sizeLimit: Size.mebibytes(256) }));
    // The worker has no ServiceAccount of its own: gate() gives it one, `myapp-worker`, so that
    // its waiter never reads the Job as the namespace's default account.
    this.service.migration.gate(this.worker);
  }
}

/** The delivery engine named by the DELIVERY environment variable: flux (default), argocd, helm or kubectl. */
export function deliveryFromEnv(value: string = process.env.DELIVERY ?? 'flux'): Delivery {
  switch (value) {
    case 'flux': return Delivery.flux();
    case 'argocd': return Delivery.argoCd();
    case 'helm': return Delivery.helm();
    case 'kubectl': return Delivery.kubectl();
    default: throw new Error(`DELIVERY "${value}" is not one of flux, argocd, helm, kubectl`);
  }
}

if (require.main === module) {
  const app = new App();
  new MyAppChart(app, 'myapp', { imageTag: ImageTag.fromEnv(), delivery: deliveryFromEnv() });
  app.synth();
}
