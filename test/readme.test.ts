import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as cdk8s from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import * as ts from 'typescript';
import { lint } from '../packages/cli/src/lint/lint';
import { parseManifests } from '../packages/cli/src/lint/load';
import * as library from '../src';

/** What the README's snippets may import; the package name resolves to this checkout. */
const MODULES: Record<string, unknown> = { 'cdk8s': cdk8s, 'cdk8s-plus-28': kplus, 'cdk8s-migrated-service': library };

const REPO = path.join(__dirname, '..');
const README = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');

/** The README and the reference moved out of it, by path relative to the repository. */
const DOCS: Record<string, string> = Object.fromEntries([
  'README.md',
  ...fs.readdirSync(path.join(REPO, 'docs')).filter((file) => file.endsWith('.md')).sort().map((file) => `docs/${file}`),
].map((file) => [file, fs.readFileSync(path.join(REPO, file), 'utf8')]));

/**
 * A TypeScript block of the README or docs/*.md, as the tests run it. A block that is not a whole
 * program (a fragment, or one that uses names it does not define) has a hidden harness right above
 * its fence, an HTML comment that GitHub and npm do not render (docs/development.md, "Snippets"):
 *
 *   <!-- snippet
 *   import ...; const app = new App(); ...        (the prelude: imports and the names it uses)
 *   // --- the snippet ---
 *   app.synth();                                   (the epilogue)
 *   -->
 */
interface Snippet {
  readonly where: string;
  /** The block's code, as the reader sees it. */
  readonly code: string;
  /** What runs: the block inside its harness, if it has one. */
  readonly source: string;
  readonly hasHarness: boolean;
}

const SNIPPET_MARK = '// --- the snippet ---';

/** Every ```ts block of the README and docs/*.md. */
function snippets(): Snippet[] {
  // A block quoted inside a four-backtick fence (an example of the convention) is not one to run.
  const unquoted = (text: string) => text.replace(/^````[\s\S]*?^````/gm, (quoted) => quoted.replace(/[^\n]/g, ''));
  return Object.entries(DOCS).flatMap(([file, text]) => [...unquoted(text).matchAll(/(?:^<!-- snippet\n([\s\S]*?)-->\n)?^```ts\b[^\n]*\n([\s\S]*?)^```/gm)].map((match) => {
    const where = `${file}:${text.slice(0, match.index).split('\n').length}`;
    const harness = match[1];
    if (harness === undefined) {
      return { where, code: match[2], source: match[2], hasHarness: false };
    }
    const [prelude, epilogue] = harness.split(`${SNIPPET_MARK}\n`);
    if (epilogue === undefined) {
      throw new Error(`${where}: the snippet harness above the block has no "${SNIPPET_MARK}" line`);
    }
    return { where, code: match[2], source: `${prelude}${match[2]}${epilogue}`, hasHarness: true };
  }));
}

/** The TypeScript blocks of the README and docs/*.md that are whole programs (they import the package). */
function programSnippets(): string[] {
  return snippets().filter((snippet) => !snippet.hasHarness && snippet.code.includes("from 'cdk8s-migrated-service'")).map((snippet) => snippet.code);
}

/** Runs a snippet as a user would, with the package name resolved to this checkout. */
function runSnippet(code: string, env: Record<string, string>, outdir: string): void {
  const { outputText } = ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  const localRequire = (id: string) => {
    if (!(id in MODULES)) {
      throw new Error(`the README snippet imports ${id}, which this test does not provide`);
    }
    return MODULES[id];
  };
  const saved = { ...process.env };
  Object.assign(process.env, env, { CDK8S_OUTDIR: outdir });
  try {
    new Function('require', 'exports', outputText)(localRequire, {});
  } finally {
    process.env = saved;
  }
}

test('the README has a usage snippet and a "Gating more workloads" snippet, the whole programs of README and docs', () => {
  expect(programSnippets()).toHaveLength(2);
  expect(programSnippets().every((code) => README.includes(code))).toBe(true);
});

test('every TypeScript block of README and docs is a whole program or has a harness, so that the next test runs it', () => {
  const all = snippets();
  expect(all.length).toBeGreaterThanOrEqual(6);
  expect(all.filter((snippet) => !snippet.hasHarness && !/\bapp\.synth\(\)/.test(snippet.code)).map((snippet) => snippet.where)).toEqual([]);
});

