import { homedir } from 'os';
import { cannotRun } from '../doctor/cli';
import { diagnose, DoctorOptions, DoctorReport, duration, selected } from '../doctor/diagnose';
import { collectReleases, jobState, migrationContainer, name, ReleaseFacts } from '../doctor/facts';
import { formatJson as doctorJson, formatText as doctorText } from '../doctor/format';
import { Kubectl, KubectlError } from '../doctor/kubectl';
import { readSnapshot, Snapshot } from '../doctor/snapshot';
import { formatJson as lintJson, formatText as lintText, summaryLine } from '../lint/format';
import { lint } from '../lint/lint';
import { expandPaths, InputError, K8sObject, loadManifestsReportingErrors, parseManifests } from '../lint/load';
import { findRule, Severity } from '../lint/rules';
import { groupingLine } from '../lint/units';

/*
 * What each MCP tool does, without the protocol: the server (server.ts) validates the arguments
 * with the SDK and hands them here. Each tool reads the cluster the way doctor does, through the
 * user's kubectl and kubeconfig, and never writes: LISTs, logs, a GET of the Namespace, and the
 * SubjectAccessReviews doctor asks (which the API server answers without storing). No Secret is read.
 */

/** A tool's answer: text for the assistant to read, the JSON report, or an error it can act on. */
export interface Answer {
  readonly text: string;
  readonly structured?: { [key: string]: unknown };
  readonly isError?: boolean;
}

/** Where a tool reaches the cluster: the arguments every cluster tool takes. */
export interface ClusterArgs {
  readonly namespace: string;
  readonly context?: string;
  readonly kubeconfig?: string;
}

/** How the server runs kubectl: its program and environment (KUBECONFIG, PATH, credential plugins'). */
export interface ServerSettings {
  readonly kubectl: string;
  readonly env: NodeJS.ProcessEnv;
  readonly version: string;
}

export interface ReleaseArgs extends ClusterArgs {
  readonly release?: string;
  readonly job?: string;
}

export interface DiagnoseArgs extends ReleaseArgs {
  readonly last: number;
  readonly logLines: number;
  readonly stuckAfter: string;
}

export interface ListArgs extends ClusterArgs {
  readonly limit: number;
}

export interface LogsArgs extends ReleaseArgs {
  readonly lines: number;
}

export interface LintArgs {
  readonly yaml?: string;
  readonly paths?: readonly string[];
  readonly severity: Severity;
  readonly disable: readonly string[];
}

/** Defaults and bounds, shared by the schemas and the docs. */
export const LIMITS = {
  last: { default: 5, max: 50 },
  logLines: { default: 10, max: 200 },
  limit: { default: 20, max: 100 },
  lines: { default: 50, max: 1000 },
  stuckAfter: '10m',
  // A log line can be a megabyte of JSON: the answer keeps the last characters only.
  logChars: 64 * 1024,
} as const;

const error = (text: string): Answer => ({ text, isError: true });

/** `~/x` as a shell would expand it: an assistant writes paths as a user does, kubectl does not expand them. */
function expandHome(path: string | undefined): string | undefined {
  return path !== undefined && (path === '~' || path.startsWith('~/')) ? homedir() + path.slice(1) : path;
}

function kubectlFor(args: ClusterArgs, settings: ServerSettings): Kubectl {
  return new Kubectl({ binary: settings.kubectl, kubeconfig: expandHome(args.kubeconfig), context: args.context, env: settings.env });
}

/** A kubectl failure as a tool error: doctor's message and what to do, in the terms of the tool's arguments. */
function failure(e: unknown, args: ClusterArgs): Answer {
  if (!(e instanceof KubectlError)) {
    throw e;
  }
  const message = cannotRun(e, args.namespace)
    .replace(/Give --kubeconfig or --context/, 'Pass the kubeconfig or context argument')
    .replace(/your kubeconfig, --context and network/, 'the kubeconfig and context arguments, and the network')
    .replace(/or name it with --kubectl$/, 'or set KUBECTL (or PATH) in the env of this server\'s entry in the assistant\'s MCP configuration')
    .replace(/with --kubeconfig, or leave it out/, 'in the kubeconfig argument, or leave it out')
    .replace(/Set KUBECONFIG to your kubeconfig file, or give --kubeconfig$/, 'Set KUBECONFIG in the env of this server\'s entry in the assistant\'s MCP configuration, or pass the kubeconfig argument');
  return error(message);
}

/** Reads the namespace once, as doctor does; an unknown namespace is an error, not an empty answer. */
async function read(kubectl: Kubectl, args: ClusterArgs): Promise<{ snapshot: Snapshot; facts: ReleaseFacts[] } | Answer> {
  const snapshot = await readSnapshot(kubectl, args.namespace);
  const facts = collectReleases(snapshot);
  if (facts.length === 0 && snapshot.pods.length === 0 && snapshot.jobs.length === 0) {
    // Only asked when the namespace looks empty. A user who may not get Namespaces gets the empty answer.
    const exists = await kubectl.namespaceExists(args.namespace).catch(() => true);
    if (!exists) {
      return error(`namespace ${args.namespace} does not exist${args.context ? ` in context ${args.context}` : ''}. `
        + 'List the namespaces with kubectl get namespaces, or check the context argument.');
    }
  }
  return { snapshot, facts };
}

