import { POD_SPEC_PATHS } from 'cdk8s-migrated-service/lib/shared/pod-spec';
import { K8sObject } from './load';
import { basename, commandsOf, isUnresolved } from './shell';
import { text } from './text';
// Where each workload kind keeps its pod spec: the same table the constructs gate by.

/* What the rules reason about: the workloads, the init containers that wait for a migration Job,
 * the migration Jobs, and the RBAC that lets a waiter read its Job. */

export interface Workload {
  readonly object: K8sObject;
  readonly podSpec: any;
  readonly podSpecPath: readonly string[];
}

/**
 * k8s-wait-for, `kubectl wait`, this library's own waiter (recognised by its `MIGRATION_JOB`
 * variable), a script polling `kubectl get job(s)`, or kubernetes-entrypoint (`DEPENDENCY_JOBS`).
 */
export type WaiterKind = 'k8s-wait-for' | 'kubectl-wait' | 'library' | 'kubectl-get' | 'kubernetes-entrypoint' | 'wait-tool';

/** One API permission a waiter needs. */
export interface Permission {
  readonly group: string;
  readonly resource: string;
  readonly verb: string;
  /** The object's name; empty for a list by label. */
  readonly name: string;
  readonly namespace?: string;
}

/** An init container that holds its pod until a named Job has completed. */
export interface Waiter {
  readonly workload: Workload;
  readonly container: any;
  readonly containerIndex: number;
  readonly kind: WaiterKind;
  /** The Job's name; for a waiter that selects by label, how it selects (`-l app=x`). */
  readonly jobName: string;
  /** Set when the waiter selects by label: the labels, on the Jobs or (`pods`) on their pods. */
  readonly selector?: LabelSelector;
  /** The namespace the waiter looks in: its `-n`, else its pod's. */
  readonly namespace?: string;
  /** k8s-wait-for's mode (`job`, `job-wr`, `job-we`). */
  readonly mode?: string;
  /** False when the waiter cannot end on a failed Job (`kubectl wait --for=condition=complete` alone). */
  readonly noticesFailure: boolean;
  /** What the waiter asks the API server for. */
  readonly needs: readonly Permission[];
  /**
   * Set when the input does not tell which Job the waiter waits for (a `$1`, the output of a
   * `$(...)`, a word that no Kubernetes object can be called): `jobName` is then the expression as
   * written, never a name to look up.
   */
  readonly unresolved?: boolean;
}

/** An equality-based label selector (`a=b,c==d`), on Jobs or on their pods. */
export interface LabelSelector {
  readonly labels: { readonly [key: string]: string };
  readonly on: 'jobs' | 'pods';
}

export interface MigrationJob {
  readonly job: K8sObject;
  /** The waiters that resolve to this Job. Empty for a Job that only looks like a migration. */
  readonly waiters: Waiter[];
}

/** Two namespaces can be the same unless both are written out and differ. */
export function sameNamespace(a: string | undefined, b: string | undefined): boolean {
  return a === undefined || b === undefined || a === b;
}

export function describe(object: K8sObject): string {
  return `${object.kind} ${object.namespace !== undefined ? `${object.namespace}/` : ''}${object.name}`;
}

export function podSpecOf(object: K8sObject): Workload | undefined {
  const path = POD_SPEC_PATHS[object.kind];
  if (path === undefined) {
    return undefined;
  }
  let spec: any = object.raw;
  for (const key of path) {
    spec = spec?.[key];
  }
  return typeof spec === 'object' && spec !== null ? { object, podSpec: spec, podSpecPath: path } : undefined;
}

export function containersOf(podSpec: any, field: 'containers' | 'initContainers'): any[] {
  const list = podSpec?.[field];
  return Array.isArray(list) ? list.filter((c) => typeof c === 'object' && c !== null) : [];
}

/** The literal value of a container's environment variable. */
export function envValue(container: any, name: string): string | undefined {
  const entry = (Array.isArray(container.env) ? container.env : []).find((e: any) => e?.name === name);
  return entry !== undefined && entry.value !== undefined && entry.value !== null ? text(entry.value) : undefined;
}

const JOB_RESOURCES = new Set(['job', 'jobs', 'job.batch', 'jobs.batch', 'job.v1.batch', 'jobs.v1.batch']);
const WAIT_FOR_JOB_MODES = new Set(['job', 'job-wr', 'job-we']);
// kubectl flags that take the next word as their value when written without `=`.
const KUBECTL_VALUE_FLAGS = new Set([
  '-n', '--namespace', '--for', '--timeout', '-l', '--selector', '--field-selector', '-f', '--filename', '-o', '--output',
  '--context', '--kubeconfig', '--server', '-s', '--token', '--user', '--cluster', '--request-timeout', '--template',
]);
const K8S_API_NEEDS: { readonly [kind in WaiterKind]: readonly string[] } = {
  // `kubectl describe jobs <name>` gets the Job.
  'k8s-wait-for': ['get'],
  // `kubectl wait` gets, then lists and watches with a metadata.name field selector.
  'kubectl-wait': ['get', 'list', 'watch'],
  // It lists and watches the Job with a metadata.name field selector; it never gets it.
  'library': ['list', 'watch'],
  // `kubectl get job NAME`; a label selector or --watch adds list or watch.
  'kubectl-get': ['get'],
  // kubernetes-entrypoint gets each Job of DEPENDENCY_JOBS (lists for DEPENDENCY_JOBS_JSON labels).
  'kubernetes-entrypoint': ['get'],
  // Another wait-for tool: it reads the Job at least.
  'wait-tool': ['get'],
};

