import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import * as fc from 'fast-check';
import { chartYaml, lintText } from '../packages/cli/test/lint/support';
import { DatabaseMigration, ImageTag, MigratedService, MigrationTool } from '../src';
import { quietWarnings, SHOP, shopChart } from './support/shop';
import { conventionallyMoves, identifiesRelease } from '../src/shared/release-tag';

quietWarnings();

describe('tags that name no release', () => {
  test.each(['latest', 'Latest', 'LATEST', 'main', 'Main', 'master', 'stable', 'nightly', 'v1-main', 'release', 'abc'])(
    '%s is refused, naming the tag and the rule', (imageTag) => {
      expect(() => new MigratedService(shopChart(), 'shop', { ...SHOP, imageTag }))
        .toThrow(new RegExp(`imageTag "${imageTag}" is invalid: "${imageTag}" names no release.*latest, main or stable`));
    });

  test.each(['v1.2.3', '3f2a9c1', 'deadbee', 'Release_2024.01-RC1', 'v2.0.0-beta.1'])('%s is accepted', (imageTag) => {
    expect(() => new MigratedService(shopChart(), 'shop', { ...SHOP, imageTag })).not.toThrow();
  });

  test('the construct accepts a tag exactly when lint finds the Job name versioned (MS001)', () => {
    const tag = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/),
      fc.constantFrom('main', 'Latest', 'LATEST', 'v1-main', 'deadbee', 'v1.2.3', 'stable'));
    fc.assert(fc.property(tag, (imageTag) => {
      const chart = shopChart();
      let accepted = true;
      try {
        new MigratedService(chart, 'shop', { ...SHOP, imageTag });
      } catch (error) {
        expect((error as Error).message).toMatch(/names no release/);
        accepted = false;
      }
      expect(accepted).toBe(identifiesRelease(imageTag));
      if (accepted) {
        // A tag that conventionally moves (v2, 1.4) is accepted with a warning, MS105; lint may
        // report its Job at warning, never as a fixed name.
        const ms001 = lintText(chartYaml(chart)).findings.filter((f) => f.rule.id === 'MS001');
        expect(ms001.filter((f) => f.severity === 'error')).toEqual([]);
        expect(ms001.length === 0 || conventionallyMoves(imageTag) !== undefined).toBe(true);
      }
    }), { numRuns: 60 });
    // AND lint reports a Job named after a moving tag, in any case
    const fixed = (name: string) => `apiVersion: batch/v1\nkind: Job\nmetadata: {name: ${name}}\nspec: {template: {spec: {containers: [{name: m, image: x}]}}}\n---\n`
      + `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {template: {spec: {initContainers: [{name: w, image: 'groundnuty/k8s-wait-for:no-root-v2.0', args: [job-wr, ${name}]}], containers: [{name: web, image: x}]}}}\n`;
    for (const name of ['shop-migration-main', 'shop-migration-LATEST', 'shop-migration-abc']) {
      expect(lintText(fixed(name)).findings.map((f) => f.rule.id)).toContain('MS001');
    }
  });
});

describe('a security context the kubelet refuses', () => {
  test('user 0 with the enforced runAsNonRoot is refused, naming the prop', () => {
    expect(() => new MigratedService(shopChart(), 'shop', { ...SHOP, securityContext: { user: 0 } }))
      .toThrow(/MigratedService "shop\/shop": securityContext.user 0 is invalid: .*runAsNonRoot.*CreateContainerConfigError/);
  });

  test('user 0 is accepted when runAsNonRoot is turned off on purpose', () => {
    expect(() => new MigratedService(shopChart(), 'shop', { ...SHOP, securityContext: { user: 0, ensureNonRoot: false } })).not.toThrow();
  });
});

