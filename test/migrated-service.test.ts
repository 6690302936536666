import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { MigratedService, MigrationWaiter, ServiceProbe, ServiceStrategy } from '../src';
import { allOfKind, container, MINIMAL, named, oneOfKind, PATTERN_EXAMPLE, synthesize } from './support/manifests';
import { libraryVersion } from '../src/constructs/library-version';
import { programHash } from '../src/constructs/waiter-program';
import { migrationWaiterScript } from '../src/constructs/waiter-script';

const PATTERN_JOB_NAME = 'myapp-migration-v1-2286938253-0-9ae7bb2475';

describe('the pattern document example', () => {
  // GIVEN the pattern's example values, in a chart with namespace "shop"
  // WHEN the construct is synthesized
  const { service, manifests } = synthesize(PATTERN_EXAMPLE);
  const job = oneOfKind(manifests, 'Job');
  const deployment = oneOfKind(manifests, 'Deployment');
  const jobPod = job.spec.template.spec;
  const servicePod = deployment.spec.template.spec;

  test('matches the snapshot', () => {
    // THEN the YAML is what was reviewed (a change must be accepted on purpose); the waiter
    // program's text is checked on its own, so that the snapshot shows the manifests' shape
    const scripts = manifests.flatMap((m) => [...(m.spec?.template?.spec?.initContainers ?? []), ...(m.spec?.template?.spec?.containers ?? [])])
      .filter((c: any) => c.command?.[0] === 'node');
    expect(scripts.map((c: any) => c.name)).toEqual(['wait-for-turn', 'record-success', 'wait-for-myapp-migration']);
    for (const c of scripts) {
      expect(c.command).toEqual(['node', '/opt/migration-waiter/migration-waiter.js']);
    }
    expect(oneOfKind(manifests.filter((m) => m.metadata.name === 'test-migration-waiter'), 'ConfigMap').data)
      .toEqual({ 'migration-waiter.js': migrationWaiterScript() });
    // (and the library's version, which a release sets in package.json, is checked in waiter-program.test.ts)
    const version = '"cdk8s-migrated-service.dev/version":' + JSON.stringify(libraryVersion());
    expect(JSON.stringify(manifests)).toContain(version);
    expect(JSON.parse(JSON.stringify(manifests).split(JSON.stringify(migrationWaiterScript())).join('"<waiter/migration-waiter.js>"')
      .split(programHash()).join('<sha256 of waiter/migration-waiter.js>')
      .split(version).join('"cdk8s-migrated-service.dev/version":"<version in package.json>"')))
      .toMatchSnapshot();
  });

  test('emits exactly the objects of the pattern, a Service for the port, and the ledger with its recorder\'s RBAC', () => {
    expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual([
      'ConfigMap/myapp-migration-ledger',
      'ConfigMap/test-migration-waiter',
      'Deployment/myapp',
      `Job/${PATTERN_JOB_NAME}`,
      'Role/myapp-migration-queue',
      'Role/myapp-migration-reader',
      'Role/myapp-migration-recorder',
      'RoleBinding/myapp-migration-queue',
      'RoleBinding/myapp-migration-reader',
      'RoleBinding/myapp-migration-recorder',
      'Service/myapp',
      'ServiceAccount/myapp',
      'ServiceAccount/myapp-migration-recorder',
    ]);
  });

  test('names the Job after the tag, made a DNS label, and exposes that name', () => {
    // THEN dots in the tag are replaced and a hash keeps distinct tags apart
    expect(job.metadata.name).toBe(PATTERN_JOB_NAME);
    expect(service.jobName).toBe(PATTERN_JOB_NAME);
    expect(job.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(job.metadata.name.length).toBeLessThanOrEqual(63);
  });

  test('the migration Job runs once, fails fast, and is re-created by Flux when needed', () => {
    // Flux re-creates it on an immutable change, and never prunes it: the next release must not kill it midway.
    expect(job.metadata.annotations).toEqual({ 'kustomize.toolkit.fluxcd.io/force': 'Enabled', 'kustomize.toolkit.fluxcd.io/prune': 'disabled' });
    expect(job.spec.backoffLimit).toBe(0);
    expect(jobPod.restartPolicy).toBe('Never');
    // No TTL: a deleted Job is re-created by Flux (re-running the migration) and breaks later pods.
    expect(job.spec).not.toHaveProperty('ttlSecondsAfterFinished');
  });

  test('the migration container runs the migration image of the same tag, before the recorder', () => {
    const migrate = container(jobPod, 'migrate');
    expect(migrate.image).toBe('registry.example.com/myapp-migration:v1.2286938253.0');
    expect(migrate.command).toEqual(['npx', 'prisma', 'migrate', 'deploy']);
    // It waits for its turn first: no other release's migration may run beside it.
    expect(jobPod.initContainers.map((c: any) => c.name)).toEqual(['wait-for-turn', 'migrate']);
    expect(jobPod.containers.map((c: any) => c.name)).toEqual(['record-success']);
  });

  test('the Job and the service read the same ConfigMap and Secret', () => {
    const expected = [{ configMapRef: { name: 'myapp-config' } }, { secretRef: { name: 'myapp-secrets' } }];
    expect(container(jobPod, 'migrate').envFrom).toEqual(expected);
    expect(container(servicePod, 'service').envFrom).toEqual(expected);
  });

  test('the migration container gets no service-account token; only the recorder does', () => {
    const mountsToken = (c: any) => (c.volumeMounts ?? []).some((m: any) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount');
    expect(jobPod.automountServiceAccountToken).toBe(false);
    expect(mountsToken(container(jobPod, 'migrate'))).toBe(false);
    expect(mountsToken(container(jobPod, 'record-success'))).toBe(true);
  });

  test('the Deployment runs the service image of the same tag with the requested replicas', () => {
    expect(deployment.metadata.name).toBe('myapp');
    expect(deployment.spec.replicas).toBe(2);
    expect(container(servicePod, 'service').image).toBe('registry.example.com/myapp:v1.2286938253.0');
    expect(container(servicePod, 'service').ports).toEqual([{ containerPort: 3000 }]);
  });

  test('every replica waits for exactly this Job with the library\'s waiter, as a numeric non-root user', () => {
    expect(servicePod.initContainers).toHaveLength(1);
    const waiter = container(servicePod, 'wait-for-myapp-migration');
    expect(waiter.image).toBe('node:24.11.0-alpine3.22');
    expect(waiter.args).toEqual(['job']);
    expect(waiter.env).toContainEqual({ name: 'MIGRATION_JOB', value: job.metadata.name });
    // runAsNonRoot needs a numeric UID the kubelet can check; the image's `node` user is 1000.
    expect(waiter.securityContext.runAsNonRoot).toBe(true);
    expect(waiter.securityContext.runAsUser).toBe(1000);
  });

  test('the waiter has a token, through the construct\'s ServiceAccount', () => {
    expect(servicePod.automountServiceAccountToken).toBe(true);
    expect(servicePod.serviceAccountName).toBe('myapp');
    expect(named(manifests, 'ServiceAccount', 'myapp').automountServiceAccountToken).toBe(false);
  });

  test('the Role lets the waiter read this release\'s Job and the ledger, by name, and nothing else', () => {
    const role = named(manifests, 'Role', 'myapp-migration-reader');
    expect(role.rules).toEqual([{
      apiGroups: ['batch'],
      resources: ['jobs'],
      resourceNames: [PATTERN_JOB_NAME],
      // list and watch with a metadata.name field selector, which resourceNames allows.
      verbs: ['list', 'watch'],
    }, {
      apiGroups: [''],
      resources: ['configmaps'],
      resourceNames: ['myapp-migration-ledger'],
      verbs: ['get'],
    }]);
  });

  test('the RoleBinding binds that Role to the ServiceAccount, namespace explicit', () => {
    const binding = named(manifests, 'RoleBinding', 'myapp-migration-reader');
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'myapp-migration-reader',
    });
    expect(binding.subjects).toEqual([{ apiGroup: '', kind: 'ServiceAccount', name: 'myapp', namespace: 'shop' }]);
  });

  test('every object is in the chart\'s namespace', () => {
    expect(manifests.map((m) => m.metadata.namespace)).toEqual(manifests.map(() => 'shop'));
  });

  test('the ledger, the ServiceAccounts, Roles, RoleBindings and the Job come before the Deployment', () => {
    const deploymentAt = manifests.findIndex((m) => m.kind === 'Deployment');
    for (const [index, manifest] of manifests.entries()) {
      if (['ConfigMap', 'ServiceAccount', 'Role', 'RoleBinding', 'Job'].includes(manifest.kind)) {
        expect(index).toBeLessThan(deploymentAt);
      }
    }
  });

  test('the Service selects the pods by stable labels only', () => {
    const svc = oneOfKind(manifests, 'Service');
    expect(svc.metadata.name).toBe('myapp');
    expect(svc.spec.ports).toEqual([{ port: 3000, targetPort: 3000 }]);
    expect(svc.spec.selector).toEqual(deployment.spec.selector.matchLabels);
  });
});