describe.each(snippets().map((snippet) => [snippet.where, snippet] as const))('the TypeScript block at %s', (_where, snippet) => {
  test('synthesizes with strict warnings on, as the README recommends for CI: no warning is left unacknowledged', () => {
    // GIVEN the block, verbatim, in its harness if it has one, and a tag in IMAGE_TAG
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'snippet-'));
    // WHEN it runs with CDK8S_MIGRATED_SERVICE_STRICT_WARNINGS=true THEN no warning fails the synth
    runSnippet(snippet.source, { IMAGE_TAG: 'v1.2.3', CDK8S_MIGRATED_SERVICE_STRICT_WARNINGS: 'true' }, outdir);
    // AND it wrote manifests
    const manifests = fs.readdirSync(outdir).flatMap((file) => cdk8s.Yaml.load(path.join(outdir, file)));
    expect(manifests.length).toBeGreaterThan(0);
  });
});

test('the harness catches a warning: the README\'s "Gating more workloads" snippet with the progress deadline it used to give fails under strict warnings', () => {
  const program = programSnippets()[1];
  expect(program).toContain('progressDeadline: migration.progressDeadline');
  const old = program.replace(/progressDeadline: migration\.progressDeadline/g, 'progressDeadline: Duration.minutes(70)')
    .replace("import { App, Chart, Cron } from 'cdk8s';", "import { App, Chart, Cron, Duration } from 'cdk8s';");
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'snippet-'));
  expect(() => runSnippet(old, { IMAGE_TAG: 'v1.2.3', CDK8S_MIGRATED_SERVICE_STRICT_WARNINGS: 'true' }, outdir)).toThrow(/MS102/);
});

/** GitHub's anchor for a heading. */
function anchorsOf(text: string): Set<string> {
  const outsideFences = text.replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...outsideFences.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-')));
}

const BLOB = 'https://github.com/cdk8s-migrated-service/cdk8s-migrated-service/blob/main/';

test.each(Object.keys(DOCS))('every link of %s into the repository resolves to a file, and to a heading of it', (file) => {
  // GIVEN the links of the file: relative ones, and absolute ones to this repository's main branch
  const links = [...DOCS[file].replace(/^```[\s\S]*?^```/gm, '').matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
  const broken: string[] = [];
  for (const link of links) {
    if (/^https?:/.test(link) && !link.startsWith(BLOB)) continue;
    const [target, anchor] = link.split('#');
    const resolved = link.startsWith(BLOB) ? target.slice(BLOB.length) : target === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), target));
    // WHEN it is followed THEN the file exists, and a Markdown target has the heading
    if (!fs.existsSync(path.join(REPO, resolved))) {
      broken.push(`${link} (no file ${resolved})`);
    } else if (anchor && resolved.endsWith('.md') && !anchorsOf(fs.readFileSync(path.join(REPO, resolved), 'utf8')).has(anchor)) {
      broken.push(`${link} (no heading #${anchor} in ${resolved})`);
    }
  }
  expect(broken).toEqual([]);
});

test('the README links to docs/ by absolute URL, so the links resolve from the npm package too', () => {
  expect(README.match(/\]\((\.\/)?docs\/[^)]*\)/g) ?? []).toEqual([]);
  expect(README).toContain(`](${BLOB}docs/props.md)`);
});

/** Runs a snippet with IMAGE_TAG set and returns what it wrote, by file. */
function synthSnippet(index: number, imageTag: string): { files: string[]; manifests: any[] } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-'));
  runSnippet(programSnippets()[index], { IMAGE_TAG: imageTag }, outdir);
  const files = fs.readdirSync(outdir);
  return { files, manifests: files.flatMap((file) => cdk8s.Yaml.load(path.join(outdir, file))) };
}

