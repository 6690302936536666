/**
 * Reusable conformance checkers for synthesized manifests.
 *
 * Every checker takes the plain objects that `Testing.synth()` returns and gives back a list of
 * violation strings, each naming the object, the field, the value and the rule. Tests assert that
 * the list is empty, so a failure shows every violation at once instead of the first one.
 *
 * The rules are those the Kubernetes API server (v1.28, the cdk8s-plus-28 target) and the Pod
 * Security Admission "restricted" profile enforce; schema validation alone (kubernetes-models)
 * checks types and required fields, not names, labels or cross-field rules.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

/* eslint-disable @typescript-eslint/no-explicit-any */
// Manifests are untyped JSON straight out of `Testing.synth()`; the checkers must cope with any
// shape, including broken ones, so they read them as `any`.
export type Manifest = any;

// ---------------------------------------------------------------------------------------------
// Schema validation
// ---------------------------------------------------------------------------------------------

interface ModelClass {
  new (data: any): { validate(): void };
}

/**
 * The kubernetes-models class of each `apiVersion/kind` the construct may emit, plus the kinds the
 * security tests look for. A kind missing here is a violation, not a skip: an object that nobody
 * validated must not pass silently.
 */
export const SCHEMA_MODELS: { [apiVersionKind: string]: ModelClass } = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

/** A short, stable name for an object in violation messages. */
export function describeObject(obj: Manifest): string {
  const ns = obj?.metadata?.namespace ? `${obj.metadata.namespace}/` : '';
  return `${obj?.kind ?? '<no kind>'} ${ns}${obj?.metadata?.name ?? '<no name>'}`;
}

/**
 * Validates every object against the Kubernetes OpenAPI schema of its kind (kubernetes-models,
 * Kubernetes 1.33 schemas). Fails on an unknown `apiVersion/kind`.
 *
 * Note: the generated validators do not reject unknown fields (no `additionalProperties: false`).
 */
export function validateSchemas(manifests: Manifest[]): string[] {
  const violations: string[] = [];
  for (const obj of manifests) {
    const key = `${obj?.apiVersion}/${obj?.kind}`;
    const model = SCHEMA_MODELS[key];
    if (model === undefined) {
      violations.push(`${describeObject(obj)}: no schema for "${key}"; add its kubernetes-models class to SCHEMA_MODELS`);
      continue;
    }
    try {
      new model(obj).validate();
    } catch (e: any) {
      const errors: any[] = Array.isArray(e?.errors) ? e.errors : [];
      if (errors.length === 0) {
        violations.push(`${describeObject(obj)}: schema: ${e?.message ?? String(e)}`);
      }
      for (const err of errors) {
        violations.push(`${describeObject(obj)}: schema: ${err.instancePath || '/'} ${err.message} ${JSON.stringify(err.params)}`);
      }
    }
  }
  return violations;
}

// ---------------------------------------------------------------------------------------------
// Names, labels and annotations (k8s.io/apimachinery/pkg/util/validation)
// ---------------------------------------------------------------------------------------------

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/;
// Kubernetes 1.28 accepts environment variable names matching this (relaxed further only in 1.30+).
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
/** TotalAnnotationSizeLimitB in apimachinery: the sum of the lengths of keys and values. */
const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export function isDns1123Label(value: unknown): boolean {
  return typeof value === 'string' && value.length <= 63 && DNS1123_LABEL.test(value);
}

export function isDns1035Label(value: unknown): boolean {
  return typeof value === 'string' && value.length <= 63 && DNS1035_LABEL.test(value);
}

export function isDns1123Subdomain(value: unknown): boolean {
  return typeof value === 'string' && value.length >= 1 && value.length <= 253
    && value.split('.').every((part) => DNS1123_LABEL.test(part));
}

/** A qualified name: the syntax of label and annotation keys. Returns what is wrong, or undefined. */
export function qualifiedNameProblem(key: unknown): string | undefined {
  if (typeof key !== 'string' || key.length === 0) {
    return 'a key must be a non-empty string';
  }
  const parts = key.split('/');
  if (parts.length > 2) {
    return 'a key has at most one "/"';
  }
  const name = parts[parts.length - 1];
  if (parts.length === 2) {
    const prefix = parts[0];
    if (!isDns1123Subdomain(prefix)) {
      return `the prefix "${prefix}" must be a DNS-1123 subdomain of at most 253 characters`;
    }
  }
  if (name.length === 0 || name.length > 63) {
    return `the name part "${name}" must be 1 to 63 characters`;
  }
  if (!QUALIFIED_NAME_PART.test(name)) {
    return `the name part "${name}" must be alphanumeric at both ends with only "-", "_" and "." inside`;
  }
  return undefined;
}