describe('labels and selectors', () => {
  test('the selector never includes the version, which changes every release', () => {
    // GIVEN two releases of the same service
    const first = oneOfKind(synthesize({ ...MINIMAL, imageTag: 'v1.0.0' }).manifests, 'Deployment');
    const second = oneOfKind(synthesize({ ...MINIMAL, imageTag: 'v2.0.0' }).manifests, 'Deployment');
    // THEN the (immutable) selector is identical, and the pod template carries the version
    expect(first.spec.selector).toEqual(second.spec.selector);
    expect(first.spec.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'myapp',
      'app.kubernetes.io/instance': 'myapp',
      'app.kubernetes.io/component': 'service',
    });
    expect(first.spec.template.metadata.labels['app.kubernetes.io/version']).toBe('v1.0.0');
    expect(second.spec.template.metadata.labels['app.kubernetes.io/version']).toBe('v2.0.0');
  });

  test('every object carries the standard labels; the Job and its RBAC are the migration component', () => {
    const { manifests } = synthesize({ ...MINIMAL, partOf: 'shop' });
    // (but the waiter program, which every migration of the namespace shares)
    for (const manifest of manifests.filter((m) => m.metadata.name !== 'test-migration-waiter')) {
      expect(manifest.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': 'myapp',
        'app.kubernetes.io/instance': 'myapp',
        'app.kubernetes.io/version': 'v1.0.0',
        'app.kubernetes.io/part-of': 'shop',
        'app.kubernetes.io/managed-by': 'cdk8s',
        'app.kubernetes.io/component': manifest.metadata.name.includes('-migration') ? 'migration' : 'service',
      });
    }
    expect(oneOfKind(manifests, 'Job').spec.template.metadata.labels['app.kubernetes.io/component']).toBe('migration');
  });

  test('a tag that is not a valid label value is shortened and hashed in the version label', () => {
    const tag = `_${'a'.repeat(99)}1`;
    const labels = oneOfKind(synthesize({ ...MINIMAL, imageTag: tag }).manifests, 'Job').metadata.labels;
    expect(labels['app.kubernetes.io/version']).toMatch(/^a+-[0-9a-f]{10}$/);
    expect(labels['app.kubernetes.io/version'].length).toBeLessThanOrEqual(63);
  });
});

