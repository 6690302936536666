import { invalidProp } from './validation';

/**
 * The names of an options interface, each listed once: the compiler refuses a list that misses an
 * option or names one the interface does not have, so the list cannot drift from the interface.
 */
export type OptionNames<T> = { readonly [K in keyof Required<T>]: true };

/**
 * Throws when `options` has a key that is not an option of `owner`. An options object that comes
 * through a variable escapes TypeScript's check of extra keys (and other jsii languages pass what
 * they are given), so a misspelt option would be ignored without a word: `flyway(opts)` with
 * `postDeployLocation` would silently drop the post-deploy Job.
 */
export function refuseUnknownOptions<T>(owner: string, options: T | undefined, names: OptionNames<T>): void {
  if (options === undefined) {
    return;
  }
  const known = Object.keys(names);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidProp(owner, 'options', options, `the options are an object with some of: ${known.join(', ')}.`);
  }
  const unknown = firstUnknown(options, known);
  if (unknown !== undefined) {
    throw invalidProp(owner, 'option', unknown.key, `it is not an option of ${owner}, which would ignore it.${unknown.didYouMean} `
      + `${known.length > 0 ? `The options are: ${known.join(', ')}.` : 'It takes no options.'}`);
  }
}

/**
 * Throws when the props of a construct have a key that is not one of its props. Props built in a
 * variable, or spread from a shared object, escape TypeScript's check of extra keys, so a misspelt
 * prop (`migrationTimout`) would leave its default in place without a word; jsii's other languages
 * refuse an unknown keyword already.
 */
export function refuseUnknownProps<T>(owner: string, construct: string, props: T, names: OptionNames<T>): void {
  const unknown = firstUnknown(props as object, Object.keys(names));
  if (unknown !== undefined) {
    throw invalidProp(owner, 'prop', unknown.key, `it is not a prop of ${construct}, which would ignore it.${unknown.didYouMean} `
      + `${construct}Props in API.md lists the props.`);
  }
}

/** The first key of `object` that is not `known`, with a sentence naming the known one meant, or '' when none is near. */
function firstUnknown(object: object, known: string[]): { key: string; didYouMean: string } | undefined {
  const key = Object.keys(object).find((k) => !known.includes(k));
  if (key === undefined) {
    return undefined;
  }
  const meant = closest(key, known);
  return { key, didYouMean: meant !== undefined ? ` Did you mean "${meant}"?` : '' };
}

/** The known name nearest to `key` (case aside, or a few letters off), if one is near enough to be meant. */
function closest(key: string, known: string[]): string | undefined {
  const scored = known.map((name) => ({ name, distance: editDistance(key.toLowerCase(), name.toLowerCase()) }));
  const best = scored.sort((a, b) => a.distance - b.distance)[0];
  return best !== undefined && best.distance <= Math.max(2, Math.floor(best.name.length / 4)) ? best.name : undefined;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
