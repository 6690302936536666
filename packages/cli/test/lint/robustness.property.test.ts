import * as fs from 'fs';
import * as path from 'path';
import { POD_SPEC_PATHS } from 'cdk8s-migrated-service/lib/shared/pod-spec';
import * as fc from 'fast-check';
import { parseAllDocuments, stringify } from 'yaml';
import { lint } from '../../src/lint/lint';
import { InputError, parseManifests } from '../../src/lint/load';

// Manifests in the wild are anything: the linter reports on them or refuses them as input, but it
// never fails with an exception of its own (which the CLI would have to call an internal error).

const KINDS = [...Object.keys(POD_SPEC_PATHS), 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'ServiceAccount', 'List'];

/** Kubernetes-shaped objects whose fields hold arbitrary values where the rules look. */
const looseObject = fc.record({
  apiVersion: fc.constantFrom('v1', 'apps/v1', 'batch/v1', 'rbac.authorization.k8s.io/v1'),
  kind: fc.constantFrom(...KINDS),
  metadata: fc.oneof(fc.anything(), fc.record({ name: fc.anything(), namespace: fc.anything(), annotations: fc.anything() })),
  spec: fc.oneof(fc.anything(), fc.record({
    backoffLimit: fc.anything(),
    ttlSecondsAfterFinished: fc.anything(),
    strategy: fc.anything(),
    template: fc.record({
      spec: fc.record({
        serviceAccountName: fc.anything(),
        automountServiceAccountToken: fc.anything(),
        initContainers: fc.oneof(fc.anything(), fc.array(fc.record({
          name: fc.anything(),
          image: fc.oneof(fc.anything(), fc.constantFrom('groundnuty/k8s-wait-for:v2.0', 'registry.k8s.io/kubectl:v1.28.15')),
          command: fc.oneof(fc.anything(), fc.array(fc.constantFrom('sh', '-c', 'kubectl', 'wait', 'job/x', '--for', '-n', 'wait_for.sh', 'job', 'x', '"\'', '$(A)'))),
          args: fc.oneof(fc.anything(), fc.array(fc.constantFrom('job', 'job-wr', 'x', '-n', 'wait', 'job/x', 'jobs', 'rollout'))),
          env: fc.anything(),
          securityContext: fc.anything(),
        }))),
        containers: fc.anything(),
      }),
    }),
  })),
  rules: fc.anything(),
  subjects: fc.anything(),
  roleRef: fc.anything(),
  items: fc.anything(),
});

test('objects with arbitrary field values never make the linter throw', () => {
  fc.assert(fc.property(fc.array(looseObject, { maxLength: 6 }), (objects) => {
    // GIVEN any such objects as one YAML stream
    const text = objects.map((o) => stringify(o)).join('---\n');
    // WHEN read and linted
    // THEN a result comes back, with every finding on a real line, or the input is refused (a
    // `<<` key is a YAML 1.1 merge key, which Kubernetes reads too, and must merge a mapping)
    let objectsRead;
    try {
      objectsRead = parseManifests(text, 'x.yaml');
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      return;
    }
    const result = lint(objectsRead, { threshold: 'info', disabled: new Map() });
    for (const f of result.findings) {
      expect(f.line).toBeGreaterThanOrEqual(1);
    }
  }), { numRuns: 600 });
});

test('arbitrary text is either read or refused as input', () => {
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => {
    try {
      parseManifests(`apiVersion: v1\nkind: Pod\n${text}`, 'x.yaml');
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
    }
  }), { numRuns: 500 });
});

test('a mapping with its own toString key is data, not a method', () => {
  // GIVEN an image written as a mapping whose key is toString (found by the property above)
  const text = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      initContainers:\n'
    + '        - name: w\n          image:\n            toString: ""\n          command: [wait_for.sh, job-wr, j-1]\n';
  // WHEN linted THEN the waiter is read, and its missing Job reported (and its user, unset)
  const result = lint(parseManifests(text, 'x.yaml'), { threshold: 'info', disabled: new Map() });
  expect(result.findings.map((f) => f.rule.id).sort()).toEqual(['MS002', 'MS025']);
});

