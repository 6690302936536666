import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { join } from 'path';
import { ApiObject, Chart, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { migrationWaiterScript } from '../src/constructs/waiter-script';

/**
 * The inputs of one benchmarked service. Both the library and the hand-written baseline take
 * exactly these, so that they build the same manifests (test/bench-baseline.test.ts checks it).
 */
export interface BenchServiceSpec {
  /** Base name of every object; a DNS-1035 label of at most 42 characters, so that derived names keep it verbatim. */
  readonly name: string;
  /** Must already be a lowercase DNS label, so that the Job name is `<name>-migration-<tag>` verbatim. */
  readonly imageTag: string;
  readonly image: string;
  readonly migrationCommand: string[];
  readonly port?: number;
  readonly configMapNames?: string[];
  readonly secretNames?: string[];
  readonly partOf?: string;
}

// The values below are spelled out rather than imported from src/: the baseline is what a user
// would write without the library, so it must not reuse the library's code paths.
const RESTRICTED: kplus.ContainerSecurityContextProps = {
  ensureNonRoot: true,
  privileged: false,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: [kplus.Capability.ALL] },
  seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
};

// The library's waiter program, as a user without the library would ship it: once per namespace,
// in a ConfigMap that every container running it mounts and runs by path, with its hash in the pod
// template so that a new program rolls the pods.
const WAITER_PROGRAM = ['node', '/opt/migration-waiter/migration-waiter.js'];
const WAITER_PROGRAM_HASH = createHash('sha256').update(migrationWaiterScript()).digest('hex');
// What the library writes on the program's ConfigMap: its version, from its package.json.
const PACKAGE_VERSION: string = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version;
const WAITER_IMAGE = 'node:24.11.0-alpine3.22';
const WAITER_UID = 1000;
const SMALL: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(200) },
  memory: { request: Size.mebibytes(64), limit: Size.mebibytes(128) },
};

/**
 * The objects `new MigratedService(scope, id, spec)` emits with its defaults (Flux delivery, the
 * watch waiter with its ledger, no TTL, one-hour deadline, two replicas), written directly with
 * cdk8s-plus-28. Construct ids match the library's so that path-derived labels match too.
 */
