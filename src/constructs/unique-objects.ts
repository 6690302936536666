import { ApiObject, App } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';

interface OwnedObject {
  readonly owner: string;
  /** The path of the construct that registered the object, to group the clashes of one construct. */
  readonly ownerPath: string;
  readonly apiObject: ApiObject;
  /** What to do about a clash, when the user did not create the object themselves. */
  readonly fix?: string;
}

const DEFAULT_FIX = 'Give one of them a different `name`, or put them in different namespaces.';

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
export function refuseDuplicateObjects(owner: string, scope: Construct, objects: ApiObject[], fix?: string): void {
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
  owned.push(...objects.map((apiObject) => ({ owner, ownerPath: scope.node.path, apiObject, fix })));
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

/**
 * One error per clash (an identity written by several objects), and the clashes between the same
 * constructs (two services with one name clash on every object) grouped into one message.
 */
function duplicates(app: IConstruct, owned: OwnedObject[]): string[] {
  const byIdentity = new Map<string, ApiObject[]>();
  for (const apiObject of app.node.findAll().filter(ApiObject.isApiObject)) {
    const key = identity(apiObject);
    byIdentity.set(key, [...(byIdentity.get(key) ?? []), apiObject]);
  }
  const ownerPaths = [...new Set(owned.map((o) => o.ownerPath))];
  // A construct that registers objects inside another that does too (a MigratedService's
  // DatabaseMigration) answers for them under the outer one's name.
  const outermost = (path: string) => ownerPaths.filter((p) => path === p || path.startsWith(`${p}/`)).sort((a, b) => a.length - b.length)[0] ?? path;
  const ownerByPath = new Map(owned.map((o) => [o.ownerPath, o.owner]));
  const reported = new Set<string>();
  const groups = new Map<string, { owner: string; clashes: string[]; fixes: Set<string> }>();
  for (const { ownerPath, apiObject, fix } of owned) {
    const key = identity(apiObject);
    const others = (byIdentity.get(key) ?? []).filter((other) => other !== apiObject && !identicalCopies(apiObject, other));
    if (others.length === 0 || reported.has(key)) {
      continue;
    }
    reported.add(key);
    const outer = outermost(ownerPath);
    const parties = [outer, ...others.map((other) => outermost(other.node.path))];
    const groupKey = parties.join('\u0000');
    const group = groups.get(groupKey) ?? { owner: ownerByPath.get(outer)!, clashes: [], fixes: new Set<string>() };
    groups.set(groupKey, group);
    const namespace = apiObject.metadata.namespace === undefined ? 'no namespace' : `namespace "${apiObject.metadata.namespace}"`;
    group.clashes.push(`the ${apiObject.kind} "${apiObject.name}" (${apiObject.node.path}) has the same kind, name and `
      + `${namespace} as ${others.map((other) => `"${other.node.path}"`).join(' and ')}`);
    group.fixes.add(fix ?? DEFAULT_FIX);
  }
  return [...groups.values()].map(({ owner, clashes, fixes }) => `${owner}: ${clashes.length > 1 ? `${clashes.length} objects clash: ` : ''}`
    + `${clashes.join('; ')}. Both would be written, and one would overwrite the other on apply. ${[...fixes].join(' ')}`);
}

function countConstructs(construct: IConstruct): number {
  let count = 1;
  for (const child of construct.node.children) {
    count += countConstructs(child);
  }
  return count;
}
