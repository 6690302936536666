import { App, Chart, Testing, Yaml } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Delivery, MigratedService, MigratedServiceProps, MigrationTool, MigrationWaiter } from '../src';
import { Manifest, ResourceRequest, roleAllows, ruleAllows } from './support/conformance';
import { container, named } from './support/manifests';
import { migrationWaiterScript } from '../src/constructs/waiter-script';

/* eslint-disable @typescript-eslint/no-explicit-any */
// Manifests are plain JSON read back from the synthesized output.

/**
 * What each waiter actually calls on the API server (see the field notes and src/program/README.md):
 * - the library's watch waiter lists and watches the Job with the field selector
 *   `metadata.name=<name>` (no GET), and gets the ledger ConfigMap by name when the Job is gone.
 * - k8s-wait-for runs `kubectl describe jobs <name>`: a GET of the named Job. `list` would only
 *   serve the prefix-match fallback, which must stay forbidden; it never watches.
 * - `kubectl wait ... job/<name>` gets, then lists and watches with the field selector
 *   `metadata.name=<name>`.
 */
const WAITERS: { label: string; factory: () => MigrationWaiter; verbs: string[]; ledgerVerbs: string[] }[] = [
  { label: 'MigrationWaiter.watch()', factory: () => MigrationWaiter.watch(), verbs: ['list', 'watch'], ledgerVerbs: ['get'] },
  { label: 'MigrationWaiter.k8sWaitFor()', factory: () => MigrationWaiter.k8sWaitFor(), verbs: ['get'], ledgerVerbs: [] },
  { label: 'MigrationWaiter.kubectlWait()', factory: () => MigrationWaiter.kubectlWait(), verbs: ['get', 'list', 'watch'], ledgerVerbs: [] },
];
const READ_VERBS = ['get', 'list', 'watch'];
const ALL_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'escalate', 'bind', 'impersonate'];

const NAMESPACES: (string | undefined)[] = [undefined, 'shop'];

interface Synthesized {
  readonly service: MigratedService;
  readonly manifests: Manifest[];
  readonly yaml: string;
}

function synth(namespace: string | undefined, props: (chart: Chart) => Partial<MigratedServiceProps> = () => ({})): Synthesized {
  const app: App = Testing.app();
  const chart = new Chart(app, 'chart', namespace !== undefined ? { namespace } : {});
  const service = new MigratedService(chart, 'myapp', {
    imageTag: 'v1.2.3',
    image: 'registry.example.com/shop/myapp',
    migrationTool: MigrationTool.prisma(),
    port: 8080,
    ...props(chart),
  });
  const manifests = Testing.synth(chart);
  return { service, manifests, yaml: Yaml.stringify(...manifests) };
}

const byKind = (manifests: Manifest[], kind: string): Manifest[] => manifests.filter((o) => o.kind === kind);
const one = (manifests: Manifest[], kind: string): Manifest => {
  const found = byKind(manifests, kind);
  expect(found).toHaveLength(1);
  return found[0];
};

describe.each(NAMESPACES.map((ns) => [ns ?? '(no namespace)', ns] as const))('service-account tokens, namespace %s', (_label, namespace) => {
  test('only the Deployment pods and the Job\'s recorder get a token; the migration and the accounts\' defaults have none', () => {
    // GIVEN a MigratedService
    // WHEN it is synthesized
    const { service, manifests } = synth(namespace);
    const sa = named(manifests, 'ServiceAccount', service.name);
    const jobPod = one(manifests, 'Job').spec.template.spec;
    const deploymentPod = one(manifests, 'Deployment').spec.template.spec;

    // THEN no ServiceAccount hands out tokens by default
    for (const account of byKind(manifests, 'ServiceAccount')) {
      expect(account.automountServiceAccountToken).toBe(false);
    }
    // AND the Job pod mounts no token by default; projected tokens reach the recorder and the queue alone
    expect(jobPod.automountServiceAccountToken).toBe(false);
    expect(jobPod.serviceAccountName).toBe(`${service.name}-migration-recorder`);
    const tokenVolumes = jobPod.volumes.filter((v: any) => JSON.stringify(v).includes('serviceAccountToken'));
    expect(tokenVolumes.map((v: any) => v.name)).toEqual(['recorder-token', 'queue-token']);
    const mountsOf = (c: any) => (c.volumeMounts ?? []).map((m: any) => m.name);
    expect(mountsOf(container(jobPod, 'record-success'))).toContain('recorder-token');
    expect(mountsOf(container(jobPod, 'wait-for-turn'))).toContain('queue-token');
    expect(mountsOf(container(jobPod, 'migrate'))).not.toContain('recorder-token');
    expect(mountsOf(container(jobPod, 'migrate'))).not.toContain('queue-token');
    // AND the Deployment pods, whose waiter reads the Job, mount the token of exactly that account
    expect(deploymentPod.automountServiceAccountToken).toBe(true);
    expect(deploymentPod.serviceAccountName).toBe(sa.metadata.name);
  });
});