export function handWrittenService(scope: Construct, id: string, spec: BenchServiceSpec): Construct {
  const root = new Construct(scope, id);
  const { name, imageTag } = spec;
  const namespace = Chart.of(root).namespace;
  const jobName = `${name}-migration-${imageTag}`;
  const readerName = `${name}-migration-reader`;
  const recorderName = `${name}-migration-recorder`;
  const queueName = `${name}-migration-queue`;
  const ledgerName = `${name}-migration-ledger`;

  const labels = (component: string): { [key: string]: string } => ({
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/version': imageTag,
    'app.kubernetes.io/component': component,
    ...(spec.partOf !== undefined ? { 'app.kubernetes.io/part-of': spec.partOf } : {}),
    'app.kubernetes.io/managed-by': 'cdk8s',
  });
  const serviceLabels = labels('service');
  const migrationLabels = labels('migration');
  const selectorLabels = {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/component': 'service',
  };
  const envFrom = (envScope: Construct) => [
    ...(spec.configMapNames ?? []).map((n, i) => kplus.Env.fromConfigMap(kplus.ConfigMap.fromConfigMapName(envScope, `EnvConfigMap${i}`, n))),
    ...(spec.secretNames ?? []).map((n, i) => kplus.Env.fromSecret(kplus.Secret.fromSecretName(envScope, `EnvSecret${i}`, n))),
  ];

  const migration = new Construct(root, 'Migration');
  const chart = Chart.of(root);
  // One program per chart, named after it (the bench's chart ids are DNS labels as they are).
  const programName = `${chart.node.id}-migration-waiter`;
  const program = (chart.node.tryFindChild('MigrationWaiterProgram') as ApiObject | undefined) ?? new ApiObject(chart, 'MigrationWaiterProgram', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: programName,
      labels: { 'app.kubernetes.io/name': 'migration-waiter', 'app.kubernetes.io/managed-by': 'cdk8s' },
      annotations: { 'cdk8s-migrated-service.dev/version': PACKAGE_VERSION, 'cdk8s-migrated-service.dev/program-sha256': WAITER_PROGRAM_HASH },
    },
    data: { 'migration-waiter.js': migrationWaiterScript() },
  });
  const programVolume = (volumeScope: Construct) =>
    kplus.Volume.fromConfigMap(volumeScope, 'WaiterProgram', kplus.ConfigMap.fromConfigMapName(volumeScope, 'WaiterProgramConfigMap', programName),
      { name: 'migration-waiter-program', defaultMode: 0o444 });
  const ledger = new Construct(migration, 'Ledger');
  const ledgerConfigMap = new ApiObject(ledger, 'ConfigMap', {
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ledgerName, labels: migrationLabels },
  });
  const recorderMetadata = { name: recorderName, labels: migrationLabels, annotations: {} };
  const recorderAccount = new kplus.ServiceAccount(ledger, 'ServiceAccount', { metadata: recorderMetadata, automountToken: false });
  const recorderRole = new kplus.Role(ledger, 'Role', { metadata: recorderMetadata });
  recorderRole.allow(['get', 'update'], kplus.ConfigMap.fromConfigMapName(ledger, 'Ledger', ledgerName));
  const recorderBinding = new kplus.RoleBinding(ledger, 'RoleBinding', { metadata: recorderMetadata, role: recorderRole });
  recorderBinding.addSubjects(recorderAccount);
  recorderBinding.node.addDependency(recorderAccount, recorderRole);

  const job = new kplus.Job(migration, 'Job', {
    metadata: { name: jobName, labels: migrationLabels, annotations: { 'kustomize.toolkit.fluxcd.io/force': 'Enabled', 'kustomize.toolkit.fluxcd.io/prune': 'disabled' } },
    podMetadata: { labels: { ...migrationLabels }, annotations: { 'kubectl.kubernetes.io/default-container': 'migrate' } },
    select: false,
    backoffLimit: 0,
    // An hour to wait for its turn, then the migration's hour.
    activeDeadline: Duration.hours(2),
    automountServiceAccountToken: false,
  });
  const migrate = job.addInitContainer({
    name: 'migrate',
    image: `${spec.image}:${imageTag}`,
    command: spec.migrationCommand,
    envFrom: envFrom(job),
    envVariables: {},
    securityContext: RESTRICTED,
    imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
  });
  migrate.mount('/tmp', kplus.Volume.fromEmptyDir(job, 'MigrationVolume0', 'tmp', { sizeLimit: Size.gibibytes(1) }));
  job.addContainer({
    name: 'record-success',
    image: WAITER_IMAGE,
    command: WAITER_PROGRAM,
    args: ['record'],
    envVariables: {
      MIGRATION_JOB: kplus.EnvValue.fromValue(jobName),
      MIGRATION_LEDGER: kplus.EnvValue.fromValue(ledgerName),
      MIGRATION_IMAGE: kplus.EnvValue.fromValue(`${spec.image}:${imageTag}`),
      LEDGER_WAIT_SECONDS: kplus.EnvValue.fromValue('120'),
      MIGRATION_WAITER_SHA256: kplus.EnvValue.fromValue(WAITER_PROGRAM_HASH),
    },
    resources: SMALL,
    securityContext: { ...RESTRICTED, user: WAITER_UID, group: WAITER_UID },
    imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
  });
  // Written in the L1 serializer's own shape (`downwardApi`), since patches apply before it.
  ApiObject.of(job).addJsonPatch(
    JsonPatch.add('/spec/podFailurePolicy', {
      rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }],
    }),
    JsonPatch.add('/spec/template/spec/serviceAccountName', recorderName),
    JsonPatch.add('/spec/template/spec/volumes/-', {
      name: 'recorder-token',
      projected: {
        sources: [
          { serviceAccountToken: { path: 'token', expirationSeconds: 3600 } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardApi: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ],
      },
    }),
    JsonPatch.add('/spec/template/spec/volumes/-', { name: 'migration-waiter-program', configMap: { name: programName, defaultMode: 0o444 } }),
    JsonPatch.add('/spec/template/spec/containers/0/volumeMounts', [
      { name: 'recorder-token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
      { name: 'migration-waiter-program', mountPath: '/opt/migration-waiter', readOnly: true },
    ]),
    // The queue: the first init container, with a token of its own.
    JsonPatch.add('/spec/template/spec/initContainers/0', {
      name: 'wait-for-turn',
      image: WAITER_IMAGE,
      command: WAITER_PROGRAM,
      args: ['queue'],
      env: [
        { name: 'MIGRATION_JOB', value: jobName },
        { name: 'MIGRATION_SELECTOR', value: `app.kubernetes.io/name=${name},app.kubernetes.io/managed-by=cdk8s,app.kubernetes.io/component in (migration,post-migration)` },
        { name: 'QUEUE_TIMEOUT_SECONDS', value: '3600' },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'MIGRATION_WAITER_SHA256', value: WAITER_PROGRAM_HASH },
      ],
      resources: { limits: { cpu: { value: '200m' }, memory: { value: '128Mi' } }, requests: { cpu: { value: '10m' }, memory: { value: '64Mi' } } },
      securityContext: {
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        runAsUser: WAITER_UID,
        runAsGroup: WAITER_UID,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      },
      imagePullPolicy: 'IfNotPresent',
      volumeMounts: [
        { name: 'queue-token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
        { name: 'migration-waiter-program', mountPath: '/opt/migration-waiter', readOnly: true },
      ],
    }),
    JsonPatch.add('/spec/template/spec/volumes/-', {
      name: 'queue-token',
      projected: {
        sources: [
          { serviceAccountToken: { path: 'token', expirationSeconds: 3600 } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardApi: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ],
      },
    }),
  );
  const queue = new Construct(migration, 'Queue');
  const queueMetadata = { name: queueName, labels: migrationLabels, annotations: {} };
  const queueRole = new kplus.Role(queue, 'Role', { metadata: queueMetadata });
  queueRole.allow(['list', 'watch'], kplus.ApiResource.JOBS, kplus.ApiResource.PODS);
  const queueBinding = new kplus.RoleBinding(queue, 'RoleBinding', { metadata: queueMetadata, role: queueRole });
  queueBinding.node.addDependency(queueRole);
  queueBinding.addSubjects(recorderAccount);
  job.node.addDependency(ledgerConfigMap, program, recorderAccount, recorderRole, recorderBinding, queueRole, queueBinding);

  const role = new kplus.Role(migration, 'Role', { metadata: { name: readerName, labels: migrationLabels } });
  role.allow(['list', 'watch'], job);
  role.allow(['get'], kplus.ConfigMap.fromConfigMapName(migration, 'LedgerName', ledgerName));
  const roleBinding = new kplus.RoleBinding(migration, 'RoleBinding', {
    metadata: { name: readerName, labels: migrationLabels },
    role,
  });
  // Without a namespace, the subject must not name one: fromServiceAccountName would write "default".
  roleBinding.addSubjects(namespace !== undefined
    ? kplus.ServiceAccount.fromServiceAccountName(migration, 'Subject', name, { namespaceName: namespace })
    : new SubjectInOwnNamespace(migration, 'Subject', name));
  roleBinding.node.addDependency(role);

  const serviceAccount = new kplus.ServiceAccount(root, 'ServiceAccount', {
    metadata: { name, labels: serviceLabels },
    automountToken: false,
  });
  const deployment = new kplus.Deployment(root, 'Deployment', {
    metadata: { name, labels: serviceLabels },
    podMetadata: {
      labels: { ...serviceLabels },
      annotations: { 'kubectl.kubernetes.io/default-container': 'service' },
    },
    select: false,
    replicas: 2,
    serviceAccount,
    automountServiceAccountToken: true,
    strategy: kplus.DeploymentStrategy.rollingUpdate({
      maxSurge: kplus.PercentOrAbsolute.percent(25),
      maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
    }),
    progressDeadline: Duration.minutes(130),
  });
  deployment.select(kplus.LabelSelector.of({ labels: selectorLabels }));
  const service = deployment.addContainer({
    name: 'service',
    image: `${spec.image}:${imageTag}`,
    portNumber: spec.port,
    envFrom: envFrom(root),
    securityContext: RESTRICTED,
    imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
  });
  service.mount('/tmp', kplus.Volume.fromEmptyDir(root, 'ServiceVolume0', 'tmp', { sizeLimit: Size.gibibytes(1) }));
  const waiter = deployment.addInitContainer({
    name: `wait-for-${name}-migration`,
    image: WAITER_IMAGE,
    command: WAITER_PROGRAM,
    args: ['job'],
    envVariables: {
      MIGRATION_JOB: kplus.EnvValue.fromValue(jobName),
      MIGRATION_LEDGER: kplus.EnvValue.fromValue(ledgerName),
      MIGRATION_WAITER_SHA256: kplus.EnvValue.fromValue(WAITER_PROGRAM_HASH),
    },
    resources: SMALL,
    securityContext: { ...RESTRICTED, user: WAITER_UID, group: WAITER_UID },
    imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
  });
  waiter.mount('/tmp', kplus.Volume.fromEmptyDir(root, 'WaiterTmp', `wait-for-${name}-migration-tmp`, { sizeLimit: Size.mebibytes(64) }));
  waiter.mount('/opt/migration-waiter', programVolume(root), { readOnly: true });
  deployment.node.addDependency(job, role, roleBinding, program, serviceAccount);

  if (spec.port !== undefined) {
    const svc = new kplus.Service(root, 'Service', {
      metadata: { name, labels: serviceLabels },
      ports: [{ port: spec.port, targetPort: spec.port }],
    });
    for (const [key, value] of Object.entries(selectorLabels)) {
      svc.selectLabel(key, value);
    }
    svc.node.addDependency(deployment);
  }
  return root;
}

/** A ServiceAccount subject that Kubernetes resolves in the binding's own namespace. */
class SubjectInOwnNamespace extends Construct implements kplus.ISubject {
  constructor(scope: Construct, id: string, private readonly accountName: string) {
    super(scope, id);
  }

  public toSubjectConfiguration(): kplus.SubjectConfiguration {
    return { kind: 'ServiceAccount', name: this.accountName, apiGroup: '' };
  }
}
