import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { MigrationWaiter, DatabaseMigration } from 'cdk8s-migrated-service';
import * as kplus from 'cdk8s-plus-28';
import { parseAllDocuments, stringify } from 'yaml';
import { chartYaml, FIXTURES, lintText } from './support';
import { gatedWorkerChart, quietWarnings, SHOP, shopChart } from '../../../../test/support/shop';

const read = (...name: string[]) => fs.readFileSync(path.join(FIXTURES, ...name), 'utf8');
const drift = (text: string) => lintText(text).findings.filter((f) => f.rule.id === 'MS027');

/** The clean rule fixture with its Job's and its Deployment's pod specs changed. */
function variant(change: (job: any, pod: any, objects: any[]) => void): string {
  const objects = parseAllDocuments(read('rules', 'clean.yaml')).map((d: any) => d.toJS());
  const job = objects.find((o) => o.kind === 'Job');
  change(job.spec.template.spec, objects.find((o) => o.kind === 'Deployment').spec.template.spec, objects);
  return objects.map((o) => stringify(o)).join('---\n');
}
const REGISTRY = 'registry.example.com';
/** The Job migrating from `jobImage`, the service running `serviceImage`. */
const images = (jobImage: string, serviceImage: string) => variant((job, pod) => {
  job.containers[0].image = jobImage;
  pod.containers[0].image = serviceImage;
});

describe('MS027 on Helm-rendered output', () => {
  test('a hook tagged from the chart\'s appVersion and a Deployment from values are reported on the Deployment\'s image', () => {
    // GIVEN helm template output whose migration hook runs 1.4.0 and whose Deployment runs 1.4.1
    const text = read('release-tags', 'helm-drift.yaml');
    // WHEN linted
    const findings = lintText(text).findings;
    // THEN only MS027 is found, once, on the app container's image line (not the envoy sidecar's)
    expect(findings.map((f) => f.rule.id)).toEqual(['MS027']);
    const [finding] = findings;
    expect(text.split('\n')[finding.line - 1]).toContain('ghcr.io/acme/shop:1.4.1');
    // AND the message names the workload, the container, both images and the Job, and says the fix
    expect(finding.message).toBe('Deployment shop/shop (container shop) runs ghcr.io/acme/shop:1.4.1, but Job shop/shop-migrate-3, '
      + 'which it waits for, runs ghcr.io/acme/shop-migrate:1.4.0: its pods would start code of another release on this release\'s schema. '
      + 'Use one tag for the release (1.4.0); in cdk8s, migration.releaseImage(\'ghcr.io/acme/shop\') gives the workload the migration\'s tag');
    expect(finding.related.map((o) => o.name)).toEqual(['shop-migrate-3']);
  });

  test('the same chart with one tag is clean', () => {
    expect(lintText(read('release-tags', 'helm-one-tag.yaml')).findings.map((f) => `${f.rule.id} ${f.message}`)).toEqual([]);
  });
});

