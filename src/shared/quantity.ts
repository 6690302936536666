/** The suffixes of a Kubernetes quantity, by their factor. */
const UNITS: { readonly [suffix: string]: number } = {
  '': 1,
  'k': 1e3,
  'M': 1e6,
  'G': 1e9,
  'T': 1e12,
  'P': 1e15,
  'E': 1e18,
  'Ki': 2 ** 10,
  'Mi': 2 ** 20,
  'Gi': 2 ** 30,
  'Ti': 2 ** 40,
  'Pi': 2 ** 50,
  'Ei': 2 ** 60,
};

/**
 * A Kubernetes quantity (`64Mi`, `128M`, `1Gi`, `134217728`, `1e9`, `0.5Gi`, `250m`) as a number
 * (bytes for memory, CPUs for cpu), or undefined when it is not one (a template placeholder, a
 * typo). A number, the suffix of a power of 2 or of 10, or an exponent: never two of them.
 */
export function parseQuantity(value: unknown): number | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?)$/.exec(text);
  if (!match) {
    return undefined;
  }
  const number = Number(match[1] + (match[2] ?? ''));
  if (match[3] === 'm') {
    return number / 1000;
  }
  return number * UNITS[match[3] ?? ''];
}
