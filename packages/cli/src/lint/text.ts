/**
 * Any YAML value as text, for names and messages. `String()` would call a mapping's own `toString`
 * key, which a manifest may define, and throw.
 */
export function text(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return value === undefined || value === null ? '' : JSON.stringify(value) ?? '';
}
