import { createHash } from 'crypto';
import { ApiObject, App } from 'cdk8s';
import { Construct } from 'constructs';
import { Delivery } from './delivery';
import { afterSerialization } from './pod-template';
import { configReferencesOf } from '../shared/pod-spec';

/** The annotation that names, on each hook copy, the object of the App it copies. */
export const HOOK_COPY_OF_ANNOTATION = 'cdk8s-migrated-service.dev/hook-copy-of';

/** The `app.kubernetes.io/component` of the copies. */
export const HOOK_COPY_COMPONENT = 'migration-config';

const KINDS = ['ConfigMap', 'Secret'];
const HOOK_ANNOTATIONS = ['helm.sh/hook', 'argocd.argoproj.io/hook'];

/**
 * Under a hook engine (Argo CD `PreSync`, Helm `pre-install,pre-upgrade`) the pre-deploy migration
 * Job runs before the release's ordinary objects are applied. A ConfigMap or Secret of the App
 * that its pod reads (envFrom, env valueFrom, volumes, imagePullSecrets) does not exist yet on a
 * first install, and the pod sits in CreateContainerConfigError until the hook times out; on later
 * releases it holds the previous release's data.
 *
 * So the Job reads a copy of each such object, written at synth:
 * - named after the Job (`<job name>-<object name>`) and labelled with its release, so that each release's migration reads its own
 *   release's data, and a queued Job of an earlier release keeps its copy while the next is created;
 * - a hook of the Job's phase, ordered before it, deleted just before the next sync or upgrade
 *   creates it again: the same annotations as the hook copy of the waiter program
 *   (`Delivery._programHookAnnotations`);
 * - the object of the App itself is left as it is: the workloads read it, and it stays an object
 *   of the release that the engine owns, prunes and uninstalls.
 *
 * Objects the App does not define (created outside it), and objects the user already made hooks,
 * are read by their own name, as before.
 *
 * The copies are made at synth, once every object of the App exists, whatever order the constructs
 * were created in.
 */
export function copyJobConfigAsHooks(
  scope: Construct, job: ApiObject, jobName: string, jobLabels: { [key: string]: string }, delivery: Delivery,
): void {
  const annotations = delivery._programHookAnnotations();
  if (Object.keys(annotations).length === 0) {
    return;
  }
  let copied: Map<string, string> | undefined;
  scope.node.addValidation({
    validate: () => {
      if (copied === undefined) {
        copied = makeCopies(scope, job, jobName, { ...jobLabels, 'app.kubernetes.io/component': HOOK_COPY_COMPONENT }, annotations);
        const renames = copied;
        if (renames.size > 0) {
          afterSerialization(job, (json) => renameReferences(json.spec?.template?.spec ?? {}, renames));
        }
      }
      return [];
    },
  });
}

/** Creates the copies; returns the copies' names by `<kind>/<name>` of the objects they copy. */
function makeCopies(
  scope: Construct, job: ApiObject, jobName: string, labels: { [key: string]: string }, annotations: { [key: string]: string },
): Map<string, string> {
  const namespace = job.metadata.namespace;
  const references = referencesOf(job.toJson().spec?.template?.spec ?? {});
  const renames = new Map<string, string>();
  const sources = App.of(scope).node.findAll().filter(ApiObject.isApiObject)
    .filter((o) => KINDS.includes(o.kind) && o.apiVersion === 'v1' && o.metadata.namespace === namespace)
    .filter((o) => references.has(key(o.kind, o.name)));
  for (const source of sources) {
    const json = source.toJson();
    const sourceAnnotations: { [key: string]: string } = json.metadata?.annotations ?? {};
    if (HOOK_ANNOTATIONS.some((a) => sourceAnnotations[a] !== undefined) || renames.has(key(source.kind, source.name))) {
      continue;
    }
    const name = copyName(jobName, source.name);
    const { metadata, ...content } = json;
    const copy = new ApiObject(scope, `HookCopy${source.kind}-${source.name}`, {
      ...content,
      apiVersion: 'v1',
      kind: source.kind,
      metadata: {
        name,
        // The release's labels, so that the copies of earlier releases, which no engine deletes, are
        // found and deleted with a selector (`app.kubernetes.io/version!=<tag>`).
        labels: { ...metadata.labels, ...labels },
        annotations: { ...annotations, [HOOK_COPY_OF_ANNOTATION]: source.name },
      },
    });
    job.node.addDependency(copy);
    renames.set(key(source.kind, source.name), name);
  }
  return renames;
}

function key(kind: string, name: string): string {
  return `${kind}/${name}`;
}

/** `<job name>-<object name>`, shortened with a hash beyond the 253 characters of a name. */
function copyName(jobName: string, sourceName: string): string {
  const name = `${jobName}-${sourceName}`;
  if (name.length <= 253) {
    return name;
  }
  const hash = createHash('sha256').update(sourceName).digest('hex').slice(0, 8);
  return `${jobName}-${sourceName.slice(0, 253 - jobName.length - hash.length - 2).replace(/[-.]+$/, '')}-${hash}`;
}

function referencesOf(pod: any): Set<string> {
  return new Set(configReferencesOf(pod).map(({ kind, holder, field }) => key(kind, holder[field])));
}

function renameReferences(pod: any, renames: Map<string, string>): void {
  for (const { kind, holder, field } of configReferencesOf(pod)) {
    holder[field] = renames.get(key(kind, holder[field])) ?? holder[field];
  }
}
