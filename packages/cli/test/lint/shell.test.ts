import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments, stringify } from 'yaml';
import { FIXTURES, lintText, ruleIds } from './support';
import { parseManifests } from '../../src/lint/load';
import { Manifests } from '../../src/lint/model';
import { commandsOf, scriptCommands } from '../../src/lint/shell';

// Waiter scripts as public charts of the pattern write them (written here in our own words): helper
// functions, loops, redirections, here-documents, variables from the script or the container's env.

const clean = fs.readFileSync(path.join(FIXTURES, 'rules', 'clean.yaml'), 'utf8');
const JOB = 'myapp-migration-v1-2-3';

/** The clean fixture whose Deployment waits with `script` in `sh -c`, and whose Role grants `verbs`. */
function withScript(script: string, options: { verbs?: string[]; env?: any[]; change?: (objects: any[]) => void } = {}): string {
  const objects = parseAllDocuments(clean).map((d: any) => d.toJS());
  const deployment = objects.find((o) => o.kind === 'Deployment');
  deployment.spec.template.spec.initContainers = [{
    name: 'wait-for-migration',
    image: 'alpine/k8s:1.30.4',
    command: ['/bin/sh', '-c', script],
    ...(options.env ? { env: options.env } : {}),
    securityContext: { runAsUser: 1100 },
  }];
  objects.find((o) => o.kind === 'Role').rules[0].verbs = options.verbs ?? ['get', 'list', 'watch'];
  options.change?.(objects);
  return objects.map((o) => stringify(o)).join('---\n');
}
const waitersIn = (text: string) => new Manifests(parseManifests(text, 'x.yaml')).waiters.map((w) => [w.kind, w.jobName, !!w.unresolved]);
const messages = (text: string) => lintText(text).findings.map((f) => `${f.severity} ${f.rule.id} ${f.message}`);