describe('resources the API server rejects', () => {
  test.each([
    ['resources', { resources: { cpu: { request: kplus.Cpu.units(2), limit: kplus.Cpu.millis(1500) } } }, /resources.cpu .*request 2 is above the limit 1500m/],
    ['resources', { resources: { memory: { request: Size.gibibytes(2), limit: Size.mebibytes(512) } } }, /resources.memory .*request 2Gi is above the limit 512Mi/],
    ['migrationResources', { migrationResources: { cpu: { request: kplus.Cpu.millis(600), limit: kplus.Cpu.millis(500) } } }, /migrationResources.cpu .*request 600m is above the limit 500m/],
  ])('a request above its limit in %s is refused', (_prop, props, message) => {
    expect(() => new MigratedService(shopChart(), 'shop', { ...SHOP, ...props })).toThrow(message);
  });

  test('a request equal to its limit is fine', () => {
    expect(() => new MigratedService(shopChart(), 'shop', {
      ...SHOP, resources: { cpu: { request: kplus.Cpu.units(1), limit: kplus.Cpu.millis(1000) } },
    })).not.toThrow();
  });
});

describe('environment variables', () => {
  test('a name API servers before 1.32 reject is a warning naming the variable and the versions', () => {
    const service = new MigratedService(shopChart(), 'shop', { ...SHOP, env: { '1BAD': kplus.EnvValue.fromValue('x'), 'MY VAR': kplus.EnvValue.fromValue('y'), 'GOOD_1': kplus.EnvValue.fromValue('z') } });
    const warnings = service.warnings.join('\n');
    expect(warnings).toMatch(/env "1BAD" .*before Kubernetes 1\.32.*1\.32 and later accept it/);
    expect(warnings).toMatch(/env "MY VAR" .*before Kubernetes 1\.32/);
    expect(warnings).not.toMatch(/GOOD_1/);
  });

  test('a name of a custom tool\'s env that API servers before 1.32 reject is the same warning, and one none accepts is refused', () => {
    // GIVEN a custom migration tool whose env names a variable "1BAD"
    const service = new MigratedService(shopChart(), 'shop', {
      ...SHOP, migrationTool: MigrationTool.custom(['./migrate'], { env: { '1BAD': 'x', 'GOOD_1': 'y' } }),
    });
    // THEN it is written, with the warning that names it
    expect(service.warnings.join('\n')).toMatch(/migrationTool env "1BAD" .*before Kubernetes 1\.32/);
    expect(service.warnings.join('\n')).not.toMatch(/GOOD_1/);
    // AND an empty name is refused by the factory, naming it
    expect(() => MigrationTool.custom(['./migrate'], { env: { '': 'x' } })).toThrow(/MigrationTool.custom\(\): env key "" is invalid/);
  });

  test('a name no API server accepts is refused', () => {
    expect(() => new MigratedService(shopChart(), 'shop', { ...SHOP, env: { 'A=B': kplus.EnvValue.fromValue('x') } }))
      .toThrow(/env key "A=B" is invalid/);
  });

  test('a variable that would replace the preset\'s value is refused, naming both values', () => {
    expect(() => new MigratedService(shopChart(), 'shop', { ...SHOP, env: { HOME: kplus.EnvValue.fromValue('/home/app') } }))
      .toThrow(/env\["HOME"\] "\/home\/app" is invalid: MigrationTool.prisma\(\) sets HOME to "\/tmp".*MigrationTool.custom/);
  });

  test('the preset\'s own value, repeated, is fine', () => {
    expect(() => new MigratedService(shopChart(), 'shop', { ...SHOP, env: { HOME: kplus.EnvValue.fromValue('/tmp') } })).not.toThrow();
  });
});

describe('messages that point the right way', () => {
  test('gating the migration\'s own Job says that it is the migration\'s Job', () => {
    const migration = new DatabaseMigration(shopChart(), 'db', { ...SHOP, imageTag: 'v1.2.3' });
    expect(() => migration.gate(migration.job)).toThrow(/gate\(workload\) "shop\/db\/Job" is invalid: it is this migration's own Job/);
  });

  test('an empty IMAGE_TAG is reported as empty, not as unset', () => {
    const previous = process.env.IMAGE_TAG;
    process.env.IMAGE_TAG = '';
    try {
      expect(() => ImageTag.fromEnv()).toThrow(/the environment variable IMAGE_TAG is set but empty/);
    } finally {
      if (previous === undefined) {
        delete process.env.IMAGE_TAG;
      } else {
        process.env.IMAGE_TAG = previous;
      }
    }
  });
});
