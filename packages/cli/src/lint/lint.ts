import { K8sObject } from './load';
import { check, Finding, findRule, Rule, ruleById, SEVERITY_RANK, Severity } from './rules';
import { deploymentUnits, Grouping } from './units';

/** The annotation that suppresses rules on one object: `"MS005: reason; MS013: reason"`. */
export const SUPPRESSION_ANNOTATION = 'lint.cdk8s-migrated-service.dev/disable';

export interface LintOptions {
  /** Findings below this severity are not reported and do not fail. */
  readonly threshold: Severity;
  /** Rules turned off on the command line, with the reason if one was given. */
  readonly disabled: ReadonlyMap<string, string>;
}

export interface SuppressedFinding extends Finding {
  readonly reason: string;
  /** `annotation` (on an object) or `command-line` (`--disable`). */
  readonly via: 'annotation' | 'command-line';
}

export interface LintResult {
  /** Findings at or above the threshold, in input order. */
  readonly findings: Finding[];
  readonly suppressed: SuppressedFinding[];
  readonly objects: number;
  /** The deployment units the input was split into; the rules judge each on its own. */
  readonly grouping: Grouping;
}

interface Suppression {
  readonly rule: Rule;
  readonly reason: string;
}

/** Reads an object's suppression annotation; entries without a reason or with an unknown rule are findings. */
function suppressionsOf(object: K8sObject, invalid: Finding[]): Suppression[] {
  const value = object.annotations[SUPPRESSION_ANNOTATION];
  if (value === undefined) {
    return [];
  }
  const found: Suppression[] = [];
  const line = object.lineOf(['metadata', 'annotations', SUPPRESSION_ANNOTATION]);
  const report = (message: string) => invalid.push({ rule: ruleById('MS023'), severity: ruleById('MS023').severity, object, line, message, related: [] });
  for (const entry of suppressionEntries(value)) {
    const match = /^([A-Za-z0-9-]+)\s*(?::\s*(.*))?$/s.exec(entry);
    const rule = match ? findRule(match[1]) : undefined;
    const reason = match?.[2]?.trim() ?? '';
    if (!rule) {
      report(`${object.kind} ${object.name}: "${entry}" in ${SUPPRESSION_ANNOTATION} names no rule; it is ignored`);
    } else if (reason === '') {
      report(`${object.kind} ${object.name}: the suppression of ${rule.id} in ${SUPPRESSION_ANNOTATION} gives no reason; it is ignored`);
    } else {
      found.push({ rule, reason });
    }
  }
  return found;
}

/**
 * Splits an annotation into `RULE: reason` entries, at new lines and at `;` followed by a rule
 * reference, so that a reason may itself contain `;`.
 */
export function suppressionEntries(value: string): string[] {
  const entries: string[] = [];
  for (const piece of value.split(/([;\n])/)) {
    const startsEntry = /^\s*([A-Za-z]{2}\d{3}\b|[a-z]+(-[a-z]+)+\s*(:|$))/.test(piece);
    if (piece === ';' || piece === '\n') {
      entries.push(piece);
    } else if (entries.length === 0 || entries[entries.length - 1] === '\n' || (entries[entries.length - 1] === ';' && startsEntry)) {
      entries.push(piece);
    } else {
      // A `;` inside a reason: glue the piece back on.
      const separator = entries.pop()!;
      entries[entries.length - 1] += separator + piece;
    }
  }
  return entries.filter((e) => e !== ';' && e !== '\n').map((e) => e.trim()).filter((e) => e !== '');
}

export function lint(objects: readonly K8sObject[], options: LintOptions): LintResult {
  const invalid: Finding[] = [];
  const suppressionsByObject = new Map<K8sObject, Suppression[]>();
  for (const object of objects) {
    const s = suppressionsOf(object, invalid);
    if (s.length > 0) {
      suppressionsByObject.set(object, s);
    }
  }
  const findings: Finding[] = [];
  const suppressed: SuppressedFinding[] = [];
  // A folder per environment holds the same application twice: judged together, one environment's
  // Role would be checked against the other's Job. Each unit is judged on its own.
  const grouping = deploymentUnits(objects);
  for (const finding of [...grouping.units.flatMap((unit) => check(unit.objects)), ...invalid]) {
    if (SEVERITY_RANK[finding.severity] < SEVERITY_RANK[options.threshold]) {
      continue;
    }
    const cli = options.disabled.get(finding.rule.id);
    if (cli !== undefined) {
      suppressed.push({ ...finding, reason: cli, via: 'command-line' });
      continue;
    }
    const annotated = [finding.object, ...finding.related]
      .flatMap((o) => suppressionsByObject.get(o) ?? [])
      .find((s) => s.rule.id === finding.rule.id);
    if (annotated) {
      suppressed.push({ ...finding, reason: annotated.reason, via: 'annotation' });
      continue;
    }
    findings.push(finding);
  }
  const byPosition = (a: Finding, b: Finding) => a.object.order - b.object.order || a.line - b.line || (a.rule.id < b.rule.id ? -1 : 1);
  return { findings: findings.sort(byPosition), suppressed: suppressed.sort(byPosition), objects: objects.length, grouping };
}
