import { App, Chart, ChartProps } from 'cdk8s';
import { Construct } from 'constructs';
import { Delivery, ImageTag, MigratedService, MigrationTool } from 'cdk8s-migrated-service';

export interface MyAppChartProps extends ChartProps {
  /** The image tag of this release, from the pipeline. */
  readonly imageTag: string;
  /** The engine that applies the manifests. */
  readonly delivery?: Delivery;
}

/**
 * The pattern document's example: a Prisma service with two replicas, its migration image built
 * from the same commit, and both reading the same ConfigMap and Secret.
 */
export class MyAppChart extends Chart {
  public readonly service: MigratedService;

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