describe('the shell grammar: no word of a script is taken for a Job name', () => {
  test('a helper function that selects its Job by a label given at its call site, with 2>/dev/null', () => {
    // GIVEN a function whose $1 is a label selector, called with the migration's labels
    const text = withScript([
      'wait_for_job_by_label () {',
      '  until [ -n "$(kubectl get job -l "$1" -o name 2>/dev/null)" ]; do sleep 2; done',
      '  until kubectl get job -l "$1" -o jsonpath=\'{.items[0].status.succeeded}{.items[0].status.failed}\' 2>/dev/null | grep -q 1; do',
      '    sleep 5',
      '  done',
      '}',
      'wait_for_job_by_label app=myapp-migration',
    ].join('\n'), {
      change: (objects) => {
        const job = objects.find((o) => o.kind === 'Job');
        job.metadata.labels = { app: 'myapp-migration' };
        objects.find((o) => o.kind === 'Role').rules[0].resourceNames = undefined;
      },
    });
    // WHEN read THEN the waiter selects by that label, and the redirection is no Job
    expect(waitersIn(text)).toEqual([['kubectl-get', '-l app=myapp-migration', false]]);
    // AND no error: the Job is found by its labels
    expect(messages(text).filter((m) => m.startsWith('error'))).toEqual([]);
    expect(messages(text).join('\n')).not.toContain('2>/dev/null');
  });

  test('a loop over the Jobs kubectl prints, with 2>/dev/null: one info finding, no error', () => {
    // GIVEN a loop over `kubectl get jobs ... 2>/dev/null` that waits for each
    const text = withScript([
      'for j in $(kubectl get jobs -n shop -o name 2>/dev/null); do',
      '  kubectl wait --for=condition=complete "$j" -n shop --timeout=600s 2>&1',
      'done',
    ].join('\n'));
    // WHEN linted
    const found = lintText(text).findings;
    // THEN lint says once, at info, that it cannot tell which Job the container waits for
    expect(found.filter((f) => f.rule.id === 'MS028').map((f) => [f.severity, f.message])).toEqual([['info',
      'Deployment shop/myapp (init container wait-for-migration): cannot tell which Job it waits for: it waits for `$j`, '
      + 'which the script, its arguments and its env do not resolve to a Job name']]);
    // AND no error names a word of the script
    expect(found.filter((f) => f.severity === 'error')).toEqual([]);
    // AND the wait for Complete alone is still one that cannot notice a failure
    expect(ruleIds(lintText(text))).toEqual(['MS020', 'MS028']);
  });

  test.each([
    ['>&2', `kubectl wait --for=condition=complete job/${JOB} --timeout=600s >&2 || exit 1`],
    ['&>', `kubectl wait --for=condition=complete job/${JOB} &> /tmp/wait.log`],
    ['2>&1 |', `kubectl wait --for=condition=complete job/${JOB} 2>&1 | tee /tmp/wait.log`],
    ['< /dev/null', `kubectl wait < /dev/null --for=condition=complete job/${JOB}`],
    ['a here-document', `cat <<EOF\nkubectl get job not-a-waiter-v1\nEOF\nkubectl wait --for=condition=complete job/${JOB}`],
    ['a quoted here-document after &&', `cat <<'EOF' && kubectl wait --for=condition=complete job/${JOB}\n$(kubectl get job other-v1)\nEOF`],
  ])('redirections and here-documents: %s', (_label, script) => {
    // GIVEN a wait on the Job with that redirection WHEN read THEN exactly that Job is waited for
    expect(waitersIn(withScript(script))).toEqual([['kubectl-wait', JOB, false]]);
  });

  test('variables assigned earlier in the script, and set in the container\'s env', () => {
    // GIVEN the Job's name assembled from the env and the script's own variable
    const text = withScript('NAME="${APP}-migration"\nexport TAG=v1-2-3\nkubectl wait --for=condition=complete "job/${NAME}-$TAG"', {
      env: [{ name: 'APP', value: 'myapp' }],
    });
    expect(waitersIn(text)).toEqual([['kubectl-wait', JOB, false]]);
  });

  test('a default in ${VAR:-default} when the variable is set nowhere', () => {
    expect(waitersIn(withScript(`kubectl wait --for=condition=complete "job/\${MIGRATION_JOB_NAME:-${JOB}}"`))).toEqual([['kubectl-wait', JOB, false]]);
  });

  test('a for loop over a literal list waits for each Job', () => {
    const text = withScript(`for j in ${JOB} other-migration-v1; do\n  kubectl wait --for=condition=complete job/$j\ndone`);
    expect(waitersIn(text)).toEqual([['kubectl-wait', JOB, false], ['kubectl-wait', 'other-migration-v1', false]]);
  });

  test('while and until loops, if and case, subshells and command substitutions', () => {
    const script = [
      'while true; do',
      `  if s=$(kubectl get job ${JOB} -o jsonpath='{.status.succeeded}'); then`,
      '    case "$s" in 1) break ;; esac',
      '  fi',
      `  ( kubectl get job ${JOB} -o jsonpath='{.status.failed}' | grep -q 1 ) && exit 1`,
      '  sleep 2',
      'done',
    ].join('\n');
    expect(waitersIn(withScript(script, { verbs: ['get'] }))).toEqual([['kubectl-get', JOB, false]]);
    expect(ruleIds(lintText(withScript(script, { verbs: ['get'] })))).toEqual([]);
  });

  test('a shell inside the script (timeout 600 sh -c ...) is read too', () => {
    expect(waitersIn(withScript(`timeout 600 sh -c 'kubectl wait --for=condition=complete job/${JOB}'`))).toEqual([['kubectl-wait', JOB, false]]);
  });

  test('the commands of a script, as the shell splits them', () => {
    expect(scriptCommands('a "b c" 2>/dev/null | d e >&2 && f <<EOF\nnot a command\nEOF\n')).toEqual([['a', 'b c'], ['d', 'e'], ['f']]);
    expect(commandsOf(['sh', '-c', 'f() { echo "$@"; }; f x "y z"'])).toEqual([['sh', '-c', 'f() { echo "$@"; }; f x "y z"'], ['echo', 'x', 'y z']]);
    // Shell options before -c.
    expect(commandsOf(['/bin/bash', '-o', 'pipefail', '-e', '-c', 'kubectl get job x'])[1]).toEqual(['kubectl', 'get', 'job', 'x']);
    expect(commandsOf(['busybox', 'sh', '-ec', 'kubectl get job x'])[1]).toEqual(['kubectl', 'get', 'job', 'x']);
    // Text the parser rejects is still read, without its redirections.
    expect(scriptCommands('kubectl get job x 2>/dev/null; if then')).toEqual([['kubectl', 'get', 'job', 'x'], ['if', 'then']]);
  });
});