// What Go's YAML decoder (Helm, the API server) accepts and the linter must read, not refuse.
const GO_ACCEPTS = fc.record({
  /** Lines of the block-style text to repeat: a repeated key, of which the last counts. */
  duplicated: fc.array(fc.nat(), { maxLength: 3 }),
  /** Words of a flow sequence, some continued on a line at column 0. */
  words: fc.array(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9=-]{0,8}$/).filter((w) => !/^(?:y|n|yes|no|on|off|true|false|null)$/.test(w)), fc.boolean()), { minLength: 1, maxLength: 5 }),
  boolean: fc.constantFrom('yes', 'no', 'on', 'off', 'y', 'N', 'True', 'FALSE'),
  tag: fc.constantFrom('', '!custom ', '!!str ', '!Ref '),
});

test('YAML that Go\'s decoder accepts is read, never refused and never a crash', () => {
  fc.assert(fc.property(fc.array(looseObject, { minLength: 1, maxLength: 3 }), GO_ACCEPTS, (objects, go) => {
    // GIVEN objects as block YAML, with lines repeated, a flow sequence wrapped at column 0,
    // YAML 1.1 booleans and tags
    const documents = objects.map((o) => stringify({ ...o, apiVersion: 'apps/v1', kind: 'Deployment' }, { version: '1.1' }));
    const text = documents.map((doc) => {
      const lines = doc.split('\n');
      for (const n of go.duplicated) {
        const i = n % lines.length;
        // Only a line that is a whole `key: value` entry; repeating it repeats the key.
        if (/^\s*[a-z][A-Za-z]*: \S/.test(lines[i]) && !/^\s*- /.test(lines[i])) {
          lines.splice(i + 1, 0, lines[i]);
        }
      }
      const flow = go.words.map(([w, wrap]) => (wrap ? `\n${w}` : w)).join(', ');
      return `${lines.join('\n')}\nextra:\n  flag: ${go.boolean}\n  tagged: ${go.tag}value\n  args: [${flow}]\n`;
    }).join('---\n');
    // (A merge key `<<` of a scalar is refused by Go's decoder too.)
    fc.pre(!text.includes('<<'));
    // WHEN read THEN no error, every object is there, and linting gives findings on real lines
    let read: ReturnType<typeof parseManifests> = [];
    expect(() => { read = parseManifests(text, 'x.yaml'); }).not.toThrow();
    expect(read.length).toBe(objects.length);
    for (const o of read) {
      expect(o.raw.extra.args).toEqual(go.words.map(([w]) => w));
      expect(typeof o.raw.extra.flag).toBe('boolean');
    }
    const result = lint(read, { threshold: 'info', disabled: new Map() });
    for (const f of result.findings) {
      expect(f.line).toBeGreaterThanOrEqual(1);
    }
  }), { numRuns: 300 });
});

// --- waiter scripts: every name a finding quotes is one ----------------------------------------

const CLEAN = fs.readFileSync(path.join(__dirname, 'fixtures', 'rules', 'clean.yaml'), 'utf8');
const REAL_JOB = 'myapp-migration-v1-2-3';
// Targets the input does not tell: an argument nobody gives, a variable set nowhere, a run-time value.
const UNRESOLVABLE = ['"$1"', '$MIGRATION_JOB_NAME', '"${JOB:?}"', '"$(cat /etc/job)"', '`cat /etc/job`', '"$job"'];

/** How a snippet waits for `target` (a name, or an expression). */
const WAITS = [
  (t: string) => `kubectl wait --for=condition=complete job/${t} --timeout=600s`,
  (t: string) => `kubectl wait --for=jsonpath='{.status.failed}'=1 "job/${t}"`,
  (t: string) => `kubectl get job ${t} -n shop -o jsonpath='{.status.succeeded}'`,
  (t: string) => `kubectl get jobs.batch/${t} -o jsonpath='{.status.conditions[*].type}'`,
  (t: string) => `wait_for.sh job-wr ${t}`,
  (t: string) => `kubectl describe job ${t}`,
];
const REDIRECTS = ['', ' 2>/dev/null', ' >&2', ' 2>&1', ' &>/dev/null', ' >/tmp/wait.log 2>&1', ' </dev/null'];
const JOINS = ['', ' | grep -q 1', ' || exit 1', ' && echo done', '; echo "exit $?"'];