describe.each(WAITERS.flatMap((w) => NAMESPACES.map((ns) => [w.label, ns ?? '(no namespace)', w, ns] as const)))(
  'RBAC for %s, namespace %s', (_label, _nsLabel, waiter, namespace) => {
    const build = (): Synthesized => synth(namespace, () => ({ waiter: waiter.factory() }));

    test('no cluster-wide RBAC is emitted', () => {
      // GIVEN / WHEN
      const { manifests } = build();
      // THEN
      expect(byKind(manifests, 'ClusterRole')).toEqual([]);
      expect(byKind(manifests, 'ClusterRoleBinding')).toEqual([]);
    });

    test('the reader Role: read verbs on this release\'s Job, by name, and the ledger only for a waiter that reads it', () => {
      // GIVEN / WHEN
      const { service, manifests } = build();
      const role = named(manifests, 'Role', `${service.name}-migration-reader`);

      // THEN the first rule is on batch/jobs, restricted to this release's Job
      expect(role.rules).toHaveLength(waiter.ledgerVerbs.length > 0 ? 2 : 1);
      const [rule, ledgerRule] = role.rules;
      if (ledgerRule !== undefined) {
        expect(ledgerRule).toEqual({ apiGroups: [''], resources: ['configmaps'], resourceNames: [`${service.name}-migration-ledger`], verbs: waiter.ledgerVerbs });
      }
      expect(rule.apiGroups).toEqual(['batch']);
      expect(rule.resources).toEqual(['jobs']);
      expect(rule.resourceNames).toEqual([service.jobName]);
      expect(rule.resourceNames).toEqual([one(manifests, 'Job').metadata.name]);
      expect(rule.nonResourceURLs).toBeUndefined();
      expect(role.aggregationRule).toBeUndefined();
      // AND its verbs are reading verbs only, never a wildcard
      expect(rule.verbs.length).toBeGreaterThan(0);
      expect(READ_VERBS).toEqual(expect.arrayContaining(rule.verbs));
      expect(JSON.stringify(role.rules)).not.toContain('*');
    });

    test('the Role grants exactly the verbs this waiter calls, no more and no fewer', () => {
      // GIVEN / WHEN
      const { manifests } = build();
      const [rule] = named(manifests, 'Role', 'myapp-migration-reader').rules;
      // THEN
      expect([...rule.verbs].sort()).toEqual([...waiter.verbs].sort());
    });

    test('evaluated like the RBAC authorizer, the Role allows the waiter\'s requests and nothing broader', () => {
      // GIVEN the Role and every request the waiter could make, or an attacker with its token could try
      const { service, manifests } = build();
      const role = named(manifests, 'Role', `${service.name}-migration-reader`);
      const ledger = `${service.name}-migration-ledger`;
      const requests: ResourceRequest[] = [];
      for (const verb of ALL_VERBS) {
        for (const [apiGroup, resource] of [['batch', 'jobs'], ['batch', 'jobs/status'], ['batch', 'cronjobs'], ['', 'pods'], ['', 'pods/log'],
          ['', 'secrets'], ['', 'configmaps'], ['', 'serviceaccounts/token'], ['apps', 'deployments'], ['rbac.authorization.k8s.io', 'roles']]) {
          for (const name of [service.jobName, `${service.jobName}-other`, 'myapp-migration-v1.2.2', ledger, '']) {
            requests.push({ verb, apiGroup, resource, name });
          }
        }
      }
      // WHEN each is evaluated
      const allowed = requests.filter((request) => roleAllows(role, request));
      // THEN the waiter's own requests are allowed...
      for (const verb of waiter.verbs) {
        expect(allowed).toContainEqual({ verb, apiGroup: 'batch', resource: 'jobs', name: service.jobName });
      }
      // ...and every allowed request reads this release's Job, by name (whether every read verb is
      // needed by this waiter is the previous test's business), or gets the ledger if it reads it
      expect(allowed.filter((r) => !(r.apiGroup === 'batch' && r.resource === 'jobs' && r.name === service.jobName
        && READ_VERBS.includes(r.verb))
        && !(r.apiGroup === '' && r.resource === 'configmaps' && r.name === ledger && waiter.ledgerVerbs.includes(r.verb)))).toEqual([]);
    });

    test('the RoleBinding binds that Role to that ServiceAccount only, all in one namespace', () => {
      // GIVEN / WHEN
      const { manifests } = build();
      const role = named(manifests, 'Role', 'myapp-migration-reader');
      const binding = named(manifests, 'RoleBinding', 'myapp-migration-reader');
      const sa = named(manifests, 'ServiceAccount', 'myapp');
      // THEN the binding refers to the Role by kind, group and name
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
      // AND its only subject is the ServiceAccount, in the binding's own namespace
      expect(binding.subjects).toHaveLength(1);
      const [subject] = binding.subjects;
      expect(subject.kind).toBe('ServiceAccount');
      expect(subject.name).toBe(sa.metadata.name);
      expect(subject.apiGroup ?? '').toBe('');
      // A subject without namespace means the binding's namespace; with one, it must be the same.
      expect(subject.namespace ?? binding.metadata.namespace).toBe(binding.metadata.namespace);
      // AND Role, RoleBinding, ServiceAccount, Job and Deployment all live in the chart's namespace
      for (const obj of manifests) {
        expect([obj.kind, obj.metadata.namespace]).toEqual([obj.kind, namespace]);
      }
    });
  });