/** A label value: empty, or at most 63 characters of the qualified-name charset. */
export function labelValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') {
    return 'a label value must be a string';
  }
  if (value.length > 63) {
    return `a label value is at most 63 characters (it has ${value.length})`;
  }
  if (value !== '' && !QUALIFIED_NAME_PART.test(value)) {
    return 'a label value is empty or alphanumeric at both ends with only "-", "_" and "." inside';
  }
  return undefined;
}

/** Kinds whose names the API server requires to be DNS-1123 labels, not only subdomains. */
const DNS_LABEL_NAMED_KINDS = new Set(['Namespace', 'Job', 'Deployment']);

/**
 * Object names: a DNS-1123 subdomain for every kind; a DNS-1035 label for Services (the API server's
 * ValidateServiceName); a DNS-1123 label for Namespaces and for Jobs (whose name becomes the value
 * of the `job-name` and `batch.kubernetes.io/job-name` pod labels, so 63 characters is the real
 * limit) and Deployments (whose names prefix ReplicaSet and pod names; see the field notes).
 */
export function checkNames(manifests: Manifest[]): string[] {
  const violations: string[] = [];
  const seen = new Set<string>();
  for (const obj of manifests) {
    const where = describeObject(obj);
    const name = obj?.metadata?.name;
    if (!isDns1123Subdomain(name)) {
      violations.push(`${where}: metadata.name ${JSON.stringify(name)} is not a DNS-1123 subdomain (lowercase [a-z0-9-.], alphanumeric at both ends, <= 253)`);
    }
    if (obj?.kind === 'Service' && !isDns1035Label(name)) {
      violations.push(`${where}: metadata.name ${JSON.stringify(name)} of a Service must be a DNS-1035 label (start with a letter, [a-z0-9-], <= 63)`);
    }
    if (DNS_LABEL_NAMED_KINDS.has(obj?.kind) && !isDns1123Label(name)) {
      violations.push(`${where}: metadata.name ${JSON.stringify(name)} of a ${obj.kind} must be a DNS-1123 label ([a-z0-9-], no dots, <= 63)`);
    }
    const ns = obj?.metadata?.namespace;
    if (ns !== undefined && !isDns1123Label(ns)) {
      violations.push(`${where}: metadata.namespace ${JSON.stringify(ns)} must be a DNS-1123 label`);
    }
    // Two objects of one kind with one name in one namespace: the second overwrites the first.
    const identity = `${obj?.apiVersion}/${obj?.kind}/${ns ?? ''}/${name}`;
    if (seen.has(identity)) {
      violations.push(`${where}: emitted twice (same apiVersion, kind, namespace and name)`);
    }
    seen.add(identity);
  }
  return violations;
}

function checkLabelMap(where: string, labels: unknown): string[] {
  if (labels === undefined) {
    return [];
  }
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
    return [`${where}: must be a map of strings`];
  }
  const violations: string[] = [];
  for (const [key, value] of Object.entries(labels)) {
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem !== undefined) {
      violations.push(`${where}: label key ${JSON.stringify(key)}: ${keyProblem}`);
    }
    const valueProblem = labelValueProblem(value);
    if (valueProblem !== undefined) {
      violations.push(`${where}: label ${key}=${JSON.stringify(value)}: ${valueProblem}`);
    }
  }
  return violations;
}

function checkAnnotationMap(where: string, annotations: unknown): string[] {
  if (annotations === undefined) {
    return [];
  }
  if (annotations === null || typeof annotations !== 'object' || Array.isArray(annotations)) {
    return [`${where}: must be a map of strings`];
  }
  const violations: string[] = [];
  let size = 0;
  for (const [key, value] of Object.entries(annotations)) {
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem !== undefined) {
      violations.push(`${where}: annotation key ${JSON.stringify(key)}: ${keyProblem}`);
    }
    if (typeof value !== 'string') {
      violations.push(`${where}: annotation ${key} must be a string, got ${JSON.stringify(value)}`);
    }
    size += key.length + String(value).length;
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) {
    violations.push(`${where}: annotations total ${size} bytes, more than ${TOTAL_ANNOTATION_SIZE_LIMIT}`);
  }
  return violations;
}

