import { Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { DatabaseMigration, DatabaseMigrationProps, MigratedService, MigrationTool } from '../src';
import { allOfKind, named } from './support/manifests';

const SHOP: DatabaseMigrationProps = {
  imageTag: 'v1.2.3',
  image: 'registry.example.com/shop',
  migrationTool: MigrationTool.prisma(),
  secretNames: ['shop-secrets'],
};

function shopChart(): Chart {
  return new Chart(Testing.app(), 'shop', { namespace: 'shop' });
}

describe('a workload gated by two migrations', () => {
  test('gets one ServiceAccount, bound to both migrations\' Roles', () => {
    // GIVEN a worker without a ServiceAccount of its own, and two databases
    const chart = shopChart();
    const worker = new kplus.Deployment(chart, 'worker', { metadata: { name: 'shop-worker' } });
    worker.addContainer({ name: 'worker', image: 'registry.example.com/shop:v1.2.3' });
    const web = new MigratedService(chart, 'web', { ...SHOP, name: 'shop' });
    const analytics = new DatabaseMigration(chart, 'analytics', { ...SHOP, image: 'registry.example.com/analytics' });
    // WHEN both gate it
    const first = web.migration.gate(worker);
    const second = analytics.gate(worker);
    // THEN the App synthesizes, with one ServiceAccount for the worker
    const manifests = Testing.synth(chart);
    expect(allOfKind(manifests, 'ServiceAccount').filter((a) => a.metadata.name === 'shop-worker')).toHaveLength(1);
    expect(first.serviceAccountName).toBe('shop-worker');
    expect(second.serviceAccountName).toBe('shop-worker');
    expect(second.serviceAccount).toBe(first.serviceAccount);
    // AND both Roles are bound to it
    for (const binding of ['shop-migration-reader', 'analytics-migration-reader']) {
      expect(named(manifests, 'RoleBinding', binding).subjects.map((s: any) => s.name)).toContain('shop-worker');
    }
    // AND the worker's pods wait for both Jobs, running as that account
    const pod = named(manifests, 'Deployment', 'shop-worker').spec.template.spec;
    expect(pod.serviceAccountName).toBe('shop-worker');
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['wait-for-analytics-migration', 'wait-for-shop-migration']);
  });

  test('a ServiceAccount the user already has under the workload\'s name is named as the cause, with a fix they can apply', () => {
    // GIVEN a user's ServiceAccount with the name gate() would give the worker's
    const chart = shopChart();
    new kplus.ServiceAccount(chart, 'mine', { metadata: { name: 'worker' } });
    const worker = new kplus.Deployment(chart, 'worker', { metadata: { name: 'worker' } });
    worker.addContainer({ name: 'worker', image: 'registry.example.com/shop:v1.2.3' });
    new DatabaseMigration(chart, 'db', SHOP).gate(worker);
    // THEN the error says gate() created it, and to give the workload that account
    expect(() => Testing.synth(chart)).toThrow(/ServiceAccount "worker" .*as "shop\/mine\/Resource".*gate\(\) created the ServiceAccount "worker" for the workload "shop\/worker".*serviceAccount prop/);
  });
});

describe('objects that would overwrite each other', () => {
  test('two services with one name get one error, listing each clash once', () => {
    // GIVEN two services both named shop
    const chart = shopChart();
    new MigratedService(chart, 'a', { ...SHOP, name: 'shop' });
    new MigratedService(chart, 'b', { ...SHOP, name: 'shop' });
    // THEN synthesis fails with a single error for the pair of services
    let message = '';
    try {
      Testing.synth(chart);
    } catch (error) {
      message = (error as Error).message;
    }
    const errors = message.split('\n').filter((line) => line.includes('[]'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^\s*\[\] MigratedService "shop\/a": \d+ objects clash: .*the Deployment "shop" \(shop\/a\/Deployment\/Resource\) has the same kind, name and namespace "shop" as "shop\/b\/Deployment\/Resource"/);
    // AND each clashing object is named once
    expect(errors[0].match(/the Deployment "shop"/g)).toHaveLength(1);
    expect(errors[0].match(/the Job "shop-migration-v1-2-3/g)).toHaveLength(1);
  });
});
