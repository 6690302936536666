import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import '@microsoft/jest-sarif';
import { FIXTURES, lintFiles, lintText, ruleIds } from './support';
import { main } from '../../src/cli';
import { EXIT_CLEAN, EXIT_FINDINGS, EXIT_UNUSABLE, Io } from '../../src/lint/cli';
import { ruleAnchor, ruleHelpUri, RULES, RULES_DOC_URL } from '../../src/lint/rules';
import { CLI, NODE_ARGS, NODE_ENV, PACKAGE, REPO } from '../support/from-sources';

/* eslint-disable @typescript-eslint/no-namespace */
declare global {
  namespace jest {
    interface Matchers<R> {
      toBeValidSarifLog(): R;
    }
  }
}
/* eslint-enable @typescript-eslint/no-namespace */

const fixture = (...parts: string[]) => path.relative(PACKAGE, path.join(FIXTURES, ...parts));
const CLEAN = fixture('rules', 'clean.yaml');
const HELM = fixture('helm-rendered.yaml');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the command in this process, with `stdin` as standard input. */
async function run(args: string[], stdin = ''): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: Io = { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, readStdin: async () => stdin };
  const cwd = process.cwd();
  process.chdir(PACKAGE);
  try {
    const code = await main(args, io);
    return { code, stdout, stderr };
  } finally {
    process.chdir(cwd);
  }
}