/** Pod templates of the workloads in `manifests`, with a readable location. */
export function podTemplates(manifests: Manifest[]): { where: string; owner: Manifest; template: Manifest }[] {
  return manifests
    .filter((obj) => ['Deployment', 'Job', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(obj?.kind))
    .map((obj) => ({ where: `${describeObject(obj)} spec.template`, owner: obj, template: obj?.spec?.template ?? {} }));
}

/**
 * Label keys and values and annotation keys of every object, of every pod template, and of the
 * selectors (a selector's labels follow the same rules).
 */
export function checkLabelsAndAnnotations(manifests: Manifest[]): string[] {
  const violations: string[] = [];
  for (const obj of manifests) {
    const where = describeObject(obj);
    violations.push(...checkLabelMap(`${where} metadata.labels`, obj?.metadata?.labels));
    violations.push(...checkAnnotationMap(`${where} metadata.annotations`, obj?.metadata?.annotations));
    violations.push(...checkLabelMap(`${where} spec.selector.matchLabels`, obj?.spec?.selector?.matchLabels));
    if (obj?.kind === 'Service') {
      violations.push(...checkLabelMap(`${where} spec.selector`, obj?.spec?.selector));
    }
  }
  for (const { where, template } of podTemplates(manifests)) {
    violations.push(...checkLabelMap(`${where}.metadata.labels`, template?.metadata?.labels));
    violations.push(...checkAnnotationMap(`${where}.metadata.annotations`, template?.metadata?.annotations));
  }
  return violations;
}

// ---------------------------------------------------------------------------------------------
// Pod specs (k8s.io/kubernetes/pkg/apis/core/validation)
// ---------------------------------------------------------------------------------------------

function allContainers(spec: Manifest): { kind: string; container: Manifest }[] {
  return [
    ...(spec?.initContainers ?? []).map((container: Manifest) => ({ kind: 'initContainers', container })),
    ...(spec?.containers ?? []).map((container: Manifest) => ({ kind: 'containers', container })),
    ...(spec?.ephemeralContainers ?? []).map((container: Manifest) => ({ kind: 'ephemeralContainers', container })),
  ];
}

const QUANTITY_SUFFIXES: { [suffix: string]: number } = {
  '': 1,
  'n': 1e-9,
  'u': 1e-6,
  'm': 1e-3,
  'k': 1e3,
  'M': 1e6,
  'G': 1e9,
  'T': 1e12,
  'P': 1e15,
  'E': 1e18,
  'Ki': 2 ** 10,
  'Mi': 2 ** 20,
  'Gi': 2 ** 30,
  'Ti': 2 ** 40,
  'Pi': 2 ** 50,
  'Ei': 2 ** 60,
};

/** Parses a Kubernetes quantity ("500m", "1.5", "2Gi", "1e3"); undefined when it is not one. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return value;
  }
  if (typeof value !== 'string') {
    return undefined;
  }
  const match = /^([+-]?[0-9.]+)([eE][+-]?[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?$/.exec(value);
  if (!match || !/^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(match[1])) {
    return undefined;
  }
  return parseFloat(match[1] + (match[2] ?? '')) * QUANTITY_SUFFIXES[match[3] ?? ''];
}

/** The rules the API server applies to a pod spec, whatever its owner. */
export function checkPodSpec(where: string, spec: Manifest): string[] {
  const violations: string[] = [];
  const containers = allContainers(spec);
  if ((spec?.containers ?? []).length === 0) {
    violations.push(`${where}.spec.containers: a pod needs at least one container`);
  }

  // Volumes: DNS-label names, unique.
  const volumeNames = new Set<string>();
  for (const [i, volume] of (spec?.volumes ?? []).entries()) {
    if (!isDns1123Label(volume?.name)) {
      violations.push(`${where}.spec.volumes[${i}].name ${JSON.stringify(volume?.name)} must be a DNS-1123 label`);
    }
    if (volumeNames.has(volume?.name)) {
      violations.push(`${where}.spec.volumes[${i}].name ${JSON.stringify(volume?.name)} must be unique within the pod`);
    }
    volumeNames.add(volume?.name);
  }

  for (const [i, secret] of (spec?.imagePullSecrets ?? []).entries()) {
    if (!isDns1123Subdomain(secret?.name)) {
      violations.push(`${where}.spec.imagePullSecrets[${i}].name ${JSON.stringify(secret?.name)} must be a DNS-1123 subdomain`);
    }
  }
  if (spec?.serviceAccountName !== undefined && !isDns1123Subdomain(spec.serviceAccountName)) {
    violations.push(`${where}.spec.serviceAccountName ${JSON.stringify(spec.serviceAccountName)} must be a DNS-1123 subdomain`);
  }

  // Container names: DNS labels, unique across containers, init containers and ephemeral containers.
  const containerNames = new Set<string>();
  for (const { kind, container } of containers) {
    const cwhere = `${where}.spec.${kind}[${container?.name}]`;
    if (!isDns1123Label(container?.name)) {
      violations.push(`${cwhere}: name ${JSON.stringify(container?.name)} must be a DNS-1123 label`);
    }
    if (containerNames.has(container?.name)) {
      violations.push(`${cwhere}: name ${JSON.stringify(container?.name)} must be unique within the pod (containers and init containers)`);
    }
    containerNames.add(container?.name);
    if (typeof container?.image !== 'string' || container.image.trim() !== container.image || container.image === '') {
      violations.push(`${cwhere}: image ${JSON.stringify(container?.image)} must be a non-empty string without surrounding spaces`);
    }

    // Mounts refer to volumes of the pod, and no two mounts of a container share a path.
    const mountPaths = new Set<string>();
    for (const mount of container?.volumeMounts ?? []) {
      if (!volumeNames.has(mount?.name)) {
        violations.push(`${cwhere}: volumeMount ${JSON.stringify(mount?.name)} refers to no volume of the pod`);
      }
      if (mountPaths.has(mount?.mountPath)) {
        violations.push(`${cwhere}: volumeMount mountPath ${JSON.stringify(mount?.mountPath)} must be unique within the container`);
      }
      mountPaths.add(mount?.mountPath);
    }

    // Environment: valid names, one source per variable, referenced objects named validly.
    for (const env of container?.env ?? []) {
      if (typeof env?.name !== 'string' || !ENV_VAR_NAME.test(env.name)) {
        violations.push(`${cwhere}: env name ${JSON.stringify(env?.name)} must match ${ENV_VAR_NAME}`);
      }
      if (env?.value !== undefined && env?.valueFrom !== undefined) {
        violations.push(`${cwhere}: env ${env.name} sets both value and valueFrom`);
      }
      if (env?.valueFrom !== undefined && Object.keys(env.valueFrom).length !== 1) {
        violations.push(`${cwhere}: env ${env.name} valueFrom must have exactly one source, got ${Object.keys(env.valueFrom).join(', ')}`);
      }
      const ref = env?.valueFrom?.secretKeyRef ?? env?.valueFrom?.configMapKeyRef;
      if (ref !== undefined && (!isDns1123Subdomain(ref.name) || typeof ref.key !== 'string' || ref.key === '')) {
        violations.push(`${cwhere}: env ${env.name} refers to ${JSON.stringify(ref)}; it needs a DNS-1123 subdomain name and a key`);
      }
    }
    for (const source of container?.envFrom ?? []) {
      const ref = source?.secretRef ?? source?.configMapRef;
      if (ref === undefined || Object.keys(source).filter((k) => k !== 'prefix').length !== 1) {
        violations.push(`${cwhere}: envFrom ${JSON.stringify(source)} must have exactly one of secretRef and configMapRef`);
      } else if (!isDns1123Subdomain(ref.name)) {
        violations.push(`${cwhere}: envFrom refers to ${JSON.stringify(ref.name)}, not a DNS-1123 subdomain`);
      }
    }

    // Ports: in range, names are IANA service names, no duplicate port/protocol.
    const ports = new Set<string>();
    for (const port of container?.ports ?? []) {
      if (!Number.isInteger(port?.containerPort) || port.containerPort < 1 || port.containerPort > 65535) {
        violations.push(`${cwhere}: containerPort ${JSON.stringify(port?.containerPort)} must be 1-65535`);
      }
      if (port?.name !== undefined && (port.name.length > 15 || !IANA_SVC_NAME.test(port.name))) {
        violations.push(`${cwhere}: port name ${JSON.stringify(port.name)} must be an IANA service name (<= 15, [a-z0-9-], a letter)`);
      }
      const identity = `${port?.containerPort}/${port?.protocol ?? 'TCP'}`;
      if (ports.has(identity)) {
        violations.push(`${cwhere}: port ${identity} is declared twice`);
      }
      ports.add(identity);
    }

    // Resources: quantities, and a request never above its limit.
    const requests = container?.resources?.requests ?? {};
    const limits = container?.resources?.limits ?? {};
    for (const [section, values] of [['requests', requests], ['limits', limits]] as const) {
      for (const [resource, quantity] of Object.entries(values)) {
        const parsed = parseQuantity(quantity);
        if (parsed === undefined || parsed < 0) {
          violations.push(`${cwhere}: resources.${section}.${resource} ${JSON.stringify(quantity)} is not a non-negative quantity`);
        }
      }
    }
    for (const [resource, request] of Object.entries(requests)) {
      const req = parseQuantity(request);
      const lim = parseQuantity(limits[resource]);
      if (req !== undefined && lim !== undefined && req > lim) {
        violations.push(`${cwhere}: resources.requests.${resource} ${request} must be <= limits.${resource} ${limits[resource]}`);
      }
    }
  }
  return violations;
}

/** Does a label selector (matchLabels and matchExpressions) select `labels`? */
export function selectorMatches(selector: Manifest, labels: { [key: string]: string }): boolean {
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) {
    if (labels[key] !== value) {
      return false;
    }
  }
  for (const expr of selector?.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, expr.key);
    const values: string[] = expr.values ?? [];
    switch (expr.operator) {
      case 'In': if (!has || !values.includes(labels[expr.key])) return false; break;
      case 'NotIn': if (has && values.includes(labels[expr.key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}

/**
 * Workload rules: pod specs; Job restartPolicy (Never or OnFailure, Never with a podFailurePolicy)
 * and the selector the API server generates; Deployment selector non-empty and matching the pod
 * template labels, restartPolicy Always; Service selector selecting a Deployment's pods and valid
 * ports; RBAC references well-formed.
 */
export function checkWorkloads(manifests: Manifest[]): string[] {
  const violations: string[] = [];
  for (const { where, owner, template } of podTemplates(manifests)) {
    violations.push(...checkPodSpec(where, template?.spec));
    const restartPolicy = template?.spec?.restartPolicy;
    if (owner.kind === 'Job') {
      if (restartPolicy !== 'Never' && restartPolicy !== 'OnFailure') {
        violations.push(`${where}.spec.restartPolicy ${JSON.stringify(restartPolicy)}: a Job's pods must use Never or OnFailure`);
      }
      if (owner.spec?.podFailurePolicy !== undefined && restartPolicy !== 'Never') {
        violations.push(`${where}.spec.restartPolicy ${JSON.stringify(restartPolicy)}: a Job with a podFailurePolicy requires Never`);
      }
      if (owner.spec?.selector !== undefined && owner.spec?.manualSelector !== true) {
        violations.push(`${describeObject(owner)}: spec.selector is set without manualSelector: true; the API server generates it`);
      }
      if (owner.spec?.selector !== undefined && !selectorMatches(owner.spec.selector, template?.metadata?.labels ?? {})) {
        violations.push(`${describeObject(owner)}: spec.selector does not match the pod template labels`);
      }
    }
    if (owner.kind === 'Deployment') {
      const selector = owner.spec?.selector;
      const labels = template?.metadata?.labels ?? {};
      if (selector === undefined || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)) {
        violations.push(`${describeObject(owner)}: spec.selector must be non-empty`);
      } else if (!selectorMatches(selector, labels)) {
        violations.push(`${describeObject(owner)}: spec.selector ${JSON.stringify(selector)} does not match template labels ${JSON.stringify(labels)}`);
      }
      if (restartPolicy !== undefined && restartPolicy !== 'Always') {
        violations.push(`${where}.spec.restartPolicy ${JSON.stringify(restartPolicy)}: a Deployment's pods must use Always`);
      }
    }
  }

  for (const service of manifests.filter((obj) => obj?.kind === 'Service')) {
    const where = describeObject(service);
    const selector = service.spec?.selector;
    const type = service.spec?.type ?? 'ClusterIP';
    if (type !== 'ExternalName') {
      if (selector === undefined || Object.keys(selector).length === 0) {
        violations.push(`${where}: spec.selector is empty, so the Service selects no pods (or every pod)`);
      } else {
        const selected = podTemplates(manifests).filter(({ owner, template }) => owner.kind === 'Deployment'
          && (owner.metadata?.namespace ?? '') === (service.metadata?.namespace ?? '')
          && selectorMatches({ matchLabels: selector }, template?.metadata?.labels ?? {}));
        if (selected.length === 0) {
          violations.push(`${where}: spec.selector ${JSON.stringify(selector)} matches the pods of no Deployment in the same namespace`);
        }
      }
    }
    const ports: Manifest[] = service.spec?.ports ?? [];
    for (const [i, port] of ports.entries()) {
      if (!Number.isInteger(port?.port) || port.port < 1 || port.port > 65535) {
        violations.push(`${where}: spec.ports[${i}].port ${JSON.stringify(port?.port)} must be 1-65535`);
      }
      const target = port?.targetPort;
      if (typeof target === 'number' && (!Number.isInteger(target) || target < 1 || target > 65535)) {
        violations.push(`${where}: spec.ports[${i}].targetPort ${target} must be 1-65535`);
      }
      if (typeof target === 'string' && (target.length > 15 || !IANA_SVC_NAME.test(target))) {
        violations.push(`${where}: spec.ports[${i}].targetPort ${JSON.stringify(target)} must be an IANA service name`);
      }
      if (ports.length > 1 && !port?.name) {
        violations.push(`${where}: spec.ports[${i}] needs a name when a Service has several ports`);
      }
    }
  }

  for (const binding of manifests.filter((obj) => obj?.kind === 'RoleBinding' || obj?.kind === 'ClusterRoleBinding')) {
    const where = describeObject(binding);
    const roleRef = binding.roleRef;
    if (roleRef?.apiGroup !== 'rbac.authorization.k8s.io' || !['Role', 'ClusterRole'].includes(roleRef?.kind)) {
      violations.push(`${where}: roleRef ${JSON.stringify(roleRef)} must be a Role or ClusterRole of rbac.authorization.k8s.io`);
    }
    for (const subject of binding.subjects ?? []) {
      if (subject?.kind === 'ServiceAccount') {
        if ((subject.apiGroup ?? '') !== '') {
          violations.push(`${where}: ServiceAccount subject apiGroup must be "", got ${JSON.stringify(subject.apiGroup)}`);
        }
        if (!isDns1123Subdomain(subject.name)) {
          violations.push(`${where}: ServiceAccount subject name ${JSON.stringify(subject.name)} must be a DNS-1123 subdomain`);
        }
        if (binding.kind === 'ClusterRoleBinding' && !subject.namespace) {
          violations.push(`${where}: a ServiceAccount subject of a ClusterRoleBinding needs a namespace`);
        }
      }
    }
  }
  return violations;
}

/** Every API-server rule above: names, labels and annotations, workloads. */
export function checkApiServerRules(manifests: Manifest[]): string[] {
  return [...checkNames(manifests), ...checkLabelsAndAnnotations(manifests), ...checkWorkloads(manifests)];
}

// ---------------------------------------------------------------------------------------------
// Pod Security Standards, "restricted" profile (which includes "baseline"), as Pod Security
// Admission v1.28 evaluates it: k8s.io/pod-security-admission/policy.
// ---------------------------------------------------------------------------------------------

export interface PodSecurityRule {
  /** The check's id in pod-security-admission, e.g. `runAsNonRoot`. */
  readonly id: string;
  /** `baseline` or `restricted`: restricted includes every baseline rule. */
  readonly level: 'baseline' | 'restricted';
  readonly description: string;
  check(where: string, template: Manifest): string[];
}

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE',
  'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);
const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret',
]);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

function eachContainer(where: string, template: Manifest, fn: (cwhere: string, container: Manifest) => string[]): string[] {
  return allContainers(template?.spec).flatMap(({ kind, container }) => fn(`${where}.spec.${kind}[${container?.name}]`, container));
}

export const PSS_RESTRICTED_RULES: PodSecurityRule[] = [
  {
    id: 'hostProcess',
    level: 'baseline',
    description: 'no Windows HostProcess containers',
    check: (where, t) => [
      ...(t?.spec?.securityContext?.windowsOptions?.hostProcess === true ? [`${where}.spec.securityContext.windowsOptions.hostProcess is true`] : []),
      ...eachContainer(where, t, (cw, c) => (c?.securityContext?.windowsOptions?.hostProcess === true
        ? [`${cw}.securityContext.windowsOptions.hostProcess is true`] : [])),
    ],
  },
  {
    id: 'hostNamespaces',
    level: 'baseline',
    description: 'hostNetwork, hostPID and hostIPC are not true',
    check: (where, t) => ['hostNetwork', 'hostPID', 'hostIPC']
      .filter((field) => t?.spec?.[field] === true)
      .map((field) => `${where}.spec.${field} is true`),
  },
  {
    id: 'privileged',
    level: 'baseline',
    description: 'no privileged container',
    check: (where, t) => eachContainer(where, t, (cw, c) => (c?.securityContext?.privileged === true
      ? [`${cw}.securityContext.privileged is true`] : [])),
  },
  {
    id: 'capabilities_baseline',
    level: 'baseline',
    description: 'added capabilities are within the baseline set',
    check: (where, t) => eachContainer(where, t, (cw, c) => (c?.securityContext?.capabilities?.add ?? [])
      .filter((cap: string) => !BASELINE_CAPABILITIES.has(cap))
      .map((cap: string) => `${cw}.securityContext.capabilities.add contains ${cap}, outside the baseline set`)),
  },
  {
    id: 'hostPathVolumes',
    level: 'baseline',
    description: 'no hostPath volumes',
    check: (where, t) => (t?.spec?.volumes ?? [])
      .filter((v: Manifest) => v?.hostPath !== undefined)
      .map((v: Manifest) => `${where}.spec.volumes[${v?.name}] is a hostPath volume`),
  },
  {
    id: 'hostPorts',
    level: 'baseline',
    description: 'no hostPort',
    check: (where, t) => eachContainer(where, t, (cw, c) => (c?.ports ?? [])
      .filter((p: Manifest) => p?.hostPort !== undefined && p.hostPort !== 0)
      .map((p: Manifest) => `${cw}.ports hostPort ${p.hostPort}`)),
  },
  {
    id: 'appArmorProfile',
    level: 'baseline',
    description: 'AppArmor is not disabled (annotations and fields)',
    check: (where, t) => [
      ...Object.entries(t?.metadata?.annotations ?? {})
        .filter(([k, v]) => k.startsWith('container.apparmor.security.beta.kubernetes.io/')
          && !(v === 'runtime/default' || String(v).startsWith('localhost/')))
        .map(([k, v]) => `${where}.metadata.annotations ${k}=${v}: only runtime/default or localhost/* are allowed`),
      ...(t?.spec?.securityContext?.appArmorProfile?.type === 'Unconfined' ? [`${where}.spec.securityContext.appArmorProfile is Unconfined`] : []),
      ...eachContainer(where, t, (cw, c) => (c?.securityContext?.appArmorProfile?.type === 'Unconfined'
        ? [`${cw}.securityContext.appArmorProfile is Unconfined`] : [])),
    ],
  },
  {
    id: 'seLinuxOptions',
    level: 'baseline',
    description: 'SELinux type restricted, user and role unset',
    check: (where, t) => {
      const bad = (w: string, opts: Manifest): string[] => (opts === undefined ? [] : [
        ...(!SELINUX_TYPES.has(opts.type ?? '') ? [`${w}.seLinuxOptions.type ${opts.type} is not allowed`] : []),
        ...(opts.user ? [`${w}.seLinuxOptions.user must be unset`] : []),
        ...(opts.role ? [`${w}.seLinuxOptions.role must be unset`] : []),
      ]);
      return [
        ...bad(`${where}.spec.securityContext`, t?.spec?.securityContext?.seLinuxOptions),
        ...eachContainer(where, t, (cw, c) => bad(`${cw}.securityContext`, c?.securityContext?.seLinuxOptions)),
      ];
    },
  },
  {
    id: 'procMount',
    level: 'baseline',
    description: 'procMount is Default',
    check: (where, t) => eachContainer(where, t, (cw, c) => (c?.securityContext?.procMount !== undefined && c.securityContext.procMount !== 'Default'
      ? [`${cw}.securityContext.procMount is ${c.securityContext.procMount}`] : [])),
  },
  {
    id: 'sysctls',
    level: 'baseline',
    description: 'only safe sysctls',
    check: (where, t) => (t?.spec?.securityContext?.sysctls ?? [])
      .filter((s: Manifest) => !SAFE_SYSCTLS.has(s?.name))
      .map((s: Manifest) => `${where}.spec.securityContext.sysctls ${s?.name} is not a safe sysctl`),
  },
  {
    id: 'restrictedVolumes',
    level: 'restricted',
    description: 'only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes',
    check: (where, t) => (t?.spec?.volumes ?? []).flatMap((v: Manifest) => {
      const types = Object.keys(v ?? {}).filter((k) => k !== 'name');
      return types.length === 1 && RESTRICTED_VOLUME_TYPES.has(types[0])
        ? [] : [`${where}.spec.volumes[${v?.name}] has type ${types.join(', ') || '<none>'}, not allowed by restricted`];
    }),
  },
  {
    id: 'allowPrivilegeEscalation',
    level: 'restricted',
    description: 'allowPrivilegeEscalation is false on every container',
    check: (where, t) => eachContainer(where, t, (cw, c) => (c?.securityContext?.allowPrivilegeEscalation !== false
      ? [`${cw}.securityContext.allowPrivilegeEscalation is ${JSON.stringify(c?.securityContext?.allowPrivilegeEscalation)}, must be false`] : [])),
  },
  {
    id: 'runAsNonRoot',
    level: 'restricted',
    description: 'runAsNonRoot is true at pod level or on every container, and false nowhere',
    check: (where, t) => {
      const pod = t?.spec?.securityContext?.runAsNonRoot;
      return [
        ...(pod === false ? [`${where}.spec.securityContext.runAsNonRoot is false`] : []),
        ...eachContainer(where, t, (cw, c) => {
          const own = c?.securityContext?.runAsNonRoot;
          if (own === false) {
            return [`${cw}.securityContext.runAsNonRoot is false`];
          }
          return own === true || pod === true ? [] : [`${cw}: runAsNonRoot is true neither on the container nor on the pod`];
        }),
      ];
    },
  },
  {
    id: 'runAsUser',
    level: 'restricted',
    description: 'runAsUser is not 0, at pod or container level',
    check: (where, t) => [
      ...(t?.spec?.securityContext?.runAsUser === 0 ? [`${where}.spec.securityContext.runAsUser is 0`] : []),
      ...eachContainer(where, t, (cw, c) => (c?.securityContext?.runAsUser === 0 ? [`${cw}.securityContext.runAsUser is 0`] : [])),
    ],
  },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    description: 'seccompProfile is RuntimeDefault or Localhost at pod level or on every container, Unconfined nowhere',
    check: (where, t) => {
      const allowed = (type: unknown): boolean => type === 'RuntimeDefault' || type === 'Localhost';
      const pod = t?.spec?.securityContext?.seccompProfile?.type;
      return [
        ...(pod !== undefined && !allowed(pod) ? [`${where}.spec.securityContext.seccompProfile.type is ${pod}`] : []),
        ...eachContainer(where, t, (cw, c) => {
          const own = c?.securityContext?.seccompProfile?.type;
          if (own !== undefined) {
            return allowed(own) ? [] : [`${cw}.securityContext.seccompProfile.type is ${own}`];
          }
          return allowed(pod) ? [] : [`${cw}: seccompProfile is RuntimeDefault or Localhost neither on the container nor on the pod`];
        }),
      ];
    },
  },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    description: 'capabilities drop ALL and add at most NET_BIND_SERVICE',
    check: (where, t) => eachContainer(where, t, (cw, c) => {
      const caps = c?.securityContext?.capabilities ?? {};
      return [
        ...((caps.drop ?? []).includes('ALL') ? [] : [`${cw}.securityContext.capabilities.drop is ${JSON.stringify(caps.drop)}, must include ALL`]),
        ...(caps.add ?? []).filter((cap: string) => cap !== 'NET_BIND_SERVICE')
          .map((cap: string) => `${cw}.securityContext.capabilities.add contains ${cap}; only NET_BIND_SERVICE is allowed`),
      ];
    }),
  },
];

