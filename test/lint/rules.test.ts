import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments, stringify } from 'yaml';
import { FIXTURES, lintText, ruleIds } from './support';
import { parseManifests } from '../../src/lint/load';
import { Manifests } from '../../src/lint/model';
import { RULES } from '../../src/lint/rules';

const RULE_FIXTURES = path.join(FIXTURES, 'rules');
const read = (name: string) => fs.readFileSync(path.join(RULE_FIXTURES, name), 'utf8');

// A positive fixture shows one trap. Where the trap implies another finding, it is listed here.
const ALSO_FOUND: { [rule: string]: string[] } = {
  MS002: ['MS022'], // the Job that the waiter misses is then a migration nobody waits for
  MS003: ['MS022'], // likewise
  MS023: ['MS005'], // the suppression without a reason is ignored, so the TTL is still reported
  MS026: ['MS022'], // the migration the service should wait for is then one nobody waits for
};

describe('each rule has a positive and a negative fixture', () => {
  test('the clean fixture is clean', () => {
    // GIVEN the pattern without its traps WHEN linted at every severity THEN nothing is found
    expect(lintText(read('clean.yaml')).findings.map((f) => f.message)).toEqual([]);
  });

  for (const rule of RULES) {
    test(`${rule.id} ${rule.name}: found in the positive fixture`, () => {
      // GIVEN the clean fixture with the rule's trap WHEN linted
      const result = lintText(read(`${rule.id}-positive.yaml`), `${rule.id}-positive.yaml`);
      // THEN exactly that rule (and what it implies) is found, on a line of the fixture
      expect(ruleIds(result)).toEqual([rule.id, ...(ALSO_FOUND[rule.id] ?? [])].sort());
      const finding = result.findings.find((f) => f.rule.id === rule.id)!;
      expect(finding.line).toBeGreaterThan(1);
      expect(finding.message).toMatch(/(Job|Deployment|Role|RoleBinding|ClusterRoleBinding) /);
    });

    test(`${rule.id} ${rule.name}: not found in the negative fixture`, () => {
      // GIVEN a near miss of the trap WHEN linted THEN nothing is found
      expect(lintText(read(`${rule.id}-negative.yaml`)).findings.map((f) => `${f.rule.id} ${f.message}`)).toEqual([]);
    });
  }
});

// --- variants the fixtures do not show --------------------------------------------------------

/** The clean fixture with the Deployment (or another object) changed. */
function variant(change: (objects: any[]) => void): string {
  const objects = parseAllDocuments(read('clean.yaml')).map((d: any) => d.toJS());
  change(objects);
  return objects.map((o) => stringify(o)).join('---\n');
}
const deploymentOf = (objects: any[]) => objects.find((o) => o.kind === 'Deployment');
const roleOf = (objects: any[]) => objects.find((o) => o.kind === 'Role');
const withWaiter = (waiter: any, verbs = ['get', 'list', 'watch']) => variant((objects) => {
  deploymentOf(objects).spec.template.spec.initContainers = [{ name: 'wait-for-migration', ...waiter }];
  roleOf(objects).rules[0].verbs = verbs;
});
const JOB = 'myapp-migration-v1-2-3';
const waitersIn = (text: string) => new Manifests(parseManifests(text, 'x.yaml')).waiters;

