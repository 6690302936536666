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

  describe('a hook Job that reads the library\'s hook copies of the workload\'s ConfigMap and Secret', () => {
    const COPY_OF = 'cdk8s-migrated-service.dev/hook-copy-of';
    /** The fixture with the Job reading `<job>-<object>` copies, and the originals and copies as objects. */
    function withCopies(copyOf: (name: string) => string, copyData: (data: any) => any = (data) => data): string {
      const objects = parseAllDocuments(fs.readFileSync(path.join(FIXTURES, 'rules', 'clean.yaml'), 'utf8')).map((d: any) => d.toJS());
      const job = objects.find((o) => o.kind === 'Job');
      job.metadata.annotations = { 'helm.sh/hook': 'pre-install,pre-upgrade' };
      const copies: any[] = [];
      for (const from of job.spec.template.spec.containers[0].envFrom) {
        const ref = from.configMapRef ?? from.secretRef;
        const kind = from.configMapRef ? 'ConfigMap' : 'Secret';
        const data = { DATABASE_HOST: 'db.shop' };
        objects.push({ apiVersion: 'v1', kind, metadata: { name: ref.name, namespace: 'shop' }, data });
        ref.name = `${job.metadata.name}-${ref.name}`;
        copies.push({
          apiVersion: 'v1',
          kind,
          metadata: { name: ref.name, namespace: 'shop', annotations: { 'helm.sh/hook': 'pre-install,pre-upgrade', [COPY_OF]: copyOf(ref.name.slice(job.metadata.name.length + 1)) } },
          data: copyData(data),
        });
      }
      return [...copies, ...objects].map((o) => stringify(o)).join('---\n');
    }

    test('GIVEN copies of the objects the workload reads THEN nothing is reported', () => {
      expect(ms019(withCopies((name) => name))).toEqual([]);
    });

    test('GIVEN copies of other objects THEN it is reported, naming the objects they copy', () => {
      expect(ms019(withCopies((name) => `other-${name}`))).toEqual([expect.stringContaining(
        'reads its database settings from ConfigMap other-myapp-config, Secret other-myapp-secrets, but Deployment shop/myapp')]);
    });

    test('GIVEN copies whose data was changed after synth THEN they are not the workload\'s sources, and it is reported', () => {
      expect(ms019(withCopies((name) => name, () => ({ DATABASE_HOST: 'other-db.shop' })))).toHaveLength(1);
    });
  });
});
