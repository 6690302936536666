import { Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { GateOptions, MigratedService, MigrationTool } from '../../src';

/**
 * A shop's required props, for a MigratedService or a DatabaseMigration: a release tag, a Prisma
 * migration and one Secret.
 */
export const SHOP = {
  imageTag: 'v1.2.3',
  image: 'registry.example.com/shop',
  migrationTool: MigrationTool.prisma(),
  secretNames: ['shop-secrets'],
};

/** SHOP as the MigratedService `shop`, whose migration has its own image. */
export const SHOP_WITH_MIGRATION_IMAGE = { ...SHOP, name: 'shop', migrationImage: 'registry.example.com/shop-migration' };

/** A fresh chart in namespace `shop`. */
export function shopChart(): Chart {
  return new Chart(Testing.app(), 'shop', { namespace: 'shop' });
}

/** A chart with SHOP_WITH_MIGRATION_IMAGE as `web`, and a Deployment `shop-worker` on `image` gated by its migration. */
export function gatedWorkerChart(image: string, options: GateOptions = {}): Chart {
  const chart = shopChart();
  const web = new MigratedService(chart, 'web', SHOP_WITH_MIGRATION_IMAGE);
  const worker = new kplus.Deployment(chart, 'worker', { metadata: { name: 'shop-worker' } });
  worker.addContainer({ name: 'worker', image });
  web.migration.gate(worker, options);
  return chart;
}

/** Silences console.warn in each test of the calling scope: the tests read `warnings`, and the printed copies would only clutter the output. */
export function quietWarnings(): void {
  beforeEach(() => {
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.restoreAllMocks();
  });
}