describe('defaults', () => {
  // GIVEN only the required props
  const { service, manifests } = synthesize(MINIMAL);
  const job = oneOfKind(manifests, 'Job');
  const deployment = oneOfKind(manifests, 'Deployment');

  test('the base name is the construct id, and a tag that is already a DNS label is kept verbatim', () => {
    expect(service.name).toBe('myapp');
    expect(job.metadata.name).toBe('myapp-migration-v1-0-0-2485f4d55a');
    const plain = synthesize({ ...MINIMAL, imageTag: '3f2a9c1' });
    expect(plain.service.jobName).toBe('myapp-migration-3f2a9c1');
  });

  test('the migration image defaults to the service image, two replicas, no Service', () => {
    expect(container(job.spec.template.spec, 'migrate').image).toBe('registry.example.com/myapp:v1.0.0');
    expect(deployment.spec.replicas).toBe(2);
    expect(allOfKind(manifests, 'Service')).toEqual([]);
    expect(service.service).toBeUndefined();
    expect(allOfKind(manifests, 'ConfigMap').map((m) => m.metadata.name)).toEqual(['myapp-migration-ledger', 'test-migration-waiter']);
  });

  test('a hung migration fails after an hour; a node drain does not fail the Job', () => {
    // An hour in the queue behind an earlier release's migration, then the migration's own hour.
    expect(job.spec.activeDeadlineSeconds).toBe(3600 + 3600);
    expect(job.spec.podFailurePolicy).toEqual({
      rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }],
    });
  });

  test('the migration container has a writable /tmp under a read-only root filesystem', () => {
    const pod = job.spec.template.spec;
    const migrate = container(pod, 'migrate');
    expect(migrate.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(migrate.volumeMounts).toEqual([{ mountPath: '/tmp', name: 'tmp' }]);
    expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '1024Mi' } });
  });

  test('the waiter is small, pinned, and has a writable /tmp', () => {
    const pod = deployment.spec.template.spec;
    const waiter = container(pod, 'wait-for-myapp-migration');
    expect(waiter.resources).toEqual({ requests: { cpu: '10m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } });
    expect(waiter.imagePullPolicy).toBe('IfNotPresent');
    expect(waiter.env).toEqual([
      { name: 'MIGRATION_JOB', value: job.metadata.name },
      { name: 'MIGRATION_LEDGER', value: 'myapp-migration-ledger' },
      { name: 'MIGRATION_WAITER_SHA256', value: programHash() },
    ]);
    expect(waiter.volumeMounts).toEqual([
      { mountPath: '/tmp', name: 'wait-for-myapp-migration-tmp' },
      // the program, from the namespace's ConfigMap, read-only
      { mountPath: '/opt/migration-waiter', name: 'migration-waiter-program', readOnly: true },
    ]);
    expect(pod.volumes).toEqual(expect.arrayContaining([
      { name: 'wait-for-myapp-migration-tmp', emptyDir: { sizeLimit: '64Mi' } },
      { name: 'migration-waiter-program', configMap: { name: 'test-migration-waiter', defaultMode: 0o444 } },
    ]));
  });

  test('every container meets the restricted profile', () => {
    const containers = [
      ...job.spec.template.spec.initContainers,
      ...job.spec.template.spec.containers,
      ...deployment.spec.template.spec.containers,
      ...deployment.spec.template.spec.initContainers,
    ];
    for (const c of containers) {
      expect(c.securityContext).toMatchObject({
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
    }
  });

  test('service and migration images are pulled only when missing, as their tag names one release', () => {
    expect(container(job.spec.template.spec, 'migrate').imagePullPolicy).toBe('IfNotPresent');
    expect(container(deployment.spec.template.spec, 'service').imagePullPolicy).toBe('IfNotPresent');
  });

  test('the service container has a writable /tmp of its own, with a size limit', () => {
    const pod = deployment.spec.template.spec;
    const serviceContainer = container(pod, 'service');
    expect(serviceContainer.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(serviceContainer.volumeMounts).toEqual([{ mountPath: '/tmp', name: 'tmp' }]);
    expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '1024Mi' } });
  });

  test('the rollout never takes a serving pod down, and its deadline covers the migration', () => {
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } });
    // queueTimeout (1 h) + migrationTimeout (1 h) + 10 minutes of start-up
    expect(deployment.spec.progressDeadlineSeconds).toBe(7800);
  });

  test('no warnings', () => {
    expect(service.warnings).toEqual([]);
  });
});

