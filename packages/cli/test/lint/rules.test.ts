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

  test.each([
    ['types sorting before FailureTarget (Complete and Failed)', '{.status.conditions[?(@.type<"FailureTarget")].status}=True', true],
    ['types sorting before "G" (Complete, Failed, FailureTarget)', '{.status.conditions[?(@.type<"G")].status}=True', true],
    ['types sorting before "D" (Complete only)', '{.status.conditions[?(@.type<"D")].status}=True', false],
  ])('kubectl wait on a jsonpath of condition %s', (_label, jsonpath, notices) => {
    const text = withWaiter({ image: 'registry.k8s.io/kubectl:v1.28.15', args: ['wait', `--for=jsonpath=${jsonpath}`, `job/${JOB}`] });
    expect(waitersIn(text).map((w) => w.noticesFailure)).toEqual([notices]);
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

describe('waiter idioms found in public charts', () => {
  const labelled = (change: (objects: any[]) => void = () => undefined) => (objects: any[]) => {
    objects.find((o) => o.kind === 'Job').metadata.labels = { 'app.kubernetes.io/component': 'migration' };
    objects.find((o) => o.kind === 'Job').spec.template.metadata = { labels: { app: 'myapp-migration' } };
    change(objects);
  };
  const waiterVariant = (waiter: any, verbs: string[], resourceNames: string[] | undefined = [JOB]) => variant(labelled((objects) => {
    deploymentOf(objects).spec.template.spec.initContainers = [{ name: 'wait-for-migration', securityContext: { runAsUser: 1000, runAsNonRoot: true }, ...waiter }];
    const rule = roleOf(objects).rules[0];
    rule.verbs = verbs;
    if (resourceNames === undefined) {
      delete rule.resourceNames;
    } else {
      rule.resourceNames = resourceNames;
    }
  }));

  test.each([
    ['kubernetes-entrypoint, DEPENDENCY_JOBS', {
      image: 'quay.io/airshipit/kubernetes-entrypoint:latest-ubuntu_jammy',
      command: ['kubernetes-entrypoint'],
      env: [{ name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }, { name: 'DEPENDENCY_JOBS', value: `other-db-init,${JOB}` }, { name: 'COMMAND', value: 'echo done' }],
    }, ['get'], 'kubernetes-entrypoint', [JOB, 'other-db-init'].sort()],
    ['kubernetes-entrypoint, DEPENDENCY_JOBS_JSON by name', {
      image: 'quay.io/airshipit/kubernetes-entrypoint:v1.0.0',
      env: [{ name: 'DEPENDENCY_JOBS_JSON', value: JSON.stringify([{ namespace: 'shop', name: JOB }]) }],
    }, ['get'], 'kubernetes-entrypoint', [JOB]],
    ['an until loop on kubectl get job -o jsonpath', {
      image: 'alpine/k8s:1.30.4',
      command: ['/bin/sh', '-c', `until [ "$(kubectl get job ${JOB} -o jsonpath='{.status.succeeded}')" = "1" ]; do echo waiting; sleep 5; done`],
    }, ['get'], 'kubectl-get', [JOB]],
    ['kubectl get job on a variable of the container', {
      image: 'bitnami/kubectl:1.30',
      command: ['sh', '-ec'],
      args: ['while ! kubectl get job "$JOB_NAME" -n shop -o jsonpath="{.status.conditions[?(@.type==\'Complete\')].status}" | grep -q True; do sleep 3; done'],
      env: [{ name: 'JOB_NAME', value: JOB }],
    }, ['get'], 'kubectl-get', [JOB]],
    ['kubectl wait in an until loop', {
      image: 'registry.k8s.io/kubectl:v1.30.4',
      command: ['sh', '-c', `until kubectl wait --for=condition=complete job/${JOB} --timeout=60s; do sleep 2; done`],
    }, ['get', 'list', 'watch'], 'kubectl-wait', [JOB]],
  ])('%s', (_label, waiter, verbs, kind, jobNames) => {
    // GIVEN the clean pattern with the waiter written that way, and the verbs it needs
    const text = waiterVariant(waiter, verbs, jobNames.length > 1 ? undefined : [JOB]);
    // WHEN read THEN the waiter is found, of its kind, on the Job
    expect(waitersIn(text).map((w) => [w.kind, w.jobName]).sort()).toEqual(jobNames.map((j: string) => [kind, j]).sort());
    // AND the Job it names is a migration Job that something waits for (no MS022)
    expect(ruleIds(lintText(text))).not.toContain('MS022');
  });

  test.each([
    ['k8s-wait-for job-wr -l', { image: 'groundnuty/k8s-wait-for:no-root-v2.0', args: ['job-wr', '-l', 'app.kubernetes.io/component=migration'] }],
    ['k8s-wait-for pod -l job-name=', { image: 'groundnuty/k8s-wait-for:no-root-v2.0', args: ['pod', `-ljob-name=${JOB}`] }],
    ['kubectl get jobs -l in a while loop', {
      image: 'alpine/k8s:1.30.4',
      command: ['sh', '-c', 'while [ "$(kubectl get jobs -l app.kubernetes.io/component=migration -o jsonpath=\'{.items[*].status.succeeded}\')" != "1" ]; do sleep 2; done'],
    }],
    ['kubectl wait job -l', { image: 'registry.k8s.io/kubectl:v1.30.4', args: ['wait', '--for=condition=complete', 'job', '-l', 'app.kubernetes.io/component=migration'] }],
    ['kubernetes-entrypoint with labels', {
      image: 'quay.io/airshipit/kubernetes-entrypoint:v1.0.0',
      env: [{ name: 'DEPENDENCY_JOBS_JSON', value: '[{"labels": {"app.kubernetes.io/component": "migration"}}]' }],
    }],
  ])('a label selector, resolved against the Jobs: %s', (_label, waiter) => {
    // GIVEN a waiter that selects the Job by its labels (or its pods' labels), with a Role limited by name
    const text = waiterVariant(waiter, ['get', 'list', 'watch']);
    // WHEN linted THEN it waits for the Job: not missing, not unwaited
    const ids = ruleIds(lintText(text));
    expect(ids).not.toContain('MS002');
    expect(ids).not.toContain('MS022');
    const w = waitersIn(text);
    expect(w).toHaveLength(1);
    expect(new Manifests(parseManifests(text, 'x.yaml')).jobsOf(w[0]).map((j) => j.name)).toEqual([JOB]);
    // AND a list by label cannot be limited by resourceNames: the Role does not allow it
    expect(lintText(text).findings.find((f) => f.rule.id === 'MS007')?.message).toMatch(/may not list(, watch)? (jobs|pods) by label/);
  });

  test.each([
    ['--job=NAME', { image: 'ghcr.io/example/waitfor:v1.0.0', args: [`--job=${JOB}`, '--timeout=30m'] }],
    ['job/NAME', { image: 'registry.example.com/tools/wait-for-job:2', args: ['-n', 'shop', `job/${JOB}`] }],
  ])('another wait-for tool given the Job: %s', (_label, waiter) => {
    const text = waiterVariant(waiter, ['get']);
    expect(waitersIn(text).map((w) => [w.kind, w.jobName])).toEqual([['wait-tool', JOB]]);
    expect(ruleIds(lintText(text))).toEqual([]);
  });

  test('a selector that matches no Job is a missing Job, named by its labels', () => {
    const text = waiterVariant({ image: 'groundnuty/k8s-wait-for:no-root-v2.0', args: ['job-wr', '-l', 'app=nothing'] }, ['get', 'list'], undefined);
    expect(lintText(text).findings.find((f) => f.rule.id === 'MS002')?.message)
      .toBe('Deployment shop/myapp (init container wait-for-migration) waits for the Jobs labelled app=nothing, and no Job in the manifests has those labels');
  });

  test('kubectl get pods for a database and k8s-wait-for on a service are no waiters', () => {
    expect(waitersIn(waiterVariant({ image: 'alpine/k8s:1.30.4', command: ['sh', '-c', 'until kubectl get pods -l app=postgres | grep Running; do sleep 2; done'] }, ['get']))).toEqual([]);
    expect(waitersIn(waiterVariant({ image: 'groundnuty/k8s-wait-for:no-root-v2.0', args: ['service', 'postgres'] }, ['get']))).toEqual([]);
  });

  test('kubernetes-entrypoint fixed Job names are reported as such', () => {
    // GIVEN openstack-helm's idiom: a db-sync Job with a fixed name, waited for through DEPENDENCY_JOBS
    const text = variant((objects) => {
      objects.find((o) => o.kind === 'Job').metadata.name = 'myapp-db-sync';
      roleOf(objects).rules[0].resourceNames = ['myapp-db-sync'];
      deploymentOf(objects).spec.template.spec.initContainers = [{
        name: 'init',
        image: 'quay.io/airshipit/kubernetes-entrypoint:v1.0.0',
        securityContext: { runAsUser: 65534 },
        env: [{ name: 'DEPENDENCY_JOBS', value: 'myapp-db-sync' }],
      }];
    });
    // WHEN linted THEN the fixed name is found
    expect(ruleIds(lintText(text))).toEqual(['MS001']);
  });
});

describe('migration Jobs are recognised by what they run', () => {
  const unwaited = (name: string, container: any, annotations?: any) => variant((objects) => {
    const job = JSON.parse(JSON.stringify(objects.find((o) => o.kind === 'Job')));
    job.metadata.name = name;
    if (annotations) {
      job.metadata.annotations = annotations;
    }
    job.spec.template.spec.containers = [{ name: 'main', image: 'registry.example.com/myapp:v1.2.3', ...container }];
    objects.push(job);
  });
  test.each([
    ['myapp-db-sync', { command: ['keystone-manage', 'db_sync'] }],
    ['myapp-db-init-v1', { command: ['/tmp/db-init.py'] }],
    ['myapp-setup-v1', { command: ['/opt/app/manage_db.sh', 'upgrade'] }],
    ['myapp-setup-v1', { command: ['alembic', '-c', '/etc/app/alembic.ini', 'upgrade', 'head'] }],
    ['myapp-setup-v1', { command: ['bundle', 'exec', 'rake', 'db:migrate'] }],
    ['myapp-setup-v1', { args: ['-url=jdbc:postgresql://pg/app', 'migrate'], image: 'flyway/flyway:10' }],
    ['myapp-setup-v1', { command: ['liquibase', '--changelog-file=changelog.xml', 'update'] }],
    ['myapp-setup-v1', { command: ['npx', 'prisma', 'migrate', 'deploy'] }],
    ['myapp-setup-v1', { command: ['npx', 'sequelize-cli', 'db:migrate'] }],
    ['myapp-setup-v1', { command: ['goose', '-dir', '/migrations', 'postgres', '$(DSN)', 'up'], env: [{ name: 'DSN', valueFrom: { secretKeyRef: { name: 'db', key: 'dsn' } } }] }],
    ['myapp-setup-v1', { command: ['sh', '-c', 'php bin/console doctrine:schema:update --force'] }],
  ])('%s running %j is a migration nobody waits for', (name, container) => {
    expect(ruleIds(lintText(unwaited(name, container)))).toEqual(['MS022']);
  });

  test.each([
    ['myapp-migration-cleanup', { command: ['kubectl', 'delete', 'jobs', '-l', 'app=myapp-migration'] }, {}],
    ['myapp-token-generator', { command: ['python', 'manage.py', 'create_api_token'] }, {}],
    ['myapp-backup', { command: ['sh', '-c', 'pg_dump --schema public > /backup/dump.sql'] }, {}],
    ['myapp-test-db', { command: ['sh', '-c', 'migrate --dry-run'] }, { 'helm.sh/hook': 'test' }],
  ])('%s is not a migration', (name, container, annotations) => {
    expect(ruleIds(lintText(unwaited(name, container, annotations)))).toEqual([]);
  });

  test('a Job whose init container waits for the migration is not one itself', () => {
    // GIVEN a token generator that waits for the migration Job before it runs
    const text = unwaited('myapp-bootstrap', { command: ['/app/bin/create-admin'] });
    const withInit = text.replace(/(name: myapp-bootstrap[\s\S]*?spec:\n\s+restartPolicy: Never\n)/, `$1      initContainers:\n        - name: wait\n          image: groundnuty/k8s-wait-for:no-root-v2.0\n          args: [job-wr, ${JOB}]\n`);
    // WHEN linted THEN it is not reported as an unwaited migration
    expect(ruleIds(lintText(withInit))).not.toContain('MS022');
  });

  test.each([
    [{ 'helm.sh/hook': 'pre-install,pre-upgrade' }],
    [{ 'argocd.argoproj.io/hook': 'PreSync' }],
  ])('a pre-deploy hook %j is waited for by construction', (annotations) => {
    expect(ruleIds(lintText(unwaited('myapp-db-sync', { command: ['app', 'db-sync'] }, annotations)))).toEqual([]);
  });
});

test('an init container that downloads once with curl polls nothing (MS026); one that curls in a loop does', () => {
  const withInit = (script: string) => variant((objects) => {
    deploymentOf(objects).spec.template.spec.initContainers = [{ name: 'init', image: 'curlimages/curl:8.10.1', command: ['sh', '-c', script], securityContext: { runAsUser: 100 } }];
  });
  expect(ruleIds(lintText(withInit('curl -fsSL -o /work/plugins.tgz https://downloads.example.com/plugins.tgz')))).toEqual(['MS022']);
  expect(ruleIds(lintText(withInit('until curl -fs http://api-db:8080/health; do sleep 2; done')))).toEqual(['MS022', 'MS026']);
});

describe('MS015 rounds as the Deployment controller does', () => {
  const rolling = (replicas: number | undefined, rollingUpdate: any, hpa?: any) => variant((objects) => {
    const d = deploymentOf(objects);
    if (replicas === undefined) {
      delete d.spec.replicas;
    } else {
      d.spec.replicas = replicas;
    }
    d.spec.strategy = rollingUpdate === undefined ? undefined : { type: 'RollingUpdate', rollingUpdate };
    if (hpa) {
      objects.push({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'myapp', namespace: 'shop' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'myapp' }, ...hpa } });
    }
  });
  const ms015 = (text: string) => lintText(text).findings.filter((f) => f.rule.id === 'MS015').map((f) => f.message);

  test.each([1, 2, 3])('the default 25%% stops no pod at %d replicas: an info finding names the count from which it does', (replicas) => {
    // GIVEN the default 25% at a count that loses nothing WHEN linted
    const findings = lintText(rolling(replicas, undefined)).findings.filter((f) => f.rule.id === 'MS015');
    // THEN one info finding says from which replica count a stuck rollout stops old pods
    expect(findings.map((f) => f.severity)).toEqual(['info']);
    expect(findings[0].message).toContain(`at ${replicas} replica${replicas === 1 ? '' : 's'} a stuck rollout stops no old pod, but scaled to 4 replicas or more it stops 1`);
    // AND it is not reported at the default threshold
    expect(ruleIds(lintText(rolling(replicas, undefined), 'input.yaml', 'warning'))).toEqual([]);
  });

  test('maxUnavailable 0 with a surge loses nothing at any count, and says nothing', () => {
    expect(ms015(rolling(2, { maxUnavailable: 0, maxSurge: 1 }))).toEqual([]);
    expect(ms015(rolling(2, { maxUnavailable: '0%', maxSurge: '25%' }))).toEqual([]);
  });

  test('10% loses capacity from 10 replicas on', () => {
    const findings = lintText(rolling(3, { maxUnavailable: '10%', maxSurge: 1 })).findings.filter((f) => f.rule.id === 'MS015');
    expect(findings.map((f) => [f.severity, /scaled to (\d+) replicas/.exec(f.message)?.[1]])).toEqual([['info', '10']]);
  });

  test('the default 25% stops one pod from 4 replicas on, and says so', () => {
    expect(ms015(rolling(4, undefined))).toEqual(['Deployment shop/myapp has maxUnavailable 25% (the default): at 4 replicas a stuck rollout stops 1 old pod, '
      + 'and loses capacity from 4 replicas on (a percentage of maxUnavailable rounds down), while new pods wait for the migration']);
    expect(ms015(rolling(9, { maxUnavailable: '25%' }))[0]).toContain('at 9 replicas a stuck rollout stops 2 old pods');
  });

  test('an absolute maxUnavailable stops pods from 1 replica on; both rounding to 0 means 1', () => {
    expect(ms015(rolling(1, { maxUnavailable: 1, maxSurge: 0 }))[0]).toContain('at 1 replica a stuck rollout stops 1 old pod, and loses capacity from 1 replica on');
    expect(ms015(rolling(3, { maxUnavailable: '10%', maxSurge: '0%' }))[0]).toContain('at 3 replicas a stuck rollout stops 1 old pod');
  });

  test('an HPA that scales past the threshold keeps the finding', () => {
    // GIVEN 2 replicas (nothing lost) and an HPA up to 10 (2 lost there)
    const messages = ms015(rolling(2, undefined, { minReplicas: 2, maxReplicas: 10 }));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('at 2 replicas a stuck rollout stops 0 old pods; HorizontalPodAutoscaler shop/myapp scales it to 10, where it stops 2');
    // AND an HPA that stays below it caps the count: nothing, not even at info
    expect(ms015(rolling(2, undefined, { minReplicas: 1, maxReplicas: 3 }))).toEqual([]);
  });

  test('a KEDA ScaledObject counts as the Deployment\'s autoscaler, its target a Deployment unless it says otherwise', () => {
    // GIVEN no replica count (left to the autoscaler) and a ScaledObject up to 10 replicas
    const text = variant((objects) => {
      const d = deploymentOf(objects);
      delete d.spec.replicas;
      d.spec.strategy = undefined;
      objects.push({ apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'myapp', namespace: 'shop' }, spec: { scaleTargetRef: { name: 'myapp' }, minReplicaCount: 2, maxReplicaCount: 10, triggers: [] } });
    });
    // THEN MS015 judges the Deployment at the ScaledObject's range
    const messages = ms015(text);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/at 2 replicas a stuck rollout stops 0 old pods; ScaledObject shop\/myapp scales it to 10, where it stops 2/);
  });
});