/** A waiter script and whether its target is a real name. */
const waiterScript = fc.record({
  wait: fc.nat(WAITS.length - 1),
  redirect: fc.constantFrom(...REDIRECTS),
  join: fc.constantFrom(...JOINS),
  real: fc.boolean(),
  unresolvable: fc.constantFrom(...UNRESOLVABLE),
  shape: fc.constantFrom('plain', 'function-called', 'function-uncalled', 'for-literal', 'for-output', 'until', 'variable', 'heredoc'),
}).map(({ wait, redirect, join, real, unresolvable, shape }) => {
  const snippet = (t: string) => `${WAITS[wait](t)}${redirect}${join}`;
  const target = real ? REAL_JOB : unresolvable;
  switch (shape) {
    case 'function-called':
      return { real, script: `wait_job () {\n  ${snippet('"$1"')}\n}\nwait_job ${real ? REAL_JOB : unresolvable}${redirect}` };
    case 'function-uncalled':
      return { real: false, script: `wait_job () {\n  ${snippet('"$1"')}\n}` };
    case 'for-literal':
      return { real, script: `for j in ${target}; do\n  ${snippet('"$j"')}\ndone` };
    case 'for-output':
      return { real: false, script: `for j in $(kubectl get jobs -n shop -o name 2>/dev/null); do\n  ${snippet('"$j"')}\ndone` };
    case 'until':
      return { real, script: `until ${snippet(target)}; do\n  sleep 2\ndone` };
    case 'variable':
      return { real, script: `JOB=${target}\n${snippet('"$JOB"')}` };
    case 'heredoc':
      return { real, script: `cat <<EOF >&2\nkubectl get job not-this-one-v9\nEOF\n${snippet(target)}` };
    default:
      return { real, script: snippet(target) };
  }
});

// How findings quote objects: `Job "name"`, `jobs "name"` and `Kind namespace/name`.
const QUOTED = /\b(?:Job|jobs) "([^"]*)"|\b(?:Job|Role|ClusterRole|RoleBinding|ClusterRoleBinding|ServiceAccount|Deployment|StatefulSet|DaemonSet|CronJob|Pod|HorizontalPodAutoscaler) ((?!")[^\s,:;()]+)/g;
const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

test('every name a finding quotes as a Job, Role or workload is a Kubernetes name, or visibly unresolved', () => {
  fc.assert(fc.property(waiterScript, ({ script, real }) => {
    // GIVEN the clean fixture whose waiter runs the generated script
    const objects = parseAllDocuments(CLEAN).map((d: any) => d.toJS());
    objects.find((o) => o.kind === 'Deployment').spec.template.spec.initContainers = [{
      name: 'wait-for-migration', image: 'alpine/k8s:1.30.4', command: ['/bin/sh', '-c', script], securityContext: { runAsUser: 1100 },
    }];
    // WHEN linted at every severity
    const result = lint(parseManifests(objects.map((o) => stringify(o)).join('---\n'), 'x.yaml'), { threshold: 'info', disabled: new Map() });
    // THEN every quoted name is a name, or an expression left as written
    for (const f of result.findings) {
      for (const m of f.message.matchAll(QUOTED)) {
        const quoted = m[1] ?? m[2];
        for (const part of quoted.split('/')) {
          expect(K8S_NAME.test(part) || /\$|`|\{\{/.test(part) ? 'ok' : `${f.rule.id} quotes "${part}": ${f.message}`).toBe('ok');
        }
      }
    }
    // AND no error is about a Job that is not there: the real one is, and an unresolved one is a note
    expect(result.findings.filter((f) => f.rule.id === 'MS002' || f.rule.id === 'MS003').map((f) => f.message)).toEqual([]);
    const notes = result.findings.filter((f) => f.rule.id === 'MS028');
    expect(notes.length).toBe(real ? 0 : 1);
    expect(notes.every((f) => f.severity === 'info' && f.message.includes('(init container wait-for-migration)'))).toBe(true);
  }), { numRuns: 200 });
});
