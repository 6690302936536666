import { createHash } from 'crypto';

/**
 * Kubernetes copies a Job's name into the `job-name` and `batch.kubernetes.io/job-name` labels of
 * its pods, and label values stop at 63 characters, so 63 is the real limit for every name we emit.
 */
export const MAX_DNS_LABEL_LENGTH = 63;

/** The longest suffix appended to the base name: `<name>-deployment-variables`. */
export const LONGEST_NAME_SUFFIX = '-deployment-variables';

/**
 * A base name up to this length is copied verbatim into every name derived from it, since even the
 * longest suffix then fits in 63. A longer base (any DNS-1035 label up to 63 characters is
 * accepted) is shortened with a hash in derived names only.
 */
export const MAX_VERBATIM_BASE_LENGTH = MAX_DNS_LABEL_LENGTH - LONGEST_NAME_SUFFIX.length;

/** Length of the hex digest that keeps shortened base names distinct. */
const BASE_HASH_LENGTH = 8;

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

function shortHash(value: string, length: number = TAG_HASH_LENGTH): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length);
}

/**
 * `base` itself when it has at most `maxLength` characters; otherwise its beginning and a hash of
 * the whole, so that two long bases that share a beginning still give distinct names.
 */
function fitBase(base: string, maxLength: number): string {
  if (base.length <= maxLength) {
    return base;
  }
  const readable = base.slice(0, Math.max(maxLength - BASE_HASH_LENGTH - 1, 0)).replace(/-+$/, '');
  const hash = shortHash(base, BASE_HASH_LENGTH);
  return readable ? `${readable}-${hash}` : hash;
}

/**
 * `<prefix><base><suffix>` as a DNS label of at most 63 characters. Bases of up to 42 characters are
 * kept verbatim; longer ones are shortened with a hash (see `fitBase`).
 */
export function derivedName(prefix: string, base: string, suffix: string): string {
  return `${prefix}${fitBase(base, Math.min(MAX_VERBATIM_BASE_LENGTH, MAX_DNS_LABEL_LENGTH - prefix.length - suffix.length))}${suffix}`;
}

/**
 * `<base><infix><tag>` as a DNS label of at most 63 characters, e.g. `myapp-migration-3f2a9c1`, or
 * `<base><infix><tag>-<templateDigest>` when a digest of the Job's pod template is given. The base is shortened like
 * `derivedName` when the infix, a hashed tag and the template hash would not fit otherwise.
 */
export function versionedResourceName(base: string, infix: string, tag: string, templateDigest?: string): string {
  const suffix = templateDigest === undefined ? '' : `-${templateDigest}`;
  const stem = fitBase(base, Math.min(MAX_VERBATIM_BASE_LENGTH, MAX_DNS_LABEL_LENGTH - infix.length - TAG_HASH_LENGTH - suffix.length));
  return `${versionedName(`${stem}${infix}`, tag, MAX_DNS_LABEL_LENGTH - suffix.length)}${suffix}`;
}

/** Length of the hex digest of a pod template that a Job name may carry (see `templateHash`). */
export const TEMPLATE_HASH_LENGTH = 8;

/**
 * A short hex digest of `text`, the canonical description of a Job's pod template, for a Job name
 * that must change whenever the template does (`versionedResourceName`'s `templateDigest`).
 */
export function templateHash(text: string): string {
  return shortHash(text, TEMPLATE_HASH_LENGTH);
}

/**
 * Appends an image tag to `prefix` (which ends with `-`) so that the result is a DNS label of at
 * most `maxLength` (63) characters; `prefix` leaves room for at least the tag's hash.
 *
 * A tag that is already lowercase `[a-z0-9-]`, ends alphanumeric and fits is copied unchanged, so
 * `myapp-migration-3f2a9c1` reads exactly like the pattern. Any other tag (uppercase, `_`, `.`,
 * too long) is lowercased, its other characters become `-`, it is cut to fit, and a short hash of
 * the original tag is appended: sanitising alone would map `V1`, `v1`, `1.0` and `1_0` onto each
 * other, and two releases must never share a Job name.
 */
export function versionedName(prefix: string, tag: string, maxLength: number = MAX_DNS_LABEL_LENGTH): string {
  const verbatim = `${prefix}${tag}`;
  if (isDnsLabel(verbatim) && verbatim.length <= maxLength) {
    return verbatim;
  }
  const hash = shortHash(tag);
  const room = maxLength - prefix.length - hash.length - 1;
  const readable = tag
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, Math.max(room, 0))
    .replace(/-+$/, '');
  return readable ? `${prefix}${readable}-${hash}` : `${prefix}${hash}`;
}

/**
 * Whether `name` carries `tag` the way `versionedName` appends it: as a dash-separated part, either
 * verbatim or as its hash. A name that carries the release's tag is a new name at every release.
 */
export function carriesTag(name: string, tag: string): boolean {
  const parts = `-${name}-`;
  return parts.includes(`-${tag}-`) || parts.includes(`-${shortHash(tag)}-`);
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
