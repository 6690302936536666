/**
 * Facts of the Kubernetes pod spec that the constructs, lint and doctor share.
 */

/**
 * Where each workload kind keeps its pod spec, in the object's JSON.
 */
export const POD_SPEC_PATHS: { readonly [kind: string]: readonly string[] } = {
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  Pod: ['spec'],
};

/** Where the in-cluster client looks for the token, CA and namespace (the service-account token's mount path). */
export const SERVICE_ACCOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A place in a pod spec that names a ConfigMap or a Secret. */
export interface ConfigReference {
  readonly kind: 'ConfigMap' | 'Secret';
  /** The object that holds the name, to read it (`holder[field]`) or to rename it. */
  readonly holder: { [field: string]: any };
  readonly field: string;
  /** Named in `imagePullSecrets`: the kubelet pulls with it; no container reads it. */
  readonly pullSecret: boolean;
}

/**
 * Every place of a pod spec (JSON) that names a ConfigMap or a Secret: `envFrom`, env `valueFrom`,
 * volumes (projected ones too) and `imagePullSecrets`. Hand-written YAML may hold anything, so a
 * field that is not a list, or an entry that is not an object, is passed over.
 */
export function configReferencesOf(pod: any): ConfigReference[] {
  const references: ConfigReference[] = [];
  const list = (value: unknown): any[] => (Array.isArray(value) ? value.filter(isObject) : []);
  const add = (kind: 'ConfigMap' | 'Secret', holder: unknown, field: string, pullSecret = false) => {
    if (isObject(holder) && holder[field]) {
      references.push({ kind, holder, field, pullSecret });
    }
  };
  for (const container of [...list(pod?.initContainers), ...list(pod?.containers)]) {
    for (const from of list(container.envFrom)) {
      add('ConfigMap', from.configMapRef, 'name');
      add('Secret', from.secretRef, 'name');
    }
    for (const env of list(container.env)) {
      add('ConfigMap', env.valueFrom?.configMapKeyRef, 'name');
      add('Secret', env.valueFrom?.secretKeyRef, 'name');
    }
  }
  for (const volume of list(pod?.volumes)) {
    for (const source of [volume, ...list(volume.projected?.sources)]) {
      add('ConfigMap', source.configMap, 'name');
      // A volume names its Secret `secretName`, a projected source `name`.
      add('Secret', source.secret, isObject(source.secret) && source.secret.secretName != null ? 'secretName' : 'name');
    }
  }
  for (const pull of list(pod?.imagePullSecrets)) {
    add('Secret', pull, 'name', true);
  }
  return references;
}

function isObject(value: unknown): value is { [field: string]: any } {
  return typeof value === 'object' && value !== null;
}