function noMatch(args: ReleaseArgs, facts: readonly ReleaseFacts[]): Answer {
  const wanted = args.job !== undefined ? `job ${args.job}` : `release ${args.release}`;
  const found = facts.slice(0, 10).map((f) => `${f.jobName}${f.tag ? ` (release ${f.tag})` : ''}`).join(', ');
  return error(`no release in namespace ${args.namespace} matches ${wanted}; found: ${found}${facts.length > 10 ? ', …' : ''}. `
    + 'Call list_releases for the releases and their tags, and pass one as release (the image tag) or job (the migration Job\'s name).');
}

function doctorOptions(args: ReleaseArgs, last: number, logLines: number, stuckAfterSeconds: number): DoctorOptions {
  return { job: args.job, release: args.release, last, logLines, stuckAfterSeconds };
}

/** 90s, 10m, 1h, as doctor's --stuck-after; the schema has checked the form. */
export function seconds(value: string): number {
  const m = /^(\d+)(s|m|h)?$/.exec(value)!;
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 's' | 'm' | 'h'];
}

function report(r: DoctorReport, version: string): { [key: string]: unknown } {
  return JSON.parse(doctorJson(r, version));
}

/** diagnose_release: doctor's report, as text and as its JSON. */
export async function diagnoseRelease(args: DiagnoseArgs, settings: ServerSettings): Promise<Answer> {
  const kubectl = kubectlFor(args, settings);
  try {
    const read_ = await read(kubectl, args);
    if ('text' in read_) return read_;
    const { snapshot, facts } = read_;
    const r = await diagnose(kubectl, snapshot, facts, doctorOptions(args, args.last, args.logLines, seconds(args.stuckAfter)));
    if (r.releases.length === 0 && (args.job !== undefined || args.release !== undefined) && facts.length > 0) {
      return noMatch(args, facts);
    }
    return { text: doctorText(r), structured: report(r, settings.version) };
  } catch (e) {
    return failure(e, args);
  }
}

/** list_releases: every release of the namespace, newest first, one line each. */
export async function listReleases(args: ListArgs, settings: ServerSettings): Promise<Answer> {
  const kubectl = kubectlFor(args, settings);
  try {
    const read_ = await read(kubectl, args);
    if ('text' in read_) return read_;
    const { snapshot, facts } = read_;
    // One log line each: the verdicts need doctor's whole diagnosis, the list only its summary.
    const r = await diagnose(kubectl, snapshot, facts, doctorOptions({ namespace: args.namespace }, args.limit, 1, seconds(LIMITS.stuckAfter)));
    const releases = r.releases.map((x) => ({
      job: x.job,
      ...(x.tag !== undefined ? { tag: x.tag } : {}),
      verdict: x.verdict,
      reason: x.reason,
      next: x.next,
      stuck: x.stuck,
      ...(x.migration ? { migration: { state: x.migration.state, ageSeconds: Math.round(x.migration.ageSeconds) } } : {}),
    }));
    const head = r.releases.length === 0
      ? `No migration found in namespace ${r.namespace}: no Job labelled app.kubernetes.io/component=migration, and no init container that waits for a Job.`
      : `Namespace ${r.namespace}: ${r.found} release${r.found === 1 ? '' : 's'}, showing ${r.releases.length}, newest first. diagnose_release with release or job gives one in full.`;
    const lines = r.releases.map((x) => `${x.verdict.padEnd(7)} ${x.job}${x.tag ? ` (release ${x.tag})` : ''}`
      + `${x.migration ? `, Job ${x.migration.state} ${duration(x.migration.ageSeconds)}` : ''}${x.stuck ? ', waiting too long' : ''}: ${x.reason}. next: ${x.next}`);
    return {
      text: [head, ...r.notes.map((n) => `note: ${n}`), ...lines].join('\n') + '\n',
      structured: { tool: 'cdk8s-migrated-service list_releases', version: settings.version, namespace: r.namespace, found: r.found, releases, notes: r.notes },
    };
  } catch (e) {
    return failure(e, args);
  }
}