describe('MS019 compares where the database is, not variable names', () => {
  const envs = (jobEnv: any[], appEnv: any[], appEnvFrom?: any[]) => variant((objects) => {
    const job = objects.find((o) => o.kind === 'Job').spec.template.spec.containers[0];
    job.env = jobEnv;
    const app = deploymentOf(objects).spec.template.spec.containers[0];
    app.env = appEnv;
    if (appEnvFrom) {
      app.envFrom = appEnvFrom;
    }
  });
  const ms019 = (text: string) => lintText(text).findings.filter((f) => f.rule.id === 'MS019').map((f) => f.message);

  test('a URL and a host variable on the same host match', () => {
    expect(ms019(envs([{ name: 'DATABASE_URL', value: 'postgresql://owner:secret@pg.shop:5432/app?sslmode=require' }], [{ name: 'DB_HOST', value: 'PG.shop' }]))).toEqual([]);
  });

  test('the same Secret key under other names matches; a pool size or a user is not compared', () => {
    const ref = { valueFrom: { secretKeyRef: { name: 'db', key: 'host' } } };
    expect(ms019(envs([{ name: 'MIGRATE_DB_HOST', ...ref }, { name: 'DB_USER', value: 'owner' }], [{ name: 'APP_DB_HOST', ...ref }, { name: 'DB_USER', value: 'app' }, { name: 'DB_POOL_SIZE', value: '10' }]))).toEqual([]);
  });

  test('different literal hosts are named', () => {
    expect(ms019(envs([{ name: 'PGHOST', value: 'pg-a' }], [{ name: 'DATABASE_HOST', value: 'pg-b' }]))).toEqual([
      'Job shop/myapp-migration-v1-2-3 connects to pg-a and Deployment shop/myapp to pg-b: PGHOST (pg-a) in the Job, DATABASE_HOST (pg-b) in the workload',
    ]);
  });

  test('locations from Secrets the two do not share: it says it cannot tell', () => {
    const messages = ms019(variant((objects) => {
      const job = objects.find((o) => o.kind === 'Job').spec.template.spec.containers[0];
      job.envFrom = [];
      job.env = [{ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'db-owner', key: 'url' } } }];
      const app = deploymentOf(objects).spec.template.spec.containers[0];
      app.envFrom = [];
      app.env = [{ name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 'db-app', key: 'url' } } }];
    }));
    expect(messages).toEqual(['Job shop/myapp-migration-v1-2-3 and Deployment shop/myapp share no source for the database location, so lint cannot tell whether they reach '
      + 'the same database: the Job reads DATABASE_URL (Secret db-owner key url), the workload DATABASE_URL (Secret db-app key url)']);
  });
});