describe('the RBAC evaluator used above', () => {
  // It must be able to say yes to what is broad, or the "nothing broader" test proves nothing.
  test('detects wildcard verbs, wildcard resources, missing resourceNames and subresource wildcards', () => {
    // GIVEN rules that grant too much
    const job: ResourceRequest = { verb: 'delete', apiGroup: 'batch', resource: 'jobs', name: 'other-job' };
    // WHEN / THEN each is seen to allow a request it should not
    expect(ruleAllows({ apiGroups: ['batch'], resources: ['jobs'], verbs: ['*'] }, job)).toBe(true);
    expect(ruleAllows({ apiGroups: ['*'], resources: ['*'], verbs: ['delete'] }, job)).toBe(true);
    expect(ruleAllows({ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'delete'] }, job)).toBe(true);
    expect(ruleAllows({ apiGroups: ['batch'], resources: ['*/status'], verbs: ['patch'] },
      { verb: 'patch', apiGroup: 'batch', resource: 'jobs/status', name: 'x' })).toBe(true);
    // AND a narrow rule is seen to refuse another name, a subresource and an unnamed list
    const narrow = { apiGroups: ['batch'], resources: ['jobs'], resourceNames: ['mine'], verbs: ['get', 'list'] };
    expect(ruleAllows(narrow, { verb: 'get', apiGroup: 'batch', resource: 'jobs', name: 'mine' })).toBe(true);
    expect(ruleAllows(narrow, { verb: 'get', apiGroup: 'batch', resource: 'jobs', name: 'other' })).toBe(false);
    expect(ruleAllows(narrow, { verb: 'get', apiGroup: 'batch', resource: 'jobs/status', name: 'mine' })).toBe(false);
    expect(ruleAllows(narrow, { verb: 'list', apiGroup: 'batch', resource: 'jobs', name: '' })).toBe(false);
  });
});

