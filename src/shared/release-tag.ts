/**
 * Tags that move from build to build: an image tagged with one of them names a branch or a
 * channel, not a release. Compared without case (`Latest` moves as much as `latest`).
 */
const MOVING_TAGS = new Set(['latest', 'stable', 'main', 'master', 'trunk', 'head', 'dev', 'develop', 'development',
  'edge', 'nightly', 'current', 'staging', 'prod', 'production']);

/**
 * Whether `tag` identifies one release: it does not end in a moving tag such as `latest` or
 * `main` (in any case), and one of its `-`, `.` or `_`-separated parts carries a version number (a
 * digit) or is a commit SHA (7 to 40 hex digits, which can happen to contain no decimal digit).
 *
 * The constructs refuse any other image tag, and `lint` applies the same test to the release part
 * of a waited-for Job's name (MS001), so that the two agree.
 */
export function identifiesRelease(tag: string): boolean {
  const parts = tag.toLowerCase().split(/[-._]/);
  return !MOVING_TAGS.has(parts[parts.length - 1])
    && parts.some((part) => /[0-9]/.test(part) || /^[0-9a-f]{7,40}$/.test(part));
}

// Words that name a channel, not a release: `stable-1` or `latest-2` is the channel's line 1 or 2,
// re-pointed at every release of it.
const CHANNEL_WORDS = new Set([...MOVING_TAGS, 'canary', 'rolling', 'lts', 'snapshot']);

// A part that only one build carries: a commit SHA (7 to 40 hex digits), a full version
// (`1.2.3`, `v1.2286938253.0`, `2024.06.01`), or a run of 3 digits or more (a CI build number, a
// date such as `20240601`).
const UNIQUE_PART = /^(?:[0-9a-f]{7,40}|v?\d+(?:\.\d+){2,}.*|.*\d{3,}.*)$/;

// A version that releases move forward: a bare major (`2`, `v2`, at most 2 digits: a longer number
// is more likely a build number) or a major.minor (`1.4`, `v1.4`, `2.x`).
const MOVING_VERSION = /^v?(?:\d{1,2}|\d{1,3}\.(?:\d{1,3}|x))$/;

// An image variant after the version: `alpine`, `slim`, `bookworm`, `alpine3.22`, `jdk17`. A
// pre-release (`rc1`, `beta.2`) names one build, not a variant.
const VARIANT = /^[a-z]+[0-9.]*$/;
const PRE_RELEASE = /^(?:rc|alpha|beta|pre|preview|build|b|a|r|p)\.?\d+$/;

/**
 * Why `tag`, though it names a release (`identifiesRelease`), conventionally moves: a bare major
 * (`v2`, `2`), a major.minor (`1.4`, `v1.4-alpine`), a Maven `-SNAPSHOT`, or a channel with a line
 * number (`stable-1`, `latest-2`, `nightly-3`). A registry re-points such a tag at every later
 * release of that line, so the Job name derived from it is the same for all of them, and `kubectl
 * apply` and Flux leave the first Job in place: later migrations are skipped. Undefined for a tag
 * that names one build: a full version (`v1.2.3`, `1.2.3-rc.1`), a commit SHA, a date, a build
 * number.
 *
 * The constructs warn (MS105), and `lint` reports the migration Job of such a tag (MS001 at warning).
 */
export function conventionallyMoves(tag: string): string | undefined {
  if (!identifiesRelease(tag)) {
    return undefined;
  }
  const lower = tag.toLowerCase();
  if (/(?:^|[-._])snapshot$/.test(lower)) {
    return `"${tag}" is a -SNAPSHOT tag, which by convention is rebuilt and re-pushed until the release`;
  }
  const parts = lower.split(/[-_]/);
  if (parts.some((part) => UNIQUE_PART.test(part))) {
    return undefined;
  }
  if (MOVING_VERSION.test(parts[0]) && parts.slice(1).every((part) => VARIANT.test(part) && !PRE_RELEASE.test(part))) {
    return `"${tag}" is a bare major or a major.minor, which by convention is re-pointed at each new release of that line`;
  }
  const channel = parts.flatMap((part) => part.split('.')).find((word) => CHANNEL_WORDS.has(word));
  if (channel !== undefined) {
    return `"${tag}" names the channel "${channel}", which by convention is re-pointed at each new release`;
  }
  return undefined;
}
