import * as fs from 'fs';
import * as path from 'path';
import { DatabaseMigration, Delivery, MigratedService } from 'cdk8s-migrated-service';
import * as kplus from 'cdk8s-plus-28';
import { parseAllDocuments, stringify } from 'yaml';
import { chartYaml, FIXTURES, lintText } from './support';
import { quietWarnings, SHOP, shopChart } from '../../../../test/support/shop';
import { formatJson, formatText } from '../../src/lint/format';

quietWarnings();

const REGISTRY = 'registry.example.com';
const DIGEST = `sha256:${'a'.repeat(64)}`;

/** The clean rule fixture with `change` applied to its objects. */
function variant(change: (objects: any[]) => void): string {
  const objects = parseAllDocuments(fs.readFileSync(path.join(FIXTURES, 'rules', 'clean.yaml'), 'utf8')).map((d: any) => d.toJS());
  change(objects);
  return objects.map((o) => stringify(o)).join('---\n');
}

/** The fixture's migration Job named `jobName` and running the migration image at `tag`, its waiter and Role following. */
function jobOf(jobName: string, tag: string): string {
  return variant((objects) => {
    const job = objects.find((o) => o.kind === 'Job');
    job.metadata.name = jobName;
    job.spec.template.spec.containers[0].image = `${REGISTRY}/myapp-migration:${tag}`;
    const deployment = objects.find((o) => o.kind === 'Deployment');
    deployment.spec.template.spec.initContainers[0].args[1] = jobName;
    deployment.spec.template.spec.containers[0].image = `${REGISTRY}/myapp:${tag}`;
    objects.find((o) => o.kind === 'Role').rules[0].resourceNames = [jobName];
  });
}

describe('MS001 at warning: a Job named after a tag that moves', () => {
  test.each([
    ['myapp-migration-v2', 'v2', 'is a bare major or a major.minor'],
    ['myapp-migration-1-4', '1.4', 'is a bare major or a major.minor'],
    ['myapp-migration-1-2-3-snapshot', '1.2.3-SNAPSHOT', 'is a -SNAPSHOT tag'],
    ['myapp-migration-stable-1', 'stable-1', 'names the channel "stable"'],
  ])('%s (image tag %s) is reported at warning, with a fix of its own', (jobName, tag, reason) => {
    // GIVEN a waited-for Job named after a tag that moves
    // WHEN linted
    const findings = lintText(jobOf(jobName, tag)).findings;
    // THEN MS001 is reported on the Job at warning, saying why, and what to do instead of the rule's fixed-name fix
    expect(findings.map((f) => `${f.rule.id} ${f.severity}`)).toEqual(['MS001 warning']);
    expect(findings[0].object.name).toBe(jobName);
    expect(findings[0].message).toBe(`Job shop/${jobName}, waited for by Deployment shop/myapp (init container wait-for-migration), is named after its image tag, `
      + `and "${tag}" ${reason}, which by convention is ${reason.includes('SNAPSHOT') ? 'rebuilt and re-pushed until the release' : 're-pointed at each new release'}`
      + `${reason.includes('major') ? ' of that line' : ''}: every release of that line gets this name, `
      + 'and kubectl apply and Flux keep the first one\'s completed Job, so the later releases skip their migrations');
    expect(findings[0].fix).toBe('tag each build uniquely (a full version such as v1.2.3, or a commit SHA) and name the Job after that tag');
    expect(formatText({ ...lintText(jobOf(jobName, tag)) })).toContain('(fix: tag each build uniquely');
  });

  test.each([
    ['myapp-migration-v1-2-3', 'v1.2.3'],
    ['myapp-migration-3f2a9c1', '3f2a9c1'],
    ['myapp-migration-2024-06-01', '2024.06.01'],
    // A Helm revision names each release's Job anew, whatever its image's tag
    ['myapp-migration-7', '1.4'],
    // A build's commit after the tag, on a Job that no version label ties to the tag, names each build anew
    ['myapp-migration-v2-3f2a9c1d', 'v2'],
  ])('%s (image tag %s) is clean', (jobName, tag) => {
    expect(lintText(jobOf(jobName, tag)).findings.map((f) => `${f.rule.id} ${f.message}`)).toEqual([]);
  });

  test.each([
    ['v2', 'flux', Delivery.flux],
    ['1.4', 'flux', Delivery.flux],
    // kubectl's Job name ends with a digest of the pod template, which a moving tag keeps the same
    ['v2', 'kubectl', Delivery.kubectl],
    ['1.4', 'kubectl', Delivery.kubectl],
  ])('lint reports what the constructs warn about: a library chart on imageTag %s, delivered by %s', (tag, _engine, delivery) => {
    // GIVEN a MigratedService released as a moving tag (the construct warns MS105)
    const chart = shopChart();
    const web = new MigratedService(chart, 'web', { ...SHOP, imageTag: tag, port: 3000, delivery: delivery() });
    // WHEN its YAML is linted
    const findings = lintText(chartYaml(chart)).findings.filter((f) => f.rule.id === 'MS001');
    // THEN lint reports its Job at warning too
    expect(web.warnings).toEqual([expect.stringContaining(`imageTag "${tag}" is a bare major`)]);
    expect(findings.map((f) => `${f.severity} ${f.object.name}`)).toEqual([`warning ${web.migration.jobName}`]);
  });
});