describe('an unresolved target is one info finding, never an error about a name', () => {
  test.each([
    ['an argument the container is not given', 'kubectl wait --for=condition=complete "job/$1"'],
    ['a variable set by nothing in the input', 'kubectl get job "$MIGRATION" -o jsonpath=\'{.status.failed}\''],
    ['a name read at run time', 'JOB=$(cat /etc/migration/job-name); kubectl wait --for=condition=failed "$JOB"'],
    ['an uncalled helper', 'w() { kubectl wait --for=condition=failed "job/$1"; }'],
  ])('%s', (_label, script) => {
    // GIVEN a waiter whose Job the input does not name WHEN linted
    const found = lintText(withScript(script)).findings;
    // THEN exactly one info finding names the container, and nothing else is said about a name
    // (a wait for Complete alone still cannot notice a failure, whichever Job it is)
    expect(found.filter((f) => f.rule.id !== 'MS020').map((f) => `${f.severity} ${f.rule.id}`)).toEqual(['info MS028']);
    expect(found.find((f) => f.rule.id === 'MS028')!.message).toMatch(/^Deployment shop\/myapp \(init container wait-for-migration\): cannot tell which Job it waits for: /);
  });

  test('a word no Kubernetes object can be called, outside a script, is not a name either', () => {
    const objects = parseAllDocuments(clean).map((d: any) => d.toJS());
    objects.find((o) => o.kind === 'Deployment').spec.template.spec.initContainers[0].args = ['job-wr', 'Not_A_Name'];
    const found = lintText(objects.map((o) => stringify(o)).join('---\n')).findings;
    expect(found.map((f) => `${f.severity} ${f.rule.id}`)).toEqual(['info MS028']);
  });
});

describe('MS020: kubectl waiters that give up only by their own timeout', () => {
  test('a loop polling .status.succeeded only', () => {
    // GIVEN a loop that reads the Job's succeeded count and nothing else
    const text = withScript(`until [ "$(kubectl get job ${JOB} -o jsonpath='{.status.succeeded}')" = 1 ]; do echo "still waiting, not failed"; sleep 5; done`,
      { verbs: ['get'] });
    // WHEN linted THEN MS020 names the loop's Job
    expect(messages(text)).toEqual([`warning MS020 Deployment shop/myapp (init container wait-for-migration) polls Job "${JOB}" with kubectl get `
      + 'and never looks at a failure: if the Job fails, it waits until its own timeout, or forever, and never says the migration failed']);
  });

  test('a loop reading .status.conditions for Complete only', () => {
    const text = withScript(`until kubectl get job ${JOB} -o jsonpath='{.status.conditions[?(@.type=="Complete")].status}' | grep -q True; do sleep 5; done`,
      { verbs: ['get'] });
    expect(ruleIds(lintText(text))).toEqual(['MS020']);
  });

  test('set -o pipefail and a message saying "failed" are no look at a failure', () => {
    const text = withScript([
      'set -euo pipefail',
      `until [ "$(kubectl get job ${JOB} -o jsonpath='{.status.succeeded}')" = 1 ]; do sleep 5; done || { echo "migration failed" >&2; exit 1; }`,
    ].join('\n'), { verbs: ['get'] });
    expect(ruleIds(lintText(text))).toEqual(['MS020']);
  });

  test('a loop that also reads .status.failed notices failure', () => {
    const text = withScript([
      `until [ "$(kubectl get job ${JOB} -o jsonpath='{.status.succeeded}')" = 1 ]; do`,
      `  [ "$(kubectl get job ${JOB} -o jsonpath='{.status.failed}')" = 1 ] && exit 1`,
      '  sleep 5',
      'done',
    ].join('\n'), { verbs: ['get'] });
    expect(ruleIds(lintText(text))).toEqual([]);
  });
});

