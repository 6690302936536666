import { Chart, Testing } from 'cdk8s';
import { MigrationTool } from '../../src';

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

/** A fresh chart in namespace `shop`. */
export function shopChart(): Chart {
  return new Chart(Testing.app(), 'shop', { namespace: 'shop' });
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
