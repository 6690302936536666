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