/** Kubernetes expands `$(VAR)` in command and args from the container's own variables. */
function expandVariables(word: string, container: any): string {
  return word.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (ref, name) => envValue(container, name) ?? ref);
}

function namespaceFlag(words: readonly string[]): string | undefined {
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if ((w === '-n' || w === '--namespace') && i + 1 < words.length) {
      return words[i + 1];
    }
    const m = /^(?:--namespace=|-n=?)(.+)$/.exec(w);
    if (m) {
      return m[1];
    }
  }
  return undefined;
}

interface FoundWait {
  readonly kind: WaiterKind;
  readonly jobName: string;
  readonly selector?: LabelSelector;
  /** Extra verbs beyond the kind's (a `kubectl get --watch`). */
  readonly verbs?: readonly string[];
  readonly namespace?: string;
  readonly mode?: string;
  readonly conditions: string[];
  /** The target is an expression the input does not resolve. */
  readonly unresolved?: boolean;
}

/** `wait_for.sh <mode> <name> [kubectl args]`. */
function parseWaitFor(rest: readonly string[]): FoundWait[] {
  const [mode, name] = rest;
  if (mode === undefined || name === undefined) {
    return [];
  }
  // `job-wr -l app=x` (or `-lapp=x`): the Jobs with those labels; `pod -l job-name=x`: their pods.
  const selectorText = name === '-l' || name === '--selector' ? rest[2] : /^-l.|^--selector=/.test(name) ? name.replace(/^-l|^--selector=/, '') : undefined;
  const onPods = /^pods?(-[a-z]+)?$/.test(mode);
  if (!WAIT_FOR_JOB_MODES.has(mode) && !(onPods && selectorText !== undefined)) {
    return [];
  }
  const after = rest.slice(selectorText !== undefined && (name === '-l' || name === '--selector') ? 3 : 2);
  if (isUnresolved(selectorText ?? name)) {
    return [{ kind: 'k8s-wait-for', jobName: selectorText !== undefined ? `-l ${selectorText}` : name, mode, conditions: [], unresolved: true }];
  }
  const selector = selectorText !== undefined ? parseSelector(selectorText, onPods ? 'pods' : 'jobs') : undefined;
  if (selectorText !== undefined && selector === undefined) {
    return [];
  }
  return [{
    kind: 'k8s-wait-for',
    jobName: selector ? `-l ${selectorText}` : name,
    selector,
    mode,
    namespace: namespaceFlag(after),
    conditions: [],
    verbs: selector ? ['list'] : [],
  }];
}

/** `a=b,c==d`; undefined when it holds anything else (`!=`, `in (...)`, a bare key), which this does not resolve. */
export function parseSelector(selectorText: string, on: 'jobs' | 'pods'): LabelSelector | undefined {
  const labels: { [key: string]: string } = {};
  for (const part of selectorText.split(',')) {
    const m = /^\s*([A-Za-z0-9._/-]+)\s*==?\s*([A-Za-z0-9._-]*)\s*$/.exec(part);
    if (!m) {
      return undefined;
    }
    labels[m[1]] = m[2];
  }
  return Object.keys(labels).length > 0 ? { labels, on } : undefined;
}

/** Whether a selector picks a Job: its own labels, or, for pods, its pod template's and the labels the Job controller adds. */
export function selects(selector: LabelSelector, job: K8sObject): boolean {
  const own = job.raw?.metadata?.labels;
  const pod = job.raw?.spec?.template?.metadata?.labels;
  const labels: { [key: string]: unknown } = selector.on === 'jobs'
    ? (typeof own === 'object' && own !== null ? own : {})
    : { ...(typeof pod === 'object' && pod !== null ? pod : {}), 'job-name': job.name, 'batch.kubernetes.io/job-name': job.name };
  return Object.entries(selector.labels).every(([k, v]) => k in labels && text(labels[k]) === v);
}