/** migration_logs: the last lines of the migration container of one release (the newest by default). */
export async function migrationLogs(args: LogsArgs, settings: ServerSettings): Promise<Answer> {
  const kubectl = kubectlFor(args, settings);
  try {
    const read_ = await read(kubectl, args);
    if ('text' in read_) return read_;
    const { facts } = read_;
    if (facts.length === 0) {
      return error(`no migration found in namespace ${args.namespace}: no Job labelled app.kubernetes.io/component=migration, and no init container that waits for a Job. Check the namespace argument.`);
    }
    const options = doctorOptions(args, 1, args.lines, 0);
    const r = args.job !== undefined || args.release !== undefined ? facts.find((f) => selected(f, options)) : facts[0];
    if (!r) return noMatch(args, facts);
    if (!r.job) {
      return error(`Job ${r.namespace}/${r.jobName} no longer exists, and its pods' logs went with it. `
        + `${r.ledgerEntry?.succeededAt ? `Ledger ${r.ledgerName} records its success at ${r.ledgerEntry.succeededAt}. ` : ''}diagnose_release says what that means for this release.`);
    }
    const pod = r.jobPods[0];
    if (!pod) {
      return error(`Job ${r.namespace}/${r.jobName} (${jobState(r.job)}) has no pod, so no log: it may not have created one yet, or its pods were removed. `
        + `diagnose_release says why; kubectl describe job -n ${r.namespace} ${r.jobName} shows its events.`);
    }
    const container = migrationContainer(pod) ?? pod?.spec?.containers?.[0]?.name;
    let text: string;
    try {
      text = await kubectl.logs(args.namespace, name(pod), container, args.lines);
    } catch (e) {
      if (e instanceof KubectlError && e.kind !== 'unreachable' && e.kind !== 'no-kubectl' && e.kind !== 'unauthorized') {
        return error(`cannot read the log of container ${container} of pod ${name(pod)} (Job ${r.jobName}): ${e.message}. `
          + `${e.kind === 'forbidden' ? 'Reading logs needs get on pods/log in the namespace.' : `kubectl describe pod -n ${args.namespace} ${name(pod)} shows why.`}`);
      }
      throw e;
    }
    if (text.trim() === '' && !pod?.spec?.nodeName) {
      // The API server answers 204 for a pod no node was assigned to: kubectl prints nothing.
      return error(`pod ${name(pod)} of Job ${r.namespace}/${r.jobName} is not on a node yet (not scheduled), so it has no log. `
        + `diagnose_release says why it waits; kubectl describe pod -n ${args.namespace} ${name(pod)} shows its events (FailedScheduling).`);
    }
    const truncated = text.length > LIMITS.logChars;
    const kept = truncated ? text.slice(-LIMITS.logChars) : text;
    const lines = kept.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
    const head = `Log of container ${container} of pod ${name(pod)}, Job ${r.namespace}/${r.jobName}${r.tag ? ` (release ${r.tag})` : ''}, ${jobState(r.job)}: `
      + `last ${lines.length} line${lines.length === 1 ? '' : 's'}${truncated ? `, cut to the last ${LIMITS.logChars} characters` : ''} (lines asked: ${args.lines}).`;
    return {
      text: `${head}\n${lines.join('\n')}\n`,
      structured: {
        tool: 'cdk8s-migrated-service migration_logs',
        version: settings.version,
        namespace: args.namespace,
        job: r.jobName,
        ...(r.tag !== undefined ? { tag: r.tag } : {}),
        state: jobState(r.job),
        pod: name(pod),
        container,
        lines,
        truncated,
      },
    };
  } catch (e) {
    return failure(e, args);
  }
}

/** The name lint gives manifests passed as text. */
export const YAML_ARGUMENT = '<yaml argument>';

/** lint_manifests: lint on YAML text or on files; no cluster. */
export function lintManifests(args: LintArgs, settings: ServerSettings): Answer {
  const hasYaml = args.yaml !== undefined;
  const hasPaths = args.paths !== undefined && args.paths.length > 0;
  if (hasYaml === hasPaths) {
    return error('give either yaml (the manifests as text, e.g. the output of helm template or cdk8s synth) or paths (YAML files or directories), not both and not neither.');
  }
  const disabled = new Map<string, string>();
  for (const id of args.disable) {
    const rule = findRule(id);
    if (!rule) return error(`disable ${id}: no such rule. Rule ids are MS001 to MS0NN, or their names; a finding's ruleId names one.`);
    disabled.set(rule.id, 'disabled by the assistant');
  }
  let objects: K8sObject[] = [];
  let errors: InputError[] = [];
  try {
    if (hasYaml) {
      objects = parseManifests(args.yaml!, YAML_ARGUMENT);
    } else {
      ({ objects, errors } = loadManifestsReportingErrors(expandPaths(args.paths!.map((p) => expandHome(p)!)), () => ''));
    }
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    errors = [e];
  }
  const result = lint(objects, { threshold: args.severity, disabled });
  const structured = JSON.parse(lintJson(result, settings.version, errors));
  if (errors.length > 0) {
    const relative = !hasYaml && args.paths!.some((p) => !p.startsWith('/') && !p.startsWith('~'));
    return {
      text: `${errors.map((e) => e.message).join('\n')}\n${relative ? `Relative paths are read from the server's working directory, ${process.cwd()}: give absolute paths.\n` : ''}`
        + 'Fix the input and call lint_manifests again; an input that cannot be read is not a clean one.\n',
      structured,
      isError: true,
    };
  }
  if (objects.length === 0) {
    return error('no Kubernetes object (a mapping with apiVersion and kind) in the input. If a renderer failed upstream, fix that first: an empty input is not a clean one.');
  }
  const findings = lintText(result);
  return { text: `${groupingLine(result.grouping)}${findings}${summaryLine(result)}${findings ? '' : 'No finding at or above the severity asked.\n'}`, structured };
}
