import { ApiObject, App } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';

interface OwnedObject {
  readonly owner: string;
  /** The path of the construct that registered the object, to group the clashes of one construct. */
  readonly ownerPath: string;
  readonly apiObject: ApiObject;
  /** What to do about a clash, when the user did not create the object themselves. */
  readonly fix?: string;
  /** The base name the owner derives its objects' names from, when it has one. */
  readonly baseName?: string;
}

/** How the objects of one construct may clash. */
export interface DuplicateCheckOptions {
  /** What to do about a clash, when the user did not create the object themselves. */
  readonly fix?: string;
  /** The base name the construct derives its objects' names from (`name`), said in the error. */
  readonly baseName?: string;
}

const DEFAULT_FIX = 'Give one of them a different `name`, or put them in different namespaces.';

/** The last check of an App: what it was computed from, and its errors by the path of the construct they are reported on. */
interface CheckedState {
  readonly constructs: number;
  readonly owned: number;
  readonly errors: Map<string, string[]>;
}

interface AppRegistry {
  readonly owned: OwnedObject[];
  /** The constructs that report their clashes, each once. */
  readonly reporting: Set<IConstruct>;
  checked?: CheckedState;
}

const registries = new WeakMap<IConstruct, AppRegistry>();

/**
 * Refuses, at synth time, any other object of the App with the same kind, namespace and name as one
 * of `objects`: cdk8s writes both, and the second silently overwrites the first on apply (two
 * `MigratedService`s named `shop` would share one Deployment, one Role, one Job...).
 *
 * The clashes are computed once per App, however many constructs register objects, so that
 * synthesis stays linear; each is reported on the construct that registered the object, so that
 * cdk8s's error names its path.
 */
export function refuseDuplicateObjects(owner: string, scope: Construct, objects: ApiObject[], options: DuplicateCheckOptions = {}): void {
  const app = App.of(scope);
  let registry = registries.get(app);
  if (registry === undefined) {
    const created: AppRegistry = { owned: [], reporting: new Set() };
    registry = created;
    registries.set(app, created);
    // cdk8s validates the App first, then every construct below it: the App's validation computes
    // the clashes once per pass, and each construct's reads its own.
    app.node.addValidation({ validate: () => (errorsOf(app, created), []) });
  }
  const appRegistry = registry;
  const ownerPath = scope.node.path;
  registry.owned.push(...objects.map((apiObject) => ({ owner, ownerPath, apiObject, fix: options.fix, baseName: options.baseName })));
  if (!registry.reporting.has(scope)) {
    registry.reporting.add(scope);
    scope.node.addValidation({ validate: () => (appRegistry.checked?.errors ?? errorsOf(app, appRegistry)).get(scope.node.path) ?? [] });
  }
}

/**
 * The clashes of the App, by the path of the construct they are reported on. cdk8s validates the
 * whole App again for every chart it writes, so with one chart per service the comparison would
 * run once per chart over every object: quadratic. Counting the constructs is far cheaper than
 * comparing the objects, so the comparison runs again only when the App has grown since the last one.
 */
function errorsOf(app: IConstruct, registry: AppRegistry): Map<string, string[]> {
  const constructs = countConstructs(app);
  if (registry.checked?.constructs !== constructs || registry.checked.owned !== registry.owned.length) {
    registry.checked = { constructs, owned: registry.owned.length, errors: duplicates(app, registry.owned) };
  }
  return registry.checked.errors;
}

function identity(apiObject: ApiObject): string {
  const group = apiObject.apiVersion.includes('/') ? apiObject.apiVersion.split('/')[0] : '';
  return [group, apiObject.kind, apiObject.metadata.namespace ?? '', apiObject.name].join('\u0000');
}

/** The clashes between one construct and the same others. */
interface ClashGroup {
  readonly outer: string;
  readonly others: string[];
  readonly clashes: Array<{ apiObject: ApiObject; others: ApiObject[] }>;
  readonly fixes: Set<string>;
}

/**
 * One error per clash (an identity written by several objects), and the clashes between the same
 * constructs (two services with one name clash on every object) grouped into one line.
 */
function duplicates(app: IConstruct, owned: OwnedObject[]): Map<string, string[]> {
  const byIdentity = new Map<string, ApiObject[]>();
  for (const apiObject of app.node.findAll().filter(ApiObject.isApiObject)) {
    const key = identity(apiObject);
    byIdentity.set(key, [...(byIdentity.get(key) ?? []), apiObject]);
  }
  const ownerPaths = [...new Set(owned.map((o) => o.ownerPath))];
  // A construct that registers objects inside another that does too (a MigratedService's
  // DatabaseMigration) answers for them under the outer one's name.
  const outermost = (path: string) => ownerPaths.filter((p) => path === p || path.startsWith(`${p}/`)).sort((a, b) => a.length - b.length)[0] ?? path;
  const ownerByPath = new Map(owned.map((o) => [o.ownerPath, o]));
  const reported = new Set<string>();
  const groups = new Map<string, ClashGroup>();
  for (const { ownerPath, apiObject, fix } of owned) {
    const key = identity(apiObject);
    const others = (byIdentity.get(key) ?? []).filter((other) => other !== apiObject);
    if (others.length === 0 || reported.has(key)) {
      continue;
    }
    reported.add(key);
    const outer = outermost(ownerPath);
    const otherOwners = [...new Set(others.map((other) => outermost(other.node.path)))];
    const groupKey = [outer, ...otherOwners].join('\u0000');
    const group = groups.get(groupKey) ?? { outer, others: otherOwners, clashes: [], fixes: new Set<string>() };
    groups.set(groupKey, group);
    group.clashes.push({ apiObject, others });
    group.fixes.add(fix ?? DEFAULT_FIX);
  }
  const errors = new Map<string, string[]>();
  for (const { outer, others, clashes, fixes } of groups.values()) {
    const owner = ownerByPath.get(outer)!;
    const consequence = `Both would be written, and one would overwrite the other on apply. ${[...fixes].join(' ')}`;
    const namespace = (apiObject: ApiObject) =>
      apiObject.metadata.namespace === undefined ? 'no namespace' : `namespace "${apiObject.metadata.namespace}"`;
    let message: string;
    if (clashes.length === 1) {
      const { apiObject, others: clashing } = clashes[0];
      message = `${owner.owner}: the ${apiObject.kind} "${apiObject.name}" (${apiObject.node.path}) has the same kind, name and `
        + `${namespace(apiObject)} as ${clashing.map((other) => `"${other.node.path}"`).join(' and ')}. ${consequence}`;
    } else {
      // Two constructs with one name clash on every object: say so once, with the name they share.
      const otherNames = others.map((path) => ownerByPath.get(path)?.owner ?? `"${path}"`);
      const baseNames = new Set([owner.baseName, ...others.map((path) => ownerByPath.get(path)?.baseName)]);
      const shared = baseNames.size === 1 && owner.baseName !== undefined ? `the name "${owner.baseName}"` : 'object names';
      // The shortest names first: the Deployment and ServiceAccount carry the base name itself.
      const listed = [...clashes].sort((x, y) => x.apiObject.name.length - y.apiObject.name.length).slice(0, 3).map(({ apiObject }) => `the ${apiObject.kind} "${apiObject.name}"`).join(', ');
      message = `${owner.owner} and ${otherNames.join(' and ')} share ${shared} in ${namespace(clashes[0].apiObject)}: `
        + `${clashes.length} of their objects have the same kind and name (${listed}${clashes.length > 3 ? `, and ${clashes.length - 3} more` : ''}). ${consequence}`;
    }
    errors.set(outer, [...(errors.get(outer) ?? []), message]);
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