/** Runs the command as a user does: a node process, through its shebang'd entry point. */
function spawn(args: string[], input?: string): Run {
  const result = spawnSync(process.execPath, [...NODE_ARGS, CLI, ...args], {
    cwd: PACKAGE, input, encoding: 'utf8', env: { ...process.env, ...NODE_ENV },
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

describe('exit codes, from a child process', () => {
  test('0 when clean', () => {
    // GIVEN the clean fixture WHEN linted THEN exit 0, nothing on stdout, a count on stderr
    const r = spawn(['lint', CLEAN]);
    expect(r).toMatchObject({ code: EXIT_CLEAN, stdout: '' });
    expect(r.stderr).toBe('5 objects: 0 errors, 0 warnings, 0 infos\n');
  });

  test('1 with findings, read from standard input', () => {
    // GIVEN rendered Helm output piped in, as `helm template ... | lint -`
    const r = spawn(['lint', '-'], fs.readFileSync(path.join(PACKAGE, HELM), 'utf8'));
    // THEN exit 1, findings located in <stdin> with the line of the rendered stream
    expect(r.code).toBe(EXIT_FINDINGS);
    expect(r.stdout).toContain('<stdin>:65: error MS016 Job myapp-migrate-4 is a post-install,post-upgrade hook');
  });

  test('2 on unparseable YAML, with file and line and no stack trace', () => {
    const r = spawn(['lint', fixture('bad', 'unparseable.yaml')]);
    expect(r.code).toBe(EXIT_UNUSABLE);
    expect(r.stderr).toBe(`cdk8s-migrated-service: ${fixture('bad', 'unparseable.yaml')}:9: invalid YAML: missed comma between flow collection entries\n`);
    expect(r.stdout).toBe('');
  });

  test('2 on unparseable YAML, and with --format json a JSON document that carries the error', () => {
    // GIVEN an unparseable file beside one that parses
    const r = spawn(['lint', '--format', 'json', '--severity', 'info', fixture('bad', 'unparseable.yaml'), fixture('rules', 'MS005-positive.yaml')]);
    // THEN exit 2, and stdout is valid JSON with the error, and the findings of the file that parses
    expect(r.code).toBe(EXIT_UNUSABLE);
    const report = JSON.parse(r.stdout);
    expect(report.errors).toEqual([{ file: fixture('bad', 'unparseable.yaml'), line: 9, message: 'invalid YAML: missed comma between flow collection entries' }]);
    expect(report.findings.map((f: any) => f.ruleId)).toEqual(['MS005']);
  });

  test('2 on a missing file, and with --format sarif a valid log that carries the error', () => {
    const r = spawn(['lint', '--format', 'sarif', 'no/such/file.yaml']);
    expect(r.code).toBe(EXIT_UNUSABLE);
    const log = JSON.parse(r.stdout);
    expect(log).toBeValidSarifLog();
    expect(log.runs[0].invocations[0]).toMatchObject({ executionSuccessful: false, toolExecutionNotifications: [{ level: 'error', message: { text: 'no such file or directory' } }] });
  });

  test('the entry point starts with a shebang, so that npm can link it as a bin', () => {
    expect(fs.readFileSync(CLI, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8'));
    expect(pkg.bin).toEqual({ 'cdk8s-migrated-service': 'lib/cli.js' });
    // AND the parsers are ordinary dependencies, which a user can update or override
    expect(pkg.dependencies).toHaveProperty('yaml');
    expect(pkg.bundledDependencies).toBeUndefined();
  });
});

describe('input', () => {
  test('rendered Helm output: # Source: comments and --- separators, findings on the stream\'s lines', () => {
    // GIVEN a helm template stream with a post-install hook Job behind a waiter
    const result = lintFiles([path.join(PACKAGE, HELM)]);
    // THEN the hook traps and the Job's settings are found, each on the line of its field
    expect(result.findings.map((f) => `${f.line} ${f.rule.id}`)).toEqual(['16 MS008', '38 MS015', '65 MS016', '65 MS017', '68 MS014', '69 MS013']);
  });

  test('a List is read item by item, each with its own line', () => {
    const result = lintFiles([path.join(FIXTURES, 'list.yaml')]);
    expect(result.objects).toBe(2);
    expect(result.findings.map((f) => `${f.line} ${f.rule.id} ${f.object.kind}`)).toEqual(['10 MS001 Job', '36 MS007 Deployment', '37 MS012 Deployment']);
  });

  test('several files and directories are one input, in the order given', () => {
    // GIVEN the objects split over three files, read as a directory: deployment.yaml comes first
    const asDirectory = lintFiles([path.join(FIXTURES, 'multi-file')]);
    // THEN the RBAC in another file counts, and the Job after the Deployment is found
    expect(ruleIds(asDirectory)).toEqual(['MS005', 'MS018']);
    // AND given in apply order, the order finding goes
    const inOrder = lintFiles(['rbac.yaml', 'job.yaml', 'deployment.yaml'].map((f) => path.join(FIXTURES, 'multi-file', f)));
    expect(ruleIds(inOrder)).toEqual(['MS005']);
  });

  test('a missing path, an input without Kubernetes objects, and no path at all are unusable', async () => {
    expect(await run(['lint', 'no/such/file.yaml'])).toEqual({ code: EXIT_UNUSABLE, stdout: '', stderr: 'cdk8s-migrated-service: no/such/file.yaml: no such file or directory\n' });
    const empty = await run(['lint', '-'], '');
    expect(empty.code).toBe(EXIT_UNUSABLE);
    expect(empty.stderr).toContain('no Kubernetes object');
    expect((await run(['lint', fixture('bad', 'not-kubernetes.yaml')])).code).toBe(EXIT_UNUSABLE);
    expect((await run(['lint'])).stderr).toContain('no input');
  });

  test('duplicate keys are read as Kubernetes reads them (the last wins) and reported with their line', async () => {
    // GIVEN a repeated key, which Go's YAML decoder (Helm, the API server) accepts
    const r = await run(['lint', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n');
    // THEN the object is read with the last value, and the repeat is a finding, not a refusal
    expect(r.code).toBe(EXIT_FINDINGS);
    expect(r.stdout).toBe('<stdin>:5: warning MS024 ConfigMap b repeats the key "name": only its last value counts '
      + '(fix: remove all but one of the repeated keys, merging what they hold)\n');
  });

  test('a plain scalar in a flow sequence continued at column 0 is read, as Go\'s decoder reads it', () => {
    // GIVEN a rendered template whose long argument list wraps onto lines at column 0
    const text = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n'
      + '      initContainers:\n        - name: wait\n          image: groundnuty/k8s-wait-for:no-root-v2.0\n'
      + '          args: [job-wr,\nweb-migrate-v1, "-n",\nshop]\n          securityContext: {runAsUser: 1100, runAsNonRoot: true}\n'
      + '      containers: [{name: web, image: web:1}]\n';
    // WHEN linted THEN the waiter is read with its arguments, and the missing Job is reported on the line of args
    const result = lintText(text);
    expect(result.findings.map((f) => `${f.line} ${f.rule.id} ${f.message}`)).toEqual([
      '11 MS002 Deployment web (init container wait) waits for Job "web-migrate-v1", which is not in the manifests',
    ]);
  });
});

describe('options', () => {
  test('--severity sets what is reported and what fails', async () => {
    // GIVEN the pattern document's example, whose only info finding is MS021
    const files = ['migration-job.yaml', 'deployment.yaml', 'rbac.yaml'].map((f) => fixture('pattern', f));
    // WHEN linted at each threshold THEN each reports its severities and above
    expect((await run(['lint', '--severity', 'info', ...files])).stdout).toContain(' info MS021 ');
    expect((await run(['lint', ...files])).stdout).not.toContain(' info ');
    const errorsOnly = await run(['lint', '--severity=error', ...files]);
    expect(errorsOnly.stdout.trim().split('\n').map((l) => l.split(' ')[2])).toEqual(['MS007']);
    expect(errorsOnly.code).toBe(EXIT_FINDINGS);
  });

  test('--disable turns rules off, by id or name, and an unknown rule is a usage error', async () => {
    const file = fixture('rules', 'MS005-positive.yaml');
    expect((await run(['lint', file])).code).toBe(EXIT_FINDINGS);
    expect((await run(['lint', '--disable', 'MS005', file])).code).toBe(EXIT_CLEAN);
    expect((await run(['lint', '--disable=waited-job-ttl: Argo CD only', file])).code).toBe(EXIT_CLEAN);
    expect((await run(['lint', '--disable', 'MS013,MS005', file])).code).toBe(EXIT_CLEAN);
    const unknown = await run(['lint', '--disable', 'MS999', file]);
    expect(unknown).toMatchObject({ code: EXIT_UNUSABLE, stdout: '' });
    expect(unknown.stderr).toContain('--disable MS999: no such rule');
  });

  test('an annotation suppresses a rule on its object only with a reason', async () => {
    // GIVEN the annotation with a reason THEN clean; without one THEN the rule and MS023 are reported
    expect((await run(['lint', fixture('rules', 'MS023-negative.yaml')])).code).toBe(EXIT_CLEAN);
    const noReason = await run(['lint', fixture('rules', 'MS023-positive.yaml')]);
    expect(noReason.stdout).toContain('warning MS023 Job myapp-migration-v1-2-3: the suppression of MS005 in lint.cdk8s-migrated-service.dev/disable gives no reason; it is ignored');
    expect(noReason.stdout).toContain('warning MS005 ');
  });

  test('unknown options and commands are usage errors; --help and --list-rules are not', async () => {
    expect((await run(['lint', '--colour', CLEAN])).code).toBe(EXIT_UNUSABLE);
    expect((await run(['check', CLEAN])).stderr).toContain('unknown command "check"');
    expect((await run(['lint', '--format', 'xml', CLEAN])).stderr).toContain('--format xml: use one of text, json, sarif');
    const help = await run(['--help']);
    expect(help.code).toBe(EXIT_CLEAN);
    expect(help.stdout).toContain('helm template my-release ./chart | cdk8s-migrated-service lint -');
    const rules = await run(['lint', '--list-rules']);
    expect(rules.stdout.split('\n').filter((l) => /^MS\d{3}/.test(l))).toHaveLength(RULES.length);
  });
});

describe('output formats', () => {
  test('text: file:line: severity RULE message (fix: ...)', async () => {
    const r = await run(['lint', fixture('rules', 'MS013-positive.yaml')]);
    expect(r.stdout).toBe(`${fixture('rules', 'MS013-positive.yaml')}:39: warning MS013 Job shop/myapp-migration-v1-2-3 retries a failed migration 2 times `
      + '(fix: set backoffLimit: 0 (and a podFailurePolicy that ignores DisruptionTarget))\n');
  });

  test('json: every finding with its rule, object, place, fix and help link', async () => {
    const r = await run(['lint', '--format', 'json', fixture('rules', 'MS013-positive.yaml')]);
    const out = JSON.parse(r.stdout);
    expect(out.findings).toEqual([{
      ruleId: 'MS013',
      ruleName: 'migration-retries',
      severity: 'warning',
      message: 'Job shop/myapp-migration-v1-2-3 retries a failed migration 2 times',
      fix: 'set backoffLimit: 0 (and a podFailurePolicy that ignores DisruptionTarget)',
      file: fixture('rules', 'MS013-positive.yaml'),
      line: 39,
      object: { kind: 'Job', namespace: 'shop', name: 'myapp-migration-v1-2-3' },
      help: 'https://github.com/cdk8s-migrated-service/cdk8s-migrated-service/blob/main/docs/lint-rules.md#ms013-migration-retries',
    }]);
    expect(out).toMatchObject({ objects: 5, suppressed: [], tool: { name: 'cdk8s-migrated-service lint' } });
  });

  test('a finding below its rule\'s severity (MS015 at scale) keeps its own level in text, json and sarif', async () => {
    // GIVEN the pattern document's Deployment: 2 replicas at the default 25%, safe until scaled to 4
    const files = ['deployment.yaml', 'migration-job.yaml'].map((f) => fixture('pattern', f));
    // WHEN reported at info in each format
    const text = await run(['lint', '--severity', 'info', ...files]);
    const json = JSON.parse((await run(['lint', '--format', 'json', '--severity', 'info', ...files])).stdout);
    const sarif = JSON.parse((await run(['lint', '--format', 'sarif', '--severity', 'info', ...files])).stdout);
    // THEN it is info in text and json, a note in a valid SARIF log, and hidden at the default threshold
    expect(text.stdout).toMatch(/: info MS015 Deployment myapp has maxUnavailable 25% \(the default\): at 2 replicas .* scaled to 4 replicas/);
    expect(json.findings.filter((f: any) => f.ruleId === 'MS015').map((f: any) => f.severity)).toEqual(['info']);
    expect(sarif).toBeValidSarifLog();
    expect(sarif.runs[0].results.filter((x: any) => x.ruleId === 'MS015').map((x: any) => x.level)).toEqual(['note']);
    expect((await run(['lint', ...files])).stdout).not.toContain('MS015');
  });

  test('sarif: a valid SARIF 2.1.0 log, suppressed findings kept as suppressed', async () => {
    // GIVEN findings, an annotation suppression and a command-line suppression
    const r = await run(['lint', '--format', 'sarif', '--severity', 'info', '--disable', 'MS015', HELM, fixture('rules', 'MS023-negative.yaml')]);
    const log = JSON.parse(r.stdout);
    // THEN the log validates against the SARIF 2.1.0 schema
    expect(log).toBeValidSarifLog();
    const results = log.runs[0].results;
    // (the Helm Role has no namespace, so it may be the other file's too: MS008 is found for both waiters)
    expect([...new Set(results.filter((x: any) => !x.suppressions).map((x: any) => x.ruleId))]).toEqual(['MS008', 'MS016', 'MS017', 'MS014', 'MS013']);
    expect(results.filter((x: any) => x.suppressions).map((x: any) => [x.ruleId, x.suppressions[0].kind])).toEqual([['MS015', 'external'], ['MS005', 'inSource']]);
    const hook = results.find((x: any) => x.ruleId === 'MS016');
    expect(hook).toMatchObject({
      level: 'error',
      locations: [{ physicalLocation: { artifactLocation: { uri: 'test/lint/fixtures/helm-rendered.yaml' }, region: { startLine: 65 } } }],
    });
    expect(log.runs[0].tool.driver.rules.map((rule: any) => rule.id)).toEqual(RULES.map((rule) => rule.id));
    expect(log.runs[0].tool.driver.rules[hook.ruleIndex].id).toBe('MS016');
    expect(r.code).toBe(EXIT_FINDINGS);
  });

  test('sarif: an absolute path under the working directory is written relative to %SRCROOT%, one outside it as a file:// URI', async () => {
    // GIVEN the Helm fixture by its absolute path, and a copy of it outside the repository, whose name needs escaping
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'lint sarif '));
    const copy = path.join(outside, 'helm #1.yaml');
    fs.copyFileSync(path.join(PACKAGE, HELM), copy);
    try {
      // WHEN linted as SARIF from the package's folder
      const log = JSON.parse((await run(['lint', '--format', 'sarif', path.join(PACKAGE, HELM), copy])).stdout);
      // THEN the log is valid, and the base it names is the working directory, as a directory URI
      expect(log).toBeValidSarifLog();
      expect(log.runs[0].originalUriBaseIds).toEqual({ '%SRCROOT%': { uri: `${pathToFileURL(PACKAGE).href}/` } });
      const locations = log.runs[0].results.map((x: any) => JSON.stringify(x.locations[0].physicalLocation.artifactLocation));
      const uris = [...new Set<string>(locations)].map((x) => JSON.parse(x));
      // AND the file under it is relative to that base, the other an absolute file:// URI, neither a bare absolute path
      expect(uris).toEqual([
        { uri: 'test/lint/fixtures/helm-rendered.yaml', uriBaseId: '%SRCROOT%' },
        { uri: pathToFileURL(copy).href },
      ]);
      expect(uris[1].uri).toMatch(/^file:\/\/\/.*lint%20sarif%20.*\/helm%20%231\.yaml$/);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  test('the SARIF check can fail', () => {
    expect({ version: '2.1.0', runs: [{ tool: { driver: { name: 'x' } }, results: [{ level: 'fatal', message: { text: 'x' } }] }] }).not.toBeValidSarifLog();
  });
});

describe('the documentation', () => {
  const anchorsOf = (text: string) => new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const rulesDoc = fs.readFileSync(path.join(REPO, 'docs', 'lint-rules.md'), 'utf8');

  test.each(RULES.map((rule) => [rule.id, rule]))('%s has its section in docs/lint-rules.md, where its help URI points, and a row in the rule table that links to it', (_id, rule) => {
    expect(anchorsOf(rulesDoc)).toContain(ruleAnchor(rule));
    expect(ruleHelpUri(rule)).toBe(`${RULES_DOC_URL}#${ruleAnchor(rule)}`);
    expect(RULES_DOC_URL).toMatch(/\/blob\/main\/docs\/lint-rules\.md$/);
    expect(rulesDoc).toContain(`| [${rule.id}](#${ruleAnchor(rule)}) | ${rule.severity} |`);
  });

  test('the README section the SARIF log points to exists', () => {
    expect(anchorsOf(readme)).toContain('lint-existing-manifests');
  });
});
