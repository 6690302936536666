import { createHash } from 'crypto';

/**
 * Kubernetes copies a Job's name into the `job-name` and `batch.kubernetes.io/job-name` labels of
 * its pods, and label values stop at 63 characters, so 63 is the real limit for every name we emit.
 */
export const MAX_DNS_LABEL_LENGTH = 63;

/** The longest suffix appended to the base name: `<name>-deployment-variables`. */
export const LONGEST_NAME_SUFFIX = '-deployment-variables';

/** A base name must leave room for every suffix the construct appends to it. */
export const MAX_BASE_NAME_LENGTH = MAX_DNS_LABEL_LENGTH - LONGEST_NAME_SUFFIX.length;

/** Length of the hex digest appended when a tag cannot be copied into a name unchanged. */
export const TAG_HASH_LENGTH = 10;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A DNS-1123 label (RFC 1123): what Kubernetes requires of container names, among others. */
export function isDnsLabel(value: string): boolean {
  return value.length <= MAX_DNS_LABEL_LENGTH && DNS_LABEL.test(value);
}

/** A DNS-1035 label: a DNS label that starts with a letter, as Service names must. */
export function isDns1035Label(value: string): boolean {
  return value.length <= MAX_DNS_LABEL_LENGTH && DNS_1035_LABEL.test(value);
}

/** A DNS-1123 subdomain: what ConfigMap and Secret names must be. */
export function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && value.split('.').every((part) => DNS_LABEL.test(part));
}

/** A label value: at most 63 characters, alphanumeric at both ends, `-`, `_` and `.` inside. */
export function isLabelValue(value: string): boolean {
  return value.length <= MAX_DNS_LABEL_LENGTH && LABEL_VALUE.test(value);
}

function shortHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, TAG_HASH_LENGTH);
}

/**
 * Appends an image tag to `prefix` (which ends with `-`) so that the result is a DNS label of at
 * most 63 characters.
 *
 * A tag that is already lowercase `[a-z0-9-]`, ends alphanumeric and fits is copied unchanged, so
 * `myapp-migration-3f2a9c1` reads exactly like the pattern. Any other tag (uppercase, `_`, `.`,
 * too long) is lowercased, its other characters become `-`, it is cut to fit, and a short hash of
 * the original tag is appended: sanitising alone would map `V1`, `v1`, `1.0` and `1_0` onto each
 * other, and two releases must never share a Job name.
 */
export function versionedName(prefix: string, tag: string): string {
  const verbatim = `${prefix}${tag}`;
  if (isDnsLabel(verbatim)) {
    return verbatim;
  }
  const hash = shortHash(tag);
  const room = MAX_DNS_LABEL_LENGTH - prefix.length - hash.length - 1;
  const readable = tag
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, Math.max(room, 0))
    .replace(/-+$/, '');
  return readable ? `${prefix}${readable}-${hash}` : `${prefix}${hash}`;
}

/**
 * The image tag as a label value (`app.kubernetes.io/version`). Docker tags may start with `_` or
 * `.` and run to 128 characters; label values may not, so those tags are cut and hashed.
 */
export function versionLabelValue(tag: string): string {
  if (isLabelValue(tag)) {
    return tag;
  }
  const hash = shortHash(tag);
  const readable = tag
    .slice(0, MAX_DNS_LABEL_LENGTH - hash.length - 1)
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[^A-Za-z0-9]+$/, '');
  return readable ? `${readable}-${hash}` : hash;
}