/** Every rule of the restricted profile on every pod template; violations are prefixed with the rule id. */
export function checkPodSecurityRestricted(manifests: Manifest[], rules: PodSecurityRule[] = PSS_RESTRICTED_RULES): string[] {
  return podTemplates(manifests).flatMap(({ where, template }) =>
    rules.flatMap((rule) => rule.check(where, template).map((v) => `[PSS ${rule.level}/${rule.id}] ${v}`)));
}

/** Schema, API-server rules and the restricted profile together. */
export function checkAll(manifests: Manifest[]): string[] {
  return [...validateSchemas(manifests), ...checkApiServerRules(manifests), ...checkPodSecurityRestricted(manifests)];
}

// ---------------------------------------------------------------------------------------------
// RBAC evaluation, as the API server's RBAC authorizer matches a request against a rule.
// ---------------------------------------------------------------------------------------------

export interface ResourceRequest {
  readonly verb: string;
  readonly apiGroup: string;
  /** `jobs`, or `jobs/status` for a subresource. */
  readonly resource: string;
  /** Empty for a collection request (list, watch, create, deletecollection without a name). */
  readonly name: string;
}

/**
 * Whether a PolicyRule allows a resource request (rbac/v1 helpers: VerbMatches, APIGroupMatches,
 * ResourceMatches, ResourceNameMatches). `resourceNames` only matches a named request; a list or
 * watch is named when it selects `metadata.name`, which `kubectl wait` does.
 */
export function ruleAllows(rule: Manifest, request: ResourceRequest): boolean {
  const verbs: string[] = rule?.verbs ?? [];
  const groups: string[] = rule?.apiGroups ?? [];
  const resources: string[] = rule?.resources ?? [];
  const names: string[] = rule?.resourceNames ?? [];
  const sub = request.resource.split('/')[1];
  // `jobs` does not match `jobs/status`; `*/status` matches every status subresource.
  const resourceMatches = resources.some((r) => r === '*' || r === request.resource || (sub !== undefined && r === `*/${sub}`));
  return (verbs.includes('*') || verbs.includes(request.verb))
    && (groups.includes('*') || groups.includes(request.apiGroup))
    && resourceMatches
    && (names.length === 0 || (request.name !== '' && names.includes(request.name)));
}

/** Whether any rule of a Role or ClusterRole allows the request. */
export function roleAllows(role: Manifest, request: ResourceRequest): boolean {
  return (role?.rules ?? []).some((rule: Manifest) => ruleAllows(rule, request));
}
