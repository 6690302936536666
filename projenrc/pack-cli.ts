/**
 * Packs the command line (packages/cli) into dist/js next to the library, at the library's version:
 * `npx projen package` runs it after jsii-pacmak. In the repository both packages are at the version
 * projen keeps in development (0.0.0) and npm links the library from the workspace; the packed
 * package.json says, in plain semver, which library it runs with: the one released with it.
 *
 * With `--sync-version` it writes the library's version into packages/cli/package.json instead, for
 * the CLI and its dependency on the library: the release's bump and unbump run it after they set
 * the root's version, so that the CLI's tests see one version during a release build too.
 */
import { execFileSync } from 'child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

const ROOT = join(__dirname, '..');
export const CLI_DIR = join(ROOT, 'packages', 'cli');

/** What a user of the packed CLI sees: the library's version, for the CLI itself and its dependency on the library. */
export function releasedCliManifest(library: any, cli: any): any {
  const { devDependencies, scripts, jest, ...manifest } = cli;
  if (!(library.name in (cli.dependencies ?? {}))) {
    throw new Error(`packages/cli/package.json does not depend on ${library.name}: the CLI runs with the library released with it`);
  }
  return {
    ...manifest,
    version: library.version,
    dependencies: { ...cli.dependencies, [library.name]: library.version },
  };
}

function readJson(file: string): any {
  return JSON.parse(readFileSync(file, 'utf8'));
}

function syncVersion(): void {
  const library = readJson(join(ROOT, 'package.json'));
  const file = join(CLI_DIR, 'package.json');
  const cli = readJson(file);
  cli.version = library.version;
  cli.dependencies[library.name] = library.version;
  writeFileSync(file, JSON.stringify(cli, undefined, 2) + '\n');
}

function main(): void {
  const library = readJson(join(ROOT, 'package.json'));
  const manifest = releasedCliManifest(library, readJson(join(CLI_DIR, 'package.json')));
  const staging = mkdtempSync(join(tmpdir(), 'cli-pack-'));
  try {
    for (const entry of ['lib', 'README.md', 'LICENSE', '.npmignore']) {
      cpSync(join(CLI_DIR, entry), join(staging, entry), { recursive: true });
    }
    writeFileSync(join(staging, 'package.json'), JSON.stringify(manifest, undefined, 2) + '\n');
    const out = join(ROOT, 'dist', 'js');
    mkdirSync(out, { recursive: true });
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: staging, encoding: 'utf8' }));
    console.log(`packed ${packed.filename}: ${packed.entryCount} files, depends on ${library.name}@${manifest.dependencies[library.name]}`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (require.main === module) {
  if (process.argv.includes('--sync-version')) {
    syncVersion();
  } else {
    main();
  }
}
