import * as path from 'path';
import { K8sObject } from './load';

/**
 * A deployment unit: the objects that are applied together, to one cluster and environment. lint
 * judges each on its own and never relates an object of one to an object of another.
 */
export interface DeploymentUnit {
  /** The folder (relative to the folder all inputs share) or the file the unit was read from; `all` for one unit. */
  readonly name: string;
  readonly files: readonly string[];
  readonly objects: readonly K8sObject[];
}

/** How the input was grouped, for the report. */
export interface Grouping {
  readonly units: readonly DeploymentUnit[];
  /** Why the input was split, or undefined when it is one unit. */
  readonly reason?: string;
  /** Set when a unit still repeats an object (one file or stream holding two environments): what to do. */
  readonly repeated?: string;
}

/** Kind, namespace and name: what `kubectl apply` treats as one object. Two different ones in one unit overwrite each other. */
function identity(o: K8sObject): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.slice(0, o.apiVersion.indexOf('/')) : '';
  return `${group}\0${o.kind}\0${o.namespace ?? ''}\0${o.name}`;
}

/** An object's content as text with its keys sorted: two objects that give the same text are one object to apply. */
function content(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(content).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${content((value as any)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Whether two objects of `objects` are the same object (kind, namespace, name) with different
 * content: another environment's copy. The same object repeated as it is (each chart of an App
 * declaring the Namespace it deploys to) is one object to apply, and relates its files.
 */
function hasDuplicateIdentity(objects: readonly K8sObject[]): boolean {
  const seen = new Map<string, string>();
  for (const o of objects) {
    const key = identity(o);
    const text = content(o.raw);
    if (seen.has(key) && seen.get(key) !== text) {
      return true;
    }
    seen.set(key, text);
  }
  return false;
}

function folderSegments(file: string): string[] {
  return path.dirname(path.resolve(file)).split(path.sep).filter((s) => s !== '');
}

/**
 * Splits the input into deployment units. A folder per environment or per cluster (`envs/staging`,
 * `envs/prod`) holds the same application twice: the same kind, namespace and name in each. When
 * the input holds no such repeated object, it is one unit. Otherwise its files are grouped by
 * folder, at the shallowest depth below the folder they share where no group repeats an object
 * (`envs/staging` and `envs/prod`, then `clusters/a/staging`...), and failing that, file by file.
 * The objects of one file (or of standard input) always stay together: one stream is what one
 * `kubectl apply` or one sync applies.
 */
export function deploymentUnits(objects: readonly K8sObject[]): Grouping {
  const all = { units: [{ name: 'all', files: filesOf(objects), objects }] };
  if (!hasDuplicateIdentity(objects)) {
    return all;
  }
  const files = filesOf(objects);
  const segments = new Map(files.map((f) => [f, folderSegments(f)]));
  const common = commonPrefixLength([...segments.values()]);
  const deepest = Math.max(...[...segments.values()].map((s) => s.length)) - common;
  const byFile = new Map<string, K8sObject[]>();
  for (const o of objects) {
    byFile.set(o.source.file, [...(byFile.get(o.source.file) ?? []), o]);
  }
  const group = (keyOf: (file: string) => string): DeploymentUnit[] => {
    const groups = new Map<string, string[]>();
    for (const f of files) {
      groups.set(keyOf(f), [...(groups.get(keyOf(f)) ?? []), f]);
    }
    return [...groups.entries()].map(([name, members]) => ({ name, files: members, objects: members.flatMap((f) => byFile.get(f)!) }));
  };
  const shared = (f: string) => segments.get(f)!.slice(0, common);
  for (let depth = 1; depth <= deepest; depth++) {
    const units = group((f) => displayFolder([...shared(f), ...segments.get(f)!.slice(common, common + depth)]));
    if (units.length > 1 && units.every((u) => !hasDuplicateIdentity(u.objects))) {
      return { units, reason: 'objects with the same kind, namespace and name in more than one folder' };
    }
  }
  const units = group((f) => f);
  const repeating = units.filter((u) => hasDuplicateIdentity(u.objects)).map((u) => u.name);
  const repeated = repeating.length > 0 ? `${repeating.join(', ')} ${repeating.length > 1 ? 'hold' : 'holds'} objects with the same kind, namespace `
    + 'and name more than once, which are judged together (and the last one is what kubectl applies): if it holds several environments, lint each on its own' : undefined;
  if (units.length > 1) {
    return { units, reason: 'objects with the same kind, namespace and name in more than one file', repeated };
  }
  return { ...all, repeated };
}

/** A folder as the user would name it: relative to the working directory when under it. */
function displayFolder(segments: string[]): string {
  const absolute = path.sep + segments.join(path.sep);
  const relative = path.relative(process.cwd(), absolute);
  return relative === '' ? '.' : relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative.split(path.sep).join('/');
}

function commonPrefixLength(lists: string[][]): number {
  let n = 0;
  while (lists.every((l) => l.length > n && l[n] === lists[0][n])) {
    n++;
  }
  return n;
}

function filesOf(objects: readonly K8sObject[]): string[] {
  return [...new Set(objects.map((o) => o.source.file))];
}

/** One line for the text report: how the input was split (nothing when it is one unit), and what still repeats. */
export function groupingLine(grouping: Grouping): string {
  const repeated = grouping.repeated !== undefined ? `lint: ${grouping.repeated}\n` : '';
  if (grouping.units.length < 2) {
    return repeated;
  }
  return `${repeated}lint: ${grouping.units.length} deployment units (${grouping.units.map((u) => u.name).join(', ')}): ${grouping.reason}; `
    + 'each is linted on its own, and no object is related to one of another unit\n';
}