describe('waiters are recognised however they are written', () => {
  test.each([
    ['kubectl image, args only', { image: 'registry.k8s.io/kubectl:v1.28.15', args: ['wait', '--for=condition=complete', `job/${JOB}`] }],
    ['command and args', { image: 'alpine/k8s:1.28.15', command: ['kubectl'], args: ['wait', `jobs.batch/${JOB}`, '--for', 'condition=Complete'] }],
    ['jobs NAME form, flags first', { image: 'alpine/k8s:1.28.15', command: ['kubectl', '-n', 'shop', 'wait', '--for=condition=complete', 'jobs', JOB] }],
    ['inside sh -c', { image: 'alpine/k8s:1.28.15', command: ['sh', '-c', `echo waiting; kubectl wait --for=condition=complete job/${JOB} --timeout=1h && echo done`] }],
    ['a variable expanded by Kubernetes', {
      image: 'alpine/k8s:1.28.15',
      command: ['/bin/sh', '-ec'],
      args: ['kubectl wait --for=condition=complete "job/$(JOB)"'],
      env: [{ name: 'JOB', value: JOB }],
    }],
  ])('kubectl wait: %s', (_label, waiter) => {
    // GIVEN an init container running kubectl wait on the Job for Complete only
    const text = withWaiter(waiter);
    // WHEN read THEN it is a kubectl-wait waiter on the Job that cannot notice failure
    expect(waitersIn(text).map((w) => [w.kind, w.jobName, w.noticesFailure])).toEqual([['kubectl-wait', JOB, false]]);
    expect(ruleIds(lintText(text))).toEqual(['MS020']);
  });

  test('kubectl wait for Complete and for Failed in parallel notices failure', () => {
    // GIVEN a script that waits for either condition
    const text = withWaiter({
      image: 'alpine/k8s:1.28.15',
      command: ['sh', '-c', `kubectl wait --for=condition=complete job/${JOB} & kubectl wait --for=condition=failed job/${JOB} && exit 1 & wait -n`],
    });
    // WHEN linted THEN the waiter notices failure and nothing is found
    expect(waitersIn(text).map((w) => w.noticesFailure)).toEqual([true]);
    expect(ruleIds(lintText(text))).toEqual([]);
  });

  test('kubectl wait needs list and watch besides get', () => {
    // GIVEN kubectl wait with a Role that grants get only
    const text = withWaiter({ image: 'registry.k8s.io/kubectl:v1.28.15', args: ['wait', '--for=jsonpath={.status.conditions[?(@.type=="Failed")].status}', `job/${JOB}`] }, ['get']);
    // WHEN linted THEN the missing verbs are named
    const finding = lintText(text).findings.find((f) => f.rule.id === 'MS007')!;
    expect(finding.message).toContain('may not list, watch jobs "myapp-migration-v1-2-3"');
  });

  test.each([
    ['job-wr', 'wait_for.sh in sh -c, with -n', { image: 'groundnuty/k8s-wait-for:no-root-v2.0', command: ['sh', '-c', `/usr/local/bin/wait_for.sh job-wr ${JOB} -n shop`], securityContext: { runAsUser: 1100 } }],
    ['job-we', 'a mirrored image', { image: 'registry.example.com/mirror/k8s-wait-for:no-root-v2.0', args: ['job-we', JOB] }],
  ])('k8s-wait-for %s: %s', (mode, _label, waiter) => {
    // GIVEN k8s-wait-for on the Job
    const text = withWaiter(waiter, ['get']);
    // WHEN read THEN it is recognised, with its mode and namespace
    expect(waitersIn(text).map((w) => [w.kind, w.jobName, w.mode, w.namespace])).toEqual([['k8s-wait-for', JOB, mode, 'shop']]);
    expect(ruleIds(lintText(text))).toEqual([]);
  });

  test('k8s-wait-for in pod or service mode waits for no Job', () => {
    const text = withWaiter({ image: 'groundnuty/k8s-wait-for:no-root-v2.0', args: ['pod', '-lapp=db'] });
    expect(waitersIn(text)).toEqual([]);
  });

  const LIBRARY_WAITER = {
    image: 'node:24.11.0-alpine3.22',
    command: ['node', '-e', 'process.exit(0)'],
    args: ['job'],
    env: [{ name: 'MIGRATION_JOB', value: JOB }, { name: 'MIGRATION_LEDGER', value: 'myapp-migration-ledger' }],
    securityContext: { runAsUser: 1000 },
  };

  test('the library\'s own waiter, by its MIGRATION_JOB variable, with the ledger ConfigMap it reads', () => {
    // GIVEN the library's waiter and its RBAC: the Job (list, watch) and the ledger (get)
    const text = variant((objects) => {
      deploymentOf(objects).spec.template.spec.initContainers = [{ name: 'wait-for-migration', ...LIBRARY_WAITER }];
      roleOf(objects).rules = [
        { apiGroups: ['batch'], resources: ['jobs'], resourceNames: [JOB], verbs: ['list', 'watch'] },
        { apiGroups: [''], resources: ['configmaps'], resourceNames: ['myapp-migration-ledger'], verbs: ['get'] },
      ];
    });
    // WHEN linted THEN it is a waiter that notices failure, and nothing is found
    expect(waitersIn(text).map((w) => [w.kind, w.jobName, w.noticesFailure, w.needs.length])).toEqual([['library', JOB, true, 3]]);
    expect(ruleIds(lintText(text))).toEqual([]);
    // AND without the ConfigMap rule, the missing permission is named
    const without = variant((objects) => {
      deploymentOf(objects).spec.template.spec.initContainers = [{ name: 'wait-for-migration', ...LIBRARY_WAITER }];
      roleOf(objects).rules[0].verbs = ['get', 'list', 'watch'];
    });
    expect(lintText(without).findings.map((f) => f.message).join()).toContain('may not get configmaps "myapp-migration-ledger"');
  });

  test('a post-deploy Job waiting for the rollout is neither a waiter nor an unwaited migration', () => {
    // GIVEN the library's post-deploy Job: its init container waits in rollout mode
    const text = variant((objects) => {
      const post = JSON.parse(JSON.stringify(objects.find((o) => o.kind === 'Job')));
      post.metadata.name = 'myapp-post-migration-v1-2-3';
      post.spec.template.spec.initContainers = [{
        name: 'wait-for-rollout',
        image: 'node:24.11.0-alpine3.22',
        command: ['node', '-e', 'process.exit(0)'],
        args: ['rollout'],
        env: [{ name: 'ROLLOUT_WORKLOADS', value: 'deployment/myapp' }, { name: 'MIGRATION_JOB', value: JOB }],
      }];
      objects.push(post);
    });
    // WHEN linted THEN it waits for no Job, and is not reported as a migration nobody waits for
    expect(waitersIn(text).map((w) => w.workload.object.name)).toEqual(['myapp']);
    expect(ruleIds(lintText(text))).toEqual([]);
  });
});