describe('a chart without a namespace', () => {
  test('no object names a namespace, and the subject resolves to the binding\'s own', () => {
    // GIVEN a chart without namespace (Flux targetNamespace or kubectl -n decides it)
    const { manifests } = synthesize(MINIMAL, {});
    // THEN nothing can drift: no object and no subject names a namespace
    for (const manifest of manifests) {
      expect(manifest.metadata).not.toHaveProperty('namespace');
    }
    for (const binding of allOfKind(manifests, 'RoleBinding')) {
      // The queue's RoleBinding binds the migration pod's account (the recorder's).
      const account = binding.metadata.name.replace(/-reader$/, '').replace(/-migration$/, '').replace(/-queue$/, '-recorder');
      expect(binding.subjects).toEqual([{ apiGroup: '', kind: 'ServiceAccount', name: account }]);
    }
  });
});

describe('the name prop', () => {
  test('names every object', () => {
    // GIVEN a name that differs from the construct id
    const { manifests } = synthesize({ ...MINIMAL, name: 'orders', port: 8080, deploymentVariables: true });
    // THEN every object is named after it (the waiter program, shared by the chart's migrations, after the chart)
    expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual([
      'ConfigMap/orders-deployment-variables',
      'ConfigMap/orders-migration-ledger',
      'ConfigMap/test-migration-waiter',
      'Deployment/orders',
      'Job/orders-migration-v1-0-0-2485f4d55a',
      'Role/orders-migration-queue',
      'Role/orders-migration-reader',
      'Role/orders-migration-recorder',
      'RoleBinding/orders-migration-queue',
      'RoleBinding/orders-migration-reader',
      'RoleBinding/orders-migration-recorder',
      'Service/orders',
      'ServiceAccount/orders',
      'ServiceAccount/orders-migration-recorder',
    ]);
  });

  test('the longest allowed name still yields names of at most 63 characters', () => {
    const name = `a${'b'.repeat(62)}`;
    const { manifests } = synthesize({ ...MINIMAL, name, imageTag: `${'X'.repeat(127)}1`, deploymentVariables: true });
    for (const manifest of manifests) {
      expect(manifest.metadata.name.length).toBeLessThanOrEqual(63);
    }
  });
});

