import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MigratedService } from 'cdk8s-migrated-service';
import { chartYaml, lintFiles } from './support';
import { SHOP_WITH_MIGRATION_IMAGE, shopChart } from '../../../../test/support/shop';
import { main } from '../../src/cli';

/** The shop at `tag`, as `cdk8s synth` writes it. */
function shopAt(tag: string): string {
  const chart = shopChart();
  new MigratedService(chart, 'web', { ...SHOP_WITH_MIGRATION_IMAGE, imageTag: tag });
  return chartYaml(chart);
}

/** A folder per environment: `envs/staging` and `envs/prod`, the same application at two tags. */
function envsFolder(staging: string, prod: string): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-units-'));
  for (const [env, yaml] of [['staging', staging], ['prod', prod]]) {
    fs.mkdirSync(path.join(root, 'envs', env), { recursive: true });
    fs.writeFileSync(path.join(root, 'envs', env, 'shop.k8s.yaml'), yaml);
  }
  return path.join(root, 'envs');
}

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, readStdin: async () => '' });
  return { code, stdout, stderr };
}

describe('deployment units: a folder per environment is linted environment by environment', () => {
  let envs: string;
  beforeAll(() => {
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    envs = envsFolder(shopAt('v1.2.3'), shopAt('v1.3.0'));
  });
  afterAll(() => {
    fs.rmSync(path.dirname(envs), { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  test('GIVEN each environment alone THEN it is clean', () => {
    for (const env of ['staging', 'prod']) {
      expect(lintFiles([path.join(envs, env)]).findings.map((f) => `${f.rule.id} ${f.message}`)).toEqual([]);
    }
  });

  test('GIVEN the folder of both WHEN linted THEN it is two units, and clean: no Role of one is judged against the other\'s Job', () => {
    const result = lintFiles([envs]);
    expect(result.findings.map((f) => `${f.rule.id} ${f.message}`)).toEqual([]);
    expect(result.grouping.units.map((u) => u.name)).toEqual([expect.stringMatching(/envs\/prod$/), expect.stringMatching(/envs\/staging$/)]);
    expect(result.grouping.units.every((u) => u.objects.length === result.objects / 2)).toBe(true);
  });

  test('GIVEN a real mistake in one environment THEN it is still found, in that unit only', () => {
    // GIVEN prod's waiter Role is renamed, so that prod's RoleBinding names a Role that prod does not have
    const prod = shopAt('v1.3.0');
    expect(prod).toMatch(/^  name: shop-migration-reader$/m);
    const root = envsFolder(shopAt('v1.2.3'), prod.replace(/^  name: shop-migration-reader$/m, '  name: shop-migration-renamed'));
    try {
      const findings = lintFiles([root]).findings;
      // THEN MS007 is reported, in prod, and staging's Role does not hide it
      expect(findings.map((f) => f.rule.id)).toContain('MS007');
      expect(findings.every((f) => f.object.source.file.includes(`${path.sep}prod${path.sep}`))).toBe(true);
    } finally {
      fs.rmSync(path.dirname(root), { recursive: true, force: true });
    }
  });

  test('GIVEN one environment\'s input THEN it is one unit and nothing is said about grouping', async () => {
    const result = lintFiles([path.join(envs, 'prod')]);
    expect(result.grouping.units).toHaveLength(1);
    expect(result.grouping.reason).toBeUndefined();
    const { stderr } = await run(['lint', path.join(envs, 'prod')]);
    expect(stderr).not.toContain('deployment units');
  });

  test('THEN the text report says how it grouped, and JSON and SARIF carry the units', async () => {
    const text = await run(['lint', envs]);
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(/^lint: 2 deployment units \(.*prod, .*staging\): objects with the same kind, namespace and name in more than one folder; each is linted on its own/m);
    const json = JSON.parse((await run(['lint', '--format', 'json', envs])).stdout);
    expect(json.deploymentUnits.units.map((u: any) => u.objects)).toEqual([expect.any(Number), expect.any(Number)]);
    expect(json.deploymentUnits.units[0].files).toEqual([path.join(envs, 'prod', 'shop.k8s.yaml')]);
    const sarif = JSON.parse((await run(['lint', '--format', 'sarif', envs])).stdout);
    expect(sarif.runs[0].properties.deploymentUnits.units).toHaveLength(2);
  });

  test('GIVEN the same objects in two files of one folder THEN they are linted file by file', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-units-'));
    try {
      fs.writeFileSync(path.join(root, 'staging.yaml'), shopAt('v1.2.3'));
      fs.writeFileSync(path.join(root, 'prod.yaml'), shopAt('v1.3.0'));
      const result = lintFiles([root]);
      expect(result.grouping.units).toHaveLength(2);
      expect(result.grouping.reason).toContain('more than one file');
      expect(result.findings).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('GIVEN clusters/eu/{staging,prod} and clusters/us/prod THEN it splits at the depth where no unit repeats an object', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-units-'));
    try {
      for (const [folder, tag] of [['eu/staging', 'v1.3.0'], ['eu/prod', 'v1.2.3'], ['us/prod', 'v1.2.3']]) {
        fs.mkdirSync(path.join(root, 'clusters', folder), { recursive: true });
        fs.writeFileSync(path.join(root, 'clusters', folder, 'shop.yaml'), shopAt(tag));
      }
      const result = lintFiles([path.join(root, 'clusters')]);
      // THEN not by cluster (eu holds the shop twice), but by cluster and environment
      expect(result.grouping.units.map((u) => u.name.split('/').slice(-2).join('/'))).toEqual(['eu/prod', 'eu/staging', 'us/prod']);
      expect(result.findings).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('GIVEN two environments in one stream THEN they stay one unit, and the report says lint each on its own', async () => {
    let stdin = `${shopAt('v1.2.3')}---\n${shopAt('v1.3.0')}`;
    let stderr = '';
    await main(['lint', '-'], { stdout: () => undefined, stderr: (t) => { stderr += t; }, readStdin: async () => stdin });
    expect(stderr).toMatch(/^lint: <stdin> holds objects with the same kind, namespace and name more than once, .*: if it holds several environments, lint each on its own$/m);
    // AND one environment's stream says nothing of the kind
    stdin = shopAt('v1.2.3');
    stderr = '';
    await main(['lint', '-'], { stdout: () => undefined, stderr: (t) => { stderr += t; }, readStdin: async () => stdin });
    expect(stderr).not.toContain('more than once');
  });
});

describe('deployment units: one App, a file per chart', () => {
  test('GIVEN two charts that both declare the same Namespace, one with the migration Job, one with the workload that waits for it THEN they stay one unit, and are clean', () => {
    // GIVEN cdk8s's file per chart: the migration chart (Job and its RBAC) and the app chart (the
    // gated Deployment), each declaring the Namespace they deploy to, identically
    const namespace = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n';
    const chart = shopChart();
    new MigratedService(chart, 'web', { ...SHOP_WITH_MIGRATION_IMAGE, imageTag: 'v1.2.3' });
    const documents = chartYaml(chart).split(/^---\n/m);
    const isApp = (doc: string) => /^kind: (Deployment|Service|PodDisruptionBudget)$/m.test(doc);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-units-'));
    try {
      fs.writeFileSync(path.join(root, 'migrations.k8s.yaml'), [namespace, ...documents.filter((d) => !isApp(d))].join('---\n'));
      fs.writeFileSync(path.join(root, 'shop.k8s.yaml'), [namespace, ...documents.filter(isApp)].join('---\n'));
      // WHEN the folder is linted
      const result = lintFiles([root]);
      // THEN an object repeated identically is one object to kubectl, not a second environment: one unit, and nothing found
      expect(result.grouping.units).toHaveLength(1);
      expect(result.findings.map((f) => `${f.rule.id} ${f.message}`)).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
