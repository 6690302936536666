import { readFileSync } from 'fs';
import { join } from 'path';

let script: string | undefined;

/**
 * The text of `waiter/migration-waiter.js` as it goes into the `migration-waiter` ConfigMap, as it
 * is: the bundle of the program's TypeScript (src/program, `npx projen bundle:program`), whose
 * comments esbuild has dropped. The why-comments stay in src/program; every ConfigMap carries only
 * the code.
 *
 * Read relative to this module, which sits two levels below the package root both as
 * `src/constructs/*.ts` (tests) and as `lib/constructs/*.js` (the published package), where
 * `waiter/` ships too.
 */
export function migrationWaiterScript(): string {
  script = script ?? readFileSync(join(__dirname, '..', '..', 'waiter', 'migration-waiter.js'), 'utf8');
  return script;
}
