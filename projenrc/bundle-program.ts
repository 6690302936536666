/**
 * Bundles the in-pod program (src/program, TypeScript) into the one CommonJS file that the
 * constructs write into the `migration-waiter` ConfigMap: `npx projen bundle:program`. The build
 * runs it before compiling, testing and synthesizing, and test/program/bundle.test.ts fails when the
 * file is not what these options make of src/program.
 */
import { mkdirSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { buildSync } from 'esbuild';

/** The program's entry, relative to the repository root. */
export const PROGRAM_ENTRY = 'src/program/main.ts';

/** The bundle, where the constructs read it (src/constructs/waiter-script.ts) and the npm package ships it. */
export const PROGRAM_BUNDLE = 'waiter/migration-waiter.js';

const HEADER = '// Generated from src/program by `npx projen bundle:program`: edit the TypeScript there, not this file.';

/** The bundle's text, made from the sources under `root`. */
export function bundleProgram(root: string = join(__dirname, '..')): string {
  const result = buildSync({
    absWorkingDir: root,
    entryPoints: [PROGRAM_ENTRY],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    // The official node image of the waiter may be any Node >= 18.
    target: 'node18',
    // Every chart carries the program in a ConfigMap, and a GitOps diff shows it: minified, it is
    // a few lines, not hundreds (bench/RESULTS.md). Names of functions and classes are kept, so a
    // stack trace still names where it failed; the error messages are strings and stay as written.
    // The source to read is src/program; the annotations on the ConfigMap name the library version
    // and the program's SHA-256.
    minify: true,
    keepNames: true,
    // Comments stay in src/program; every pod spec carries only the code.
    legalComments: 'none',
    charset: 'utf8',
    // No template literals: esbuild writes them as string concatenation, so the program holds no
    // `${` (it had 182). Flux's post-build substitution (envsubst) reads every `${` in a
    // Kustomization's objects as a variable and fails the whole build on one it cannot parse
    // ("variable substitution failed: missing closing brace"), or replaces it with a user's value.
    // Without them the ConfigMap survives substitution as it is, and needs no opt-out annotation.
    // About 7% more bytes (test/flux-substitution.test.ts checks every object the library emits).
    supported: { 'template-literal': false },
    banner: { js: HEADER },
    write: false,
    logLevel: 'warning',
  });
  return result.outputFiles[0].text;
}

if (require.main === module) {
  const root = join(__dirname, '..');
  // A fresh clone has no waiter/ folder: the bundle is all it holds, and it is not committed.
  mkdirSync(dirname(join(root, PROGRAM_BUNDLE)), { recursive: true });
  writeFileSync(join(root, PROGRAM_BUNDLE), bundleProgram(root));
}
