import { ApiObject, Chart, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';

/**
 * The inputs of one benchmarked service. Both the library and the hand-written baseline take
 * exactly these, so that they build the same manifests (test/bench-baseline.test.ts checks it).
 */
export interface BenchServiceSpec {
  /** Base name of every object; must be a DNS-1035 label of at most 42 characters. */
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

const WAITER_IMAGE = 'groundnuty/k8s-wait-for:no-root-v2.0';
const WAITER_UID = 1100;

/**
 * The objects `new MigratedService(scope, id, spec)` emits with its defaults (Flux delivery,
 * k8s-wait-for waiter, no TTL, one-hour deadline, two replicas), written directly with
 * cdk8s-plus-28. Construct ids match the library's so that path-derived labels match too.
 */
export function handWrittenService(scope: Construct, id: string, spec: BenchServiceSpec): Construct {
  const root = new Construct(scope, id);
  const { name, imageTag } = spec;
  const namespace = Chart.of(root).namespace;
  const jobName = `${name}-migration-${imageTag}`;
  const readerName = `${name}-migration-reader`;

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

  const envFrom = [
    ...(spec.configMapNames ?? []).map((n, i) => kplus.Env.fromConfigMap(kplus.ConfigMap.fromConfigMapName(root, `EnvConfigMap${i}`, n))),
    ...(spec.secretNames ?? []).map((n, i) => kplus.Env.fromSecret(kplus.Secret.fromSecretName(root, `EnvSecret${i}`, n))),
  ];

  const serviceAccount = new kplus.ServiceAccount(root, 'ServiceAccount', {
    metadata: { name, labels: serviceLabels },
    automountToken: false,
  });

  const job = new kplus.Job(root, 'Job', {
    metadata: { name: jobName, labels: migrationLabels, annotations: { 'kustomize.toolkit.fluxcd.io/force': 'Enabled' } },
    podMetadata: { labels: { ...migrationLabels } },
    select: false,
    backoffLimit: 0,
    activeDeadline: Duration.hours(1),
    automountServiceAccountToken: false,
  });
  const migrate = job.addContainer({
    name: 'migrate',
    image: `${spec.image}:${imageTag}`,
    command: spec.migrationCommand,
    envFrom,
    envVariables: {},
    securityContext: RESTRICTED,
    imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
  });
  migrate.mount('/tmp', kplus.Volume.fromEmptyDir(root, 'MigrationVolume0', 'tmp', { sizeLimit: Size.gibibytes(1) }));
  ApiObject.of(job).addJsonPatch(JsonPatch.add('/spec/podFailurePolicy', {
    rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }],
  }));

  const role = new kplus.Role(root, 'Role', { metadata: { name: readerName, labels: serviceLabels } });
  role.allow(['get'], job);
  const roleBinding = new kplus.RoleBinding(root, 'RoleBinding', {
    metadata: { name: readerName, labels: serviceLabels },
    role,
  });
  roleBinding.addSubjects(namespace !== undefined
    ? kplus.ServiceAccount.fromServiceAccountName(root, 'Subject', name, { namespaceName: namespace })
    : serviceAccount);
  roleBinding.node.addDependency(serviceAccount, role);

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
  });
  deployment.select(kplus.LabelSelector.of({ labels: selectorLabels }));

  const waiter = deployment.addInitContainer({
    name: 'wait-for-migration',
    image: WAITER_IMAGE,
    args: ['job-wr', jobName],
    envVariables: { HOME: kplus.EnvValue.fromValue('/tmp') },
    resources: {
      cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(200) },
      memory: { request: Size.mebibytes(32), limit: Size.mebibytes(128) },
    },
    securityContext: { ...RESTRICTED, user: WAITER_UID, group: WAITER_UID },
    imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
  });
  waiter.mount('/tmp', kplus.Volume.fromEmptyDir(root, 'WaiterTmp', 'wait-for-migration-tmp', { sizeLimit: Size.mebibytes(64) }));

  deployment.addContainer({
    name: 'service',
    image: `${spec.image}:${imageTag}`,
    portNumber: spec.port,
    envFrom,
    securityContext: RESTRICTED,
    imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
  });
  deployment.node.addDependency(serviceAccount, role, roleBinding, job);

  if (spec.port !== undefined) {
    const service = new kplus.Service(root, 'Service', {
      metadata: { name, labels: serviceLabels },
      ports: [{ port: spec.port, targetPort: spec.port }],
    });
    for (const [key, value] of Object.entries(selectorLabels)) {
      service.selectLabel(key, value);
    }
    service.node.addDependency(deployment);
  }
  return root;
}
