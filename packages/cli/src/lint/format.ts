import * as path from 'path';
import { pathToFileURL } from 'url';
import { LintResult, SuppressedFinding } from './lint';
import { InputError, STDIN } from './load';
import { Finding, README_URL, ruleHelpUri, RULES, Severity } from './rules';
import { Grouping } from './units';

export type Format = 'text' | 'json' | 'sarif';
export const FORMATS: readonly Format[] = ['text', 'json', 'sarif'];

export const TOOL_NAME = 'cdk8s-migrated-service lint';

function objectRef(f: Finding) {
  return { kind: f.object.kind, namespace: f.object.namespace ?? null, name: f.object.name };
}

/** `file:line: severity RULE message (fix: ...)`, one finding a line. */
export function formatText(result: LintResult): string {
  return result.findings
    .map((f) => `${f.object.source.file}:${f.line}: ${f.severity} ${f.rule.id} ${f.message} (fix: ${f.fix ?? f.rule.fix})\n`)
    .join('');
}

/** A one-line count for the end of text output. */
export function summaryLine(result: LintResult): string {
  const count = (s: Severity) => result.findings.filter((f) => f.severity === s).length;
  const suppressed = result.suppressed.length > 0 ? `, ${result.suppressed.length} suppressed` : '';
  return `${result.objects} objects: ${count('error')} errors, ${count('warning')} warnings, ${count('info')} infos${suppressed}\n`;
}

/** The deployment units, as JSON: their name, files and object count, and why the input was split. */
function unitsJson(grouping: Grouping) {
  return {
    reason: grouping.reason ?? (grouping.repeated !== undefined ? 'one unit' : 'one unit: no two objects share kind, namespace and name'),
    ...(grouping.repeated !== undefined ? { repeated: grouping.repeated } : {}),
    units: grouping.units.map((u) => ({ name: u.name, files: u.files, objects: u.objects.length })),
  };
}

/** An input the linter could not use, as JSON. */
function inputError(e: InputError) {
  return { file: e.file, line: e.line ?? null, message: e.detail };
}

/** The findings as JSON; `errors` lists the inputs that could not be read or parsed (exit code 2). */
export function formatJson(result: LintResult, version: string, errors: readonly InputError[] = []): string {
  const finding = (f: Finding) => ({
    ruleId: f.rule.id,
    ruleName: f.rule.name,
    severity: f.severity,
    message: f.message,
    fix: f.fix ?? f.rule.fix,
    file: f.object.source.file,
    line: f.line,
    object: objectRef(f),
    help: ruleHelpUri(f.rule),
  });
  return `${JSON.stringify({
    tool: { name: TOOL_NAME, version },
    objects: result.objects,
    deploymentUnits: unitsJson(result.grouping),
    findings: result.findings.map(finding),
    suppressed: result.suppressed.map((s: SuppressedFinding) => ({ ...finding(s), reason: s.reason, via: s.via })),
    ...(errors.length > 0 ? { errors: errors.map(inputError) } : {}),
  }, null, 2)}\n`;
}

const SARIF_LEVEL: { readonly [s in Severity]: string } = { error: 'error', warning: 'warning', info: 'note' };

/** The base that relative artifact URIs are resolved against: the directory lint ran in (the checkout, in CI). */
const SOURCE_ROOT = '%SRCROOT%';

/**
 * Where a file is, as a SARIF artifact location: a path relative to `%SRCROOT%` (the directory lint
 * ran in, given in the log's `originalUriBaseIds`) for a file under it, as GitHub code scanning
 * expects, and an absolute `file://` URI for a file outside it. An absolute path is never written
 * as it is: a SARIF URI is a URI, and viewers resolve a bare `/home/...` against their own base.
 */
function artifactLocation(file: string, base: string): { uri: string; uriBaseId?: string } {
  if (file === STDIN) {
    return { uri: 'stdin' };
  }
  const absolute = path.resolve(base, file);
  const relative = path.relative(base, absolute);
  if (relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative)) {
    const uri = encodeURI(relative.split(path.sep).join('/')).replace(/[?#]/g, encodeURIComponent);
    return { uri, uriBaseId: SOURCE_ROOT };
  }
  return { uri: pathToFileURL(absolute).href };
}

/** SARIF 2.1.0, for code-scanning UIs. Suppressed findings are kept, marked as suppressed. */
export function formatSarif(result: LintResult, version: string, errors: readonly InputError[] = [], base: string = process.cwd()): string {
  const ruleIndex = new Map(RULES.map((rule, i) => [rule.id, i]));
  const toResult = (f: Finding, suppression?: SuppressedFinding) => ({
    ruleId: f.rule.id,
    ruleIndex: ruleIndex.get(f.rule.id),
    level: SARIF_LEVEL[f.severity],
    message: { text: `${f.message} (fix: ${f.fix ?? f.rule.fix})` },
    locations: [{
      physicalLocation: { artifactLocation: artifactLocation(f.object.source.file, base), region: { startLine: f.line } },
      logicalLocations: [{
        name: f.object.name,
        fullyQualifiedName: `${f.object.kind}/${f.object.namespace !== undefined ? `${f.object.namespace}/` : ''}${f.object.name}`,
        kind: 'resource',
      }],
    }],
    ...(suppression ? {
      suppressions: [{ kind: suppression.via === 'annotation' ? 'inSource' : 'external', justification: suppression.reason || 'disabled on the command line' }],
    } : {}),
  });
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: TOOL_NAME,
          version,
          informationUri: `${README_URL}#lint-existing-manifests`,
          rules: RULES.map((rule) => ({
            id: rule.id,
            name: rule.name,
            shortDescription: { text: rule.summary },
            help: { text: `Fix: ${rule.fix}` },
            helpUri: ruleHelpUri(rule),
            defaultConfiguration: { level: SARIF_LEVEL[rule.severity] },
          })),
        },
      },
      // A directory's URI ends with "/", or the relative paths would resolve against its parent.
      originalUriBaseIds: { [SOURCE_ROOT]: { uri: `${pathToFileURL(base).href.replace(/\/?$/, '/')}` } },
      properties: { deploymentUnits: unitsJson(result.grouping) },
      results: [...result.findings.map((f) => toResult(f)), ...result.suppressed.map((s) => toResult(s, s))],
      ...(errors.length > 0 ? {
        invocations: [{
          executionSuccessful: false,
          toolExecutionNotifications: errors.map((e) => ({
            level: 'error',
            message: { text: e.detail },
            locations: [{
              physicalLocation: {
                artifactLocation: artifactLocation(e.file, base),
                ...(e.line !== undefined ? { region: { startLine: e.line } } : {}),
              },
            }],
          })),
        }],
      } : {}),
    }],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
