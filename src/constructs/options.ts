// Near names, for the "Did you mean" of unknown props and options (see prop-types.ts).

/** The first key of `object` that is not `known`, with a sentence naming the known one meant, or '' when none is near. */
export function firstUnknown(object: object, known: string[]): { key: string; didYouMean: string } | undefined {
  const key = Object.keys(object).find((k) => !known.includes(k));
  if (key === undefined) {
    return undefined;
  }
  const meant = closest(key, known);
  return { key, didYouMean: meant !== undefined ? ` Did you mean "${meant}"?` : '' };
}

/** The known name nearest to `key` (case aside, or a few letters off), if one is near enough to be meant. */
export function closest(key: string, known: string[]): string | undefined {
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