describe('escape hatches', () => {
  test('env, resources and security context apply to both the Job and the service', () => {
    // GIVEN env, resources and a security context override
    const resources: kplus.ContainerResources = {
      cpu: { request: kplus.Cpu.millis(250), limit: kplus.Cpu.millis(500) },
      memory: { request: Size.mebibytes(256), limit: Size.mebibytes(512) },
    };
    const { manifests } = synthesize({
      ...MINIMAL,
      env: { NODE_ENV: kplus.EnvValue.fromValue('production') },
      resources,
      securityContext: { readOnlyRootFilesystem: false, user: 1000 },
    });
    // THEN both containers carry them, over the restricted defaults
    const migrate = container(oneOfKind(manifests, 'Job').spec.template.spec, 'migrate');
    const service = container(oneOfKind(manifests, 'Deployment').spec.template.spec, 'service');
    for (const c of [migrate, service]) {
      expect(c.env).toEqual([{ name: 'NODE_ENV', value: 'production' }]);
      expect(c.resources).toEqual({ requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } });
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: false, runAsUser: 1000, allowPrivilegeEscalation: false });
    }
  });

  test('adding a capability the restricted profile allows keeps dropping ALL', () => {
    // GIVEN a service that binds a low port
    const { manifests } = synthesize({ ...MINIMAL, securityContext: { capabilities: { add: [kplus.Capability.NET_BIND_SERVICE] } } });
    // THEN the override adds to the defaults instead of replacing them
    const service = container(oneOfKind(manifests, 'Deployment').spec.template.spec, 'service');
    expect(service.securityContext.capabilities).toEqual({ add: ['NET_BIND_SERVICE'], drop: ['ALL'] });
  });

  test('migrationResources applies to the Job only', () => {
    const { manifests } = synthesize({
      ...MINIMAL,
      migrationResources: { memory: { request: Size.gibibytes(1), limit: Size.gibibytes(1) } },
    });
    const migrate = container(oneOfKind(manifests, 'Job').spec.template.spec, 'migrate');
    const service = container(oneOfKind(manifests, 'Deployment').spec.template.spec, 'service');
    expect(migrate.resources).toEqual({ requests: { memory: '1024Mi' }, limits: { memory: '1024Mi' } });
    expect(service.resources.requests.cpu).toBe('1000m');
  });

  test('probes apply to the service container', () => {
    const { manifests } = synthesize({
      ...MINIMAL,
      port: 8080,
      readiness: ServiceProbe.fromHttpGet('/ready', { port: 8080 }),
      liveness: ServiceProbe.fromHttpGet('/live', { port: 8080 }),
      startup: ServiceProbe.fromTcpSocket({ port: 8080, failureThreshold: 30 }),
    });
    const service = container(oneOfKind(manifests, 'Deployment').spec.template.spec, 'service');
    expect(service.readinessProbe.httpGet.path).toBe('/ready');
    expect(service.livenessProbe.httpGet.path).toBe('/live');
    expect(service.startupProbe.failureThreshold).toBe(30);
  });

  test('pod labels and annotations reach both pod templates', () => {
    const { manifests } = synthesize({
      ...MINIMAL,
      podLabels: { 'team': 'payments', 'app.kubernetes.io/role': 'api' },
      podAnnotations: { 'prometheus.io/scrape': 'true' },
    });
    for (const workload of [oneOfKind(manifests, 'Job'), oneOfKind(manifests, 'Deployment')]) {
      const metadata = workload.spec.template.metadata;
      expect(metadata.labels.team).toBe('payments');
      expect(metadata.labels['app.kubernetes.io/role']).toBe('api');
      expect(metadata.labels['app.kubernetes.io/name']).toBe('myapp');
      expect(metadata.annotations['prometheus.io/scrape']).toBe('true');
    }
  });

  test('a pod label the construct sets itself is refused, not silently overridden', () => {
    // GIVEN pod labels that would replace the construct's own name label (which the selector uses)
    const build = () => synthesize({ ...MINIMAL, podLabels: { 'app.kubernetes.io/name': 'hijack' } });
    // THEN construction fails, naming the construct, the key and the alternative
    expect(build).toThrow(/MigratedService "test\/myapp": podLabels key "app.kubernetes.io\/name" is invalid: the construct sets .*itself/);
  });

  test('pull secrets for two registries apply to the Job, the service and a gated worker that runs the account created for it', () => {
    // GIVEN a migration image and an app image from two private registries, and a worker gated by the migration
    const chart = new Chart(Testing.app(), 'test', { namespace: 'shop' });
    const service = new MigratedService(chart, 'myapp', { ...MINIMAL, imagePullSecretNames: ['registry-a', 'registry-b'] });
    const worker = new kplus.Deployment(chart, 'worker', { metadata: { name: 'worker' }, progressDeadline: service.migration.progressDeadline });
    worker.addContainer({ name: 'worker', image: 'registry.example.com/myapp:v1.0.0' });
    service.migration.gate(worker);
    // AND a second worker on its own ServiceAccount, which lists a pull secret of its own
    const listed = new kplus.Deployment(chart, 'listed', {
      metadata: { name: 'listed' },
      progressDeadline: service.migration.progressDeadline,
      serviceAccount: kplus.ServiceAccount.fromServiceAccountName(chart, 'Own', 'own'),
      dockerRegistryAuth: kplus.Secret.fromSecretName(chart, 'OwnPull', 'registry-b'),
    });
    listed.addContainer({ name: 'listed', image: 'registry.example.com/myapp:v1.0.0' });
    service.migration.gate(listed);
    // AND a third on its own ServiceAccount, listing none
    const ownAccount = new kplus.Deployment(chart, 'own-account', {
      metadata: { name: 'own-account' },
      progressDeadline: service.migration.progressDeadline,
      serviceAccount: kplus.ServiceAccount.fromServiceAccountName(chart, 'Own2', 'own'),
    });
    ownAccount.addContainer({ name: 'own', image: 'registry.example.com/myapp:v1.0.0' });
    service.migration.gate(ownAccount);

    // WHEN it is synthesized
    const manifests = Testing.synth(chart);
    const pullSecrets = (kind: string, name: string) => named(manifests, kind, name).spec.template.spec.imagePullSecrets;

    // THEN the pods the construct creates list both
    expect(pullSecrets('Job', service.migration.jobName)).toEqual([{ name: 'registry-a' }, { name: 'registry-b' }]);
    expect(pullSecrets('Deployment', 'myapp')).toEqual([{ name: 'registry-a' }, { name: 'registry-b' }]);
    // AND the worker on the account created for it too
    expect(pullSecrets('Deployment', 'worker')).toEqual([{ name: 'registry-a' }, { name: 'registry-b' }]);
    // AND the worker with its own list gets the missing one, without a duplicate
    expect(pullSecrets('Deployment', 'listed')).toEqual([{ name: 'registry-b' }, { name: 'registry-a' }]);
    // AND the worker on its own account, listing none, still reads that account's: nothing is added
    expect(pullSecrets('Deployment', 'own-account')).toBeUndefined();
  });

  test('the post-deploy Job lists the pull secrets too', () => {
    // GIVEN a contract phase
    const { manifests } = synthesize({ ...MINIMAL, postDeployMigrationCommand: ['./contract'], imagePullSecretNames: ['registry-a', 'registry-b'] });
    // THEN both Jobs' pods list both secrets
    const jobs = allOfKind(manifests, 'Job');
    expect(jobs.map((job) => job.metadata.name)).toEqual(['myapp-migration-v1-0-0-2485f4d55a', 'myapp-post-migration-v1-0-0-2485f4d55a']);
    for (const job of jobs) {
      expect(job.spec.template.spec.imagePullSecrets).toEqual([{ name: 'registry-a' }, { name: 'registry-b' }]);
    }
  });

  test('imagePullSecretName and imagePullSecretNames together are refused', () => {
    expect(() => synthesize({ ...MINIMAL, imagePullSecretName: 'registry-a', imagePullSecretNames: ['registry-b'] }))
      .toThrow(/MigratedService "test\/myapp": imagePullSecretName "registry-a" is invalid: give imagePullSecretNames or the deprecated imagePullSecretName, not both.*\["registry-a","registry-b"\]/);
    expect(() => synthesize({ ...MINIMAL, imagePullSecretNames: ['registry-a', 'registry-a'] }))
      .toThrow(/imagePullSecretNames "registry-a" is invalid: each Secret is listed once/);
  });

  test('the deprecated imagePullSecretName still applies to both pods', () => {
    const { manifests } = synthesize({ ...MINIMAL, imagePullSecretName: 'registry-credentials' });
    for (const workload of [oneOfKind(manifests, 'Job'), oneOfKind(manifests, 'Deployment')]) {
      expect(workload.spec.template.spec.imagePullSecrets).toEqual([{ name: 'registry-credentials' }]);
    }
  });

  test('a waiter image can be chosen', () => {
    const { manifests } = synthesize({
      ...MINIMAL,
      waiter: MigrationWaiter.k8sWaitFor({ image: 'mirror.example.com/k8s-wait-for:no-root-v2.0', user: 2000 }),
    });
    const waiter = container(oneOfKind(manifests, 'Deployment').spec.template.spec, 'wait-for-myapp-migration');
    expect(waiter.image).toBe('mirror.example.com/k8s-wait-for:no-root-v2.0');
    expect(waiter.securityContext.runAsUser).toBe(2000);
  });

  test('the deployment variables ConfigMap records the tag and precedes the Job', () => {
    const { manifests } = synthesize({ ...MINIMAL, deploymentVariables: true });
    const configMap = named(manifests, 'ConfigMap', 'myapp-deployment-variables');
    expect(configMap.metadata.name).toBe('myapp-deployment-variables');
    expect(configMap.data).toEqual({ IMAGE_TAG: 'v1.0.0' });
    expect(manifests.indexOf(configMap)).toBeLessThan(manifests.findIndex((m) => m.kind === 'Job'));
  });

  test('the cdk8s-plus objects are exposed for further changes', () => {
    const chart = new Chart(Testing.app(), 'test');
    const service = new MigratedService(chart, 'myapp', MINIMAL);
    service.serviceContainer.env.addVariable('FEATURE_FLAGS', kplus.EnvValue.fromValue('beta'));
    service.serviceAccount.metadata.addAnnotation('eks.amazonaws.com/role-arn', 'arn:aws:iam::123456789012:role/myapp');
    const manifests = Testing.synth(chart);
    expect(container(oneOfKind(manifests, 'Deployment').spec.template.spec, 'service').env).toEqual([
      { name: 'FEATURE_FLAGS', value: 'beta' },
    ]);
    expect(named(manifests, 'ServiceAccount', 'myapp').metadata.annotations).toEqual({
      'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/myapp',
    });
  });
});