/** `kubectl [flags] wait [flags] job/NAME | jobs NAME... [--for=...]`. */
function parseKubectlWait(rest: readonly string[]): FoundWait[] {
  const positional: string[] = [];
  const conditions: string[] = [];
  let namespace: string | undefined;
  let checksOnce = false;
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i];
    if (w.startsWith('-')) {
      const [flag, inline] = w.includes('=') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w, undefined];
      const value = inline ?? (KUBECTL_VALUE_FLAGS.has(flag) ? rest[++i] : undefined);
      if (flag === '--for' && value !== undefined) {
        conditions.push(value);
      } else if (flag === '--timeout' && value !== undefined && /^0+(\.0*)?[a-z]*$/.test(value)) {
        // `--timeout=0` checks once and exits 1 unless the condition holds: it never waits on a
        // failed Job.
        checksOnce = true;
      } else if ((flag === '-n' || flag === '--namespace') && value !== undefined) {
        namespace = value;
      } else if (/^-n./.test(w) && inline === undefined) {
        namespace = w.slice(2);
      }
    } else {
      positional.push(w);
    }
  }
  if (positional[0] === 'get' || positional[0] === 'describe') {
    return parseKubectlGet(rest, positional);
  }
  if (positional[0] !== 'wait') {
    return [];
  }
  const selectorText = flagValue(rest, ['-l', '--selector']);
  if (selectorText !== undefined && isUnresolved(selectorText) && positional.length === 2 && /^(jobs?)(\.batch|\.v1\.batch)?$/i.test(positional[1])) {
    return [{ kind: 'kubectl-wait', jobName: `-l ${selectorText}`, namespace, conditions, unresolved: true }];
  }
  if (selectorText !== undefined && positional.length === 2 && /^(jobs?|pods?)(\.batch|\.v1\.batch)?$/i.test(positional[1])) {
    const selector = parseSelector(selectorText, /^pod/i.test(positional[1]) ? 'pods' : 'jobs');
    return selector ? [{
      kind: 'kubectl-wait',
      jobName: `-l ${selectorText}`,
      selector,
      namespace,
      conditions: checksOnce ? [...conditions, FAILS_AT_ONCE] : conditions,
    }] : [];
  }
  const names: string[] = [];
  const unresolved: string[] = [];
  const resources = positional.slice(1);
  // A condition only a Job reaches: a resource the text does not tell is then a Job.
  const forJob = conditions.some((c) => /^condition=(complete|failed)\b/i.test(c) || /\.status\.(succeeded|failed)/.test(c));
  for (let i = 0; i < resources.length; i++) {
    const slash = resources[i].indexOf('/');
    if (isUnresolved(resources[i]) && (forJob || (slash > 0 && JOB_RESOURCES.has(resources[i].slice(0, slash).toLowerCase()))
      || (i > 0 && JOB_RESOURCES.has(resources[0].toLowerCase())))) {
      unresolved.push(resources[i]);
    } else if (slash > 0) {
      if (JOB_RESOURCES.has(resources[i].slice(0, slash).toLowerCase())) {
        names.push(resources[i].slice(slash + 1));
      }
    } else if (i === 0 && JOB_RESOURCES.has(resources[i].toLowerCase())) {
      names.push(...resources.slice(1).filter((r) => !r.includes('/')));
      break;
    }
  }
  return [
    ...names.map((jobName) => ({ kind: 'kubectl-wait' as const, jobName, namespace, conditions: checksOnce ? [...conditions, FAILS_AT_ONCE] : conditions })),
    ...unresolved.map((jobName) => ({ kind: 'kubectl-wait' as const, jobName, namespace, conditions, unresolved: true })),
  ];
}

/** The value of the first of `flags` (`-l x`, `-lx`, `-l=x`, `--selector=x`). */
function flagValue(words: readonly string[], flags: readonly string[]): string | undefined {
  for (let i = 0; i < words.length; i++) {
    for (const flag of flags) {
      if (words[i] === flag) {
        return words[i + 1];
      }
      if (words[i].startsWith(`${flag}=`)) {
        return words[i].slice(flag.length + 1);
      }
      if (flag.length === 2 && words[i].startsWith(flag) && words[i].length > 2) {
        return words[i].slice(2);
      }
    }
  }
  return undefined;
}

/**
 * `kubectl get job NAME -o jsonpath=...` or `kubectl get jobs -l app=x ...` (or `describe`) in an
 * init container: a script that polls the Job until it is done.
 */