describe('secrets are referenced by name, never written', () => {
  // Names the test passes: they must appear in the YAML, as references.
  const ENV_SECRET_NAME = 'sentinel-env-secret-7c1e';
  const ENVFROM_SECRET_NAME = 'sentinel-envfrom-secret-3b9d';
  const PULL_SECRET_NAME = 'sentinel-pull-secret-5a2f';
  // A value the test never passes to the construct, as a name or otherwise, but that sits in the
  // process environment the way a pipeline's secrets do: it must never reach the YAML.
  const SECRET_VALUE = 'S3ntinel-Secret-Value-9f8e7d6c';

  const build = (namespace?: string): Synthesized => synth(namespace, (chart) => ({
    env: {
      DB_PASSWORD: kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(chart, 'EnvSecret', ENV_SECRET_NAME), key: 'password' }),
      LOG_LEVEL: kplus.EnvValue.fromValue('info'),
    },
    secretNames: [ENVFROM_SECRET_NAME],
    imagePullSecretName: PULL_SECRET_NAME,
    deploymentVariables: true,
    delivery: Delivery.argoCd(),
  }));

  let savedValue: string | undefined;
  beforeEach(() => {
    savedValue = process.env.DATABASE_PASSWORD;
    process.env.DATABASE_PASSWORD = SECRET_VALUE;
  });
  afterEach(() => {
    if (savedValue === undefined) {
      delete process.env.DATABASE_PASSWORD;
    } else {
      process.env.DATABASE_PASSWORD = savedValue;
    }
  });

  test.each(NAMESPACES.map((ns) => [ns ?? '(no namespace)', ns] as const))('no Secret object, no secret data (namespace %s)', (_label, namespace) => {
    // GIVEN a MigratedService whose env and envFrom use Secrets, and a pull secret
    // WHEN it is synthesized
    const { manifests } = build(namespace);
    // THEN it emits no Secret...
    expect(byKind(manifests, 'Secret')).toEqual([]);
    // ...no stringData anywhere, and data only in the deployment-variables ConfigMap, holding the tag
    // alone (the ledger ConfigMap is emitted empty: the recorder adds Job names and times)
    for (const obj of manifests) {
      expect([obj.kind, obj.stringData]).toEqual([obj.kind, undefined]);
      if (obj.kind === 'ConfigMap' && obj.metadata.name === 'myapp-deployment-variables') {
        expect(obj.data).toEqual({ IMAGE_TAG: 'v1.2.3' });
        expect(obj.binaryData).toBeUndefined();
      } else if (obj.kind === 'ConfigMap' && /-migration-waiter(-hook)?$/.test(obj.metadata.name)) {
        // (the waiter program, and nothing else)
        expect(obj.data).toEqual({ 'migration-waiter.js': migrationWaiterScript() });
      } else {
        expect([obj.kind, obj.data]).toEqual([obj.kind, undefined]);
      }
    }
  });

  test('every secret reference is a secretKeyRef, secretRef or imagePullSecret naming the Secret', () => {
    // GIVEN / WHEN
    const { manifests } = build('shop');
    const pods = [one(manifests, 'Job'), one(manifests, 'Deployment')].map((o) => o.spec.template.spec);
    for (const pod of pods) {
      const containers = [...(pod.initContainers ?? []), ...pod.containers]
        .filter((c: any) => !['wait-for-myapp-migration', 'record-success', 'wait-for-turn'].includes(c.name));
      // THEN the pod pulls with the named pull secret
      expect(pod.imagePullSecrets).toEqual([{ name: PULL_SECRET_NAME }]);
      for (const appContainer of containers) {
        // AND the password comes from a secretKeyRef by name and key, with no inline value
        const password = appContainer.env.find((e: any) => e.name === 'DB_PASSWORD');
        expect(password).toEqual({ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: ENV_SECRET_NAME, key: 'password' } } });
        // AND the envFrom Secret is a secretRef by name
        expect(appContainer.envFrom).toContainEqual({ secretRef: { name: ENVFROM_SECRET_NAME } });
      }
    }
    // AND the waiter and the recorder, which need no secret, get none
    const waiter = one(manifests, 'Deployment').spec.template.spec.initContainers[0];
    expect(JSON.stringify(waiter)).not.toMatch(/sentinel-|secretKeyRef|secretRef/);
    expect(JSON.stringify(container(one(manifests, 'Job').spec.template.spec, 'record-success'))).not.toMatch(/sentinel-|secretKeyRef|secretRef/);
  });

  test('the sentinel names appear only as references, and the secret value nowhere', () => {
    // GIVEN / WHEN
    const { yaml } = build('shop');
    // THEN each name the test passed is in the YAML (the scan works) ...
    for (const name of [ENV_SECRET_NAME, ENVFROM_SECRET_NAME, PULL_SECRET_NAME]) {
      expect(yaml).toContain(name);
    }
    // ... only in reference positions: `name: <sentinel>` under secretKeyRef, secretRef or imagePullSecrets
    const lines = yaml.split('\n').filter((line) => line.includes('sentinel-'));
    for (const line of lines) {
      expect(line.trim()).toMatch(/^(- )?name: sentinel-[a-z0-9-]+$/);
    }
    // ... and the value, which was never given as a name, is not written anywhere
    expect(yaml).not.toContain(SECRET_VALUE);
    expect(yaml).not.toContain(Buffer.from(SECRET_VALUE).toString('base64'));
  });
});
