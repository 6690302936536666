/*
 * The existing name a mistyped one was meant to be: a waiter that names a Job that does not exist
 * most often names the release's Job with a typo, an old prefix or another tag.
 */

/** The number of single-character insertions, deletions and substitutions that turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The name of `names` nearest to `wanted`: one that starts with it or that it starts with, else the
 * one fewest edits away, if those edits change at most a third of the name. Undefined when none is
 * near enough to be a likely meaning.
 */
export function nearestName(wanted: string, names: readonly string[]): string | undefined {
  const others = [...new Set(names)].filter((n) => n !== wanted && n !== '');
  const scored = others.map((n) => ({ n, d: n.startsWith(wanted) || wanted.startsWith(n) ? 0 : editDistance(wanted, n) }))
    .filter(({ d }) => d <= Math.max(2, Math.floor(wanted.length / 3)))
    .sort((x, y) => x.d - y.d || Math.abs(x.n.length - wanted.length) - Math.abs(y.n.length - wanted.length) || (x.n < y.n ? -1 : 1));
  return scored[0]?.n;
}
