import { Testing } from 'cdk8s';
import { stringify } from 'yaml';
import { ShopChart } from '../examples/shop/main';
import { MigrationWarnings } from '../src';
import { allOfKind, named } from './support/manifests';
import { lint } from '../packages/cli/src/lint/lint';
import { parseManifests } from '../packages/cli/src/lint/load';

// examples/shop/main.ts, on cdk8s-plus-33 here; .ci/run also synthesizes it with the cdk8s CLI on
// cdk8s-plus-28, and `npx projen typecheck` type-checks it against both.
describe('the new-user example: web, worker, CronJob, StatefulSet, two databases, post-deploy', () => {
  const app = Testing.app();
  MigrationWarnings.strict(app);
  const chart = new ShopChart(app, 'shop', { imageTag: 'v1.2.3' });
  const manifests = Testing.synth(chart);

  test('synthesizes with warnings strict (the StatefulSet\'s is acknowledged)', () => {
    expect(manifests.length).toBeGreaterThan(20);
  });

  test('lints clean at every severity', () => {
    const yaml = manifests.map((m) => stringify(m)).join('---\n');
    const result = lint(parseManifests(yaml, 'shop.k8s.yaml'), { threshold: 'info', disabled: new Map() });
    expect(result.findings.map((f) => `${f.rule.id}: ${f.message}`)).toEqual([]);
  });

  test('has both databases\' migration Jobs and the post-deploy Job', () => {
    expect(allOfKind(manifests, 'Job').map((j) => j.metadata.name).sort()).toEqual([
      'analytics-migration-v1-2-3-e3cad1a6f9', 'shop-migration-v1-2-3-e3cad1a6f9', 'shop-post-migration-v1-2-3-e3cad1a6f9',
    ]);
  });

  test('the worker and the CronJob wait for both migrations, as one ServiceAccount each', () => {
    for (const [kind, name] of [['Deployment', 'shop-worker'], ['CronJob', 'shop-nightly']]) {
      const workload = named(manifests, kind, name);
      const pod = kind === 'CronJob' ? workload.spec.jobTemplate.spec.template.spec : workload.spec.template.spec;
      expect(pod.initContainers.map((c: any) => c.name)).toEqual(['wait-for-analytics-migration', 'wait-for-shop-migration']);
      expect(named(manifests, 'ServiceAccount', name).metadata.name).toBe(pod.serviceAccountName);
      // AND the container reads both databases' settings, and runs the release
      expect(pod.containers[0].envFrom).toEqual([
        { configMapRef: { name: 'shop-config' } }, { secretRef: { name: 'shop-secrets' } }, { secretRef: { name: 'shop-analytics-secrets' } },
      ]);
      expect(pod.containers[0].image).toBe('registry.example.com/shop:v1.2.3');
    }
  });

  test('the Rails service has its command and writable tmp/ and log/', () => {
    const service = named(manifests, 'Deployment', 'shop').spec.template.spec.containers[0];
    expect(service.command).toEqual(['bundle', 'exec', 'puma']);
    expect(service.volumeMounts.map((m: any) => m.mountPath)).toEqual(expect.arrayContaining(['/rails/tmp', '/rails/log']));
  });
});
