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
