import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { isUnsplitCommandLine, shellOnlySyntaxProblem, unsplitCommandProblem } from '../shared/command';
import { isDnsSubdomain, isLabelValue } from '../shared/names';
import { conventionallyMoves, identifiesRelease } from '../shared/release-tag';

/** What Docker accepts as a tag. */
export const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

// The grammar of an image reference without tag or digest, after the distribution/reference spec.
const REGISTRY_HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$/;
const REPOSITORY_PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;

/**
 * Builds the error thrown for an invalid prop: it names the construct, the prop, the value and the
 * rule, and says what to do, so a failing pipeline tells the user how to fix it.
 */
export function invalidProp(owner: string, prop: string, value: unknown, rule: string): Error {
  return new Error(`${owner}: ${prop} ${describeValue(value)} is invalid: ${rule}`);
}

/**
 * The value as the error shows it. It never throws: a circular object, a construct or a function
 * given where a string was expected must still produce the error that says so.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) {
    return '(undefined)';
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return String(value);
  }
  if (typeof value === 'function') {
    return `(function ${value.name || 'anonymous'})`;
  }
  if (typeof value === 'bigint' || typeof value === 'symbol') {
    return `(${typeof value} ${String(value)})`;
  }
  const path = constructPath(value);
  if (path !== undefined) {
    return `(${Object.getPrototypeOf(value)?.constructor?.name ?? 'construct'} "${path}")`;
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    return `(${Object.getPrototypeOf(value)?.constructor?.name ?? 'object'} that cannot be shown)`;
  }
  const className = typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.getPrototypeOf(value)?.constructor?.name : undefined;
  const shown = className !== undefined && className !== 'Object' && className !== '' ? `${className} ${text}` : text;
  return shown.length > 160 ? `${shown.slice(0, 157)}...` : shown;
}

function constructPath(value: unknown): string | undefined {
  const node = typeof value === 'object' && value !== null ? (value as { node?: { path?: unknown } }).node : undefined;
  return typeof node === 'object' && node !== null && typeof node.path === 'string' ? node.path : undefined;
}

/** Throws unless `tag` is a Docker tag that identifies one release. */
export function validateImageTag(owner: string, prop: string, tag: string): void {
  if (typeof tag !== 'string' || tag.length === 0) {
    throw invalidProp(owner, prop, tag, 'it is required and must be the image tag of this release, e.g. "v1.2.3" or a commit SHA.');
  }
  if (!DOCKER_TAG.test(tag)) {
    throw invalidProp(owner, prop, tag,
      'a Docker tag is 1 to 128 characters of letters, digits, "_", "." and "-", and does not start with "." or "-" '
      + '(no spaces, "/", ":" or "@"). Pass the tag alone, without the image repository or a digest.');
  }
  if (!identifiesRelease(tag)) {
    // A constant tag gives a constant Job name: the Job of the first release is never replaced, so
    // later releases would silently skip their migrations. `lint` (MS001) applies the same test.
    throw invalidProp(owner, prop, tag,
      `"${tag}" names no release: the migration Job name is derived from the tag, so every release would reuse the first Job `
      + 'and skip its migrations. Tag each release uniquely: a version (with a digit, e.g. "v1.2.3") or a commit SHA. '
      + 'Moving tags such as latest, main or stable (in any case) are refused.');
  }
}

/** Throws unless `image` is an image repository with neither tag nor digest. */
export function validateImageRepository(owner: string, prop: string, image: string): void {
  if (typeof image !== 'string' || image.length === 0) {
    throw invalidProp(owner, prop, image, 'it is required: the image repository without tag, e.g. "registry.example.com/myapp".');
  }
  if (image.includes('@')) {
    throw invalidProp(owner, prop, image,
      'it must not contain a digest ("@sha256:..."): the construct appends imageTag to every image so that all of them share one release. '
      + 'Pass the repository alone and the tag as imageTag.');
  }
  const components = image.split('/');
  const last = components[components.length - 1];
  if (last.includes(':')) {
    throw invalidProp(owner, prop, image,
      `it must not contain a tag (":${last.split(':').pop()}"): the construct appends imageTag to every image so that all of them share one release. `
      + 'Pass the repository alone and the tag as imageTag.');
  }
  const hasRegistryHost = components.length > 1
    && (components[0].includes('.') || components[0].includes(':') || components[0] === 'localhost');
  const host = hasRegistryHost ? components[0] : undefined;
  const path = hasRegistryHost ? components.slice(1) : components;
  if (host !== undefined && !REGISTRY_HOST.test(host)) {
    throw invalidProp(owner, prop, image, `"${host}" is not a registry host (a DNS name with an optional ":port").`);
  }
  const badComponent = path.find((component) => !REPOSITORY_PATH_COMPONENT.test(component));
  if (badComponent !== undefined) {
    throw invalidProp(owner, prop, image,
      `repository path component "${badComponent}" is not valid: components are lowercase letters and digits, `
      + 'separated by ".", "_", "__" or "-", and joined by "/". No whitespace or uppercase.');
  }
}

