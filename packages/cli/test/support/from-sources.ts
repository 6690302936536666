/**
 * How the tests run the command as a process: its entry from the sources, through ts-node, with the
 * library (`cdk8s-migrated-service`, `cdk8s-migrated-service/lib/...`) read from the library's
 * sources by the paths of test/tsconfig.json, as jest's moduleNameMapper does in process.
 */
import { join } from 'path';

/** The CLI package's folder (packages/cli). */
export const PACKAGE = join(__dirname, '..', '..');
/** The repository root: the library, the docs, the examples. */
export const REPO = join(PACKAGE, '..', '..');
/** The bin's entry point. */
export const CLI = join(PACKAGE, 'src', 'cli.ts');
/** Node's arguments that load TypeScript sources and map the library's name onto its sources. */
export const NODE_ARGS = ['-r', require.resolve('ts-node/register/transpile-only'), '-r', require.resolve('tsconfig-paths/register')];
/** The environment those arguments read their settings from. */
export const NODE_ENV = { TS_NODE_PROJECT: join(PACKAGE, 'test', 'tsconfig.json') };
