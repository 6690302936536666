import { readFileSync } from 'fs';
import { join } from 'path';

let script: string | undefined;

/**
 * The text of `waiter/migration-waiter.js` as it goes into a pod spec (`node -e <text> <mode>`):
 * without comment-only lines and blank lines, each line without trailing whitespace. The program
 * keeps its why-comments in the repository; every gated pod spec carries only the code.
 *
 * Read relative to this module, which sits one level below the package root both as `src/*.ts`
 * (tests) and as `lib/*.js` (the published package), where `waiter/` ships too.
 */
export function migrationWaiterScript(): string {
  if (script === undefined) {
    const source = readFileSync(join(__dirname, '..', 'waiter', 'migration-waiter.js'), 'utf8');
    script = source
      .split('\n')
      .map((line) => line.trimEnd())
      .filter((line) => line.trim() !== '' && !line.trim().startsWith('//'))
      .join('\n') + '\n';
  }
  return script;
}