describe('the service\'s writable paths, strategy and deadline', () => {
  test('writablePaths adds an emptyDir per path to the service container, /tmp always included', () => {
    const { manifests } = synthesize({ ...MINIMAL, writablePaths: ['/app/.next/cache', '/var/cache/app/'] });
    const pod = oneOfKind(manifests, 'Deployment').spec.template.spec;
    expect(container(pod, 'service').volumeMounts.map((m: any) => m.mountPath)).toEqual(['/tmp', '/app/.next/cache', '/var/cache/app']);
    expect(new Set(pod.volumes.map((v: any) => v.name)).size).toBe(pod.volumes.length);
  });

  test.each([
    [['tmp'], /writablePaths "tmp" is invalid: it must be an absolute path/],
    [['/a/../b'], /writablePaths "\/a\/..\/b" is invalid/],
    [['/cache', '/cache/'], /writablePaths "\/cache" is invalid: each path is listed once/],
  ])('writablePaths %j is rejected', (writablePaths, message) => {
    expect(() => synthesize({ ...MINIMAL, writablePaths })).toThrow(message);
  });

  test('a progress deadline that does not cover the migration is warned about, with the relation to keep', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      // GIVEN a 20-minute progress deadline and the default one-hour migration timeout
      const { service, manifests } = synthesize({ ...MINIMAL, progressDeadline: Duration.minutes(20) });
      // THEN the user's value is kept, and the contradiction is reported
      expect(oneOfKind(manifests, 'Deployment').spec.progressDeadlineSeconds).toBe(1200);
      expect(service.warnings).toEqual([expect.stringMatching(/progressDeadlineSeconds \(1200\) is not longer than the migration timeout \(7200 s, its queue included\)/)]);
    } finally {
      warn.mockRestore();
    }
  });

  test('a longer migration timeout moves the default progress deadline with it', () => {
    const { manifests } = synthesize({ ...MINIMAL, migrationTimeout: Duration.hours(2) });
    // the queue defaults to the migration timeout: 2 h + 2 h + 10 minutes
    expect(oneOfKind(manifests, 'Deployment').spec.progressDeadlineSeconds).toBe(7200 + 7200 + 600);
  });

  test('a strategy of the user\'s that can lose capacity is kept, and warned about', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const { service, manifests } = synthesize({ ...MINIMAL, strategy: ServiceStrategy.recreate() });
      expect(oneOfKind(manifests, 'Deployment').spec.strategy).toEqual({ type: 'Recreate' });
      expect(service.warnings).toEqual([expect.stringMatching(/Deployment "test\/myapp\/Deployment": strategy Recreate: every old pod stops while the new ones wait for the migration\. Set maxUnavailable: 0/)]);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('ttlAfterFinished (opt-in)', () => {
  test('sets the TTL and warns loudly about what it breaks', () => {
    // GIVEN a user who opts in to a TTL
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      // WHEN the construct is created
      const { service, manifests } = synthesize({ ...MINIMAL, ttlAfterFinished: Duration.hours(1), waiter: MigrationWaiter.k8sWaitFor() });
      // THEN the Job has the TTL, and the user is told what it costs
      expect(oneOfKind(manifests, 'Job').spec.ttlSecondsAfterFinished).toBe(3600);
      expect(service.warnings).toHaveLength(1);
      expect(service.warnings[0]).toMatch(/ttlAfterFinished.*Flux re-creates.*migration runs again.*Init:CrashLoopBackOff/);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^\[WARNING MS005 waited-job-ttl\] DatabaseMigration "test\/myapp\/Migration": ttlAfterFinished/));
    } finally {
      warn.mockRestore();
    }
  });
});