function parseKubectlGet(rest: readonly string[], positional: readonly string[]): FoundWait[] {
  const namespace = namespaceFlag(rest);
  const watches = rest.some((w) => w === '-w' || w === '--watch' || w === '--watch-only');
  const verbs = watches ? ['watch'] : [];
  const resources = positional.slice(1);
  if (resources.length === 0) {
    return [];
  }
  const selectorText = flagValue(rest, ['-l', '--selector']);
  const [first, ...names] = resources;
  const slash = first.indexOf('/');
  // A resource the text does not tell, whose status a Job's fields are read from: a Job.
  const output = flagValue(rest, ['-o', '--output']) ?? '';
  if (isUnresolved(first) && /\.status\.(succeeded|failed|conditions)|\.status\.active/.test(output)) {
    return [{ kind: 'kubectl-get', jobName: first, namespace, conditions: [], verbs, unresolved: true }];
  }
  if (slash > 0) {
    if (isUnresolved(first.slice(slash + 1)) && JOB_RESOURCES.has(first.slice(0, slash).toLowerCase())) {
      return [{ kind: 'kubectl-get', jobName: first.slice(slash + 1), namespace, conditions: [], verbs, unresolved: true }];
    }
    return JOB_RESOURCES.has(first.slice(0, slash).toLowerCase())
      ? [{ kind: 'kubectl-get', jobName: first.slice(slash + 1), namespace, conditions: [], verbs }] : [];
  }
  const onPods = /^(pods?|po)$/i.test(first);
  if (!JOB_RESOURCES.has(first.toLowerCase()) && !onPods) {
    return [];
  }
  if (names.length === 0 && selectorText !== undefined) {
    if (isUnresolved(selectorText) && !onPods) {
      return [{ kind: 'kubectl-get', jobName: `-l ${selectorText}`, namespace, conditions: [], verbs: ['list', ...verbs], unresolved: true }];
    }
    const selector = parseSelector(selectorText, onPods ? 'pods' : 'jobs');
    return selector ? [{ kind: 'kubectl-get', jobName: `-l ${selectorText}`, selector, namespace, conditions: [], verbs: ['list', ...verbs] }] : [];
  }
  return onPods ? [] : names.filter((n) => /^[a-z0-9$`{]/.test(n))
    .map((jobName) => ({ kind: 'kubectl-get' as const, jobName, namespace, conditions: [], verbs, unresolved: isUnresolved(jobName) || undefined }));
}

// Stands for a `kubectl wait --timeout=0` among the conditions: it ends at once on a failed Job.
const FAILS_AT_ONCE = '(timeout 0)';

/** Whether a `--for` expression can be met by a Job that failed, or the wait does not wait. */
function conditionSeesFailure(condition: string): boolean {
  // A JSONPath filter on condition types sorting below a bound, such as `@.type<"FailureTarget"`
  // (the form kubectl 1.27 and 1.28 accept, having no `=`), matches Failed when Failed sorts below it.
  const below = /@\.type\s*<(=?)\s*["']([^"']*)["']/.exec(condition);
  const failedBelow = !!below && ('Failed' < below[2] || (below[1] === '=' && below[2] === 'Failed'));
  return condition === FAILS_AT_ONCE || /failed/i.test(condition) || failedBelow;
}

/**
 * The mode the library's program runs in: the word after the program, whether the program is run
 * by path from its ConfigMap (`node /opt/migration-waiter/migration-waiter.js <mode>`, the path in
 * the command or the first argument) or inlined (`node -e <text> <mode>`, the library's shape
 * before it shipped the program in a ConfigMap); otherwise the first argument. `job` when none.
 */
export function libraryProgramMode(command: string[] | undefined, args: string[]): string {
  const argv = [...(command ?? []), ...args];
  const byPath = argv.findIndex((word) => basename(word) === 'migration-waiter.js');
  const inlined = argv.findIndex((word) => word === '-e' || word === '--eval');
  const mode = byPath !== -1 ? argv[byPath + 1] : inlined !== -1 ? argv[inlined + 2] : args[0];
  return mode ?? 'job';
}

/**
 * The Jobs an init container waits for, however it waits. A wait on pods by label (k8s-wait-for
 * `pod -l ...`, `kubectl get pods -l ...`) is a wait for a Job only when it selects the pods of one
 * of `jobs`; without `jobs`, such waits are left out.
 */
export function waitersOf(workload: Workload, container: any, containerIndex: number, jobs: readonly K8sObject[] = []): Waiter[] {
  const found: FoundWait[] = [];
  const migrationJob = envValue(container, 'MIGRATION_JOB');
  const args: string[] = (Array.isArray(container.args) ? container.args : []).map((a: unknown) => expandVariables(text(a), container));
  const command: string[] | undefined = Array.isArray(container.command)
    ? container.command.map((a: unknown) => expandVariables(text(a), container))
    : undefined;
  // The library's own waiter is recognised by its variable, whatever the image, in its `job` mode.
  // Its other modes are not waiters: `rollout` waits for workloads (a post-deploy migration),
  // `record` writes the ledger.
  if (migrationJob !== undefined && libraryProgramMode(command, args) === 'job' && envValue(container, 'ROLLOUT_WORKLOADS') === undefined) {
    found.push({ kind: 'library', jobName: migrationJob, conditions: [] });
  }
  const image = text(container.image);
  // Without a command the image's entrypoint runs: wait_for.sh in k8s-wait-for, kubectl in kubectl images.
  const entrypoint = /k8s-wait-for/.test(image) ? ['wait_for.sh'] : /(^|\/)kubectl(:|@|$)/.test(image) ? ['kubectl'] : [];
  const argv = command !== undefined ? [...command, ...args] : [...entrypoint, ...args];
  const commands = commandsOf(argv, (name) => envValue(container, name));
  for (const words of commands) {
    const waitFor = words.findIndex((w) => basename(w) === 'wait_for.sh');
    if (waitFor !== -1) {
      found.push(...parseWaitFor(words.slice(waitFor + 1)));
    }
    const kubectl = words.findIndex((w) => basename(w) === 'kubectl');
    if (kubectl !== -1) {
      found.push(...parseKubectlWait(words.slice(kubectl + 1)));
    }
  }
  found.push(...kubernetesEntrypointWaits(container));
  if (found.length === 0 && /wait/i.test([image, ...argv.slice(0, 1)].join(' '))) {
    found.push(...waitToolWaits(argv.map((w) => expandShellVariables(w, container))));
  }

  // A word no Kubernetes object can be called, and that no Job of the input is called either (an
  // unrendered template may name both alike), is not a name.
  const named = found.map((f) => {
    const isJobOfInput = !f.selector && jobs.some((j) => j.name === f.jobName);
    return { ...f, unresolved: !isJobOfInput && (f.unresolved === true || (!f.selector && !isObjectName(f.jobName))) };
  });
  // Where a script finds its Job's name by itself (`kubectl get job -l ... -o name`, then waits on
  // what that prints), the expressions it waits on are that Job: only a container that resolves no
  // target at all is one lint cannot tell about.
  const resolved = named.filter((f) => !f.unresolved && (f.selector?.on !== 'pods' || jobs.some((job) => selects(f.selector!, job))));
  const kept = resolved.length > 0 ? resolved : named.slice(0, 1);
  // Failure is seen by the script as a whole: a `kubectl get ... {.status.failed}` or a grep for
  // Failed beside a wait for Complete.
  // (`set -o pipefail` is no look at the Job; a message that says "failed" is none either.)
  const seesFailure = commands.slice(1).some((words) => !/^(echo|printf|logger|set|:)$/.test(basename(words[0] ?? ''))
    && words.slice(1).some((w) => /failed|failure/i.test(w)));

  // One waiter per Job and kind; `kubectl wait` invocations on one Job pool their conditions
  // (a script may wait for Complete and Failed in parallel).
  const byKey = new Map<string, FoundWait & { conditions: string[] }>();
  for (const f of kept) {
    const key = `${f.kind}\0${f.jobName}\0${f.selector?.on ?? ''}`;
    const existing = byKey.get(key);
    if (existing) {
      existing.conditions.push(...f.conditions);
    } else {
      byKey.set(key, { ...f, conditions: [...f.conditions] });
    }
  }
  const podNamespace = workload.object.namespace;
  const waits = [...byKey.values()].filter((f) => f.selector?.on !== 'pods' || jobs.some((job) => selects(f.selector!, job)));
  return waits.map((f) => {
    // A namespace the text does not tell is, in the waiters seen, the pod's own (`$POD_NAMESPACE` from the downward API).
    const namespace = f.namespace !== undefined && !isUnresolved(f.namespace) ? f.namespace : podNamespace;
    const verbs = f.selector ? [...new Set(['list', ...(f.verbs ?? []).filter((v) => v !== 'get'), ...K8S_API_NEEDS[f.kind].filter((v) => v !== 'get')])]
      : [...new Set([...K8S_API_NEEDS[f.kind], ...(f.verbs ?? [])])];
    const resource = f.selector?.on === 'pods' ? { group: '', resource: 'pods' } : { group: 'batch', resource: 'jobs' };
    const needs: Permission[] = f.unresolved ? [] : verbs.map((verb) => ({ ...resource, verb, name: f.selector ? '' : f.jobName, namespace }));
    const ledger = f.kind === 'library' ? envValue(container, 'MIGRATION_LEDGER') : undefined;
    if (ledger !== undefined) {
      needs.push({ group: '', resource: 'configmaps', verb: 'get', name: ledger, namespace });
    }
    return {
      workload,
      container,
      containerIndex,
      kind: f.kind,
      jobName: f.jobName,
      selector: f.selector,
      namespace,
      mode: f.mode,
      noticesFailure: (f.kind !== 'kubectl-wait' && f.kind !== 'kubectl-get') || seesFailure || f.conditions.some(conditionSeesFailure),
      needs,
      unresolved: f.unresolved || undefined,
    };
  });
}

/** `$NAME` and `${NAME}` in a word of a wait tool's arguments, from the container's literal variables. */
function expandShellVariables(word: string, container: any): string {
  return word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (ref, a, b) => envValue(container, a ?? b) ?? ref);
}

/** A name a Kubernetes object can have: a DNS-1123 subdomain. */
export function isObjectName(name: string): boolean {
  return (name.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name));
}

/**
 * Other wait-for tools (an image or program named for waiting) given a Job: `job/NAME`,
 * `--job NAME`, `--job=NAME`, `--job-name NAME`, or `job NAME` / `job-wr NAME`-like mode words.
 */
function waitToolWaits(argv: readonly string[]): FoundWait[] {
  const found: FoundWait[] = [];
  const namespace = namespaceFlag(argv);
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i];
    const slash = /^(?:jobs?|jobs?\.batch)\/([a-z0-9][a-z0-9.-]*)$/i.exec(w);
    const flag = /^--job(?:-name)?=([a-z0-9][a-z0-9.-]*)$/i.exec(w);
    const name = slash?.[1] ?? flag?.[1]
      ?? (/^--job(?:-name)?$/i.test(w) || /^job(?:-[a-z]+)?$/i.test(w) ? argv[i + 1] : undefined);
    if (name !== undefined && /^[a-z0-9][a-z0-9.-]*$/.test(name)) {
      found.push({ kind: 'wait-tool', jobName: name, namespace, conditions: [] });
    }
  }
  return found;
}

/**
 * kubernetes-entrypoint (openstack-helm and others) waits for the Jobs named in `DEPENDENCY_JOBS`
 * (comma-separated, `namespace:name` allowed) or selected in `DEPENDENCY_JOBS_JSON`
 * (`[{"namespace": ..., "name": ...} | {"labels": {...}}]`).
 */
function kubernetesEntrypointWaits(container: any): FoundWait[] {
  const found: FoundWait[] = [];
  for (const entry of (envValue(container, 'DEPENDENCY_JOBS') ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const [namespace, name] = entry.includes(':') ? entry.split(':', 2) : [undefined, entry];
    found.push({ kind: 'kubernetes-entrypoint', jobName: name, namespace: namespace || undefined, conditions: [] });
  }
  const json = envValue(container, 'DEPENDENCY_JOBS_JSON');
  if (json !== undefined && json.trim() !== '') {
    let entries: unknown;
    try {
      entries = JSON.parse(json);
    } catch {
      entries = [];
    }
    for (const e of Array.isArray(entries) ? entries : []) {
      const namespace = typeof e?.namespace === 'string' ? e.namespace : undefined;
      if (typeof e?.name === 'string') {
        found.push({ kind: 'kubernetes-entrypoint', jobName: e.name, namespace, conditions: [] });
      } else if (typeof e?.labels === 'object' && e.labels !== null && Object.keys(e.labels).length > 0) {
        const labels = Object.fromEntries(Object.entries(e.labels).map(([k, v]) => [k, text(v)]));
        found.push({
          kind: 'kubernetes-entrypoint',
          jobName: `-l ${Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',')}`,
          selector: { labels, on: 'jobs' },
          namespace,
          conditions: [],
          verbs: ['list'],
        });
      }
    }
  }
  return found;
}

/** Whether an init container waits for a rollout (a post-deploy Job), not for a migration Job. */
export function waitsForRollout(container: any): boolean {
  const args = strings(container.args);
  const argv = [...strings(container.command), ...args];
  return args[0] === 'rollout' || envValue(container, 'ROLLOUT_WORKLOADS') !== undefined
    || commandsOf(argv).some((words) => {
      const k = words.findIndex((w) => basename(w) === 'kubectl');
      return k !== -1 && words.slice(k + 1).includes('rollout');
    });
}

// What migration tools are run as: a name, a container or a command that says so.
const MIGRATION_COMMAND = new RegExp([
  'migrat', // migrate, migration(s), manage.py migrate, knex migrate:latest, typeorm migration:run, ecto.migrate, prisma migrate
  'alembic\\b.*\\bupgrade', 'liquibase\\b.*\\b(update|migrate)', 'liquibase', 'flyway',
  'db[:._-]?(sync|init|upgrade|setup|prepare|schema|bootstrap|manage)', // db-sync, db_sync (keystone-manage db_sync), db:prepare
  'manage[-_]db', 'schema[-_:. ]?(update|upgrade|sync|init|load|apply|install|create)', '\\bschema\\b(?![-_]registry)',
  'goose\\b.*\\bup\\b', 'sqitch\\b.*\\bdeploy', 'dbmate\\b.*\\b(up|migrate)', 'atlas\\b.*\\bapply', 'diesel\\b.*\\brun',
].join('|'), 'i');

// Jobs that run beside a release but migrate nothing, even when their image's name or a flag mentions a database.
const NOT_A_MIGRATION = /clean[-_]?up|\bcleaner\b|token|cert(ificate)?s?[-_]?(gen|create|issu|renew|patch)|secret[-_]?(gen|create|init)|key[-_]?gen|backup|restore|\bpurge\b|\bprune\b|housekeep|\bvacuum\b|\btest\b|smoke|\bks-(user|service|endpoints)\b|rabbit(mq)?-init|bucket|image-repo-sync|storage-init/i;

/**
 * A Job whose name says it does something else than migrate (keystone users and endpoints,
 * RabbitMQ users, tokens, certificates, cleanup): waited for like a migration, but its retries
 * and deadline are its own business.
 */
export function namedOtherThanMigration(job: K8sObject): boolean {
  return NOT_A_MIGRATION.test(job.name) && !MIGRATION_COMMAND.test(job.name.replace(NOT_A_MIGRATION, ''));
}

/** The containers that do a Job's work: not the init containers that wait for another Job or a rollout. */
export function jobContainers(job: K8sObject): any[] {
  const workload = podSpecOf(job);
  const inits = containersOf(workload?.podSpec, 'initContainers')
    .filter((c, i) => !waitsForRollout(c) && (workload === undefined || waitersOf(workload, c, i).length === 0));
  return [...inits, ...containersOf(workload?.podSpec, 'containers')];
}

/**
 * A Job that nobody waits for, but whose name, containers or commands say it migrates a schema:
 * `db-sync`, `alembic upgrade`, `rake db:migrate`, `flyway migrate`, `liquibase update`, `goose up`
 * and the like. Cleanup, token, certificate and backup Jobs, and Helm test hooks, are not.
 */
export function looksLikeMigration(job: K8sObject): boolean {
  if ((job.annotations['helm.sh/hook'] ?? '').split(',').some((h) => h.trim().startsWith('test'))) {
    return false;
  }
  const containers = jobContainers(job);
  const names = [job.name, ...containers.map((c) => text(c.name))];
  // Without a command a kubectl image runs kubectl.
  const commands = containers.map((c) => [...(Array.isArray(c.command) ? strings(c.command)
    : /(^|\/)kubectl(:|@|$)|k8s-wait-for/.test(text(c.image)) ? ['kubectl'] : []), ...strings(c.args)].join(' '));
  if (!names.some((n) => MIGRATION_COMMAND.test(n)) && !commands.some((c) => MIGRATION_COMMAND.test(c))) {
    return false;
  }
  // A Job that only drives kubectl or helm (deleting old Jobs, patching objects) migrates no schema.
  const drivesKubernetes = (c: string) => /^\S*\b(kubectl|helm)\b/.test(c) || /^\S*sh\s+-\S*c\s+\S*\b(kubectl|helm)\s/.test(c);
  if (commands.length > 0 && commands.every((c) => c === '' || drivesKubernetes(c)) && commands.some((c) => c !== '')) {
    return false;
  }
  // A cleanup Job named after the migration it cleans up is still a cleanup Job, unless what it runs migrates.
  const denied = names.some((n) => NOT_A_MIGRATION.test(n));
  return !denied || commands.some((c) => MIGRATION_COMMAND.test(c) && !NOT_A_MIGRATION.test(c) && !drivesKubernetes(c));
}

/** The model every rule reads. */
export class Manifests {
  public readonly workloads: Workload[] = [];
  public readonly waiters: Waiter[] = [];
  public readonly migrationJobs: MigrationJob[] = [];
  public readonly rbac: Rbac;
  private readonly jobsByName = new Map<string, K8sObject[]>();

  constructor(public readonly objects: readonly K8sObject[]) {
    this.rbac = new Rbac(objects);
    const jobsByName = this.jobsByName;
    const allJobs = objects.filter((o) => o.kind === 'Job');
    for (const job of allJobs) {
      jobsByName.set(job.name, [...(jobsByName.get(job.name) ?? []), job]);
    }
    for (const o of objects) {
      const workload = podSpecOf(o);
      if (workload) {
        this.workloads.push(workload);
        containersOf(workload.podSpec, 'initContainers').forEach((c, i) => this.waiters.push(...waitersOf(workload, c, i, allJobs)));
      }
    }
    const byJob = new Map<K8sObject, MigrationJob>();
    for (const waiter of this.waiters) {
      for (const job of this.jobsOf(waiter)) {
        const entry = byJob.get(job) ?? { job, waiters: [] };
        entry.waiters.push(waiter);
        byJob.set(job, entry);
      }
    }
    for (const jobs of jobsByName.values()) {
      for (const job of jobs) {
        const entry = byJob.get(job) ?? (looksLikeMigration(job) ? { job, waiters: [] } : undefined);
        if (entry) {
          this.migrationJobs.push(entry);
        }
      }
    }
    this.migrationJobs.sort((a, b) => a.job.order - b.job.order);
  }

  /** The Jobs of that name that the waiter can see. */
  public jobsOf(waiter: Waiter): K8sObject[] {
    if (waiter.selector) {
      const selector = waiter.selector;
      return this.allJobs().filter((job) => sameNamespace(job.namespace, waiter.namespace) && selects(selector, job));
    }
    return (this.jobsByName.get(waiter.jobName) ?? []).filter((job) => sameNamespace(job.namespace, waiter.namespace));
  }

  /** The Jobs a waiter's name or selector matches in any namespace. */
  public jobsMatching(waiter: Waiter): K8sObject[] {
    return waiter.selector ? this.allJobs().filter((job) => selects(waiter.selector!, job)) : this.jobsNamed(waiter.jobName);
  }

  private allJobs(): K8sObject[] {
    return [...this.jobsByName.values()].flat();
  }

  public jobsNamed(name: string): K8sObject[] {
    return this.jobsByName.get(name) ?? [];
  }
}

// --- RBAC ---------------------------------------------------------------------------------------

export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames: readonly string[];
  /** The rule's position in its role, for pointing at it. */
  readonly index: number;
}

export interface RoleInfo {
  readonly kind: 'Role' | 'ClusterRole';
  readonly name: string;
  readonly namespace?: string;
  readonly rules: readonly PolicyRule[];
  /** The object, or undefined for a built-in ClusterRole that is not in the manifests. */
  readonly object?: K8sObject;
}

export interface BindingInfo {
  readonly object: K8sObject;
  readonly roleRef: { readonly kind: string; readonly name: string };
  readonly subjects: readonly any[];
}

export interface Grant {
  readonly binding: BindingInfo;
  readonly role: RoleInfo;
  readonly rule: PolicyRule;
}

export interface Account {
  readonly name: string;
  readonly namespace?: string;
}

const rule = (apiGroups: string[], resources: string[], verbs: string[]): PolicyRule =>
  ({ apiGroups, resources, verbs, resourceNames: [], index: 0 });
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const READ = ['get', 'list', 'watch'];
// The user-facing ClusterRoles every cluster has, for bindings to roles the manifests do not define.
const BUILT_IN_CLUSTER_ROLES: { readonly [name: string]: PolicyRule[] } = {
  'cluster-admin': [rule(['*'], ['*'], ['*'])],
  'admin': [rule(['', 'apps', 'batch'], ['*'], [...READ, ...WRITE])],
  'edit': [rule(['', 'apps', 'batch'], ['*'], [...READ, ...WRITE])],
  'view': [rule(['', 'apps', 'batch'], ['jobs', 'cronjobs', 'pods', 'deployments', 'configmaps', 'services'], READ)],
};

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(text) : [];
}

function toRules(raw: any): PolicyRule[] {
  return (Array.isArray(raw?.rules) ? raw.rules : []).map((r: any, index: number) => ({
    apiGroups: strings(r?.apiGroups),
    resources: strings(r?.resources),
    verbs: strings(r?.verbs),
    resourceNames: strings(r?.resourceNames),
    index,
  }));
}

export function ruleCovers(r: PolicyRule, group: string, resource: string): boolean {
  return (r.apiGroups.includes(group) || r.apiGroups.includes('*')) && (r.resources.includes(resource) || r.resources.includes('*'));
}

export function ruleAllows(r: PolicyRule, p: Permission): boolean {
  return ruleCovers(r, p.group, p.resource)
    && (r.verbs.includes(p.verb) || r.verbs.includes('*'))
    && (r.resourceNames.length === 0 || r.resourceNames.includes(p.name));
}

export class Rbac {
  private readonly roles = new Map<string, RoleInfo[]>();
  private readonly bindings: BindingInfo[] = [];
  /** Bindings by the name of a ServiceAccount subject; group subjects under the empty string. */
  private readonly bindingsBySubject = new Map<string, BindingInfo[]>();
  private readonly serviceAccounts = new Map<string, K8sObject[]>();

  constructor(objects: readonly K8sObject[]) {
    for (const o of objects) {
      if (!/^rbac\.authorization\.k8s\.io\//.test(o.apiVersion) && o.kind !== 'ServiceAccount') {
        continue;
      }
      if (o.kind === 'Role' || o.kind === 'ClusterRole') {
        const role: RoleInfo = { kind: o.kind, name: o.name, namespace: o.kind === 'Role' ? o.namespace : undefined, rules: toRules(o.raw), object: o };
        const key = `${o.kind}/${o.name}`;
        this.roles.set(key, [...(this.roles.get(key) ?? []), role]);
      } else if (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') {
        const binding: BindingInfo = {
          object: o,
          roleRef: { kind: text(o.raw.roleRef?.kind), name: text(o.raw.roleRef?.name) },
          subjects: Array.isArray(o.raw.subjects) ? o.raw.subjects : [],
        };
        this.bindings.push(binding);
        const keys = new Set(binding.subjects.map((s: any) => (s?.kind === 'ServiceAccount' ? text(s.name) : '')));
        for (const key of keys) {
          this.bindingsBySubject.set(key, [...(this.bindingsBySubject.get(key) ?? []), binding]);
        }
      } else if (o.kind === 'ServiceAccount') {
        this.serviceAccounts.set(o.name, [...(this.serviceAccounts.get(o.name) ?? []), o]);
      }
    }
  }

  public serviceAccount(account: Account): K8sObject | undefined {
    return (this.serviceAccounts.get(account.name) ?? []).find((sa) => sameNamespace(sa.namespace, account.namespace));
  }

  /** The role a binding refers to, in the binding's namespace for a Role. */
  public roleOf(binding: BindingInfo): RoleInfo | undefined {
    const { kind, name } = binding.roleRef;
    if (kind === 'Role' && binding.object.kind === 'RoleBinding') {
      return (this.roles.get(`Role/${name}`) ?? []).find((r) => sameNamespace(r.namespace, binding.object.namespace));
    }
    if (kind === 'ClusterRole') {
      const defined = this.roles.get(`ClusterRole/${name}`)?.[0];
      const builtIn = BUILT_IN_CLUSTER_ROLES[name];
      return defined ?? (builtIn ? { kind: 'ClusterRole', name, rules: builtIn } : undefined);
    }
    return undefined;
  }

  /** Whether a binding makes its role apply to requests in `namespace`. */
  private bindingReaches(binding: BindingInfo, namespace: string | undefined): boolean {
    return binding.object.kind === 'ClusterRoleBinding' || sameNamespace(binding.object.namespace, namespace);
  }

  public bindsAccount(binding: BindingInfo, account: Account): boolean {
    return binding.subjects.some((s) => {
      if (s?.kind === 'ServiceAccount') {
        // A subject without a namespace is read in the RoleBinding's own namespace.
        const ns = s.namespace ?? (binding.object.kind === 'RoleBinding' ? binding.object.namespace : undefined);
        return s.name === account.name && sameNamespace(ns, account.namespace);
      }
      if (s?.kind === 'Group') {
        return s.name === 'system:serviceaccounts' || s.name === 'system:authenticated'
          || (typeof s.name === 'string' && s.name.startsWith('system:serviceaccounts:')
            && sameNamespace(s.name.slice('system:serviceaccounts:'.length), account.namespace));
      }
      return false;
    });
  }

  /** The bindings that may name the account: by its name, or through a group. */
  private bindingsNaming(account: Account): BindingInfo[] {
    const byName = this.bindingsBySubject.get(account.name) ?? [];
    const byGroup = this.bindingsBySubject.get('') ?? [];
    return byGroup.length === 0 ? byName : [...new Set([...byName, ...byGroup])];
  }

  /** The bindings, roles and rules that grant `account` the permission. */
  public grants(account: Account, permission: Permission): Grant[] {
    const found: Grant[] = [];
    for (const binding of this.bindingsNaming(account)) {
      if (!this.bindingReaches(binding, permission.namespace) || !this.bindsAccount(binding, account)) {
        continue;
      }
      const role = this.roleOf(binding);
      for (const r of role?.rules ?? []) {
        if (role && ruleAllows(r, permission)) {
          found.push({ binding, role, rule: r });
        }
      }
    }
    return found;
  }

  /**
   * The roles bound to `account` that reach `namespace`, each with its binding. When none is bound
   * to it, the roles bound to other ServiceAccounts of the account's namespace: the waiter's role
   * with a wrong subject is still the waiter's role.
   */
  public rolesMeantFor(account: Account, namespace: string | undefined, permission: Permission): Array<{ binding: BindingInfo; role: RoleInfo }> {
    const withRole = (bs: BindingInfo[]) => bs
      .map((binding) => ({ binding, role: this.roleOf(binding) }))
      .filter((x): x is { binding: BindingInfo; role: RoleInfo } => x.role !== undefined && x.role.rules.some((r) => ruleAllows(r, permission)));
    const bound = withRole(this.bindingsNaming(account).filter((b) => this.bindingReaches(b, namespace) && this.bindsAccount(b, account)));
    if (bound.length > 0) {
      return bound;
    }
    return withRole(this.bindings.filter((b) => this.bindingReaches(b, namespace) && b.subjects.some((s) => s?.kind === 'ServiceAccount'
      && sameNamespace(s.namespace ?? (b.object.kind === 'RoleBinding' ? b.object.namespace : undefined), account.namespace))));
  }

  /** Why `account` lacks the permission, naming the objects involved. */
  public explainMissing(account: Account, permission: Permission): string {
    const what = `${permission.verb} on ${permission.group === '' ? '' : `${permission.group} `}${permission.resource}`
      + `${permission.name !== '' ? ` "${permission.name}"` : ' (by label)'}`;
    const granting = [...this.roles.values()].flat()
      .filter((role) => sameNamespace(role.namespace, permission.namespace) && role.rules.some((r) => ruleAllows(r, permission)));
    if (granting.length === 0) {
      const elsewhere = [...this.roles.values()].flat().filter((role) => role.rules.some((r) => ruleAllows(r, permission)));
      return elsewhere.length > 0
        ? `only ${elsewhere.map((r) => `${r.kind} ${r.namespace}/${r.name}`).join(', ')} grants ${what}, in another namespace than ${permission.namespace}`
        : `no Role in the manifests grants ${what}`;
    }
    const bindings = this.bindings.filter((b) => this.bindingReaches(b, permission.namespace)
      && granting.some((role) => this.roleOf(b) === role));
    const roleNames = granting.map((r) => `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`).join(', ');
    if (bindings.length === 0) {
      return `${roleNames} grants ${what}, but no binding in its namespace refers to it`;
    }
    const subjects = bindings.map((b) => `${describe(b.object)} binds ${b.subjects.map((s) =>
      `${text(s?.kind)} ${text(s?.namespace ?? (b.object.kind === 'RoleBinding' ? b.object.namespace : ''))}${(s?.namespace ?? b.object.namespace) ? '/' : ''}${text(s?.name)}`).join(', ') || 'no subject'}`);
    return `${what} is granted by ${roleNames}, but ${subjects.join('; ')}, not ServiceAccount ${account.namespace ? `${account.namespace}/` : ''}${account.name}`;
  }
}