/** Throws unless `image` is a full image reference pinned to a tag or digest. */
export function validatePinnedImage(owner: string, prop: string, image: string): void {
  const digestAt = image.indexOf('@');
  const withoutDigest = digestAt >= 0 ? image.slice(0, digestAt) : image;
  const components = withoutDigest.split('/');
  const last = components[components.length - 1];
  const tagAt = last.lastIndexOf(':');
  const repository = tagAt >= 0 ? withoutDigest.slice(0, withoutDigest.length - last.length + tagAt) : withoutDigest;
  const tag = tagAt >= 0 ? last.slice(tagAt + 1) : undefined;
  if (digestAt < 0 && tag === undefined) {
    throw invalidProp(owner, prop, image,
      'pin the image to a tag or digest (e.g. "groundnuty/k8s-wait-for:no-root-v2.0"): an unpinned image changes under you between pod starts.');
  }
  if (tag !== undefined && !DOCKER_TAG.test(tag)) {
    throw invalidProp(owner, prop, image, `":${tag}" is not a Docker tag.`);
  }
  validateImageRepository(owner, prop, repository);
  // A digest pins whatever tag stands beside it. The same rule as the app's tags (MS105), but
  // refused: the library's containers run in every gated pod, there is no release to derive
  // it from, and the default images show the pinned form.
  const moving = tag === undefined || digestAt >= 0 ? undefined
    : !identifiesRelease(tag) ? `":${tag}" names no version, and moves with every build pushed to it` : conventionallyMoves(tag);
  if (moving !== undefined) {
    throw invalidProp(owner, prop, image,
      `${moving}: pods started on different days, or on different nodes, would run different waiters. `
      + 'Pin the image to a full version (e.g. "node:24.11.0-alpine3.22", "registry.k8s.io/kubectl:v1.28.15") or to a digest ("<image>@sha256:...").');
  }
}

/** Throws unless `value` is an integer within [min, max]. */
export function validateInteger(owner: string, prop: string, value: number, min: number, max: number, meaning: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidProp(owner, prop, value, `${meaning} must be a whole number from ${min} to ${max}.`);
  }
}

/** Throws unless every name is a distinct DNS-1123 subdomain, as ConfigMap and Secret names are. */
export function validateObjectNames(owner: string, prop: string, names: string[], kind: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (typeof name !== 'string' || !isDnsSubdomain(name)) {
      throw invalidProp(owner, prop, name,
        `a ${kind} name is a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", alphanumeric at both ends, at most 253 characters.`);
    }
    if (seen.has(name)) {
      throw invalidProp(owner, prop, name, `each ${kind} is listed once; remove the duplicate.`);
    }
    seen.add(name);
  }
}

/** Throws unless `command` is a non-empty array whose first element is a non-empty string. */
export function validateCommand(owner: string, prop: string, command: string[]): void {
  if (!Array.isArray(command) || command.length === 0 || typeof command[0] !== 'string' || command[0].trim().length === 0) {
    throw invalidProp(owner, prop, command,
      'the migration command is a non-empty list whose first element is the executable, e.g. ["npx", "prisma", "migrate", "deploy"].');
  }
  validateProgram(owner, prop, command);
  validateShellOnlySyntax(owner, prop, command);
}

/**
 * Throws when a container's exec-form `command` (with its `args`) holds what only a shell reads: a
 * `$NAME` or `${NAME}` outside a `sh -c` script, which Kubernetes passes on literally, or a `sh -c`
 * script with Windows line endings. Without `command` the image's ENTRYPOINT, which may be a shell,
 * reads `args`, so they are not judged.
 */
export function validateShellOnlySyntax(owner: string, prop: string, command: string[], args: string[] = [], argsProp: string = 'args'): void {
  const words = [...command, ...args];
  const found = shellOnlySyntaxProblem(words);
  if (found !== undefined) {
    const inArgs = found.index >= command.length;
    throw invalidProp(owner, inArgs ? argsProp : prop, inArgs ? args : command, found.problem);
  }
}

/** Throws when the first element of a container's `command` holds whitespace: Kubernetes runs it without a shell. */
export function validateProgram(owner: string, prop: string, command: string[]): void {
  if (isUnsplitCommandLine(command[0])) {
    throw invalidProp(owner, prop, command, unsplitCommandProblem(command));
  }
}

/**
 * Whether `key` is a label or annotation key: an optional DNS-subdomain prefix, then a name that
 * follows the label-value grammar but may not be empty.
 */
function isQualifiedKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  return (prefix === undefined || isDnsSubdomain(prefix)) && name !== '' && isLabelValue(name);
}

const KEY_RULE = 'a key is an optional DNS-subdomain prefix and "/", then a name of at most 63 letters, digits, "-", "_" and ".", alphanumeric at both ends.';

/** Throws unless every key and value is what the API server accepts in `metadata.labels`. */
export function validateLabels(owner: string, prop: string, labels: { [key: string]: string }): void {
  for (const [key, value] of Object.entries(labels)) {
    if (!isQualifiedKey(key)) {
      throw invalidProp(owner, `${prop} key`, key, KEY_RULE);
    }
    if (typeof value !== 'string' || !isLabelValue(value)) {
      throw invalidProp(owner, `${prop}["${key}"]`, value,
        'a label value is at most 63 letters, digits, "-", "_" and ".", alphanumeric at both ends (or empty).');
    }
  }
}

