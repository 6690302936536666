import * as fs from 'fs';
import * as path from 'path';
import { Delivery, MigratedService } from 'cdk8s-migrated-service';
import * as kplus from 'cdk8s-plus-28';
import { parseAllDocuments, stringify } from 'yaml';
import { chartYaml, FIXTURES, lintText } from './support';
import { quietWarnings, SHOP_WITH_MIGRATION_IMAGE, shopChart } from '../../../../test/support/shop';

quietWarnings();

/** The shop at `tag` with a gated worker, as `cdk8s synth` writes it. */
function shop(tag = 'v1.2.3', delivery?: Delivery): string {
  const chart = shopChart();
  const web = new MigratedService(chart, 'web', { ...SHOP_WITH_MIGRATION_IMAGE, imageTag: tag, ...(delivery ? { delivery } : {}) });
  const worker = new kplus.Deployment(chart, 'worker', { metadata: { name: 'shop-worker' } });
  worker.addContainer({ name: 'worker', image: web.migration.releaseImage('registry.example.com/shop'), envFrom: [kplus.Env.fromSecret(kplus.Secret.fromSecretName(chart, 's', 'shop-secrets'))] });
  web.migration.gate(worker);
  return chartYaml(chart);
}

/** What kustomize's `images:` (or Flux image automation) does: every container of `repositories` gets `tag`, nothing else changes. */
function rewriteImages(yaml: string, repositories: string[], tag: string): string {
  const objects = parseAllDocuments(yaml).map((d) => d.toJS());
  const visit = (node: any): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
    } else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if ((key === 'containers' || key === 'initContainers') && Array.isArray(value)) {
          for (const c of value as any[]) {
            const repository = String(c.image).replace(/:[^:/]*$/, '');
            if (repositories.includes(repository)) {
              c.image = `${repository}:${tag}`;
            }
          }
        }
        visit(value);
      }
    }
  };
  objects.forEach(visit);
  return objects.map((o) => stringify(o)).join('---\n');
}

const REPOSITORIES = ['registry.example.com/shop', 'registry.example.com/shop-migration'];

describe('MS030: the library\'s output with its images rewritten after synth', () => {
  test('GIVEN the shop as synthesized THEN neither MS030 nor MS027 is found', () => {
    expect(lintText(shop()).findings.filter((f) => ['MS027', 'MS030'].includes(f.rule.id))).toEqual([]);
  });

  test('GIVEN every image of the release rewritten to v1.3.0 (kustomize images:) THEN MS030 names the Job, its label and name, and the fix', () => {
    // GIVEN the v1.2.3 manifests with both repositories at v1.3.0
    const rewritten = rewriteImages(shop(), REPOSITORIES, 'v1.3.0');
    // WHEN linted
    const before = lintText(shop()).findings.map((f) => `${f.rule.id} ${f.message}`);
    const findings = lintText(rewritten).findings.filter((f) => !before.includes(`${f.rule.id} ${f.message}`));
    // THEN one finding is added to what the synthesized manifests had: MS030, on the Job's version label
    expect(findings.map((f) => f.rule.id)).toEqual(['MS030']);
    const [finding] = findings;
    expect(finding.object.kind).toBe('Job');
    expect(rewritten.split('\n')[finding.line - 1]).toContain('app.kubernetes.io/version: v1.2.3');
    expect(finding.message).toMatch(/^Job shop\/shop-migration-v1-2-3-\w+ is named and labelled for release v1\.2\.3 \(app\.kubernetes\.io\/version\), but it and Deployment shop\/shop, Deployment shop\/shop-worker, which wait for it, run v1\.3\.0/);
    expect(finding.message).toContain('IMAGE_TAG');
    expect(finding.related.map((o) => o.name)).toEqual(['shop', 'shop-worker']);
  });

  test('GIVEN kubectl delivery, whose Job name ends with a digest of the pod template, rewritten to v1.3.0 THEN MS030 still names the Job and its name', () => {
    // GIVEN the v1.2.3 manifests for kubectl (shop-migration-v1-2-3-<tag hash>-<template digest>) with both repositories at v1.3.0
    const synthesized = shop('v1.2.3', Delivery.kubectl());
    const rewritten = rewriteImages(synthesized, REPOSITORIES, 'v1.3.0');
    // WHEN linted THEN MS030 alone is added, at error: the name stays on the next bump made the same way
    const before = lintText(synthesized).findings.map((f) => `${f.rule.id} ${f.message}`);
    const findings = lintText(rewritten).findings.filter((f) => !before.includes(`${f.rule.id} ${f.message}`));
    expect(findings.map((f) => `${f.rule.id} ${f.severity}`)).toEqual(['MS030 error']);
    expect(findings[0].message).toMatch(/^Job shop\/shop-migration-v1-2-3-\w+-[0-9a-f]{8} is named and labelled for release v1\.2\.3 /);
  });

  test('GIVEN only the service repository rewritten THEN MS027 reports the workloads, and MS030 stays silent', () => {
    const ids = lintText(rewriteImages(shop(), ['registry.example.com/shop'], 'v1.3.0')).findings.map((f) => f.rule.id);
    expect(ids).toContain('MS027');
    expect(ids).not.toContain('MS030');
  });

  test('GIVEN a synthesis at v1.3.0 THEN it is clean: the Job is named for the tag its images run', () => {
    expect(lintText(shop('v1.3.0')).findings.filter((f) => f.rule.id === 'MS030')).toEqual([]);
  });
});

