import { readFileSync } from 'fs';
import { join } from 'path';

let version: string | undefined;

/**
 * The version of this library, read from its package.json at synth: the published package's
 * version, or `0.0.0` in a development checkout, where projen writes that placeholder and the
 * release sets the real one.
 *
 * Read relative to this module, which sits two levels below the package root both as
 * `src/constructs/*.ts` (tests) and as `lib/constructs/*.js` (the published package).
 */
export function libraryVersion(): string {
  version = version ?? JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
  return version!;
}
