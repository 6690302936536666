/**
 * The repository stands alone: its tests, scripts and tasks read nothing outside it, so that
 * `npm ci && npx projen test` passes on any clone, whatever lies beside it. Data the tests need (the
 * recordings of a real API server, the vendored k8s-wait-for) is committed under test/. .ci/run
 * proves the same by running in a clone whose parent folder holds nothing else.
 */
import { execFileSync } from 'child_process';
import { readFileSync } from 'fs';
import { dirname, join, relative, resolve } from 'path';

const REPO = join(__dirname, '..');

/** Where the sources, tests, scripts and tasks live (tracked files only, as a clone has them). */
const SCANNED = /^(src|test|bench|projenrc|examples|\.ci|packages\/[^/]+\/(src|test))\/|^\.projenrc\.ts$|^\.projen\/tasks\.json$|^packages\/[^/]+\/\.projen\/tasks\.json$/;
/**
 * Not scanned: test data copied verbatim from elsewhere, and the tests whose strings are examples
 * of the paths such a check finds (what they say is not a path anything reads).
 */
const NOT_SCANNED = /^test\/fixtures\/|^test\/self-contained\.test\.ts$|^test\/architecture\.test\.ts$/;
const TEXT = /\.(ts|js|json|sh|ya?ml)$|^\.ci\/[^/.]+$/;

/**
 * The places in `text`, the text of the repository's file `file`, that reach outside the
 * repository: a relative path or a `join(__dirname, '..', …)` that climbs above its root, the folder
 * beside it the recordings came from, and the absolute paths of the machines it was written on.
 */
export function outsideReferences(file: string, text: string): string[] {
  const dir = dirname(join(REPO, file));
  const outside = (path: string) => relative(REPO, resolve(dir, path)).startsWith('..');
  const named = [...text.matchAll(/\.\.\/shared\/k8s-api|'shared',\s*'k8s-api'|\/work\/(?:shared|main|wt)\b|\/home\/[a-z][\w-]*\//g)].map((m) => m[0]);
  // .projenrc.ts writes relative paths into the config files it generates, relative to those.
  if (!file.endsWith('.ts') || file === '.projenrc.ts') {
    return named;
  }
  const relativePaths = [...text.matchAll(/'(\.\.?\/[^'\s]*)'/g)].filter((m) => outside(m[1])).map((m) => m[0]);
  const climbs = [...text.matchAll(/\b(?:join|resolve)\(\s*__dirname((?:\s*,\s*'\.\.')+)/g)]
    .filter((m) => outside(m[1].split(',').slice(1).map(() => '..').join('/'))).map((m) => m[0]);
  return [...named, ...relativePaths, ...climbs];
}

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: REPO, encoding: 'utf8' }).split('\0')
    .filter((file) => SCANNED.test(file) && !NOT_SCANNED.test(file) && TEXT.test(file));
}

describe('the repository stands alone', () => {
  test('GIVEN every tracked source, test, script and task THEN none reads a path outside the repository', () => {
    const files = trackedFiles();
    // (the scan covers the parts where such a path would be read)
    for (const part of ['src/', 'test/', 'packages/cli/src/', 'packages/cli/test/', '.ci/run', '.projenrc.ts', '.projen/tasks.json', 'projenrc/', 'bench/']) {
      expect(files.some((file) => file.startsWith(part))).toBe(true);
    }
    const found = files.flatMap((file) => outsideReferences(file, readFileSync(join(REPO, file), 'utf8')).map((ref) => `${file}: ${ref}`));
    expect(found).toEqual([]);
  });

  test('GIVEN a path that climbs out of the repository WHEN scanned THEN it is found', () => {
    // The check must be able to fail, in each form such a path took or could take.
    const support = 'test/support/recordings.ts';
    expect(outsideReferences(support, "const dir = join(__dirname, '..', '..', '..', 'shared', 'k8s-api', 'recordings');"))
      .toEqual(["'shared', 'k8s-api'", "join(__dirname, '..', '..', '..'"]);
    expect(outsideReferences(support, "const dir = join(__dirname, '..', '..', '..', 'shared');")).toEqual(["join(__dirname, '..', '..', '..'"]);
    expect(outsideReferences(support, "readFileSync('../../../shared/notes.md')")).toEqual(["'../../../shared/notes.md'"]);
    expect(outsideReferences('.ci/run', 'ls ../shared/k8s-api/recordings')).toEqual(['../shared/k8s-api']);
    expect(outsideReferences('.ci/run', 'cp /work/shared/k8s-api/README.md .')).toEqual(['/work/shared']);
    // AND what stays inside is not: the root from test/support, a sibling part of src/, the CLI's way to the root's tests
    expect(outsideReferences(support, "join(__dirname, '..', '..', 'package.json'); join(__dirname, '..', 'fixtures', 'k8s-api', 'recordings');")).toEqual([]);
    expect(outsideReferences('src/constructs/x.ts', "import { x } from '../shared/names';")).toEqual([]);
    expect(outsideReferences('packages/cli/test/x.test.ts', "import { y } from '../../../test/support/fake-api-server';")).toEqual([]);
  });

  test('GIVEN the recordings of the real API server THEN they are committed under test/fixtures, with their README', () => {
    const files = execFileSync('git', ['ls-files', 'test/fixtures/k8s-api'], { cwd: REPO, encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(files).toContain('test/fixtures/k8s-api/README.md');
    expect(files.filter((file) => file.startsWith('test/fixtures/k8s-api/recordings/') && file.endsWith('.json')).length).toBeGreaterThanOrEqual(20);
  });
});