describe('MS030 judges only what the engines would keep', () => {
  const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, 'rules', name), 'utf8');

  test('GIVEN the Job\'s name does not carry the label\'s tag THEN only the stale label is reported, at warning', () => {
    const text = fixture('MS030-positive.yaml').replace(/myapp-migration-v1-2-3/g, 'myapp-migration-build-42');
    const [finding] = lintText(text).findings.filter((f) => f.rule.id === 'MS030');
    expect(finding.severity).toBe('warning');
    expect(finding.message).toMatch(/ is labelled for release v1\.2\.3 /);
  });

  test.each([['helm.sh/hook', 'pre-install,pre-upgrade'], ['argocd.argoproj.io/hook', 'PreSync']])('GIVEN a %s hook THEN it is created afresh each release, and not reported', (key, value) => {
    const text = fixture('MS030-positive.yaml').replace('  labels:\n    app.kubernetes.io/version: v1.2.3\n', `  annotations:\n    ${key}: ${value}\n  labels:\n    app.kubernetes.io/version: v1.2.3\n`);
    expect(text).toContain(key);
    expect(lintText(text).findings.filter((f) => f.rule.id === 'MS030')).toEqual([]);
  });
});

describe('MS033: the library\'s program under a memory limit it cannot run in', () => {
  test.each([['32Mi', true], ['63Mi', true], ['64Mi', false], ['67108864', false], ['60M', true]])('GIVEN the waiter\'s limit at %s THEN reported: %s', (limit, reported) => {
    // GIVEN the shop with its waiter's memory limit changed by hand
    const objects = parseAllDocuments(shop()).map((d) => d.toJS());
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'shop');
    const waiter = deployment.spec.template.spec.initContainers.find((c: any) => /^wait-for-.*migration$/.test(c.name));
    expect(waiter.command[0]).toBe('node');
    waiter.resources.limits.memory = limit;
    // WHEN linted
    const findings = lintText(objects.map((o) => stringify(o)).join('---\n')).findings.filter((f) => f.rule.id === 'MS033');
    // THEN a limit under 64Mi is reported, with the minimum
    expect(findings.map((f) => f.message)).toEqual(reported
      ? [`Deployment shop/shop (container ${waiter.name}) runs this library's Node.js program with a memory limit of ${limit}: Node alone takes about 40 MiB, `
        + 'so it is OOM-killed at start, and the pod never starts. Give it at least 64Mi']
      : []);
  });
});
