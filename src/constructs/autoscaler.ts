import { ApiObject, App, Chart } from 'cdk8s';
import { Autoscaler, num } from '../shared/rollout-capacity';

/** An autoscaler of the App that scales a workload, as its manifest says. */
export interface FoundAutoscaler extends Autoscaler {
  /** The construct path of the autoscaler, for messages. */
  readonly path: string;
}

/**
 * The autoscaler of the App that scales `workload`, if any: a HorizontalPodAutoscaler (any
 * `autoscaling/*` version: cdk8s-plus's, `cdk8s import`'s or an `ApiObject`) or a KEDA
 * `ScaledObject` (which creates and owns an HPA), in the workload's namespace, whose
 * `scaleTargetRef` names it. Read at synth, so it may be created after the workload.
 */
export function autoscalerOf(workload: ApiObject): FoundAutoscaler | undefined {
  const namespace = namespaceOf(workload);
  for (const candidate of autoscalersOfApp(App.of(workload))) {
    const isHpa = candidate.kind === 'HorizontalPodAutoscaler';
    if (namespaceOf(candidate) !== namespace) {
      continue;
    }
    const spec = candidate.toJson().spec ?? {};
    const target = spec.scaleTargetRef ?? {};
    // A ScaledObject's target is a Deployment unless it says otherwise.
    const kind = target.kind ?? (isHpa ? undefined : 'Deployment');
    if (kind !== workload.kind || target.name !== workload.name) {
      continue;
    }
    return {
      path: constructPath(candidate),
      description: `the ${candidate.kind} "${candidate.name}" (${constructPath(candidate)})`,
      // An HPA without minReplicas keeps at least 1; KEDA's minReplicaCount defaults to 0.
      minReplicas: isHpa ? num(spec.minReplicas) ?? 1 : num(spec.minReplicaCount) ?? 0,
      maxReplicas: isHpa ? num(spec.maxReplicas) : num(spec.maxReplicaCount) ?? 100,
    };
  }
  return undefined;
}

/** The autoscalers of each App, found once per synthesis pass (see `watchAutoscalers`). */
const found = new WeakMap<App, ApiObject[]>();
const watched = new WeakSet<App>();

/**
 * Makes `autoscalerOf` read the App's autoscalers once per synthesis pass rather than once per
 * workload, which would make synthesis quadratic: cdk8s validates the App before it writes each
 * chart, and that validation forgets what the previous pass found.
 */
export function watchAutoscalers(app: App): void {
  if (!watched.has(app)) {
    watched.add(app);
    app.node.addValidation({ validate: () => (found.delete(app), []) });
  }
}

function autoscalersOfApp(app: App): ApiObject[] {
  let autoscalers = found.get(app);
  if (autoscalers === undefined) {
    autoscalers = app.node.findAll().filter(ApiObject.isApiObject).filter((o) =>
      (o.kind === 'HorizontalPodAutoscaler' && o.apiVersion.startsWith('autoscaling/'))
      || (o.kind === 'ScaledObject' && o.apiVersion.startsWith('keda.sh/')));
    found.set(app, autoscalers);
  }
  return autoscalers;
}

/** The path the user knows: a cdk8s-plus resource's, not its `Resource` child's. */
function constructPath(apiObject: ApiObject): string {
  const scope = apiObject.node.scope;
  return scope !== undefined && scope.node.defaultChild === apiObject && !(scope instanceof Chart) ? scope.node.path : apiObject.node.path;
}

function namespaceOf(apiObject: ApiObject): string | undefined {
  return apiObject.metadata.namespace ?? Chart.of(apiObject).namespace;
}
