/**
 * migration-waiter: the program behind MigrationWaiter's default waiter, one mode per module.
 * It runs from the official node image as `node /opt/migration-waiter/migration-waiter.js <mode>`,
 * so it uses Node >= 18 built-ins only and imports nothing outside this folder. The build bundles
 * it into one CommonJS file, `waiter/migration-waiter.js` (`npx projen bundle:program`), which the
 * construct writes once per namespace in the ConfigMap `migration-waiter`. See README.md here.
 */
import { connect } from './api';
import { count } from './config';
import { waitForJob } from './job';
import { ledgerEntry, withEntry } from './ledger';
import { finish, finished } from './log';
import { waitForTurn } from './queue';
import { recordSuccess } from './record';
import { contact, retryDelayMs, setGraceMs } from './retry';
import { rolloutProgress, waitForRollout } from './rollout';

/**
 * The modes, by the program's first argument. A new mode is one entry here and one module.
 * job:     wait for this release's migration Job (init container of each gated pod)
 * record:  record the migration's success in the ledger ConfigMap (in the migration Job's pod)
 * rollout: wait until workloads have rolled out this release (before a post-deploy migration)
 * queue:   wait until no other release's migration runs or goes first (before every migration)
 */
const MODES = new Map<string, () => Promise<void>>([
  ['job', waitForJob],
  ['record', recordSuccess],
  ['rollout', waitForRollout],
  ['queue', waitForTurn],
]);

/** `a, b or c` */
function alternatives(words: string[]): string {
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}` : words.join('');
}

function main(): void {
  // In a container this process is PID 1, and the kernel drops signals that PID 1 has no handler
  // for: without these, deleting the pod waits out its whole grace period.
  process.on('SIGTERM', () => process.exit(143));
  process.on('SIGINT', () => process.exit(130));
  // `node -e <text> <mode>` puts the mode at argv[1]; `node migration-waiter.js <mode>` at argv[2].
  const mode = process.argv[__filename === '[eval]' ? 1 : 2];
  const run = MODES.get(mode);
  if (!run) {
    void finish(2, `unknown mode ${JSON.stringify(mode)}: the first argument must be ${alternatives([...MODES.keys()])}`);
    return;
  }
  setGraceMs(count('WAITER_GRACE_SECONDS', 60, 0) * 1000);
  if (finished()) return;
  if (!connect()) return;
  contact();
  run().catch((err) => finish(1, `unexpected error: ${err && err.stack ? err.stack.replace(/\n\s*/g, ' | ') : err}`));
}

// Loaded as a module (by a test), it only defines its helpers. A plain `module.exports` rather than
// `export`: esbuild would add its ESM interop helpers to the bundle for the latter.
module.exports = { rolloutProgress, withEntry, ledgerEntry, retryDelayMs };
if (require.main === module || __filename === '[eval]') main();