test('the README usage snippet synthesizes the pattern', () => {
  // GIVEN the README's snippet and a tag in IMAGE_TAG, as the pipeline sets it
  // WHEN it runs
  const { files, manifests } = synthSnippet(0, 'v1.2286938253.0');
  // THEN it writes the Job, and the Deployment whose init container waits for it
  expect(files).toEqual(['myapp.k8s.yaml']);
  const job = manifests.find((m: any) => m.kind === 'Job');
  const deployment = manifests.find((m: any) => m.kind === 'Deployment');
  expect(job.metadata.name).toMatch(/^myapp-migration-v1-2286938253-0-[0-9a-f]{10}$/);
  const waiterEnv = deployment.spec.template.spec.initContainers[0].env;
  expect(waiterEnv).toContainEqual({ name: 'MIGRATION_JOB', value: job.metadata.name });
  // after its turn has come (wait-for-turn), the migration
  expect(job.spec.template.spec.initContainers.map((c: any) => c.name)).toEqual(['wait-for-turn', 'migrate']);
  expect(job.spec.template.spec.initContainers[1].command).toEqual(['npx', 'prisma', 'migrate', 'deploy']);
});

test('the README usage snippet fails clearly without IMAGE_TAG', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-'));
  expect(() => runSnippet(programSnippets()[0], { IMAGE_TAG: '' }, outdir)).toThrow(/IMAGE_TAG is set but empty/);
});

test('the README "Gating more workloads" snippet holds the web, worker and CronJob pods until the Job has succeeded', () => {
  // GIVEN the snippet and a tag
  // WHEN it runs
  const { manifests } = synthSnippet(1, 'v1.2.3');
  const job = manifests.find((m: any) => m.kind === 'Job');
  expect(job.metadata.name).toBe('shop-migration-v1-2-3-e3cad1a6f9');
  // THEN each workload's first init container waits for that Job, and the Job precedes it
  for (const [kind, name] of [['Deployment', 'shop-web'], ['Deployment', 'shop-worker'], ['CronJob', 'shop-nightly']]) {
    const workload = manifests.find((m: any) => m.kind === kind && m.metadata.name === name);
    const pod = kind === 'CronJob' ? workload.spec.jobTemplate.spec.template.spec : workload.spec.template.spec;
    expect(pod.initContainers[0].env).toContainEqual({ name: 'MIGRATION_JOB', value: job.metadata.name });
    expect(manifests.indexOf(job)).toBeLessThan(manifests.indexOf(workload));
  }
});

test.each([0, 1])('README program snippet %i synthesizes and lints clean, at every severity', (index) => {
  // GIVEN the snippet, verbatim, and a tag
  // WHEN it runs
  const { manifests } = synthSnippet(index, 'v1.2.3');
  // THEN lint finds nothing in what it wrote, not even an info
  const yaml = manifests.map((m) => cdk8s.Yaml.stringify(m)).join('---\n');
  const result = lint(parseManifests(yaml, 'snippet.yaml'), { threshold: 'info', disabled: new Map() });
  expect(result.findings.map((f) => `${f.rule.id}: ${f.message}`)).toEqual([]);
});

test('links to the repository\'s examples and benchmark results are absolute, so they resolve from the npm package too', () => {
  // examples/, bench/ and src/ are not in the package (addPackageIgnore), so a relative link breaks on npmjs.com
  // (docs/ is in the package: its links follow the same rule)
  for (const text of Object.values(DOCS)) {
    expect(text.match(/\]\((\.\.?\/)*(examples|bench|src)\b[^)]*\)/g) ?? []).toEqual([]);
  }
  expect(Object.values(DOCS).join('\n')).toMatch(/\]\(https:\/\/github\.com\/cdk8s-migrated-service\/cdk8s-migrated-service\/blob\/main\/bench\/RESULTS\.md/);
});

test('the first command after install synthesizes the example without the full build, and CI runs the installed bin', () => {
  const firstShell = README.match(/```sh\n([\s\S]*?)```/g)!.map((block) => block.replace(/```(sh)?\n?/g, '')).find((block) => block.includes('npm ci'))!;
  expect(firstShell).toMatch(/^npm ci && IMAGE_TAG=\S+ npx projen synth:example\b/);
  expect(firstShell).not.toMatch(/projen build/);
  expect(README.indexOf('## Install')).toBeLessThan(README.indexOf('## Usage'));
  expect(README).not.toMatch(/npx --yes cdk8s-migrated-service/);
  expect(README).toMatch(/npx cdk8s-migrated-service-cli lint rendered\.yaml/);
});
