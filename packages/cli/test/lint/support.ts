import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { stringify } from 'yaml';
import { lint, LintResult } from '../../src/lint/lint';
import { expandPaths, loadManifests, parseManifests } from '../../src/lint/load';
import { Severity } from '../../src/lint/rules';

export const FIXTURES = path.join(__dirname, 'fixtures');

/** Lints YAML text as if it came from `file`, reporting every severity unless told otherwise. */
export function lintText(text: string, file = 'input.yaml', threshold: Severity = 'info', disabled = new Map<string, string>()): LintResult {
  return lint(parseManifests(text, file), { threshold, disabled });
}

export function lintFiles(files: string[], threshold: Severity = 'info'): LintResult {
  return lint(loadManifests(expandPaths(files), () => ''), { threshold, disabled: new Map() });
}

export function ruleIds(result: LintResult): string[] {
  return [...new Set(result.findings.map((f) => f.rule.id))].sort();
}

/** A chart's manifests as the YAML stream `cdk8s synth` writes. */
export function chartYaml(chart: Chart): string {
  return Testing.synth(chart).map((o) => stringify(o)).join('---\n');
}