describe('MS018 on helm template output', () => {
  test('the advice is to make the Job a hook', () => {
    // GIVEN the Job after the Deployment, as helm template orders them, with the chart's labels
    const text = variant((objects) => {
      const job = objects.find((o) => o.kind === 'Job');
      objects.splice(objects.indexOf(job), 1);
      job.metadata.labels = { 'helm.sh/chart': 'myapp-1.2.3', 'app.kubernetes.io/managed-by': 'Helm' };
      objects.push(job);
    });
    // WHEN linted THEN MS018 says what works there
    const finding = lintText(text).findings.find((f) => f.rule.id === 'MS018')!;
    expect(finding.message).toContain('This is Helm-rendered output');
    expect(finding.message).toContain('Make the Job a pre-install,pre-upgrade hook');
  });

  test('a # Source: comment is enough to know', () => {
    const text = variant((objects) => {
      const job = objects.find((o) => o.kind === 'Job');
      objects.splice(objects.indexOf(job), 1);
      objects.push(job);
    }).replace(/\napiVersion: batch\/v1\n/, '\n# Source: myapp/templates/job.yaml\napiVersion: batch/v1\n');
    expect(lintText(text).findings.find((f) => f.rule.id === 'MS018')!.message).toContain('Helm-rendered');
  });
});
