import { ApiObject, App } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';

interface OwnedObject {
  readonly owner: string;
  readonly apiObject: ApiObject;
}

const ownedObjectsByApp = new WeakMap<IConstruct, OwnedObject[]>();

/** The last check's result, with what it was computed from. */
interface CheckedState {
  readonly constructs: number;
  readonly owned: number;
  readonly errors: string[];
}

/**
 * Refuses, at synth time, any other object of the App with the same kind, namespace and name as one
 * of `objects`: cdk8s writes both, and the second silently overwrites the first on apply (two
 * `MigratedService`s named `shop` would share one Deployment, one Role, one Job...).
 *
 * One check per App, however many constructs register objects, so that synthesis stays linear.
 */
export function refuseDuplicateObjects(owner: string, scope: Construct, objects: ApiObject[]): void {
  const app = App.of(scope);
  let owned = ownedObjectsByApp.get(app);
  if (owned === undefined) {
    const registry: OwnedObject[] = [];
    owned = registry;
    ownedObjectsByApp.set(app, registry);
    // cdk8s validates the whole App again for every chart it writes, so with one chart per
    // service the check would run once per chart over every object: quadratic. Counting the
    // constructs is far cheaper than comparing the objects, so the comparison runs again only
    // when the App has grown since the last one.
    let checked: CheckedState | undefined;
    app.node.addValidation({
      validate: () => {
        const constructs = countConstructs(app);
        if (checked?.constructs !== constructs || checked.owned !== registry.length) {
          checked = { constructs, owned: registry.length, errors: duplicates(app, registry) };
        }
        return checked.errors;
      },
    });
  }
  owned.push(...objects.map((apiObject) => ({ owner, apiObject })));
}

const identicalCopiesAllowed = new WeakSet<ApiObject>();

/**
 * Lets several charts of one App write the same object (the waiter program of a namespace): two
 * such objects collide only when their content differs. Both must be marked.
 */
export function allowIdenticalCopies(apiObject: ApiObject): void {
  identicalCopiesAllowed.add(apiObject);
}

function identicalCopies(a: ApiObject, b: ApiObject): boolean {
  return identicalCopiesAllowed.has(a) && identicalCopiesAllowed.has(b) && JSON.stringify(a.toJson()) === JSON.stringify(b.toJson());
}

function identity(apiObject: ApiObject): string {
  const group = apiObject.apiVersion.includes('/') ? apiObject.apiVersion.split('/')[0] : '';
  return [group, apiObject.kind, apiObject.metadata.namespace ?? '', apiObject.name].join('\u0000');
}

function duplicates(app: IConstruct, owned: OwnedObject[]): string[] {
  const byIdentity = new Map<string, ApiObject[]>();
  for (const apiObject of app.node.findAll().filter(ApiObject.isApiObject)) {
    const key = identity(apiObject);
    byIdentity.set(key, [...(byIdentity.get(key) ?? []), apiObject]);
  }
  const errors: string[] = [];
  for (const { owner, apiObject } of owned) {
    const others = (byIdentity.get(identity(apiObject)) ?? []).filter((other) => other !== apiObject && !identicalCopies(apiObject, other));
    for (const other of others) {
      const namespace = apiObject.metadata.namespace === undefined ? 'no namespace' : `namespace "${apiObject.metadata.namespace}"`;
      errors.push(`${owner}: the ${apiObject.kind} "${apiObject.name}" (${apiObject.node.path}) has the same kind, name and `
        + `${namespace} as "${other.node.path}". Both would be written, and one would overwrite the other on apply. `
        + 'Give one of them a different `name`, or put them in different namespaces.');
    }
  }
  return errors;
}

function countConstructs(construct: IConstruct): number {
  let count = 1;
  for (const child of construct.node.children) {
    count += countConstructs(child);
  }
  return count;
}
