import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { POD_SPEC_PATHS, SERVICE_ACCOUNT_PATH } from '../shared/pod-spec';

/** The kinds `gate()` accepts, for error messages. */
export const GATEABLE_KINDS = Object.keys(POD_SPEC_PATHS);

/**
 * The single ApiObject that `construct` synthesizes: the construct itself when it is one (an L1
 * object, `cdk8s import` class or an object of an `Include`), else its default child (every
 * cdk8s-plus resource, of any major version). Undefined when there is none.
 */
export function apiObjectOf(construct: IConstruct): ApiObject | undefined {
  try {
    return ApiObject.of(construct);
  } catch {
    return undefined;
  }
}

/** Whether objects of `kind` carry a pod template that `gate()` can add a waiter to. */
export function hasPodTemplate(kind: string): boolean {
  return POD_SPEC_PATHS[kind] !== undefined;
}

/** The pod spec inside a workload's JSON, created empty where the path is missing. */
export function podSpecOf(json: any): any {
  let node = json;
  for (const key of POD_SPEC_PATHS[json.kind]) {
    node[key] = node[key] ?? {};
    node = node[key];
  }
  return node;
}

/**
 * Runs `mutate` on the object's JSON as it is written out, after every serializer has run.
 *
 * JSON patches cannot do this safely: on L1 classes (cdk8s-plus's own, `cdk8s import`'s) they apply
 * *before* the generated `toJson_Kube...Props` serializer, which silently drops any value not in its
 * own shape, e.g. a resource quantity given as a plain string or an IntOrString. Mutating the
 * output works the same on L2, L1 and plain ApiObjects, and lets the caller read what the user
 * ended up with (the service account, existing init containers, the rollout strategy).
 */
export function afterSerialization(apiObject: ApiObject, mutate: (json: any) => void): void {
  const serialize = apiObject.toJson.bind(apiObject);
  apiObject.toJson = () => {
    const json = serialize();
    mutate(json);
    // cdk8s writes keys sorted (unless CDK8S_DISABLE_SORT is set), apiVersion, kind and metadata
    // first; what was added is sorted the same way, so the YAML reads as if cdk8s wrote it.
    if (process.env.CDK8S_DISABLE_SORT) {
      return json;
    }
    const { apiVersion, kind, metadata, ...rest } = sortKeys(json);
    return { apiVersion, kind, metadata, ...rest };
  };
}

function sortKeys(value: any): any {
  if (Array.isArray(value)) {
    return value.map(sortKeys);
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys(value[key])]));
}


/**
 * Gives one container of a pod spec (JSON) a service-account token, and no other container: the
 * pod does not automount one, so the migration container next to it, which runs the
 * application's code, never sees it. The projected volume is what automounting would create.
 */
export function mountTokenInto(pod: any, containerName: string, volumeName: string): void {
  pod.volumes = [...(pod.volumes ?? []), {
    name: volumeName,
    projected: {
      sources: [
        { serviceAccountToken: { path: 'token', expirationSeconds: 3600 } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  }];
  const container = [...(pod.initContainers ?? []), ...(pod.containers ?? [])].find((c: any) => c.name === containerName);
  container.volumeMounts = [...(container.volumeMounts ?? []), { name: volumeName, mountPath: SERVICE_ACCOUNT_PATH, readOnly: true }];
}

/** Environment variables as container JSON, in the order given. */
export function envJson(env: { [name: string]: string }): { name: string; value: string }[] {
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}
