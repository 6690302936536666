import { ApiObject } from 'cdk8s';
import { DatabaseMigration } from 'cdk8s-migrated-service';
import * as kplus from 'cdk8s-plus-28';
import * as fc from 'fast-check';
import { chartYaml, lintText } from './support';
import { quietWarnings, SHOP, shopChart } from '../../../../test/support/shop';

quietWarnings();

/** A chart with `spec` as a Deployment or DaemonSet gated by a migration, its warnings and lint's MS015 findings about it. */
function judged(kind: 'Deployment' | 'DaemonSet', spec: any): { warnings: string[]; lint: Array<{ severity: string; message: string }> } {
  const chart = shopChart();
  const migration = new DatabaseMigration(chart, 'db', SHOP);
  const workload = new ApiObject(chart, 'web', {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name: 'web' },
    spec: {
      ...spec,
      progressDeadlineSeconds: kind === 'Deployment' ? 99999 : undefined,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { serviceAccountName: 'web', containers: [{ name: 'web', image: migration.releaseImage('registry.example.com/shop') }] } },
    },
  });
  new kplus.ServiceAccount(chart, 'sa', { metadata: { name: 'web' } });
  migration.gate(workload);
  const yaml = chartYaml(chart);
  return {
    warnings: migration.warnings.filter((w) => w.includes(`${kind} "shop/web": `) && !w.includes('progressDeadlineSeconds')),
    lint: lintText(yaml).findings.filter((f) => f.rule.id === 'MS015').map((f) => ({ severity: f.severity, message: f.message })),
  };
}

const intOrPercent = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: 0, max: 4 }),
  fc.integer({ min: 0, max: 100 }).map((n) => `${n}%`),
  fc.constantFrom('0', '0%', '1'),
);

describe('the construct\'s MS015 warning and lint\'s MS015 are one judgement', () => {
  test('for any replica count and rolling update of a Deployment, the construct warns exactly when lint reports a warning, in the same words', () => {
    const replicaCount = fc.integer({ min: 1, max: 12 });
    fc.assert(fc.property(replicaCount, intOrPercent, intOrPercent, fc.boolean(), (replicas, maxUnavailable, maxSurge, recreate) => {
      // controllers refuse both at 0; cdk8s writes nothing for an undefined field
      fc.pre(!(maxUnavailable !== undefined && maxSurge !== undefined && /^0%?$/.test(`${maxUnavailable}`) && /^0%?$/.test(`${maxSurge}`)));
      // GIVEN a gated Deployment with that strategy
      const strategy = recreate ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxUnavailable, maxSurge } };
      // WHEN synthesized, and its YAML linted
      const { warnings, lint } = judged('Deployment', { replicas, strategy });
      // THEN the construct warns exactly when lint's finding is a warning (an info is lint's alone, below its default severity)
      expect(warnings.length).toBe(lint.filter((f) => f.severity === 'warning').length);
      expect(lint.length).toBeLessThanOrEqual(1);
      // AND both say the same of it
      if (warnings.length > 0) {
        expect(warnings[0]).toContain(`Deployment "shop/web": ${lint[0].message.replace(/^Deployment shop\/web has /, '')}.`);
      }
    }), { numRuns: 80 });
  });

  test('the example of a 2-replica Deployment with 25% maxUnavailable: no warning from the construct, an info from lint', () => {
    // GIVEN cdk8s-plus's default strategy at 2 replicas WHEN judged
    const { warnings, lint } = judged('Deployment', { replicas: 2, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } } });
    // THEN the construct is silent and lint says, at info, from which count it loses capacity
    expect(warnings).toEqual([]);
    expect(lint).toEqual([{ severity: 'info', message: expect.stringContaining('at 2 replicas a stuck rollout stops no old pod, but scaled to 4 replicas or more it stops 1') }]);
    // AND at 4 replicas both warn
    const four = judged('Deployment', { replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } } });
    expect(four.lint.map((f) => f.severity)).toEqual(['warning']);
    expect(four.warnings).toEqual([expect.stringContaining('maxUnavailable 25% and maxSurge 25%: at 4 replicas a stuck rollout stops 1 old pod')]);
  });

  test.each([
    ['no update strategy', {}],
    ['OnDelete', { updateStrategy: { type: 'OnDelete' } }],
    ['maxUnavailable 0 with a surge', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } }],
    ['maxUnavailable 2', { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } } }],
  ])('a DaemonSet with %s gets the same verdict from both', (_case, spec) => {
    const { warnings, lint } = judged('DaemonSet', spec);
    expect(warnings.length).toBe(lint.filter((f) => f.severity === 'warning').length);
    expect(lint.length).toBe(warnings.length);
  });
});