describe('MS027 compares the release\'s repositories', () => {
  test.each([
    ['the migration runs the application image', `${REGISTRY}/myapp:v1.2.3`, `${REGISTRY}/myapp:v1.2.2`],
    ['-migrate', `${REGISTRY}/myapp-migrate:v1.2.3`, `${REGISTRY}/myapp:v1.2.2`],
    ['_migrations', `${REGISTRY}/myapp_migrations:v1.2.3`, `${REGISTRY}/myapp:v1.2.2`],
    ['-db', `${REGISTRY}/myapp-db:v1.2.3`, `${REGISTRY}/myapp:v1.2.2`],
    ['a path', `${REGISTRY}/myapp/migrations:v1.2.3`, `${REGISTRY}/myapp:v1.2.2`],
    ['a registry port', 'registry.example.com:5000/team/myapp-migration:3f2a9c1', 'registry.example.com:5000/team/myapp:9b8e7d6'],
    ['a moving tag on the workload', `${REGISTRY}/myapp-migration:v1.2.3`, `${REGISTRY}/myapp:latest`],
    ['a workload pinned by digest: it may be any build', `${REGISTRY}/myapp-migration:v1.2.3`, `${REGISTRY}/myapp@sha256:${'a'.repeat(64)}`],
  ])('reported: %s', (_case, jobImage, serviceImage) => {
    expect(drift(images(jobImage, serviceImage)).map((f) => f.message)).toEqual([expect.stringContaining(`runs ${serviceImage}, but Job shop/myapp-migration-v1-2-3`)]);
  });

  test.each([
    ['one tag', `${REGISTRY}/myapp-migration:v1.2.3`, `${REGISTRY}/myapp:v1.2.3`],
    ['another application of the team', `${REGISTRY}/myapp-migration:v1.2.3`, `${REGISTRY}/mailer:v0.9.1`],
    ['another registry', `${REGISTRY}/myapp-migration:v1.2.3`, 'mirror.example.com/myapp:v1.2.2'],
    ['a name that only begins like the application\'s', `${REGISTRY}/myapp-migration:v1.2.3`, `${REGISTRY}/myapp-worker:v1.2.2`],
    ['a workload of another repository pinned by digest', `${REGISTRY}/myapp-migration:v1.2.3`, `${REGISTRY}/mailer@sha256:${'a'.repeat(64)}`],
    ['a Job pinned by digest', `${REGISTRY}/myapp@sha256:${'a'.repeat(64)}`, `${REGISTRY}/myapp:v1.2.2`],
    ['an untagged workload image', `${REGISTRY}/myapp:v1.2.3`, `${REGISTRY}/myapp`],
    ['an untagged Job image', `${REGISTRY}/myapp-migration`, `${REGISTRY}/myapp:v1.2.2`],
    ['a template placeholder', `${REGISTRY}/myapp-migration:v1.2.3`, `${REGISTRY}/myapp:\${IMAGE_TAG}`],
  ])('not reported: %s', (_case, jobImage, serviceImage) => {
    expect(drift(images(jobImage, serviceImage))).toEqual([]);
  });

  test('a Job whose images carry several tags is compared by repository only', () => {
    // GIVEN a migration with a database proxy sidecar of its own version
    const text = (serviceImage: string) => variant((job, pod) => {
      job.containers.push({ name: 'proxy', image: 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.8.0' });
      pod.containers[0].image = serviceImage;
    });
    // THEN the application image beside myapp-migration has no one release tag to be held to
    expect(drift(text(`${REGISTRY}/myapp:v1.2.2`))).toEqual([]);
    // AND the migration's own repository still is held to its tag
    expect(drift(text(`${REGISTRY}/myapp-migration:v1.2.2`))).toHaveLength(1);
  });

  test('an init container of the workload that is not a waiter is an app container', () => {
    const text = variant((_job, pod) => {
      pod.initContainers.push({ name: 'assets', image: `${REGISTRY}/myapp:v1.2.2`, command: ['cp', '-r', '/app/public', '/assets'] });
    });
    expect(drift(text).map((f) => f.message)).toEqual([expect.stringContaining('(container assets) runs registry.example.com/myapp:v1.2.2')]);
  });

  test('a waiter that selects its Job by label is followed to the Job', () => {
    // GIVEN kubectl wait on the Jobs labelled for the migration
    const text = variant((job, pod, objects) => {
      objects.find((o) => o.kind === 'Job').metadata.labels = { 'app.kubernetes.io/component': 'migration' };
      pod.initContainers[0] = {
        name: 'wait-for-migration',
        image: 'registry.k8s.io/kubectl:v1.28.15',
        args: ['wait', '--for=condition=complete', 'jobs', '-l', 'app.kubernetes.io/component=migration', '--timeout=1h'],
      };
      pod.containers[0].image = `${REGISTRY}/myapp:v1.2.2`;
      void job;
    });
    expect(drift(text)).toHaveLength(1);
  });
});

describe('lint agrees with gate()', () => {
  quietWarnings();
  const refusedAtSynth = (image: string) => {
    try {
      Testing.synth(gatedWorkerChart(image));
      return false;
    } catch (error) {
      return /gate\(workload\).*runs .*but this release/.test((error as Error).message);
    }
  };

  test.each([
    [`${REGISTRY}/shop:v1.2.2`, true],
    [`${REGISTRY}/shop-migration:v1.2.2`, true],
    [`${REGISTRY}/shop:v1.2.3`, false],
    [`${REGISTRY}/mailer:v7`, false],
    ['envoyproxy/envoy:v1.30.1', false],
    [`${REGISTRY}/shop@sha256:${'a'.repeat(64)}`, true],
    [`${REGISTRY}/mailer@sha256:${'a'.repeat(64)}`, false],
  ])('a worker on %s: refused at synth = %s, and reported by MS027 (written by hand) the same', (image, refused) => {
    // GIVEN the constructs' verdict on a gated worker running `image`
    expect(refusedAtSynth(image)).toBe(refused);
    // WHEN the same release is written by hand: the Job on shop-migration:v1.2.3, the service on `image`
    const text = images(`${REGISTRY}/shop-migration:v1.2.3`, image);
    // THEN lint reports it exactly when gate() refuses it
    expect(drift(text)).toHaveLength(refused ? 1 : 0);
  });

  test('the manifest gate() refuses, synthesized with the opt-out, is reported; the release tag is not', () => {
    // GIVEN the worker on the previous release, let through by allowOtherImageTags
    const refused = lintText(chartYaml(gatedWorkerChart(`${REGISTRY}/shop:v1.2.2`, { allowOtherImageTags: true })));
    // THEN lint reports that worker's container, against the migration Job
    expect(refused.findings.filter((f) => f.rule.id === 'MS027').map((f) => f.message)).toEqual([
      expect.stringMatching(/^Deployment shop\/shop-worker \(container worker\) runs registry\.example\.com\/shop:v1\.2\.2, but Job shop\/shop-migration-v1-2-3.* runs registry\.example\.com\/shop-migration:v1\.2\.3/),
    ]);
    // AND the worker on the release's tag is not reported
    expect(drift(chartYaml(gatedWorkerChart(`${REGISTRY}/shop:v1.2.3`)))).toEqual([]);
  });

  test('a watch waiter run from another build of the app\'s image is a waiter, not an app container', () => {
    // GIVEN the library's waiter program on a pinned older build of the app image, which gate() accepts, and a migration image of its own
    const chart = shopChart();
    const migration = new DatabaseMigration(chart, 'db', {
      ...SHOP, name: 'shop', image: `${REGISTRY}/shop-migration`, waiter: MigrationWaiter.watch({ image: `${REGISTRY}/shop:v1.0.0` }),
    });
    const worker = new kplus.Deployment(chart, 'worker', { metadata: { name: 'shop-worker' } });
    worker.addContainer({ name: 'worker', image: migration.releaseImage(`${REGISTRY}/shop`) });
    migration.gate(worker);
    // THEN lint does not hold the waiter to the release tag either
    expect(drift(chartYaml(chart))).toEqual([]);
  });
});
