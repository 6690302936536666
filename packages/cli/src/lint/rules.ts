import {
  expansionVariable,
  hasCarriageReturn,
  isUnsplitCommandLine,
  shellOnlyExpansion,
  shellOnlyExpansionProblem,
  shellScriptIndex,
  unsplitCommandProblem,
} from 'cdk8s-migrated-service/lib/shared/command';
import { TEMPLATE_HASH_LENGTH, versionedName, versionLabelValue } from 'cdk8s-migrated-service/lib/shared/names';
import { configReferencesOf, SERVICE_ACCOUNT_PATH } from 'cdk8s-migrated-service/lib/shared/pod-spec';
import { parseQuantity } from 'cdk8s-migrated-service/lib/shared/quantity';
import { conventionallyMoves, identifiesRelease } from 'cdk8s-migrated-service/lib/shared/release-tag';
import { num, rolloutCapacity } from 'cdk8s-migrated-service/lib/shared/rollout-capacity';
import { MIN_PROGRAM_MEMORY_LIMIT_MIB } from 'cdk8s-migrated-service/lib/shared/waiter-resources';
import { K8sObject } from './load';
import {
  Account,
  sameNamespace,
  containersOf,
  describe,
  envValue,
  jobContainers,
  Manifests,
  namedOtherThanMigration,
  libraryProgramMode,
  podSpecOf,
  PolicyRule,
  ruleCovers,
  Waiter,
  waitsForRollout,
  Workload,
} from './model';
import { basename } from './shell';
import { text } from './text';

export type Severity = 'error' | 'warning' | 'info';

export const SEVERITY_RANK: { readonly [s in Severity]: number } = { info: 0, warning: 1, error: 2 };

/** A rule: a stable id, a name for its anchor in docs/lint-rules.md, and what it asks you to do. */
export interface Rule {
  readonly id: string;
  readonly name: string;
  readonly severity: Severity;
  /** One line: what the rule finds. */
  readonly summary: string;
  /** One line: what to do. */
  readonly fix: string;
}

export interface Finding {
  readonly rule: Rule;
  /** The rule's severity, or a lower one for a lesser case of it (MS015 when only a larger replica count loses capacity). */
  readonly severity: Severity;
  /** The object the finding points at. */
  readonly object: K8sObject;
  readonly line: number;
  readonly message: string;
  /** Other objects the message names; a suppression on any of them applies. */
  readonly related: readonly K8sObject[];
  /** What to do, when the rule's own fix is wrong for this case (MS015 on a singleton). */
  readonly fix?: string;
}

export const README_URL = 'https://github.com/cdk8s-migrated-service/cdk8s-migrated-service';

/** The heading `## MS001 unversioned-job-name` of docs/lint-rules.md has this GitHub anchor. */
export function ruleAnchor(rule: Rule): string {
  return `${rule.id.toLowerCase()}-${rule.name}`;
}

/** Where each rule is documented, one section per rule. */
export const RULES_DOC_URL = `${README_URL}/blob/main/docs/lint-rules.md`;

export function ruleHelpUri(rule: Rule): string {
  return `${RULES_DOC_URL}#${ruleAnchor(rule)}`;
}

const r = (id: string, name: string, severity: Severity, summary: string, fix: string): Rule => ({ id, name, severity, summary, fix });

export const RULES: readonly Rule[] = [
  r('MS001', 'unversioned-job-name', 'error',
    'A waited-for Job has a fixed name, so new pods pass on the previous release\'s completed Job (warning when it is named after a tag that conventionally moves, such as v2 or 1.4).',
    'put the release\'s image tag in the Job name (e.g. myapp-migration-<tag>) and in the waiter\'s argument'),
  r('MS002', 'waited-job-missing', 'error',
    'A waiter waits for a Job that is not in the manifests: its pods never start.',
    'add the Job to the same manifests, or correct the name in the waiter\'s arguments'),
  r('MS003', 'waited-job-other-namespace', 'error',
    'A waiter looks for its Job in a namespace other than the Job\'s.',
    'put the Job, the workload and the waiter\'s -n (if any) in one namespace'),
  r('MS004', 'wait-for-job-mode', 'error',
    'k8s-wait-for in `job` mode counts a Job whose pod has not started (0 active, 0 succeeded) as done.',
    'use job-wr mode'),
  r('MS005', 'waited-job-ttl', 'warning',
    'ttlSecondsAfterFinished deletes a migration Job once it finishes: later pods that wait for it crash-loop, and the engine re-runs it when it re-creates it (Flux at its next reconcile, Argo CD or Helm at the next sync or upgrade, kubectl at the next apply).',
    'remove ttlSecondsAfterFinished; let the engine prune or replace the previous release\'s Job'),
  r('MS006', 'root-waiter-image', 'error',
    'The root k8s-wait-for image under runAsNonRoot never starts (CreateContainerConfigError).',
    'use groundnuty/k8s-wait-for:no-root-v2.0 with runAsUser: 1100'),
  r('MS007', 'waiter-rbac-missing', 'error',
    'The waiter\'s ServiceAccount cannot read its Job (no Role, no binding, or the wrong subject or namespace).',
    'bind a Role that grants the waiter\'s verbs on this Job (resourceNames) to the pod\'s ServiceAccount, in the Job\'s namespace'),
  r('MS008', 'rbac-no-resource-names', 'warning',
    'The waiter\'s Role grants every Job of the namespace, not the one it waits for.',
    'list the Job in resourceNames'),
  r('MS009', 'rbac-cluster-scope', 'warning',
    'The waiter\'s access comes from a ClusterRole or a ClusterRoleBinding.',
    'use a namespaced Role and RoleBinding'),
  r('MS010', 'rbac-write-verbs', 'error',
    'The waiter\'s Role grants write verbs: any container of the pod can create, change or delete objects.',
    'grant only get (k8s-wait-for) or get, list, watch (kubectl wait)'),
  r('MS011', 'rbac-secrets', 'error',
    'The waiter\'s Role lets the pod read Secrets.',
    'remove secrets (and wildcard resources) from the Role'),
  r('MS012', 'waiter-token-disabled', 'error',
    'The waiting pod mounts no service-account token, so the waiter cannot call the API (Init:Error).',
    'set automountServiceAccountToken: true on the pod spec'),
  r('MS013', 'migration-retries', 'warning',
    'The migration Job retries (backoffLimit unset or > 0) against a half-migrated schema.',
    'set backoffLimit: 0 (and a podFailurePolicy that ignores DisruptionTarget)'),
  r('MS014', 'migration-no-deadline', 'warning',
    'The migration Job has no activeDeadlineSeconds: a hung migration blocks the release forever.',
    'set activeDeadlineSeconds (e.g. 3600)'),
  r('MS015', 'rollout-loses-capacity', 'warning',
    'A waiting Deployment or DaemonSet may take down old pods while new ones wait for the migration (info when only a larger replica count loses capacity).',
    'set strategy.rollingUpdate.maxUnavailable: 0 (DaemonSet: maxUnavailable: 0, maxSurge: 1)'),
  r('MS016', 'post-hook-deadlock', 'error',
    'A waited-for Job is a post-install/post-upgrade (PostSync) hook: the engine waits for the pods, the pods wait for the Job.',
    'make it a pre-install,pre-upgrade (PreSync) hook, or no hook'),
  r('MS017', 'hook-deleted-on-success', 'error',
    'hook-succeeded / HookSucceeded deletes the waited-for Job; later pods crash-loop.',
    'use before-hook-creation / BeforeHookCreation'),
  r('MS018', 'job-after-workload', 'warning',
    'The Job comes after the workload that waits for it: `kubectl apply -f` creates the pods first.',
    'put the Job before the workload (file order, then document order); in Helm-rendered output, make it a pre-install,pre-upgrade hook'),
  r('MS019', 'env-sources-differ', 'info',
    'The migration Job and the workload may reach different databases: their database location (host, URL) differs, or comes from different Secrets or ConfigMaps.',
    'point both at the same database location, from the same ConfigMap or Secret keys (credentials may differ: an owner role for the migration is fine)'),
  r('MS020', 'wait-ignores-failure', 'warning',
    'A kubectl waiter cannot notice a failed Job (`kubectl wait --for=condition=complete`, or a loop polling `kubectl get job` for success only): it waits until its own timeout, or forever.',
    'wait for Complete or Failed (a jsonpath on both conditions) and exit non-zero on Failed'),
  r('MS021', 'drain-fails-migration', 'info',
    'With backoffLimit: 0 and no podFailurePolicy, a node drain fails the migration and the release.',
    'add podFailurePolicy rule {action: Ignore, onPodConditions: [{type: DisruptionTarget}]}'),
  r('MS022', 'unwaited-migration-job', 'info',
    'A Job looks like a migration, but no workload\'s init container waits for it.',
    'add an init container that waits for it to the workloads that need the migrated schema'),
  r('MS023', 'invalid-suppression', 'warning',
    'A lint suppression annotation names an unknown rule or gives no reason; it is ignored.',
    'write "RULE-ID: reason" entries, separated by ";" or new lines'),
  r('MS024', 'duplicate-key', 'warning',
    'A mapping repeats a key. Kubernetes and Helm keep the last value without a word; the first is dead text that a reader takes for the setting.',
    'remove all but one of the repeated keys, merging what they hold'),
  r('MS025', 'waiter-may-run-as-root', 'warning',
    'A waiter may run as root: no runAsNonRoot, no non-zero runAsUser, and an image whose default user is root (or runAsUser: 0).',
    'set runAsNonRoot: true and a non-zero runAsUser on the waiter (or the pod), with an image that runs as that user (e.g. groundnuty/k8s-wait-for:no-root-v2.0, runAsUser: 1100)'),
  r('MS026', 'waits-for-database-not-migration', 'warning',
    'A workload\'s init container waits for the database, a port or the app\'s own check, not for the migration Job beside it (or the Job is a post-install/PostSync hook, run after the pods): pods start on the old schema.',
    'wait for the migration Job itself (k8s-wait-for job-wr, kubectl wait, or this library\'s waiter), or make the Job a pre-install,pre-upgrade (PreSync) hook'),
  r('MS027', 'release-tag-drift', 'warning',
    'A workload runs another tag of the release\'s image than the migration Job it waits for, or pins it by digest: another release\'s code may start on this release\'s schema.',
    'use one image tag for the whole release (in cdk8s: migration.releaseImage(repository) for the workload\'s image)'),
  r('MS028', 'wait-target-unresolved', 'info',
    'lint cannot tell which Job an init container waits for: its target is an expression the input does not resolve (`$1`, the output of a `$(...)`, a variable set elsewhere).',
    'name the Job literally in the waiter\'s arguments or env (e.g. JOB=myapp-migration-<tag>), so that lint, and a reader, can check it'),
  r('MS029', 'unsplit-command', 'error',
    'A container\'s program is a whole command line (`command: ["bundle exec rails db:migrate"]`): Kubernetes runs it without a shell, as one executable named with the spaces, which does not exist (warning for the first of `args` without `command`).',
    'split it into words (["bundle", "exec", "rails", "db:migrate"]), or run it through a shell (["sh", "-c", "bundle exec rails db:migrate"])'),
  r('MS030', 'release-tag-changed-after-synth', 'error',
    'Every image of a release runs one tag, but the migration Job is named or labelled (app.kubernetes.io/version) for another: its images were changed after the manifests were made (kustomize images:, Flux image automation), and the next tag bump reuses the Job\'s name (warning when only the label is stale).',
    'set the tag where the manifests are made (IMAGE_TAG) and synthesize again; never rewrite images after synth'),
  r('MS031', 'shell-variable-in-exec-command', 'error',
    'A command or argument holds `$VAR` or `${VAR}`: Kubernetes runs it without a shell and passes it literally (it expands only `$(VAR)`, for declared variables); or a `$(VAR)` names no variable of the container.',
    'write $(VAR) with VAR declared in the container\'s env, or run the command through a shell (["sh", "-c", "..."])'),
  r('MS032', 'script-carriage-return', 'error',
    'A shell script (or an argument) holds carriage returns (Windows line endings): the shell reads `\\r` as part of each line\'s last word (`set -euo pipefail\\r`), and the script fails at run time.',
    'save the script with Unix line endings (\\n), or strip \\r before it reaches the manifest'),
  r('MS033', 'program-memory-too-low', 'error',
    `A container of this library's program (Node.js) has a memory limit under ${MIN_PROGRAM_MEMORY_LIMIT_MIB}Mi: it is OOM-killed at start, and no pod it gates ever starts.`,
    `set its memory limit to at least ${MIN_PROGRAM_MEMORY_LIMIT_MIB}Mi (the library's default limit is 128Mi)`),
];