/** Throws unless every key is what the API server accepts in `metadata.annotations`. */
export function validateAnnotationKeys(owner: string, prop: string, annotations: { [key: string]: string }): void {
  for (const [key, value] of Object.entries(annotations)) {
    if (!isQualifiedKey(key)) {
      throw invalidProp(owner, `${prop} key`, key, KEY_RULE);
    }
    if (typeof value !== 'string') {
      throw invalidProp(owner, `${prop}["${key}"]`, value, 'an annotation value is a string.');
    }
  }
}

/** Throws unless `duration` is a whole number of seconds, at least one. */
export function validatePositiveDuration(owner: string, prop: string, duration: Duration): void {
  // Duration.toSeconds() throws on fractions; read milliseconds so the error names the prop.
  const seconds = duration.toMilliseconds() / 1000;
  if (!Number.isInteger(seconds) || seconds < 1) {
    throw invalidProp(owner, prop, `${seconds}s`, 'it must be a whole number of seconds, at least one.');
  }
}

/**
 * Normalises and checks writable paths: absolute, without "..", not "/" itself, each once ("/a/" and
 * "/a" are one directory, and a container cannot mount two volumes on one path).
 */
export function validateWritablePaths(owner: string, prop: string, paths: string[]): string[] {
  for (const path of paths) {
    validateAbsolutePath(owner, prop, path);
  }
  const normalized = paths.map((path) => path.replace(/(.)\/+$/, '$1'));
  const duplicate = normalized.find((path, i) => normalized.indexOf(path) !== i);
  if (duplicate !== undefined) {
    throw invalidProp(owner, prop, duplicate, 'each path is listed once: a container cannot mount two volumes on one path.');
  }
  return normalized;
}

/** Throws unless `path` is an absolute path without "..", and not "/" itself. */
export function validateAbsolutePath(owner: string, prop: string, path: string): void {
  if (typeof path !== 'string' || !/^\/[^\0]*[^/]\/*$/.test(path) || path.split('/').includes('..')) {
    throw invalidProp(owner, prop, path, 'it must be an absolute path without "..", and not "/" itself.');
  }
}

/** Throws when a request is above its limit: the API server rejects such a container. */
export function validateResources(owner: string, prop: string, resources: kplus.ContainerResources | undefined): void {
  const millicores = (cpu?: kplus.Cpu) => {
    if (cpu === undefined) {
      return undefined;
    }
    const amount = String(cpu.amount);
    return amount.endsWith('m') ? Number(amount.slice(0, -1)) : Number(amount) * 1000;
  };
  const kibibytes = (size?: Size) => size?.toKibibytes({ rounding: SizeRoundingBehavior.NONE });
  const pairs: Array<[string, number | undefined, number | undefined, string?, string?]> = [
    ['cpu', millicores(resources?.cpu?.request), millicores(resources?.cpu?.limit), resources?.cpu?.request?.amount, resources?.cpu?.limit?.amount],
    ['memory', kibibytes(resources?.memory?.request), kibibytes(resources?.memory?.limit), resources?.memory?.request?.asString(), resources?.memory?.limit?.asString()],
    ['ephemeralStorage', kibibytes(resources?.ephemeralStorage?.request), kibibytes(resources?.ephemeralStorage?.limit),
      resources?.ephemeralStorage?.request?.asString(), resources?.ephemeralStorage?.limit?.asString()],
  ];
  for (const [kind, request, limit, requestText, limitText] of pairs) {
    if (request !== undefined && limit !== undefined && request > limit) {
      throw invalidProp(owner, `${prop}.${kind}`, { request: requestText, limit: limitText },
        `the request ${requestText} is above the limit ${limitText}, which the API server rejects ("must be less than or equal to ${kind} limit"). `
        + 'Lower the request or raise the limit.');
    }
  }
}

/**
 * Checks environment variable names: `=` and non-printable characters are refused by every API
 * server; a name that is not a C identifier (with `-` and `.`), such as `1BAD` or `MY VAR`, is
 * refused by API servers before 1.32 and accepted from 1.32 on (RelaxedEnvironmentVariableValidation),
 * so it is returned as a warning.
 */
export function validateEnvNames(owner: string, prop: string, names: string[]): string[] {
  const warnings: string[] = [];
  for (const name of names) {
    if (name.length === 0 || name.includes('=') || !/^[\x20-\x7e]+$/.test(name)) {
      throw invalidProp(owner, `${prop} key`, name,
        'an environment variable name is one or more printable ASCII characters other than "=" (before Kubernetes 1.32: letters, digits, "_", "-" and ".", not starting with a digit).');
    }
    if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) {
      warnings.push(`${prop} "${name}" is not a valid environment variable name for API servers before Kubernetes 1.32 `
        + '(letters, digits, "_", "-" and ".", not starting with a digit), which reject the whole object; 1.32 and later accept it. '
        + 'Rename it unless every cluster you deploy to runs 1.32 or later.');
    }
  }
  return warnings;
}
