import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments, stringify } from 'yaml';
import { FIXTURES, lintText } from './support';

/** The clean rule fixture (Job and Deployment both envFrom myapp-config and myapp-secrets) with the Deployment's pod spec changed. */
function withWorkload(change: (pod: any) => void): string {
  const objects = parseAllDocuments(fs.readFileSync(path.join(FIXTURES, 'rules', 'clean.yaml'), 'utf8')).map((d: any) => d.toJS());
  change(objects.find((o) => o.kind === 'Deployment').spec.template.spec);
  return objects.map((o) => stringify(o)).join('---\n');
}
const ms019 = (text: string) => lintText(text).findings.filter((f) => f.rule.id === 'MS019').map((f) => f.message);

describe('MS019: a gated workload that reads its database settings from elsewhere', () => {
  test('GIVEN the clean fixture, where both take envFrom the same ConfigMap and Secret THEN nothing is reported', () => {
    expect(ms019(withWorkload(() => undefined))).toEqual([]);
  });

  test('GIVEN the workload takes envFrom another Secret THEN it is reported, naming both sides', () => {
    const text = withWorkload((pod) => {
      pod.containers[0].envFrom = [{ secretRef: { name: 'worker-secrets' } }];
    });
    expect(ms019(text)).toEqual(['Job shop/myapp-migration-v1-2-3 reads its database settings from ConfigMap myapp-config, Secret myapp-secrets, '
      + 'but Deployment shop/myapp reads envFrom Secret worker-secrets, and uses none of the Job\'s sources: lint cannot tell whether it reaches the database the Job migrated']);
  });

  test('GIVEN the workload has no env sources at all THEN it is reported', () => {
    const text = withWorkload((pod) => {
      delete pod.containers[0].envFrom;
    });
    expect(ms019(text)).toEqual([expect.stringContaining('but Deployment shop/myapp has no database variable, envFrom or mounted Secret or ConfigMap of its own')]);
  });

  test.each([
    ['one of the Job\'s envFrom sources', { envFrom: [{ secretRef: { name: 'myapp-secrets' } }] }, undefined],
    ['a key of the Job\'s Secret', { env: [{ name: 'DSN', valueFrom: { secretKeyRef: { name: 'myapp-secrets', key: 'url' } } }] }, undefined],
    ['the Job\'s Secret mounted as a file', {}, [{ name: 'db', secret: { secretName: 'myapp-secrets' } }]],
    ['the Job\'s ConfigMap in a projected volume', {}, [{ name: 'db', projected: { sources: [{ configMap: { name: 'myapp-config' } }] } }]],
  ])('GIVEN the workload uses %s THEN it is not reported', (_case, container, volumes) => {
    const text = withWorkload((pod) => {
      delete pod.containers[0].envFrom;
      Object.assign(pod.containers[0], container);
      if (volumes) {
        pod.volumes = volumes;
      }
    });
    expect(ms019(text)).toEqual([]);
  });
});