const RULE = Object.fromEntries(RULES.map((rule) => [rule.id, rule])) as { [id: string]: Rule };

export function findRule(idOrName: string): Rule | undefined {
  const key = idOrName.trim();
  return RULES.find((rule) => rule.id.toLowerCase() === key.toLowerCase() || rule.name === key.toLowerCase());
}

// --- the checks -----------------------------------------------------------------------------------

type Report = (id: string, object: K8sObject, line: number, message: string, related?: K8sObject[], severity?: Severity, fix?: string) => void;

/** A name that carries a release: a template placeholder, or a release tag after its first part. */
export function isVersionedName(name: string): boolean {
  if (/\$\{|\{\{|\$\(/.test(name)) {
    return true;
  }
  return identifiesRelease(name.split(/[-.]/).slice(1).join('-'));
}

/**
 * Why the image tag a Job is named after (`web-migration-v2` running `web:v2`) conventionally
 * moves (src/shared/release-tag.ts, which the constructs' MS105 uses too), or undefined. A Job
 * named after something else, such as a Helm revision, gets a new name per release whatever its tag.
 * The library's names count: the tag as `versionedName` writes it (`web-migration-1-4-<hash of the
 * tag>`), and, on a Job labelled with the tag, a digest of the pod template after it (kubectl's
 * `web-migration-v2-4b65aa39`), which stays the same while the tag does.
 */
function movingTagInName(job: K8sObject): string | undefined {
  const label = text(job.raw?.metadata?.labels?.['app.kubernetes.io/version']).trim();
  const templateDigest = new RegExp(`-[0-9a-f]{${TEMPLATE_HASH_LENGTH}}$`);
  for (const c of jobContainers(job)) {
    const tag = imageRef(c.image)?.tag;
    const reason = tag !== undefined ? conventionallyMoves(tag) : undefined;
    if (tag === undefined || reason === undefined) {
      continue;
    }
    const names = [job.name, ...(label === versionLabelValue(tag) ? [job.name.replace(templateDigest, '')] : [])];
    if (names.some((name) => name.toLowerCase().endsWith(`-${tag.toLowerCase().replace(/[._]/g, '-')}`) || namedForTag(name, tag))) {
      return reason;
    }
  }
  return undefined;
}

function accountOf(workload: Workload): Account {
  const spec = workload.podSpec;
  return { name: text(spec.serviceAccountName ?? spec.serviceAccount ?? 'default'), namespace: workload.object.namespace };
}

function accountName(account: Account): string {
  return `ServiceAccount ${account.namespace ? `${account.namespace}/` : ''}${account.name}`;
}

const hooks = (job: K8sObject) => ({
  helm: (job.annotations['helm.sh/hook'] ?? '').split(',').map((s) => s.trim()).filter(Boolean),
  argo: (job.annotations['argocd.argoproj.io/hook'] ?? '').split(',').map((s) => s.trim()).filter(Boolean),
  helmDelete: (job.annotations['helm.sh/hook-delete-policy'] ?? '').split(',').map((s) => s.trim()),
  argoDelete: (job.annotations['argocd.argoproj.io/hook-delete-policy'] ?? '').split(',').map((s) => s.trim()),
  flux: Object.keys(job.annotations).some((key) => key.startsWith('kustomize.toolkit.fluxcd.io/')),
});

/** A Helm or Argo CD hook: its engine creates it afresh for each release, whatever its name, and runs it before the release's other objects. */
const isHook = (job: K8sObject): boolean => hooks(job).helm.length > 0 || hooks(job).argo.length > 0;

/** The engine that applies a set of manifests, as the messages name it. */
export type Engine = 'argocd' | 'helm' | 'flux' | 'kubectl';

/**
 * The engine `object` is for: its own annotations (`argocd.argoproj.io/*`, `helm.sh/*`,
 * `kustomize.toolkit.fluxcd.io/*`) or Helm's rendering marks, else those of any object of the same
 * manifests (an ordinary Job of an Argo CD app carries none), else plain `kubectl apply`.
 */
export function engineOf(object: K8sObject, all: readonly K8sObject[]): Engine {
  const own = engineAnnotated(object);
  if (own !== undefined) {
    return own;
  }
  for (const other of all) {
    const engine = engineAnnotated(other);
    if (engine !== undefined) {
      return engine;
    }
  }
  return 'kubectl';
}

function engineAnnotated(o: K8sObject): Engine | undefined {
  const keys = Object.keys(o.annotations ?? {});
  if (keys.some((key) => key.startsWith('argocd.argoproj.io/'))) {
    return 'argocd';
  }
  if (keys.some((key) => key.startsWith('helm.sh/')) || isHelmRendered(o)) {
    return 'helm';
  }
  if (keys.some((key) => key.startsWith('kustomize.toolkit.fluxcd.io/'))) {
    return 'flux';
  }
  return undefined;
}

/** What becomes of a migration Job that its TTL deleted, under each engine. */
function afterTtl(engine: Engine, hook: boolean): string {
  switch (engine) {
    case 'argocd':
      return hook
        ? 'Argo CD creates a hook again only at the next sync, which runs the migration again'
        : 'the app goes OutOfSync, and Argo CD\'s next sync (at once under selfHeal) re-creates the Job and runs the migration again';
    case 'helm':
      return hook
        ? 'Helm creates a hook again only at the next helm upgrade, which runs the migration again'
        : 'the next helm upgrade re-creates the Job and runs the migration again';
    case 'flux':
      return 'Flux re-creates the Job at its next reconcile and runs the migration again, every interval';
    default:
      return 'the next kubectl apply of the same source re-creates the Job and runs the migration again';
  }
}

export function check(objects: readonly K8sObject[]): Finding[] {
  const m = new Manifests(objects);
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const report: Report = (id, object, line, message, related = [], severity = RULE[id].severity, fix) => {
    const key = `${id}\0${object.order}\0${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      findings.push({ rule: RULE[id], severity, object, line, message, related, ...(fix !== undefined ? { fix } : {}) });
    }
  };
  checkWaiters(m, report);
  checkMigrationJobs(m, report);
  checkWaitingWorkloads(m, report);
  checkDatabasePolls(m, report);
  checkReleaseTags(m, report);
  checkPrograms(m, report);
  checkCommandText(m, report);
  checkProgramMemory(m, report);
  checkReleaseNames(m, report);
  for (const object of objects) {
    for (const duplicate of object.duplicateKeys ?? []) {
      report('MS024', object, duplicate.line, `${describe(object)} repeats the key "${duplicate.key}": only its last value counts`);
    }
  }
  return findings;
}

function containerPath(waiter: Waiter): Array<string | number> {
  return [...waiter.workload.podSpecPath, 'initContainers', waiter.containerIndex];
}

function checkWaiters(m: Manifests, report: Report): void {
  for (const waiter of m.waiters) {
    const w = waiter.workload.object;
    const at = (...path: Array<string | number>) => w.lineOf([...containerPath(waiter), ...path]);
    const who = `${describe(w)} (init container ${text(waiter.container.name)})`;
    if (waiter.unresolved) {
      // Never a finding about a name that is none: one note that lint cannot tell.
      report('MS028', w, at(argsField(waiter)), `${who}: cannot tell which Job it waits for: it waits for \`${waiter.jobName}\`, `
        + 'which the script, its arguments and its env do not resolve to a Job name');
      if (!waiter.noticesFailure) {
        report('MS020', w, at(argsField(waiter)), `${who} ${waiter.kind === 'kubectl-get' ? 'polls its Job with kubectl get for success only'
          : 'waits for condition=complete only'}: if the Job fails, it waits until its own timeout, or forever, and never says the migration failed`);
      }
      checkWaiterImage(waiter, who, at, report);
      checkWaiterUser(waiter, who, at, report);
      checkWaiterAccess(m, waiter, who, [], report);
      continue;
    }
    const named = m.jobsMatching(waiter);
    const jobs = m.jobsOf(waiter);
    const what = waitedFor(waiter);
    if (named.length === 0) {
      report('MS002', w, at(argsField(waiter)), waiter.selector
        ? `${who} waits for ${what}, and no Job in the manifests has those labels`
        : `${who} waits for ${what}, which is not in the manifests`);
    } else if (jobs.length === 0) {
      report('MS003', w, at(argsField(waiter)), `${who} waits for ${what} in namespace ${waiter.namespace}, `
        + `but the Job is in ${named.map((j) => j.namespace).join(', ')}`, named);
    }
    for (const job of jobs) {
      if (!isVersionedName(job.name)) {
        report('MS001', job, job.lineOf(['metadata', 'name']),
          `${describe(job)}, waited for by ${who}, has a fixed name: a new release's pods pass on the previous release's completed Job`, [w]);
        continue;
      }
      const moving = movingTagInName(job);
      if (moving !== undefined) {
        report('MS001', job, job.lineOf(['metadata', 'name']),
          `${describe(job)}, waited for by ${who}, is named after its image tag, and ${moving}: every release of that line gets this name, `
          + 'and kubectl apply and Flux keep the first one\'s completed Job, so the later releases skip their migrations', [w], 'warning',
          'tag each build uniquely (a full version such as v1.2.3, or a commit SHA) and name the Job after that tag');
      }
    }
    if (waiter.kind === 'k8s-wait-for' && waiter.mode === 'job') {
      report('MS004', w, at(argsField(waiter)), `${who} runs k8s-wait-for in job mode: it passes before ${what} has started`);
    }
    if (waiter.kind === 'kubectl-wait' && !waiter.noticesFailure) {
      report('MS020', w, at(argsField(waiter)), `${who} waits for condition=complete on ${what} only: `
        + 'if the Job fails, it waits until its timeout and restarts, and never says the migration failed');
    }
    if (waiter.kind === 'kubectl-get' && !waiter.noticesFailure) {
      report('MS020', w, at(argsField(waiter)), `${who} polls ${what} with kubectl get and never looks at a failure: `
        + 'if the Job fails, it waits until its own timeout, or forever, and never says the migration failed');
    }
    checkWaiterImage(waiter, who, at, report);
    checkWaiterUser(waiter, who, at, report);
    checkWaiterAccess(m, waiter, who, jobs, report);
  }
}

/** How a message names what a waiter waits for. */
function waitedFor(waiter: Waiter): string {
  if (!waiter.selector) {
    return `Job "${waiter.jobName}"`;
  }
  const labels = Object.entries(waiter.selector.labels).map(([k, v]) => `${k}=${v}`).join(',');
  return waiter.selector.on === 'pods' ? `the Job whose pods are labelled ${labels}` : `the Jobs labelled ${labels}`;
}

/** Where a waiter's target is written: its variables for kubernetes-entrypoint, else its arguments. */
function argsField(waiter: Waiter): string {
  return waiter.kind === 'kubernetes-entrypoint' ? 'env' : waiter.container.args !== undefined ? 'args' : 'command';
}

function checkWaiterImage(waiter: Waiter, who: string, at: (...path: Array<string | number>) => number, report: Report): void {
  const image = text(waiter.container.image);
  if (waiter.kind !== 'k8s-wait-for' || !/k8s-wait-for/.test(image) || image.includes('@')) {
    return;
  }
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  const tag = lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : 'latest';
  if (tag.includes('no-root')) {
    return;
  }
  const pod = waiter.workload.podSpec.securityContext ?? {};
  const container = waiter.container.securityContext ?? {};
  const nonRoot = container.runAsNonRoot ?? pod.runAsNonRoot;
  const user = num(container.runAsUser ?? pod.runAsUser);
  if (nonRoot === true && (user === undefined || user === 0)) {
    report('MS006', waiter.workload.object, at('image'),
      `${who} runs the root image ${image} with runAsNonRoot: true and no non-root runAsUser: the kubelet refuses to start it`);
  }
}

// Images whose default user is not root: k8s-wait-for's no-root tags, Bitnami's, distroless and
// Chainguard's nonroot variants, and tags that say so.
const NON_ROOT_IMAGE = /no-?root|nonroot|rootless|(^|\/)bitnami\/|^cgr\.dev\//i;

/** MS025: a waiter whose user may be root. Root in a pod that holds an API token is a wider door than it needs. */
function checkWaiterUser(waiter: Waiter, who: string, at: (...path: Array<string | number>) => number, report: Report): void {
  const pod = waiter.workload.podSpec.securityContext ?? {};
  const container = waiter.container.securityContext ?? {};
  const nonRoot = (container.runAsNonRoot ?? pod.runAsNonRoot) === true;
  const user = num(container.runAsUser ?? pod.runAsUser);
  const image = text(waiter.container.image);
  if (user === 0) {
    report('MS025', waiter.workload.object, at('securityContext'), `${who} runs as root: runAsUser is 0`);
  } else if (!nonRoot && user === undefined && !NON_ROOT_IMAGE.test(image)) {
    report('MS025', waiter.workload.object, at('image'),
      `${who} may run as root: neither it nor its pod sets runAsNonRoot or a non-zero runAsUser, and the image ${image || '(none)'} is not known to run as another user`);
  }
}

function checkWaiterAccess(m: Manifests, waiter: Waiter, who: string, jobs: K8sObject[], report: Report): void {
  const w = waiter.workload.object;
  const account = accountOf(waiter.workload);
  const sa = m.rbac.serviceAccount(account);

  // The token.
  const podSetting = waiter.workload.podSpec.automountServiceAccountToken;
  const mountsOwnToken = (Array.isArray(waiter.container.volumeMounts) ? waiter.container.volumeMounts : [])
    .some((v: any) => text(v?.mountPath).replace(/\/+$/, '') === SERVICE_ACCOUNT_PATH);
  if (!mountsOwnToken && (podSetting === false || (podSetting === undefined && sa?.raw.automountServiceAccountToken === false))) {
    const where = podSetting === false ? 'the pod spec sets automountServiceAccountToken: false'
      : `${describe(sa!)} sets automountServiceAccountToken: false and the pod spec does not turn it on`;
    report('MS012', w, w.lineOf([...waiter.workload.podSpecPath, 'automountServiceAccountToken']),
      `${who} cannot authenticate: ${where}`, sa ? [sa] : []);
  }

  // What it may read: only when the Job is there to be read.
  if (jobs.length === 0) {
    return;
  }
  const missing = waiter.needs.filter((p) => m.rbac.grants(account, p).length === 0);
  if (missing.length > 0) {
    report('MS007', w, w.lineOf([...waiter.workload.podSpecPath, 'serviceAccountName']),
      `${who} runs as ${accountName(account)}, which may not ${missing.map((p) => p.verb).join(', ')} `
      + `${missing[0].resource}${missing[0].name !== '' ? ` "${missing[0].name}"` : ' by label'}: `
      + `${m.rbac.explainMissing(account, missing[0])}`, jobs);
  }

  // How much more it may do.
  const jobRead = waiter.needs[0];
  for (const { binding, role } of m.rbac.rolesMeantFor(account, jobRead.namespace, jobRead)) {
    const roleObject = role.object ?? binding.object;
    const roleName = role.object ? describe(role.object) : `built-in ClusterRole ${role.name}`;
    const related = [w, binding.object];
    const ruleLine = (rule: PolicyRule) => role.object ? role.object.lineOf(['rules', rule.index]) : binding.object.lineOf(['roleRef']);
    for (const rule of role.rules) {
      // A waiter that selects by label cannot be limited to names.
      if (ruleCovers(rule, 'batch', 'jobs') && rule.resourceNames.length === 0 && !waiter.selector) {
        report('MS008', roleObject, ruleLine(rule),
          `${roleName}, bound to ${who} by ${describe(binding.object)}, grants ${rule.verbs.join(', ')} on every Job, not only "${waiter.jobName}"`, related);
      }
      const writes = rule.verbs.filter((v) => ['create', 'update', 'patch', 'delete', 'deletecollection', 'escalate', 'bind', 'impersonate', '*'].includes(v));
      if (writes.length > 0) {
        report('MS010', roleObject, ruleLine(rule),
          `${roleName}, bound to ${who} by ${describe(binding.object)}, grants ${writes.join(', ')} on ${rule.resources.join(', ')}`, related);
      }
      if ((rule.apiGroups.includes('') || rule.apiGroups.includes('*')) && (rule.resources.includes('secrets') || rule.resources.includes('*'))) {
        report('MS011', roleObject, ruleLine(rule),
          `${roleName}, bound to ${who} by ${describe(binding.object)}, grants ${rule.verbs.join(', ')} on ${rule.resources.includes('*') ? 'every resource, Secrets included' : 'Secrets'}`, related);
      }
    }
    if (role.kind === 'ClusterRole' || binding.object.kind === 'ClusterRoleBinding') {
      const scope = binding.object.kind === 'ClusterRoleBinding' ? 'in every namespace' : 'through a ClusterRole';
      report('MS009', binding.object, binding.object.lineOf(['roleRef']),
        `${describe(binding.object)} gives ${who} ${roleName} ${scope}`, [w, ...(role.object ? [role.object] : [])]);
    }
  }
}

function checkMigrationJobs(m: Manifests, report: Report): void {
  const copies = hookCopies(m);
  for (const { job, waiters } of m.migrationJobs) {
    const spec = job.raw.spec ?? {};
    const podSpec = podSpecOf(job)?.podSpec ?? {};
    const h = hooks(job);
    const waitingForRollout = containersOf(podSpec, 'initContainers').some(waitsForRollout);
    const postDeploy = waitingForRollout || h.helm.some((x) => x.startsWith('post-')) || h.argo.includes('PostSync');
    const backoff = num(spec.backoffLimit);
    // Retries and deadlines are a migration's concern; a waited-for Job named for something else keeps its own.
    const migrates = waiters.length === 0 || !namedOtherThanMigration(job);
    if (migrates && (backoff === undefined || backoff > 0)) {
      report('MS013', job, job.lineOf(['spec', 'backoffLimit']),
        `${describe(job)} retries a failed migration ${backoff === undefined ? '6 times (backoffLimit unset)' : `${backoff} times`}`);
    }
    if (migrates && (spec.activeDeadlineSeconds === undefined || spec.activeDeadlineSeconds === null)) {
      report('MS014', job, job.lineOf(['spec']), `${describe(job)} has no activeDeadlineSeconds: a hung migration never fails`);
    }
    if (migrates && backoff === 0 && !ignoresDisruption(spec.podFailurePolicy)) {
      report('MS021', job, job.lineOf(['spec', 'backoffLimit']),
        `${describe(job)} has backoffLimit: 0 and no podFailurePolicy for DisruptionTarget: a node drain fails the migration`);
    }
    const ttl = spec.ttlSecondsAfterFinished;
    if (waiters.length === 0 && ttl !== undefined && ttl !== null && !isHook(job)) {
      // A hook is created by its engine once per release; a plain object is what the source
      // declares, so whatever applies the source again brings the deleted Job back.
      report('MS005', job, job.lineOf(['spec', 'ttlSecondsAfterFinished']),
        `${describe(job)} is deleted ${text(ttl)}s after it finishes, and it is a plain object, not a Helm or Argo CD hook: `
        + `${afterTtl(engineOf(job, m.objects), false)}`);
    }
    if (waiters.length === 0) {
      // A post-deploy migration runs after the rollout by design; nothing should wait for it. A
      // pre-install/pre-upgrade (PreSync) hook runs before any pod of the release exists: waited for by construction.
      // A waiter whose target lint cannot tell may be waiting for it.
      const unresolvedNearby = m.waiters.some((w) => w.unresolved && sameNamespace(w.workload.object.namespace, job.namespace));
      if (!postDeploy && !isPreDeployHook(job) && !unresolvedNearby) {
        report('MS022', job, job.lineOf(['metadata', 'name']), `${describe(job)} looks like a migration, but no init container waits for it`);
      }
      continue;
    }
    const waitedBy = [...new Set(waiters.map((w) => describe(w.workload.object)))].join(', ');
    const workloads = [...new Set(waiters.map((w) => w.workload.object))];
    if (spec.ttlSecondsAfterFinished !== undefined && spec.ttlSecondsAfterFinished !== null) {
      report('MS005', job, job.lineOf(['spec', 'ttlSecondsAfterFinished']),
        `${describe(job)}, waited for by ${waitedBy}, is deleted ${text(spec.ttlSecondsAfterFinished)}s after it finishes: `
        + `pods that start later find no Job and crash-loop, and ${afterTtl(engineOf(job, m.objects), isHook(job))}`, workloads);
    }
    const postHook = [...h.helm.filter((x) => x === 'post-install' || x === 'post-upgrade'), ...h.argo.filter((x) => x === 'PostSync')];
    if (postHook.length > 0) {
      report('MS016', job, job.lineOf(['metadata', 'annotations']),
        `${describe(job)} is a ${postHook.join(',')} hook, but ${waitedBy} waits for it: the engine waits for the pods, which wait for the hook`, workloads);
    }
    const deletedOnSuccess = [...h.helmDelete.filter((x) => x === 'hook-succeeded'), ...h.argoDelete.filter((x) => x === 'HookSucceeded')];
    if (deletedOnSuccess.length > 0) {
      report('MS017', job, job.lineOf(['metadata', 'annotations']),
        `${describe(job)} is deleted once it succeeds (${deletedOnSuccess.join(', ')}), but ${waitedBy} waits for it: later pods crash-loop`, workloads);
    }
    // Hooks run before the release's other objects whatever their order; Flux applies all at once.
    if (!isHook(job) && !h.flux) {
      for (const w of workloads.filter((x) => x.order < job.order)) {
        report('MS018', job, job.source.line, isHelmRendered(job) || isHelmRendered(w)
          ? `${describe(job)} comes after ${describe(w)}, which waits for it. This is Helm-rendered output: Helm installs `
            + 'non-hook Jobs after Deployments whatever the chart\'s order, so the waiting pods start first and crash-loop until the Job exists. '
            + 'Make the Job a pre-install,pre-upgrade hook (hook-delete-policy before-hook-creation), or a PreSync hook under Argo CD'
          : `${describe(job)} comes after ${describe(w)}, which waits for it: kubectl apply -f creates the waiting pods first`, [w]);
      }
    }
    for (const waiter of waiters) {
      checkEnvSources(job, podSpec, waiter.workload, report, copies);
    }
  }
}

/** A Helm pre-install/pre-upgrade hook or an Argo CD PreSync hook: the engine runs it before the release's pods. */
export function isPreDeployHook(job: K8sObject): boolean {
  const h = hooks(job);
  return h.helm.some((x) => x === 'pre-install' || x === 'pre-upgrade') || h.argo.includes('PreSync');
}

/** Output of `helm template`: Helm's chart labels, or a `# Source:` comment before the object. */
function isHelmRendered(o: K8sObject): boolean {
  const labels = o.raw?.metadata?.labels;
  return o.helmSource !== undefined || (typeof labels === 'object' && labels !== null
    && (labels['helm.sh/chart'] !== undefined || labels['app.kubernetes.io/managed-by'] === 'Helm'));
}

function ignoresDisruption(policy: any): boolean {
  return (Array.isArray(policy?.rules) ? policy.rules : []).some((rule: any) => rule?.action === 'Ignore'
    && (Array.isArray(rule.onPodConditions) ? rule.onPodConditions : []).some((c: any) => c?.type === 'DisruptionTarget'));
}

const DATABASE_VARIABLE = /DATABASE|(^|_)DB(_|$)|POSTGRES|^PG[A-Z]|MYSQL|MARIADB|MONGO|JDBC|DATASOURCE|SQLALCHEMY|^LIQUIBASE_COMMAND_(URL|USERNAME|PASSWORD)$|^FLYWAY_(URL|USER|PASSWORD)$/i;
// Of those, the ones that say where the database is. Credentials may differ on purpose (an owner
// role migrates, a restricted one serves); pool sizes and flags are no connection settings.
const LOCATION_VARIABLE = /HOST|SERVER|ADDR|URL|URI|DSN|JDBC|ENDPOINT|SERVICE$|^PGHOST$|^(?:[A-Z]+_)?(?:DATABASE|DB)$/i;
const NOT_LOCATION = /USER|PASS|SECRET|TOKEN|POOL|SIZE|TIMEOUT|MAX|MIN|SSL|TLS|CERT|FLAG|ENABLE|DISABLE|DEBUG|LOG|RETRY|RETRIES|IDLE|LIFETIME/i;

/** Where a location variable's value comes from: a literal host (or the host of a literal URL), or a Secret or ConfigMap key. */
interface Location {
  readonly variable: string;
  readonly host?: string;
  readonly source?: string;
}

function hostOf(value: string): string | undefined {
  const v = value.trim();
  if (v === '' || /\$\(|\$\{|\{\{/.test(v)) {
    return undefined;
  }
  // postgres://user:pw@host:5432/db, jdbc:postgresql://host/db, mysql://host, host:port, host
  const url = /^[a-z][a-z0-9+.:-]*:\/\/(?:[^@/]*@)?\[?([^\]/:?#,]+)/i.exec(v);
  if (url) {
    return url[1].toLowerCase();
  }
  if (/^[A-Za-z0-9.-]+(?::\d+)?$/.test(v) && /[A-Za-z]/.test(v) && !/^\d+$/.test(v)) {
    return v.replace(/:\d+$/, '').toLowerCase();
  }
  return undefined;
}

interface EnvSources {
  readonly envFrom: Set<string>;
  readonly locations: Location[];
}

/** `original` names a Secret or ConfigMap (`Secret name`) by the object the reader should compare it as. */
function envSourcesOf(containers: any[], original: (source: string) => string = (source) => source): EnvSources {
  const envFrom = new Set<string>();
  const locations: Location[] = [];
  for (const c of containers) {
    for (const e of Array.isArray(c.envFrom) ? c.envFrom : []) {
      if (e?.configMapRef?.name) {
        envFrom.add(original(`ConfigMap ${text(e.configMapRef.name)}`));
      }
      if (e?.secretRef?.name) {
        envFrom.add(original(`Secret ${text(e.secretRef.name)}`));
      }
    }
    for (const e of Array.isArray(c.env) ? c.env : []) {
      if (typeof e?.name !== 'string' || !DATABASE_VARIABLE.test(e.name) || !LOCATION_VARIABLE.test(e.name) || NOT_LOCATION.test(e.name)) {
        continue;
      }
      const from = e.valueFrom ?? {};
      if (from.secretKeyRef) {
        locations.push({ variable: e.name, source: `${original(`Secret ${text(from.secretKeyRef.name)}`)} key ${text(from.secretKeyRef.key)}` });
      } else if (from.configMapKeyRef) {
        locations.push({ variable: e.name, source: `${original(`ConfigMap ${text(from.configMapKeyRef.name)}`)} key ${text(from.configMapKeyRef.key)}` });
      } else if (e.value !== undefined && e.value !== null) {
        const host = hostOf(text(e.value));
        if (host !== undefined) {
          locations.push({ variable: e.name, host });
        }
      }
    }
  }
  return { envFrom, locations };
}

/** The annotation on the library's hook copies that names the object each copies (src/constructs/hook-config.ts). */
const HOOK_COPY_OF = 'cdk8s-migrated-service.dev/hook-copy-of';

/**
 * The library's hook copies of ConfigMaps and Secrets, by `<namespace>\0<Kind> <name>`, as the
 * object each copies: a Helm or Argo CD hook Job runs before the release's ordinary objects exist,
 * so it reads a copy (`<job name>-<object name>`), while the workloads read the object itself. A
 * copy whose object is in the input counts only while it holds the same data.
 */
function hookCopies(m: Manifests): Map<string, string> {
  const content = (o: K8sObject) => JSON.stringify(['data', 'stringData', 'binaryData']
    .map((field) => Object.entries(o.raw?.[field] ?? {}).sort(([a], [b]) => a.localeCompare(b))));
  const copies = new Map<string, string>();
  for (const copy of m.objects.filter((o) => (o.kind === 'ConfigMap' || o.kind === 'Secret') && o.apiVersion === 'v1')) {
    const of = copy.annotations[HOOK_COPY_OF] ?? '';
    const original = m.objects.find((o) => o.kind === copy.kind && o.apiVersion === 'v1' && o.name === of && (o.namespace ?? '') === (copy.namespace ?? ''));
    if (of !== '' && (original === undefined || content(original) === content(copy))) {
      copies.set(`${copy.namespace ?? ''}\0${copy.kind} ${copy.name}`, `${copy.kind} ${of}`);
    }
  }
  return copies;
}

/**
 * Compares where the Job and the workload find their database: literal hosts (of a host variable
 * or a URL), and the same Secret or ConfigMap keys. Variable names do not matter. Reports only what
 * it can tell: different literal hosts, or locations from entirely different sources.
 */
function checkEnvSources(job: K8sObject, jobPodSpec: any, workload: Workload, report: Report, copies: ReadonlyMap<string, string>): void {
  // The migration may run in an init container of the Job (the library's does, before a container
  // that records its success), so all of the Job's containers count. A hook copy counts as the
  // object it copies.
  const j = envSourcesOf([...containersOf(jobPodSpec, 'initContainers'), ...containersOf(jobPodSpec, 'containers')],
    (source) => copies.get(`${job.namespace ?? ''}\0${source}`) ?? source);
  const w = envSourcesOf(containersOf(workload.podSpec, 'containers'));
  const jobHosts = new Set(j.locations.flatMap((l) => (l.host ? [l.host] : [])));
  const workloadHosts = new Set(w.locations.flatMap((l) => (l.host ? [l.host] : [])));
  const where = (l: Location) => `${l.variable} (${l.host ?? l.source})`;
  const line = job.lineOf([...POD_SPEC, 'containers']);
  if (jobHosts.size > 0 && workloadHosts.size > 0 && ![...jobHosts].some((h) => workloadHosts.has(h))) {
    report('MS019', job, line, `${describe(job)} connects to ${[...jobHosts].join(', ')} and ${describe(workload.object)} to `
      + `${[...workloadHosts].join(', ')}: ${j.locations.filter((l) => l.host).map(where).join(', ')} in the Job, `
      + `${w.locations.filter((l) => l.host).map(where).join(', ')} in the workload`, [workload.object]);
    return;
  }
  if (jobHosts.size > 0 && workloadHosts.size > 0) {
    return;
  }
  // No literal on one side: the same keys or the same envFrom sources are a match; otherwise say what could not be told.
  const jobSources = new Set([...j.locations.flatMap((l) => (l.source ? [l.source] : [])), ...j.envFrom]);
  const workloadSources = new Set([...w.locations.flatMap((l) => (l.source ? [l.source] : [])), ...w.envFrom]);
  const sourceObject = (x: string) => x.replace(/ key .*$/, '');
  const shared = [...jobSources].some((x) => workloadSources.has(x) || [...workloadSources].some((y) => sourceObject(y) === sourceObject(x)));
  const jobLocated = j.locations.length > 0;
  const workloadLocated = w.locations.length > 0;
  if (!workloadLocated && jobSources.size > 0 && !shared) {
    // The workload names no database location of its own: it must take it from the Job's sources
    // (envFrom, a key, a mounted file), or from somewhere lint cannot compare.
    const jobObjects = [...new Set([...jobSources].map(sourceObject))];
    const referenced = referencedSources(workload.podSpec);
    if (!jobObjects.some((x) => referenced.has(x))) {
      const reads = workloadSources.size > 0 ? `reads ${[...workloadSources].map((x) => (w.envFrom.has(x) ? `envFrom ${x}` : x)).join(', ')}`
        : 'has no database variable, envFrom or mounted Secret or ConfigMap of its own';
      report('MS019', job, line, `${describe(job)} reads its database settings from ${jobObjects.join(', ')}, but ${describe(workload.object)} ${reads}, `
        + 'and uses none of the Job\'s sources: lint cannot tell whether it reaches the database the Job migrated', [workload.object]);
    }
    return;
  }
  if (shared || (!jobLocated && !workloadLocated) || jobSources.size === 0 || workloadSources.size === 0) {
    return;
  }
  const describeSide = (e: EnvSources) => [...e.locations.map(where), ...[...e.envFrom].map((x) => `envFrom ${x}`)].join(', ');
  report('MS019', job, line, `${describe(job)} and ${describe(workload.object)} share no source for the database location, `
    + `so lint cannot tell whether they reach the same database: the Job reads ${describeSide(j)}, the workload ${describeSide(w)}`, [workload.object]);
}

/** Every Secret and ConfigMap a pod spec uses, as `Secret name`: env keys, envFrom and volumes (projected ones too). */
function referencedSources(podSpec: any): Set<string> {
  return new Set(configReferencesOf(podSpec).filter((reference) => !reference.pullSecret)
    .map(({ kind, holder, field }) => `${kind} ${text(holder[field])}`));
}

const POD_SPEC = ['spec', 'template', 'spec'];

// Init containers that wait for a database or a port: nc/pg_isready/mysqladmin/wait-for-it/dockerize and the like.
const POLLS_DATABASE = /\bpg_isready\b|\bmysqladmin\b.*\bping\b|\bnc\b[^;|&]*\s-[a-y]*z|\bnc\b\s+\S+\s+\d+|wait-for-it|\bwait-for\b\s+\S+:\d+|dockerize\b.*-wait|\bredis-cli\b.*\bping\b|mongo(sh)?\b.*--eval|\/dev\/tcp\//i;
// curl and wget poll only in a loop; once, they download something.
const POLLS_HTTP = /\b(until|while)\b[\s\S]*\b(curl|wget)\b[^;|&]*https?:\/\//i;

/**
 * MS026: a workload whose init containers wait for the database or a port but for no Job, beside a
 * migration Job that is not a pre-deploy hook: its pods start as soon as the database answers,
 * before, or while, the schema is migrated.
 */
function checkDatabasePolls(m: Manifests, report: Report): void {
  const waitingWorkloads = new Set(m.waiters.map((w) => w.workload));
  // Not a pre-deploy hook: a plain Job, which runs beside the pods, or a post-install/PostSync
  // hook, which runs after them.
  const migrations = m.migrationJobs.filter(({ job }) => !isPreDeployHook(job));
  for (const workload of m.workloads) {
    if (waitingWorkloads.has(workload) || workload.object.kind === 'Job' || workload.object.kind === 'CronJob') {
      continue;
    }
    const beside = migrations.filter(({ job }) => sameNamespace(job.namespace, workload.object.namespace));
    const repositories = new Set([
      ...containersOf(workload.podSpec, 'containers').map((c) => repositoryOf(c.image)),
      ...beside.flatMap(({ job }) => jobContainers(job).map((c) => repositoryOf(c.image))),
    ].filter((x) => x !== ''));
    const polls = containersOf(workload.podSpec, 'initContainers').map((c, i) => ({ c, i }))
      .filter(({ c }) => {
        const script = [...toStrings(c.command), ...toStrings(c.args)].join(' ');
        return [POLLS_DATABASE, POLLS_HTTP].some((re) => re.test(script))
          || (repositories.has(repositoryOf(c.image)) && runsOwnDatabaseWait(script));
      });
    if (polls.length === 0 || beside.length === 0) {
      continue;
    }
    const o = workload.object;
    const postHooks = beside.filter(({ job }) => hooks(job).helm.some((x) => x === 'post-install' || x === 'post-upgrade') || hooks(job).argo.includes('PostSync'));
    const plain = beside.filter((x) => !postHooks.includes(x) && !hooks(x.job).helm.some((h) => h.startsWith('post-')));
    const who = `${describe(o)} (init container ${text(polls[0].c.name)})`;
    const line = o.lineOf([...workload.podSpecPath, 'initContainers', polls[0].i]);
    if (plain.length > 0) {
      report('MS026', o, line, `${who} waits for the database or a port, not for ${plain.map(({ job }) => describe(job)).join(', ')}: `
        + 'its pods start as soon as the database answers, on the old schema', plain.map(({ job }) => job));
    }
    if (postHooks.length > 0) {
      const kinds = [...new Set(postHooks.flatMap(({ job }) => [...hooks(job).helm.filter((x) => x.startsWith('post-')), ...hooks(job).argo.filter((x) => x === 'PostSync')]))];
      report('MS026', o, line, `${who} waits for the database in its own way, but ${postHooks.map(({ job }) => describe(job)).join(', ')} is a `
        + `${kinds.join(',')} hook, which runs after the pods: they start as soon as the database answers, on the old schema`, postHooks.map(({ job }) => job));
    }
  }
}

// An init container that runs the app's own wait or check (`myapp wait-for-db`, `manage.py check --database default`,
// `rake db:ready`): it waits for the database, not for the schema. A check of the migrations themselves waits for them.
const APP_OWN_WAIT = /\bwait/i;
const APP_OWN_CHECK = /\bcheck|\bready\b|\bping\b|\bhealth/i;
const DATABASE_WORD = /\bdb\b|db[-_:]|database|postgres|\bpg|mysql|maria|\bsql|mongo/i;
const MIGRATION_CHECK = /migrat|showmigrations|\bschema\b|db:abort_if_pending|alembic\b.*\bcurrent|\bversion\b/i;

/** A wait (`myapp wait-for-db`), or a check of the database (`manage.py check --database default`), that is not a check of the migrations. */
function runsOwnDatabaseWait(script: string): boolean {
  return (APP_OWN_WAIT.test(script) || (APP_OWN_CHECK.test(script) && DATABASE_WORD.test(script))) && !MIGRATION_CHECK.test(script);
}

/** An image's repository, without tag or digest. */
function repositoryOf(image: unknown): string {
  const name = text(image).trim().replace(/@.*$/, '');
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(0, colon) : name;
}

function toStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(text) : [];
}

/**
 * The autoscalers that scale a workload: HorizontalPodAutoscalers, and KEDA ScaledObjects (which
 * create and own one; their target is a Deployment unless they say otherwise), as the constructs
 * find them (src/constructs/autoscaler.ts).
 */
function autoscalersOf(m: Manifests, o: K8sObject): K8sObject[] {
  const isKeda = (h: K8sObject) => h.kind === 'ScaledObject' && /^keda\.sh\//.test(h.apiVersion);
  return m.objects.filter((h) => (h.kind === 'HorizontalPodAutoscaler' || isKeda(h)) && sameNamespace(h.namespace, o.namespace)
    && text(h.raw?.spec?.scaleTargetRef?.kind ?? (isKeda(h) ? 'Deployment' : '')) === o.kind && text(h.raw?.spec?.scaleTargetRef?.name) === o.name);
}

/** An autoscaler's replica range: an HPA's minReplicas (1 when unset) and maxReplicas, a ScaledObject's minReplicaCount (0) and maxReplicaCount (100). */
function replicaRange(h: K8sObject): { minReplicas?: number; maxReplicas?: number } {
  const spec = h.raw?.spec ?? {};
  return h.kind === 'HorizontalPodAutoscaler'
    ? { minReplicas: num(spec.minReplicas) ?? 1, maxReplicas: num(spec.maxReplicas) }
    : { minReplicas: num(spec.minReplicaCount) ?? 0, maxReplicas: num(spec.maxReplicaCount) ?? 100 };
}

/** MS015, judged by the same code as the constructs' warning (src/shared/rollout-capacity.ts), with the workload's autoscaler. */
function checkWaitingWorkloads(m: Manifests, report: Report): void {
  const waiting = [...new Set(m.waiters.filter((w) => m.jobsOf(w).length > 0).map((w) => w.workload))];
  for (const workload of waiting) {
    const o = workload.object;
    const hpa = o.kind === 'Deployment' ? autoscalersOf(m, o)[0] : undefined;
    const verdict = rolloutCapacity(o.kind, o.raw.spec ?? {}, hpa && { description: describe(hpa), ...replicaRange(hpa) });
    if (verdict !== undefined) {
      report('MS015', o, o.lineOf([...verdict.field]), `${describe(o)} has ${verdict.finding}`, hpa ? [hpa] : [], verdict.severity, verdict.advice);
    }
  }
}

// --- MS029: the program is one executable's name ----------------------------------------------------

/**
 * MS029: a container whose program holds whitespace. With `command`, its first element is the
 * program. Without it, `args` go to the image's ENTRYPOINT, which lint cannot see: when the image
 * has none, the first of `args` is the program; when it is a shell with `-c`, that argument is a
 * script and may hold spaces. So the first of `args` is reported at warning, the command at error.
 */
function checkPrograms(m: Manifests, report: Report): void {
  for (const workload of m.workloads) {
    const o = workload.object;
    for (const field of ['initContainers', 'containers'] as const) {
      containersOf(workload.podSpec, field).forEach((c, i) => {
        const command = Array.isArray(c.command) && c.command.length > 0 ? c.command : undefined;
        const list = command ?? (Array.isArray(c.args) ? c.args : []);
        if (!isUnsplitCommandLine(list[0])) {
          return;
        }
        const words = list.map(text);
        const who = `${describe(o)} (container ${text(c.name)})`;
        const message = command !== undefined
          ? `${who} has the command ${JSON.stringify(words)}: ${unsplitCommandProblem(words)}`
          : `${who} has no command, and the args ${JSON.stringify(words)}: in an image without ENTRYPOINT (or one that runs its arguments), `
            + `${unsplitCommandProblem(words)} If the image's ENTRYPOINT is a shell with -c, the argument is a script, and this is fine: suppress it, saying so`;
        report('MS029', o, o.lineOf([...workload.podSpecPath, field, i, command !== undefined ? 'command' : 'args', 0]), message,
          [], command !== undefined ? 'error' : 'warning');
      });
    }
  }
}

// --- MS027: one image tag for the release --------------------------------------------------------

interface ImageRef {
  readonly image: string;
  readonly repository: string;
  /** Undefined when the image names no tag, or is pinned by digest (what runs is the digest). */
  readonly tag?: string;
  /** The digest the image is pinned by, if any. */
  readonly digest?: string;
}

/**
 * An image's repository and tag, as the gate reads them (a registry port is not a tag), or
 * undefined when the reference is a template placeholder whose value is not in the input.
 */
function imageRef(value: unknown): ImageRef | undefined {
  const image = text(value).trim();
  if (image === '' || /\$\{|\{\{|\$\(/.test(image)) {
    return undefined;
  }
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  const repository = colon > slash ? name.slice(0, colon) : name;
  const tag = colon > slash && at < 0 ? name.slice(colon + 1) : undefined;
  return { image, repository, tag, ...(at >= 0 ? { digest: image.slice(at + 1) } : {}) };
}

// What a migration image's name adds to the application's: shop-migration, shop_migrate, shop/migrations, shop-db.
const MIGRATION_IMAGE_SUFFIX = /[-_/](db[-_]?)?(migrations?|migrate|migrator|dbmigrate|db|database|schema|flyway|liquibase|alembic)$/i;

/** The repository a migration image is built beside (`shop` for `shop-migration`), or undefined if its name says no such thing. */
function applicationRepository(migrationRepository: string): string | undefined {
  const stem = migrationRepository.replace(MIGRATION_IMAGE_SUFFIX, '');
  return stem !== migrationRepository && !stem.endsWith('/') ? stem : undefined;
}

/**
 * MS027: a workload that waits for a migration Job but runs another tag of the release's images.
 * An image of the Job's repository counts, and so does the application image a migration image is
 * named after (`shop` beside `shop-migration`) when every image of the Job carries one tag. An image
 * of those repositories pinned by digest is reported too: the digest may be any build. Untagged
 * images and templated ones are not compared: their tag is not in the input.
 */
function checkReleaseTags(m: Manifests, report: Report): void {
  const waiterIndexes = new Map<Workload, Set<number>>();
  for (const w of m.waiters) {
    waiterIndexes.set(w.workload, (waiterIndexes.get(w.workload) ?? new Set()).add(w.containerIndex));
  }
  for (const waiter of m.waiters) {
    const workload = waiter.workload;
    const o = workload.object;
    const ownWaiters = waiterIndexes.get(workload)!;
    const app = [
      ...containersOf(workload.podSpec, 'initContainers').map((c, i) => ({ c, field: 'initContainers', i }))
        .filter(({ c, i }) => !ownWaiters.has(i) && !waitsForRollout(c)),
      ...containersOf(workload.podSpec, 'containers').map((c, i) => ({ c, field: 'containers', i })),
    ];
    for (const job of m.jobsOf(waiter)) {
      // The library's own program (its ledger recorder) runs in the Job from an image of its own choosing.
      const jobImages = jobContainers(job).filter((c) => envValue(c, 'MIGRATION_JOB') === undefined).map((c) => imageRef(c.image));
      const tagged = jobImages.filter((ref): ref is ImageRef & { tag: string } => ref?.tag !== undefined);
      const tags = new Set(jobImages.map((ref) => ref?.tag));
      const releaseTag = tagged.length > 0 && tags.size === 1 ? tagged[0].tag : undefined;
      for (const { c, field, i } of app) {
        const ref = imageRef(c.image);
        if (ref === undefined || (ref.tag === undefined && ref.digest === undefined)) {
          continue;
        }
        const sameRepository = tagged.find((j) => j.repository === ref.repository);
        const named = releaseTag !== undefined ? tagged.find((j) => applicationRepository(j.repository) === ref.repository) : undefined;
        const other = sameRepository ?? named;
        if (other === undefined || (ref.digest === undefined && other.tag === ref.tag)) {
          continue;
        }
        // A digest may be any build of the repository: the node pulls it and ignores a tag beside it.
        const consequence = ref.digest !== undefined
          ? 'it is pinned by digest, which may be any build of the repository (the Job runs a tag), so its pods may start code of another release on this release\'s schema'
          : 'its pods would start code of another release on this release\'s schema';
        report('MS027', o, o.lineOf([...workload.podSpecPath, field, i, 'image']),
          `${describe(o)} (container ${text(c.name)}) runs ${ref.image}, but ${describe(job)}, which it waits for, runs ${other.image}: `
          + `${consequence}. Use one tag for the release (${other.tag}); `
          + `in cdk8s, migration.releaseImage('${ref.repository}') gives the workload the migration's tag`, [job]);
      }
    }
  }
}

// --- MS031, MS032: what Kubernetes hands the program ------------------------------------------------

/** Every container of every workload, with where it is. */
function allContainers(m: Manifests): Array<{ workload: Workload; field: 'initContainers' | 'containers'; index: number; c: any }> {
  return m.workloads.flatMap((workload) => (['initContainers', 'containers'] as const)
    .flatMap((field) => containersOf(workload.podSpec, field).map((c, index) => ({ workload, field, index, c }))));
}

/**
 * The variables the manifests use as template placeholders: `${IMAGE_TAG}` in an object's name or
 * an image, where Kubernetes expands nothing, so a renderer (envsubst, Flux's post-build
 * substitution) must replace them before apply. The same placeholder in a command is replaced too.
 */
function templateVariables(m: Manifests): Set<string> {
  const places = [
    ...m.objects.map((o) => o.name),
    ...allContainers(m).map(({ c }) => text(c.image)),
  ];
  return new Set(places.flatMap((place) => [...place.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((x) => x[1])));
}

/** The names a container's `$(VAR)` can resolve to, or undefined when envFrom brings names the manifest does not show. */
function declaredVariables(c: any): Set<string> | undefined {
  if (Array.isArray(c.envFrom) && c.envFrom.length > 0) {
    return undefined;
  }
  return new Set((Array.isArray(c.env) ? c.env : []).map((e: any) => text(e?.name)));
}

/**
 * MS031: a `$VAR` or `${VAR}` in an exec-form command or argument, which Kubernetes passes as it is
 * written, or a `$(VAR)` that names no variable of the container (left as written too). The script of
 * `sh -c` is the shell's to expand, and is not judged. Without `command`, `args` go to the image's
 * ENTRYPOINT: an argument with whitespace may be the script of an ENTRYPOINT shell, and is left alone.
 * MS032: a carriage return in any of them.
 */
function checkCommandText(m: Manifests, report: Report): void {
  const placeholders = templateVariables(m);
  for (const { workload, field, index, c } of allContainers(m)) {
    const o = workload.object;
    const command = Array.isArray(c.command) ? c.command.map(text) : [];
    const args = Array.isArray(c.args) ? c.args.map(text) : [];
    const argv = [...command, ...args];
    const script = shellScriptIndex(argv);
    const who = `${describe(o)} (container ${text(c.name)})`;
    const at = (i: number) => o.lineOf([...workload.podSpecPath, field, index, ...(i < command.length ? ['command', i] : ['args', i - command.length])]);
    const declared = declaredVariables(c);
    argv.forEach((word, i) => {
      const where = i < command.length ? `command[${i}]` : `args[${i - command.length}]`;
      if (hasCarriageReturn(word)) {
        report('MS032', o, at(i), i === script
          ? `${who} runs a shell script with carriage returns (Windows line endings): the shell reads each \\r as part of the line's last word `
            + `(${JSON.stringify(word.split('\n')[0])}), and the script fails at run time`
          : `${who}: ${where} ${JSON.stringify(word)} holds a carriage return, which the program receives as part of the word`);
      }
      // The script of `sh -c`, the code of `node -e` or `python -c`: their own language, expanded (or not) by their own program.
      const code = i === script || (i > 0 && /^(-[a-zA-Z]*[ce]|--eval|-p|--print)$/.test(argv[i - 1]));
      if (code || (command.length === 0 && /\s/.test(word))) {
        return;
      }
      const expansion = shellOnlyExpansion(word);
      if (expansion !== undefined && !placeholders.has(expansionVariable(expansion))) {
        report('MS031', o, at(i), `${who}: ${where} ${JSON.stringify(word)} holds ${expansion}. ${shellOnlyExpansionProblem(expansion)}`);
        return;
      }
      const undeclared = declared === undefined ? undefined
        : [...word.replace(/\$\$/g, '').matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)].map((x) => x[1])
          // Service links (MYDB_SERVICE_HOST, MYDB_PORT) are variables of every container unless turned off.
          .find((name) => !declared.has(name) && !/_SERVICE_HOST$|_SERVICE_PORT|_PORT($|_)/.test(name));
      if (undeclared !== undefined) {
        report('MS031', o, at(i), `${who}: ${where} ${JSON.stringify(word)} refers to $(${undeclared}), but the container declares no variable ${undeclared}: `
          + `Kubernetes leaves $(${undeclared}) as it is written. Declare ${undeclared} in the container's env (or write $$(${undeclared}) for the literal text)`);
      }
    });
  }
}

// --- MS033: the library's program needs its memory ---------------------------------------------------

/** A container that runs this library's in-pod program (waiter, queue, ledger recorder, rollout waiter). */
function runsLibraryProgram(c: any): boolean {
  const command = Array.isArray(c.command) ? c.command.map(text) : undefined;
  const args = Array.isArray(c.args) ? c.args.map(text) : [];
  const argv = [...(command ?? []), ...args];
  return argv.some((word) => basename(word) === 'migration-waiter.js')
    || (basename(argv[0] ?? '') === 'node' && envValue(c, 'MIGRATION_JOB') !== undefined && ['job', 'queue', 'record', 'rollout'].includes(libraryProgramMode(command, args)));
}

function checkProgramMemory(m: Manifests, report: Report): void {
  const minimum = MIN_PROGRAM_MEMORY_LIMIT_MIB * 2 ** 20;
  for (const { workload, field, index, c } of allContainers(m)) {
    const limit = c.resources?.limits?.memory;
    const bytes = parseQuantity(limit);
    if (bytes === undefined || bytes >= minimum || !runsLibraryProgram(c)) {
      continue;
    }
    const o = workload.object;
    report('MS033', o, o.lineOf([...workload.podSpecPath, field, index, 'resources', 'limits', 'memory']),
      `${describe(o)} (container ${text(c.name)}) runs this library's Node.js program with a memory limit of ${text(limit)}: Node alone takes about 40 MiB, `
      + `so it is OOM-killed at start, and ${field === 'initContainers' ? 'the pod never starts' : 'it never does its work'}. `
      + `Give it at least ${MIN_PROGRAM_MEMORY_LIMIT_MIB}Mi`);
  }
}

// --- MS030: a Job named for one release, running another --------------------------------------------

/** Whether `name` is the library's name of a Job for `tag`: a prefix ending in `-`, then the tag as versionedName writes it. */
function namedForTag(name: string, tag: string): boolean {
  for (let i = name.indexOf('-'); i !== -1; i = name.indexOf('-', i + 1)) {
    if (versionedName(name.slice(0, i + 1), tag) === name) {
      return true;
    }
  }
  return false;
}

/**
 * MS030: every image of a release (the Job's own, and the release's images in the workloads that
 * wait for it) runs one tag, but the Job's `app.kubernetes.io/version` label, and the library's
 * name for it, say another. That is what rewriting images after synth leaves behind (kustomize
 * `images:`, Flux image automation): MS027 cannot see it, since all images agree. When they do not
 * agree, MS027 reports the workload, and this rule stays silent.
 */
function checkReleaseNames(m: Manifests, report: Report): void {
  for (const { job, waiters } of m.migrationJobs) {
    const label = text(job.raw?.metadata?.labels?.['app.kubernetes.io/version']).trim();
    // A hook is created afresh for each release, whatever its name: only a plain Job's name is at stake.
    if (label === '' || /\$\{|\{\{|\$\(/.test(label) || isHook(job)) {
      continue;
    }
    const jobImages = jobContainers(job).filter((c) => envValue(c, 'MIGRATION_JOB') === undefined).map((c) => imageRef(c.image));
    const tags = new Set(jobImages.map((ref) => ref?.tag));
    const [tag] = [...tags];
    if (tags.size !== 1 || tag === undefined || versionLabelValue(tag) === label) {
      continue;
    }
    const repositories = new Set(jobImages.flatMap((ref) => (ref ? [ref.repository, applicationRepository(ref.repository) ?? ''] : [])));
    const release = waiters.flatMap((w) => containersOf(w.workload.podSpec, 'containers')).map((c) => imageRef(c.image))
      .filter((ref): ref is ImageRef => ref !== undefined && repositories.has(ref.repository));
    if (release.some((ref) => ref.tag !== tag)) {
      // The workload and the Job disagree: MS027 says so.
      continue;
    }
    const named = namedForTag(job.name, label) || (!namedForTag(job.name, tag) && isVersionedName(job.name) && job.name.includes(label.toLowerCase().replace(/[^a-z0-9-]/g, '-')));
    const workloads = [...new Set(waiters.map((w) => w.workload.object))];
    const images = [...new Set([...jobImages.map((ref) => ref!.image), ...release.map((ref) => ref.image)])];
    report('MS030', job, job.lineOf(['metadata', 'labels', 'app.kubernetes.io/version']),
      `${describe(job)} is ${named ? 'named and labelled' : 'labelled'} for release ${label} (app.kubernetes.io/version), but it${workloads.length > 0
        ? ` and ${workloads.map(describe).join(', ')}, which ${workloads.length > 1 ? 'wait' : 'waits'} for it,` : ''} run ${tag} (${images.join(', ')}): `
      + 'the images were changed after the manifests were made (kustomize images:, Flux image automation). '
      + `${named ? 'The next tag bump that is made the same way keeps this Job\'s name, so its new pods pass on this completed Job, and its migration never runs. ' : ''}`
      + 'Set the tag where the manifests are made (in cdk8s: IMAGE_TAG, then synthesize again), and never rewrite images after synth', workloads,
      named ? 'error' : 'warning');
  }
}

/** For tests and the README: every rule, by id. */
export function ruleById(id: string): Rule {
  const rule = RULE[id];
  if (!rule) {
    throw new Error(`unknown rule ${id}`);
  }
  return rule;
}