describe('MS027: a release image pinned by digest', () => {
  const withServiceImage = (image: string) => variant((objects) => {
    objects.find((o) => o.kind === 'Deployment').spec.template.spec.containers[0].image = image;
  });

  test.each([
    ['the application image, by digest', `${REGISTRY}/myapp@${DIGEST}`],
    ['the application image, by the release tag and a digest', `${REGISTRY}/myapp:v1.2.3@${DIGEST}`],
    ['the migration image, by digest', `${REGISTRY}/myapp-migration@${DIGEST}`],
  ])('%s is reported: the digest may be any build', (_case, image) => {
    const findings = lintText(withServiceImage(image)).findings;
    expect(findings.map((f) => f.rule.id)).toEqual(['MS027']);
    expect(findings[0].message).toBe(`Deployment shop/myapp (container service) runs ${image}, but Job shop/myapp-migration-v1-2-3, which it waits for, `
      + `runs ${REGISTRY}/myapp-migration:v1.2.3: it is pinned by digest, which may be any build of the repository (the Job runs a tag), `
      + 'so its pods may start code of another release on this release\'s schema. Use one tag for the release (v1.2.3); '
      + `in cdk8s, migration.releaseImage('${image.replace(/[:@].*$/, '').replace(`${REGISTRY}/`, `${REGISTRY}/`)}') gives the workload the migration's tag`);
  });

  test('another repository by digest is not compared', () => {
    expect(lintText(withServiceImage(`docker.io/envoyproxy/envoy@${DIGEST}`)).findings.map((f) => f.rule.id)).toEqual([]);
  });
});

describe('MS015 on a singleton', () => {
  test('a one-replica Recreate Deployment is advised to keep Recreate, in the message\'s fix, in text and JSON', () => {
    // GIVEN a scheduler: one replica, Recreate
    const text = variant((objects) => {
      const deployment = objects.find((o) => o.kind === 'Deployment');
      deployment.spec.replicas = 1;
      deployment.spec.strategy = { type: 'Recreate' };
    });
    // WHEN linted
    const result = lintText(text);
    // THEN MS015 is reported with the singleton's advice, not the rule's maxUnavailable: 0
    expect(result.findings.map((f) => `${f.rule.id} ${f.severity}`)).toEqual(['MS015 warning']);
    expect(result.findings[0].message).toContain('strategy Recreate at 1 replica (a singleton)');
    expect(formatText(result)).toContain('(fix: Recreate is right for a workload that must never run twice: keep it.');
    expect(formatText(result)).not.toContain('maxUnavailable: 0 (DaemonSet');
    expect(JSON.parse(formatJson(result, '0.0.0')).findings[0].fix).toMatch(/^Recreate is right for a workload that must never run twice/);
  });

  test('the construct says the same of the same Deployment', () => {
    // GIVEN the same singleton in cdk8s
    const chart = shopChart();
    const migration = new DatabaseMigration(chart, 'db', SHOP);
    const beat = new kplus.Deployment(chart, 'beat', { metadata: { name: 'beat' }, replicas: 1, strategy: kplus.DeploymentStrategy.recreate(), progressDeadline: migration.progressDeadline });
    beat.addContainer({ name: 'beat', image: migration.releaseImage('registry.example.com/shop') });
    migration.gate(beat);
    const lint = lintText(chartYaml(chart)).findings.filter((f) => f.rule.id === 'MS015');
    // THEN the warning holds lint's finding and its fix
    expect(lint).toHaveLength(1);
    expect(migration.warnings).toEqual([`DatabaseMigration "shop/db": Deployment "shop/beat": ${lint[0].message.replace(/^Deployment shop\/beat has /, '')}. ${lint[0].fix}.`]);
  });
});
