/**
 * The lint command: its options, its usage (which is the bin's), and its exit codes. The bin
 * (src/cli.ts) hands it the arguments after `lint`.
 */
import { Format, formatJson, formatSarif, formatText, FORMATS, summaryLine } from './format';
import { lint, LintResult } from './lint';
import { expandPaths, InputError, loadManifestsReportingErrors } from './load';
import { findRule, ruleHelpUri, RULES, Severity, SEVERITY_RANK } from './rules';
import { groupingLine } from './units';
import { PROGRAM, version } from '../version';

export const EXIT_CLEAN = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_UNUSABLE = 2;

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readStdin: () => Promise<string>;
}

/** The usage of the bin, which is lint's: doctor and mcp have a --help of their own. */
export const USAGE = `Usage: ${PROGRAM} lint [options] PATH...
       ${PROGRAM} doctor [options]     (diagnose the releases on a live cluster; doctor --help)
       ${PROGRAM} mcp [options]        (doctor and lint as tools for an assistant, over MCP on stdio; mcp --help)

Finds the traps of the migration Job + init container pattern in Kubernetes manifests.
PATH is a YAML file, a directory (read recursively) or - for standard input:
  helm template my-release ./chart | ${PROGRAM} lint -
  kubectl kustomize overlays/prod | ${PROGRAM} lint -

Options:
  --format text|json|sarif     output format (default: text)
  --severity error|warning|info
                               report findings at or above this severity (default: warning)
  --disable RULE[: reason]     turn a rule off (repeatable; RULE is an id like MS005 or its name)
  --list-rules                 print the rules and exit
  -h, --help                   print this help and exit
  --version                    print the version and exit

In a manifest, annotate an object with
  ${'lint.cdk8s-migrated-service.dev/disable'}: "MS005: why this is fine here"
to suppress a rule for it. A reason is required.

Exit codes: 0 no findings at or above the threshold; 1 findings; 2 unusable input or usage error.
`;

class UsageError extends Error {}

interface Options {
  format: Format;
  threshold: Severity;
  disabled: Map<string, string>;
  paths: string[];
  listRules: boolean;
}

function parseArgs(argv: readonly string[]): Options | 'help' | 'version' {
  const options: Options = { format: 'text', threshold: 'warning', disabled: new Map(), paths: [], listRules: false };
  const args = [...argv];
  let onlyPaths = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (onlyPaths || arg === '-' || !arg.startsWith('-')) {
      options.paths.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPaths = true;
      continue;
    }
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined) {
        throw new UsageError(`${flag} needs a value`);
      }
      return v;
    };
    switch (flag) {
      case '-h':
      case '--help':
        return 'help';
      case '--version':
        return 'version';
      case '--list-rules':
        options.listRules = true;
        break;
      case '--format': {
        const v = value();
        if (!(FORMATS as readonly string[]).includes(v)) {
          throw new UsageError(`--format ${v}: use one of ${FORMATS.join(', ')}`);
        }
        options.format = v as Format;
        break;
      }
      case '--severity': {
        const v = value();
        if (!(v in SEVERITY_RANK)) {
          throw new UsageError(`--severity ${v}: use one of error, warning, info`);
        }
        options.threshold = v as Severity;
        break;
      }
      case '--disable': {
        const v = value();
        // "MS005,MS013" turns off several rules; "MS005: reason" records why.
        const entries = /^[A-Za-z0-9-]+(\s*,\s*[A-Za-z0-9-]+)*$/.test(v.trim()) ? v.split(',').map((e) => [e.trim(), '']) : [[v.split(':')[0].trim(), v.slice(v.indexOf(':') + 1).trim()]];
        for (const [id, reason] of entries) {
          const rule = findRule(id);
          if (!rule) {
            throw new UsageError(`--disable ${id}: no such rule (see --list-rules)`);
          }
          options.disabled.set(rule.id, reason);
        }
        break;
      }
      default:
        throw new UsageError(`unknown option ${flag}`);
    }
  }
  return options;
}

function listRules(): string {
  return RULES.map((rule) => `${rule.id}  ${rule.severity.padEnd(7)}  ${rule.name}: ${rule.summary}\n         ${ruleHelpUri(rule)}\n`).join('');
}

/** The lint command: parses its arguments (those after `lint`), lints, writes, returns the exit code. */
export async function lintMain(argv: readonly string[], io: Io): Promise<number> {
  let options: ReturnType<typeof parseArgs>;
  try {
    options = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`${PROGRAM}: ${e.message}\nRun "${PROGRAM} --help" for usage.\n`);
      return EXIT_UNUSABLE;
    }
    throw e;
  }
  if (options === 'help') {
    io.stdout(USAGE);
    return EXIT_CLEAN;
  }
  if (options === 'version') {
    io.stdout(`${version()}\n`);
    return EXIT_CLEAN;
  }
  if (options.listRules) {
    io.stdout(listRules());
    return EXIT_CLEAN;
  }
  if (options.paths.length === 0) {
    io.stderr(`${PROGRAM}: lint: no input. Give YAML files, directories, or - to read standard input.\n`);
    return EXIT_UNUSABLE;
  }
  let files: string[];
  try {
    files = expandPaths(options.paths);
  } catch (e) {
    if (e instanceof InputError) {
      return unusable([e], options.format, io);
    }
    throw e;
  }
  const stdin = files.includes('-') ? await io.readStdin() : '';
  const { objects, errors } = loadManifestsReportingErrors(files, () => stdin);
  if (errors.length > 0) {
    // The files that parse are still linted, so that a JSON or SARIF report says what it can.
    const partial = lint(objects, { threshold: options.threshold, disabled: options.disabled });
    return unusable(errors, options.format, io, partial);
  }
  if (objects.length === 0) {
    io.stderr(`${PROGRAM}: lint: no Kubernetes object (a mapping with apiVersion and kind) in ${options.paths.join(', ')}. `
      + 'If a renderer failed upstream, fix that first: an empty input is not a clean one.\n');
    return EXIT_UNUSABLE;
  }
  const result = lint(objects, { threshold: options.threshold, disabled: options.disabled });
  if (options.format === 'json') {
    io.stdout(formatJson(result, version()));
  } else if (options.format === 'sarif') {
    io.stdout(formatSarif(result, version()));
  } else {
    io.stdout(formatText(result));
    io.stderr(groupingLine(result.grouping) + summaryLine(result));
  }
  return result.findings.length > 0 ? EXIT_FINDINGS : EXIT_CLEAN;
}

/**
 * Input that cannot be used: the errors on standard error, and for JSON and SARIF a complete
 * document on standard output that carries them, so that a pipeline reading it does not break.
 */
function unusable(errors: readonly InputError[], format: Format, io: Io, partial?: LintResult): number {
  for (const e of errors) {
    io.stderr(`${PROGRAM}: ${e.message}\n`);
  }
  const result: LintResult = partial ?? { findings: [], suppressed: [], objects: 0, grouping: { units: [] } };
  if (format === 'json') {
    io.stdout(formatJson(result, version(), errors));
  } else if (format === 'sarif') {
    io.stdout(formatSarif(result, version(), errors));
  }
  return EXIT_UNUSABLE;
}