describe('workloads of every kind can wait', () => {
  test.each(['StatefulSet', 'CronJob', 'Pod', 'Job', 'DaemonSet'])('%s', (kind) => {
    // GIVEN a workload of that kind whose init container waits for a Job that is not there
    const pod = { initContainers: [{ name: 'wait', image: 'groundnuty/k8s-wait-for:no-root-v2.0', args: ['job-wr', 'missing-v1'] }], containers: [{ name: 'c', image: 'x:1' }] };
    const spec = kind === 'Pod' ? pod : kind === 'CronJob' ? { schedule: '@daily', jobTemplate: { spec: { template: { spec: pod } } } } : { template: { spec: pod } };
    const text = stringify({ apiVersion: 'v1', kind, metadata: { name: 'w', namespace: 'shop' }, spec });
    // WHEN linted THEN the missing Job is reported against that workload
    const result = lintText(text);
    expect(result.findings.map((f) => [f.rule.id, f.object.kind])).toEqual([['MS002', kind]]);
  });
});

describe('capacity', () => {
  const waitingDeployment = (strategy: any) => variant((objects) => {
    deploymentOf(objects).spec.strategy = strategy;
  });
  test('Recreate stops every old pod', () => {
    expect(lintText(waitingDeployment({ type: 'Recreate' })).findings.map((f) => f.message).join()).toContain('Recreate');
  });
  test('a DaemonSet rolls with maxUnavailable 1 unless told otherwise', () => {
    // GIVEN the Deployment turned into a DaemonSet, first with the default update, then with surge only
    const daemonSet = (updateStrategy: any) => variant((objects) => {
      const d = deploymentOf(objects);
      d.kind = 'DaemonSet';
      delete d.spec.strategy;
      delete d.spec.replicas;
      d.spec.updateStrategy = updateStrategy;
    });
    expect(ruleIds(lintText(daemonSet(undefined)))).toEqual(['MS015']);
    expect(ruleIds(lintText(daemonSet({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } })))).toEqual([]);
  });
});

describe('RBAC', () => {
  test('a RoleBinding to the built-in view ClusterRole grants the read, too broadly', () => {
    // GIVEN no Role, and a RoleBinding of the waiter's account to "view"
    const text = variant((objects) => {
      objects.splice(objects.indexOf(roleOf(objects)), 1);
      objects.find((o) => o.kind === 'RoleBinding').roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' };
    });
    // WHEN linted THEN the access is there (no MS007), but it is every Job, through a ClusterRole
    expect(ruleIds(lintText(text))).toEqual(['MS008', 'MS009']);
  });

  test('a group of all the namespace\'s ServiceAccounts is a subject that matches', () => {
    const text = variant((objects) => {
      objects.find((o) => o.kind === 'RoleBinding').subjects = [{ kind: 'Group', name: 'system:serviceaccounts:shop', apiGroup: 'rbac.authorization.k8s.io' }];
    });
    expect(ruleIds(lintText(text))).toEqual([]);
  });

  test('a missing Role is named as such', () => {
    const text = variant((objects) => {
      objects.splice(objects.indexOf(roleOf(objects)), 1);
    });
    expect(lintText(text).findings.map((f) => f.message).join()).toContain('no Role in the manifests grants get on batch jobs "myapp-migration-v1-2-3"');
  });

  test('a Role and RoleBinding in another namespace than the Job are named as such', () => {
    const text = variant((objects) => {
      roleOf(objects).metadata.namespace = 'other';
      objects.find((o) => o.kind === 'RoleBinding').metadata.namespace = 'other';
    });
    expect(lintText(text).findings.map((f) => f.message).join()).toContain('only Role other/myapp-migration-reader grants get on batch jobs "myapp-migration-v1-2-3", in another namespace than shop');
  });

  test('a Role without a binding is named as such', () => {
    const text = variant((objects) => {
      objects.splice(objects.findIndex((o) => o.kind === 'RoleBinding'), 1);
    });
    expect(lintText(text).findings.map((f) => f.message).join()).toContain('grants get on batch jobs "myapp-migration-v1-2-3", but no binding in its namespace refers to it');
  });
});

describe('the Job name', () => {
  test.each([
    ['myapp-migration', false], ['db-migrate', false], ['myapp-migration-latest', false],
    ['myapp-migration-v1-2-3', true], ['myapp-migration-3f2a9c1', true], ['myapp-migration-${IMAGE_TAG}', true],
    ['myapp-migration-{{ .Values.tag }}', true], ['myapp-migration-7', true],
  ])('%s versioned: %s', (name, versioned) => {
    const text = variant((objects) => {
      objects.find((o) => o.kind === 'Job').metadata.name = name;
      deploymentOf(objects).spec.template.spec.initContainers[0].args[1] = name;
      roleOf(objects).rules[0].resourceNames = [name];
    });
    expect(ruleIds(lintText(text)).includes('MS001')).toBe(!versioned);
  });
});