describe('bad input', () => {
  const build = (props: Partial<typeof MINIMAL> & Record<string, unknown>, id = 'myapp') =>
    () => new MigratedService(new Chart(Testing.app(), 'test'), id, { ...MINIMAL, ...props } as any);

  test.each([
    ['', /imageTag "" is invalid: it is required/],
    ['v1 2', /imageTag "v1 2" is invalid: a Docker tag is 1 to 128 characters/],
    ['feature/x', /imageTag "feature\/x" is invalid: a Docker tag/],
    ['v1:2', /imageTag "v1:2" is invalid: a Docker tag/],
    ['sha256@abc', /imageTag "sha256@abc" is invalid: a Docker tag/],
    ['.v1', /imageTag ".v1" is invalid: a Docker tag/],
    ['-v1', /imageTag "-v1" is invalid: a Docker tag/],
    ['a'.repeat(129), /imageTag "a{129}" is invalid: a Docker tag is 1 to 128 characters/],
    ['latest', /imageTag "latest" is invalid: "latest" names no release/],
  ])('imageTag %j is rejected', (imageTag, message) => {
    expect(build({ imageTag })).toThrow(message);
  });

  test('imageTag undefined is rejected', () => {
    expect(build({ imageTag: undefined })).toThrow(/imageTag \(undefined\) is invalid: it is required/);
  });

  test.each([
    ['registry.example.com/myapp:v1', /image "registry.example.com\/myapp:v1" is invalid: it must not contain a tag \(":v1"\)/],
    ['registry.example.com/myapp@sha256:0123', /image ".*" is invalid: it must not contain a digest/],
    ['registry.example.com/MyApp', /image ".*" is invalid: repository path component "MyApp" is not valid/],
    ['registry.example.com/my app', /image ".*" is invalid: repository path component "my app" is not valid/],
    ['', /image "" is invalid: it is required/],
  ])('image %j is rejected', (image, message) => {
    expect(build({ image })).toThrow(message);
  });

  test.each(['registry:5000/team/app', 'localhost:5000/app', 'nginx', 'ghcr.io/org/app', 'registry.example.com/a/b/c_d__e-f'])(
    'image %j is accepted (a registry port is not a tag)',
    (image) => {
      expect(build({ image })).not.toThrow();
    },
  );

  test('migrationImage with a tag is rejected', () => {
    expect(build({ migrationImage: 'registry.example.com/myapp-migration:v2' }))
      .toThrow(/migrationImage ".*" is invalid: it must not contain a tag/);
  });

  test.each([
    [[], /migrationCommand \[\] is invalid: the migration command is a non-empty list/],
    [[''], /migrationCommand \[""\] is invalid: the migration command is a non-empty list/],
    [[' ', 'x'], /migrationCommand \[" ","x"\] is invalid/],
  ])('migrationCommand %j is rejected', (migrationCommand, message) => {
    expect(build({ migrationCommand })).toThrow(message);
  });

  test('a missing migration command is rejected', () => {
    expect(build({ migrationCommand: undefined })).toThrow(/migrationCommand \(undefined\) is invalid: the Job needs a command/);
  });

  test.each([
    [-1, /replicas -1 is invalid: the number of replicas must be a whole number from 0/],
    [1.5, /replicas 1.5 is invalid: the number of replicas must be a whole number/],
    [NaN, /replicas NaN is invalid: the number of replicas must be a whole number/],
  ])('replicas %p is rejected', (replicas, message) => {
    expect(build({ replicas })).toThrow(message);
  });

  test('zero replicas are allowed (scaled to zero)', () => {
    expect(build({ replicas: 0 })).not.toThrow();
  });

  test.each([
    ['MyApp', /name "MyApp" is invalid: the base name of every object is a DNS-1035 label/],
    ['1app', /name "1app" is invalid: .*starting with a letter/],
    ['my_app', /name "my_app" is invalid/],
    ['my.app', /name "my.app" is invalid/],
    ['app-', /name "app-" is invalid/],
    ['a'.repeat(64), /name "a{64}" is invalid: .*at most 63 characters/],
    ['', /name "" is invalid/],
  ])('name %j is rejected', (name, message) => {
    expect(build({ name })).toThrow(message);
  });

  test('an invalid construct id used as the name says so, and how to fix it', () => {
    expect(build({}, 'MyApp')).toThrow(/name \(defaulted from the construct id\) "MyApp" is invalid: .*Pass a valid `name` prop/);
    expect(build({ name: 'myapp' }, 'MyApp')).not.toThrow();
  });

  test.each([
    [0, /port 0 is invalid: a TCP port must be a whole number from 1 to 65535/],
    [65536, /port 65536 is invalid: a TCP port/],
    [80.5, /port 80.5 is invalid: a TCP port/],
  ])('port %p is rejected', (port, message) => {
    expect(build({ port })).toThrow(message);
  });

  test('invalid and duplicate ConfigMap and Secret names are rejected', () => {
    expect(build({ configMapNames: ['My_Config'] })).toThrow(/configMapNames "My_Config" is invalid: a ConfigMap name is a DNS-1123 subdomain/);
    expect(build({ configMapNames: ['a', 'a'] })).toThrow(/configMapNames "a" is invalid: each ConfigMap is listed once/);
    expect(build({ secretNames: ['db secret'] })).toThrow(/secretNames "db secret" is invalid: a Secret name is a DNS-1123 subdomain/);
    expect(build({ imagePullSecretName: 'Registry' })).toThrow(/imagePullSecretName "Registry" is invalid/);
  });

  test('durations below one second are rejected', () => {
    expect(build({ migrationTimeout: Duration.seconds(0) })).toThrow(/migrationTimeout "0s" is invalid: it must be a whole number of seconds, at least one/);
    expect(build({ ttlAfterFinished: Duration.millis(500) })).toThrow(/ttlAfterFinished "0.5s" is invalid/);
  });

  test.each([
    [{ podLabels: { team: 'Payments Team' } }, /podLabels\["team"\] "Payments Team" is invalid: a label value is at most 63/],
    [{ podLabels: { team: 'x'.repeat(64) } }, /podLabels\["team"\] "x{64}" is invalid/],
    [{ podLabels: { '-team': 'a' } }, /podLabels key "-team" is invalid: a key is an optional DNS-subdomain prefix/],
    [{ podLabels: { 'Example.com/team': 'a' } }, /podLabels key "Example.com\/team" is invalid/],
    [{ podAnnotations: { 'bad key': 'a' } }, /podAnnotations key "bad key" is invalid/],
    [{ partOf: 'my shop' }, /partOf\["app.kubernetes.io\/part-of"\] "my shop" is invalid/],
  ])('invalid pod labels, annotations and part-of are rejected (%#)', (props, message) => {
    expect(build(props)).toThrow(message);
  });

  test('qualified label keys and empty values are accepted', () => {
    expect(build({ podLabels: { 'example.com/team': '', 'azure.workload.identity/use': 'true' } })).not.toThrow();
  });

  test('errors name the construct path', () => {
    expect(build({ replicas: -1 })).toThrow(/^MigratedService "test\/myapp": replicas/);
  });
});