describe('MS005: a TTL on a migration Job applied as a plain object', () => {
  const unwaited = (annotations?: any) => {
    const objects = parseAllDocuments(clean).map((d: any) => d.toJS());
    const job = objects.find((o) => o.kind === 'Job');
    job.spec.ttlSecondsAfterFinished = 300;
    if (annotations) {
      job.metadata.annotations = annotations;
    }
    // No workload waits for it.
    objects.find((o) => o.kind === 'Deployment').spec.template.spec.initContainers = undefined;
    return objects.map((o) => stringify(o)).join('---\n');
  };

  test('a plain Job that nothing lint recognises waits for', () => {
    // GIVEN the migration Job with a TTL and no waiter WHEN linted THEN MS005 says it re-runs
    expect(messages(unwaited()).filter((m) => m.includes('MS005'))).toEqual([`warning MS005 Job shop/${JOB} is deleted 300s after it finishes, `
      + 'and it is a plain object, not a Helm or Argo CD hook: the next kubectl apply of the same source re-creates the Job and runs the migration again']);
  });

  test.each([
    ['Flux', { 'kustomize.toolkit.fluxcd.io/force': 'Enabled' }, 'Flux re-creates the Job at its next reconcile and runs the migration again, every interval', /kubectl|Argo|helm/],
    ['Argo CD', { 'argocd.argoproj.io/sync-wave': '-1' }, 'the app goes OutOfSync, and Argo CD\'s next sync (at once under selfHeal) re-creates the Job', /kubectl|Flux|helm/],
  ])('a plain Job of manifests for %s names that engine', (_engine, annotations, consequence, others) => {
    // GIVEN the unwaited Job with a TTL and the annotations of one engine WHEN linted THEN MS005 names that engine, and no other
    const found = messages(unwaited(annotations)).filter((m) => m.includes('MS005'));
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(consequence);
    expect(found[0].split(': ').slice(1).join(': ').replace('not a Helm or Argo CD hook', '')).not.toMatch(others);
  });

  test.each([
    ['an Argo CD', { 'argocd.argoproj.io/hook': 'PreSync', 'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation' },
      'Argo CD creates a hook again only at the next sync, which runs the migration again'],
    ['a Helm', { 'helm.sh/hook': 'pre-install,pre-upgrade' }, 'Helm creates a hook again only at the next helm upgrade, which runs the migration again'],
    ['a Flux', { 'kustomize.toolkit.fluxcd.io/force': 'Enabled' }, 'Flux re-creates the Job at its next reconcile'],
    ['a plain', undefined, 'the next kubectl apply of the same source re-creates the Job'],
  ])('%s Job that pods wait for: the message names what its engine does', (_engine, annotations, consequence) => {
    // GIVEN the Job the Deployment waits for, with a TTL and one engine's annotations
    const objects = parseAllDocuments(clean).map((d: any) => d.toJS());
    const job = objects.find((o) => o.kind === 'Job');
    job.spec.ttlSecondsAfterFinished = 300;
    job.metadata.annotations = annotations;
    // WHEN linted THEN MS005 says what that engine does, and names no other
    const found = messages(objects.map((o) => stringify(o)).join('---\n')).filter((m) => m.includes('MS005'));
    expect(found).toHaveLength(1);
    expect(found[0]).toContain('pods that start later find no Job and crash-loop, and ');
    expect(found[0]).toContain(consequence);
    for (const other of ['Flux', 'Argo CD', 'helm upgrade', 'kubectl apply'].filter((name) => !consequence.includes(name))) {
      expect(found[0]).not.toContain(other);
    }
  });

  test.each([
    ['a Helm hook', { 'helm.sh/hook': 'pre-install,pre-upgrade' }],
    ['an Argo CD hook', { 'argocd.argoproj.io/hook': 'PreSync' }],
  ])('not %s, which its engine creates once per release', (_label, annotations) => {
    expect(ruleIds(lintText(unwaited(annotations)))).toEqual([]);
  });
});

describe('MS026: a post-install/PostSync migration hook beside workloads that wait for the database their own way', () => {
  const beside = (hook: any, init: any) => {
    const objects = parseAllDocuments(clean).map((d: any) => d.toJS());
    objects.find((o) => o.kind === 'Job').metadata.annotations = hook;
    const spec = objects.find((o) => o.kind === 'Deployment').spec.template.spec;
    spec.initContainers = [{ name: 'wait-for-db', securityContext: { runAsUser: 1100 }, ...init }];
    return objects.map((o) => stringify(o)).join('---\n');
  };
  const appCheck = { image: 'registry.example.com/myapp:v1.2.3', command: ['/app/bin/myapp', 'db', 'wait', '--timeout', '120s'] };

  test.each([
    ['a Helm post-install hook, the app\'s own wait command', { 'helm.sh/hook': 'post-install,post-upgrade' }, appCheck, 'post-install,post-upgrade'],
    ['an Argo CD PostSync hook, pg_isready', { 'argocd.argoproj.io/hook': 'PostSync' },
      { image: 'postgres:16', command: ['sh', '-c', 'until pg_isready -h db; do sleep 1; done'] }, 'PostSync'],
  ])('%s', (_label, hook, init, kinds) => {
    // GIVEN the migration as a hook that runs after the pods, and pods that wait for the database only
    const found = lintText(beside(hook, init)).findings.filter((f) => f.rule.id === 'MS026');
    // THEN MS026 says the hook runs after the pods
    expect(found.map((f) => f.message)).toEqual(['Deployment shop/myapp (init container wait-for-db) waits for the database in its own way, '
      + `but Job shop/${JOB} is a ${kinds} hook, which runs after the pods: they start as soon as the database answers, on the old schema`]);
  });

  test('not beside a pre-install hook, which runs before the pods', () => {
    expect(ruleIds(lintText(beside({ 'helm.sh/hook': 'pre-install,pre-upgrade' }, appCheck)))).toEqual([]);
  });

  test('not when the app\'s check waits for the migrations themselves', () => {
    const checksMigrations = { image: 'registry.example.com/myapp:v1.2.3', command: ['python', 'manage.py', 'migrate', '--check'] };
    expect(ruleIds(lintText(beside({ 'helm.sh/hook': 'post-install' }, checksMigrations)))).toEqual([]);
  });

  test('not for the app\'s own check of something else than the database', () => {
    const configCheck = { image: 'registry.example.com/myapp:v1.2.3', command: ['/app/bin/myapp', 'config', 'check'] };
    expect(ruleIds(lintText(beside({ 'helm.sh/hook': 'post-install' }, configCheck)))).toEqual([]);
    const databaseCheck = { image: 'registry.example.com/myapp:v1.2.3', command: ['python', 'manage.py', 'check', '--database', 'default'] };
    expect(ruleIds(lintText(beside({ 'helm.sh/hook': 'post-install' }, databaseCheck)))).toEqual(['MS026']);
  });

  test('not for an init container of another image that happens to say "check"', () => {
    const other = { image: 'busybox:1.36', command: ['sh', '-c', 'echo check config; cp /src/* /dst/'] };
    expect(ruleIds(lintText(beside({ 'helm.sh/hook': 'post-install' }, other)))).toEqual([]);
  });
});
