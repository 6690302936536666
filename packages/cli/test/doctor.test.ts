/**
 * `doctor` against the fake API server through a real kubectl: each diagnosis of the README's
 * "When a migration goes wrong" table, on manifests the library synthesized and on hand-written
 * setups (k8s-wait-for, kubectl wait) it did not.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { Chart, Cron, Testing } from 'cdk8s';
import { DatabaseQueue, Delivery, MigratedService, MigrationWarnings } from 'cdk8s-migrated-service';
import * as kplus from 'cdk8s-plus-28';
import { DoctorCluster, KUBECTL_DIR, USER_TOKEN } from './support/doctor-cluster';
import { REPO } from './support/from-sources';
import { FakeApiServer, RbacRule } from '../../../test/support/fake-api-server';
import { named, PATTERN_EXAMPLE, synthesize } from '../../../test/support/manifests';
import { collectReleases } from '../src/doctor/facts';
import { listItems, parseJsonDocuments } from '../src/doctor/kubectl';

jest.setTimeout(60_000);

const NS = 'shop';
let cluster: DoctorCluster;

beforeEach(async () => {
  cluster = await DoctorCluster.start(NS);
});
afterEach(async () => {
  await cluster.close();
});

function release(tag: string, extra: object = {}) {
  const { service, manifests } = synthesize({ ...PATTERN_EXAMPLE, imageTag: tag, ...extra });
  return { manifests, job: service.migration.jobName, deployment: named(manifests, 'Deployment', 'myapp') };
}

/** A Deployment and a Job written by hand, with a waiter init container of the given command. */
function handWritten(jobName: string, waiter: { image: string; command?: string[]; args: string[] }, namespace = NS) {
  const labels = { app: 'billing' };
  // The Role a hand-written setup would have: read every Job.
  cluster.server.accounts.set(`system:serviceaccount:${NS}:billing`, [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'] }]);
  return [
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: jobName, namespace },
      spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image: 'billing:v7', command: ['./migrate', 'up'] }] } } },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'billing', namespace: NS },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'billing',
            initContainers: [{ name: 'wait-for-migration', ...waiter }],
            containers: [{ name: 'app', image: 'billing:v7' }],
          },
        },
      },
    },
  ];
}

describe('a release synthesized by the library', () => {
  test('a failed migration: FAILED, the reason, the migration log and the command to read it', async () => {
    // GIVEN the release's Job failed and its pods crash-loop in Init
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'failed', { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    cluster.jobPod(r.job, 'failed', 'applying 0042_add_index\nERROR: relation "orders" does not exist\n');
    cluster.pods('myapp', 2, 'crashing', { waiterLog: `migration-waiter: Job shop/${r.job} failed (BackoffLimitExceeded: …); not starting` });
    cluster.rollout('Deployment', 'myapp', { updated: 1, available: 2 });

    // WHEN doctor runs, in text and in JSON
    const text = await cluster.run();
    const { code, report } = await cluster.json();

    // THEN it is FAILED with the reason, the log's last lines and the command to read all of it
    expect(text.code).toBe(1);
    expect(code).toBe(1);
    expect(text.stdout).toMatch(/^FAILED +shop\/myapp-migration-v2-0-0-\w+ +\(release v2\.0\.0\)$/m);
    expect(text.stdout).toContain('why:  the migration failed (BackoffLimitExceeded: Job has reached the specified backoff limit)');
    expect(text.stdout).toContain(`next: kubectl logs -n shop job/${r.job} -c migrate`);
    expect(text.stdout).toContain('| ERROR: relation "orders" does not exist');
    expect(text.stdout).not.toMatch(/\n\s+at /); // no stack trace
    const [rel] = report.releases;
    expect(rel).toMatchObject({ verdict: 'FAILED', job: r.job, tag: 'v2.0.0', ledger: { name: 'myapp-migration-ledger', exists: true } });
    expect(rel.migration).toMatchObject({ state: 'Failed', reason: 'BackoffLimitExceeded', deadlineSeconds: 7200, logContainer: 'migrate', pod: { state: 'Init:Error' } });
    expect(rel.workloads[0]).toMatchObject({ kind: 'Deployment', name: 'myapp', desired: 2, updated: 1, available: 2 });
    expect(rel.workloads[0].heldPods).toHaveLength(2);
    expect(rel.workloads[0].heldPods[0].state).toBe('Init:CrashLoopBackOff');
    const [waiter] = rel.workloads[0].waiters;
    expect(waiter).toMatchObject({ kind: 'library', job: r.job, serviceAccount: 'myapp', jobExists: true, tokenMounted: true });
    expect(waiter.access.every((a: any) => a.allowed === true)).toBe(true);
    expect(waiter.lastLog).toContain('not starting');
  });

  test('a migration that hangs past --stuck-after: WAITING, and exit 1; within it, exit 0', async () => {
    // GIVEN a migration running for 20 minutes and pods waiting in Init:0/1
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'running', { startedSecondsAgo: 1200 });
    cluster.jobPod(r.job, 'running', 'waiting for advisory lock 72707369\n');
    cluster.pods('myapp', 1, 'waiting', { ageSeconds: 1190, waiterLog: `migration-waiter: waiting for Job shop/${r.job} to complete` });

    // WHEN doctor runs with the default threshold (10m), then with 1h
    const stuck = await cluster.json();
    const patient = await cluster.json('--stuck-after', '1h');

    // THEN
    expect(stuck.code).toBe(1);
    expect(stuck.report.releases[0]).toMatchObject({ verdict: 'WAITING', stuck: true });
    expect(stuck.report.releases[0].reason).toMatch(/^the migration is running for 20m of its 2h00m deadline; its pod \S+ is Init:1\/2; 1 pod of Deployment myapp \(Init:0\/1\) wait/);
    expect(stuck.report.releases[0].next).toMatch(/lock/);
    expect(stuck.report.releases[0].migration.log).toEqual(['waiting for advisory lock 72707369']);
    expect(patient.code).toBe(0);
    expect(patient.report.releases[0]).toMatchObject({ verdict: 'WAITING', stuck: false });
  });

  test('a migration pod that cannot pull its image: FAILED with the command to describe it', async () => {
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'running');
    const pod = cluster.jobPod(r.job, 'image-pull');

    const { code, report } = await cluster.json();

    expect(code).toBe(1);
    expect(report.releases[0].verdict).toBe('FAILED');
    expect(report.releases[0].reason).toContain('Init:ImagePullBackOff');
    expect(report.releases[0].next).toBe(`kubectl describe pod -n shop ${pod.metadata.name}`);
    // The container has not started: the log cannot be read, and doctor says why.
    expect(report.releases[0].migration.logNote).toMatch(/cannot read its log: .*waiting to start: ImagePullBackOff/);
  });

  test('a completed migration whose pods rolled out: OK, exit 0', async () => {
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'complete', { startedSecondsAgo: 300 });
    cluster.jobPod(r.job, 'done', 'applied 3 migrations\n');
    cluster.pods('myapp', 2, 'done');
    cluster.rollout('Deployment', 'myapp', { updated: 2, available: 2, total: 2 });

    const text = await cluster.run();

    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^OK +shop\/myapp-migration-v2-0-0-\w+/m);
    expect(text.stdout).toContain('why:  the migration is Complete (took 20s); Deployment myapp 2/2 available');
    expect(text.stdout).toContain('next: nothing to do');
  });

  test('Job complete, pods still wait, and the waiter may not read the Job: FAILED naming the account and the permission', async () => {
    // GIVEN the reader RoleBinding was never applied: the ServiceAccount has no rules
    const r = release('v2.0.0');
    cluster.seed(r.manifests.filter((m) => !(m.kind === 'RoleBinding' && m.metadata.name === 'myapp-migration-reader')));
    cluster.jobStatus(r.job, 'complete');
    cluster.pods('myapp', 2, 'crashing', { waiterLog: `migration-waiter: forbidden to read Job shop/${r.job} (403: …)` });

    const { code, report } = await cluster.json();

    expect(code).toBe(1);
    expect(report.releases[0].verdict).toBe('FAILED');
    expect(report.releases[0].reason).toBe(`ServiceAccount shop/myapp may not list jobs.batch "${r.job}" in shop, watch jobs.batch "${r.job}" in shop, get configmaps "myapp-migration-ledger" in shop (SubjectAccessReview), so waiter wait-for-myapp-migration of Deployment myapp cannot see Job shop/${r.job}`);
    expect(report.releases[0].next).toBe(`grant it with a Role and RoleBinding; check: kubectl auth can-i list jobs.batch/${r.job} -n shop --as=system:serviceaccount:shop:myapp`);
    // The SubjectAccessReviews went to the API server: one per account and permission, not per pod.
    expect(cluster.server.count('create', 'subjectaccessreviews')).toBe(3);
  });

  test('Job complete, pods still wait, and the waiter has no token: FAILED', async () => {
    // GIVEN pods whose template turns the token off
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'complete');
    const template = JSON.parse(JSON.stringify(r.deployment.spec.template));
    template.spec.automountServiceAccountToken = false;
    cluster.pods('myapp', 1, 'crashing', { template });

    const { code, report } = await cluster.json();

    expect(code).toBe(1);
    expect(report.releases[0].reason).toBe(`waiter wait-for-myapp-migration of Deployment myapp has no service-account token mounted (automountServiceAccountToken: false), so it cannot ask for Job shop/${r.job}`);
    expect(report.releases[0].workloads[0].waiters[0].tokenMounted).toBe(false);
  });

  test('the Job is gone and the ledger records its success: OK, the pods start from the ledger', async () => {
    const r = release('v2.0.0');
    cluster.seed(r.manifests.filter((m) => m.kind !== 'Job'));
    const ledger = cluster.server.get('configmaps', NS, 'myapp-migration-ledger');
    ledger.data = { [r.job]: JSON.stringify({ succeededAt: '2026-11-29T10:00:00.000Z' }) };
    cluster.server.apply('configmaps', NS, ledger);
    cluster.pods('myapp', 2, 'done', { ageSeconds: 30 });
    cluster.rollout('Deployment', 'myapp', { updated: 2, available: 2, total: 2 });

    const { code, report } = await cluster.json();

    expect(code).toBe(0);
    expect(report.releases[0]).toMatchObject({ verdict: 'OK', ledger: { succeededAt: '2026-11-29T10:00:00.000Z' } });
    expect(report.releases[0].reason).toBe(`Job shop/${r.job} is gone, but ledger ConfigMap myapp-migration-ledger records its success at 2026-11-29T10:00:00.000Z: its pods start from the ledger`);
  });

  test('the Job is gone and the ledger has no entry: WAITING, re-apply the manifests', async () => {
    const r = release('v2.0.0');
    cluster.seed(r.manifests.filter((m) => m.kind !== 'Job'));
    cluster.pods('myapp', 1, 'waiting', { waiterLog: `migration-waiter: Job shop/${r.job} does not exist (yet); waiting for it to be created and to complete: …` });

    const { report } = await cluster.json();

    expect(report.releases[0].verdict).toBe('WAITING');
    expect(report.releases[0].reason).toBe(`Job shop/${r.job} does not exist and ledger myapp-migration-ledger has no record of its success; 1 pod of Deployment myapp (Init:0/1) waits for it`);
    expect(report.releases[0].next).toMatch(/^re-apply the release's manifests/);
    expect(report.releases[0].workloads[0].waiters[0].lastLog).toContain('does not exist (yet)');
  });

  test('Jobs of two releases active at once: FAILED for both, naming the other', async () => {
    const old = release('v1.0.0');
    const current = release('v2.0.0');
    cluster.seed(old.manifests);
    cluster.seed(current.manifests.filter((m) => m.kind === 'Job'));
    cluster.jobStatus(old.job, 'running', { startedSecondsAgo: 900 });
    cluster.jobStatus(current.job, 'running', { startedSecondsAgo: 60 });

    const { code, report } = await cluster.json();

    expect(code).toBe(1);
    const byJob = Object.fromEntries(report.releases.map((x: any) => [x.job, x]));
    expect(byJob[current.job].concurrent).toEqual([{ job: old.job, tag: 'v1.0.0' }]);
    expect(byJob[old.job].concurrent).toEqual([{ job: current.job, tag: 'v2.0.0' }]);
    expect(byJob[current.job].verdict).toBe('FAILED');
    expect(byJob[current.job].reason).toBe(`two migrations run at once: Job ${old.job} (release v1.0.0) is active too`);
  });

  test('a release queued behind an earlier release\'s migration that runs: WAITING, naming it and how long it runs; not "two at once"', async () => {
    // GIVEN release v1's migration running for 15 minutes, and v2's pod in wait-for-turn
    const old = release('v1.0.0');
    const current = release('v2.0.0');
    cluster.seed(old.manifests);
    cluster.seed(current.manifests.filter((m) => m.kind === 'Job'));
    cluster.jobStatus(old.job, 'running', { startedSecondsAgo: 900 });
    cluster.jobPod(old.job, 'running');
    cluster.jobStatus(current.job, 'running', { startedSecondsAgo: 60 });
    cluster.jobPod(current.job, 'queued');

    const { report } = await cluster.json();

    const byJob = Object.fromEntries(report.releases.map((x: any) => [x.job, x]));
    expect(byJob[current.job].verdict).toBe('WAITING');
    expect(byJob[current.job].reason).toBe(`queued behind release v1.0.0's migration Job ${old.job} (running for 15m): migrations of this DatabaseMigration run one at a time`);
    expect(byJob[current.job].next).toContain(`kubectl logs -n shop job/${old.job} -f`);
    // AND the release in front is not reported as one of two migrations at once
    expect(byJob[old.job].verdict).not.toBe('FAILED');
    expect(JSON.stringify(report)).not.toContain('two migrations run at once');
  });

  test('a service queued behind another service\'s migration of its DatabaseQueue, its Job created first: WAITING, naming that Job and the database', async () => {
    // GIVEN api before billing in one DatabaseQueue, billing's Job created 3 s before api's
    const chart = new Chart(Testing.app(), 'shop', { namespace: NS });
    const service = (name: string, imageTag: string) => new MigratedService(chart, name, {
      ...PATTERN_EXAMPLE, name, imageTag, image: `registry.example.com/${name}`, migrationImage: `registry.example.com/${name}-migration`,
    });
    const billing = service('billing', 'v7.0.0');
    const api = service('api', 'v3.0.0');
    new DatabaseQueue(chart, 'Db', { name: 'shop', migrations: [api.migration, billing.migration] });
    const manifests = Testing.synth(chart);
    const at = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    named(manifests, 'Job', billing.migration.jobName).metadata.creationTimestamp = at(63);
    named(manifests, 'Job', api.migration.jobName).metadata.creationTimestamp = at(60);
    cluster.seed(manifests);
    // AND api's migration running, billing's pod in wait-for-turn
    cluster.jobStatus(api.migration.jobName, 'running', { startedSecondsAgo: 60 });
    cluster.jobPod(api.migration.jobName, 'running');
    cluster.jobStatus(billing.migration.jobName, 'running', { startedSecondsAgo: 63 });
    cluster.jobPod(billing.migration.jobName, 'queued');

    const { report } = await cluster.json();

    const billingRelease = report.releases.find((x: any) => x.job === billing.migration.jobName);
    expect(billingRelease.verdict).toBe('WAITING');
    expect(billingRelease.reason).toMatch(new RegExp(`^queued behind release v3\\.0\\.0's migration Job ${api.migration.jobName} \\(running for 6\\ds\\): `
      + 'migrations of database shop \\(DatabaseQueue\\) run one at a time$'));
    expect(JSON.stringify(report)).not.toContain('two migrations run at once');
  });

  test('in a DatabaseQueue, two Jobs in front at the same queue time: the one the program lets go first (by name) is named', async () => {
    // GIVEN api, billing and orders in one queue (offsets 0, 30 and 60 s), billing defined first;
    // api's and billing's Jobs at the same queue time (billing's created 30 s before api's)
    const chart = new Chart(Testing.app(), 'shop', { namespace: NS });
    const service = (name: string, imageTag: string) => new MigratedService(chart, name, {
      ...PATTERN_EXAMPLE, name, imageTag, image: `registry.example.com/${name}`, migrationImage: `registry.example.com/${name}-migration`,
    });
    const billing = service('billing', 'v7.0.0');
    const api = service('api', 'v3.0.0');
    const orders = service('orders', 'v1.0.0');
    new DatabaseQueue(chart, 'Db', { name: 'shop', migrations: [api.migration, billing.migration, orders.migration] });
    const manifests = Testing.synth(chart);
    const at = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    named(manifests, 'Job', billing.migration.jobName).metadata.creationTimestamp = at(70);
    named(manifests, 'Job', api.migration.jobName).metadata.creationTimestamp = at(40);
    named(manifests, 'Job', orders.migration.jobName).metadata.creationTimestamp = at(50);
    cluster.seed(manifests);
    // AND api's migration running, billing's and orders' pods in wait-for-turn
    cluster.jobStatus(api.migration.jobName, 'running', { startedSecondsAgo: 40 });
    cluster.jobPod(api.migration.jobName, 'running');
    for (const queued of [billing, orders]) {
      cluster.jobStatus(queued.migration.jobName, 'running', { startedSecondsAgo: 40 });
      cluster.jobPod(queued.migration.jobName, 'queued');
    }

    const { report } = await cluster.json();

    // THEN orders waits behind api, as the program orders a tie: by name
    const ordersRelease = report.releases.find((x: any) => x.job === orders.migration.jobName);
    expect(ordersRelease.reason).toMatch(new RegExp(`^queued behind release v3\\.0\\.0's migration Job ${api.migration.jobName} `));
  });

  test('a release queued behind a migration that runs past its own deadline: FAILED, with the command to look and to delete it on purpose', async () => {
    const old = release('v1.0.0');
    const current = release('v2.0.0');
    cluster.seed(old.manifests);
    cluster.seed(current.manifests.filter((m) => m.kind === 'Job'));
    // Its deadline is 2 h (queue and migration); it started 3 h ago and its pod still runs
    cluster.jobStatus(old.job, 'running', { startedSecondsAgo: 3 * 3600 });
    cluster.jobPod(old.job, 'running');
    cluster.jobStatus(current.job, 'running', { startedSecondsAgo: 60 });
    cluster.jobPod(current.job, 'queued');

    const { code, report } = await cluster.json();

    const mine = report.releases.find((x: any) => x.job === current.job);
    expect(code).toBe(1);
    expect(mine.verdict).toBe('FAILED');
    expect(mine.reason).toMatch(new RegExp(`^queued behind release v1\\.0\\.0's migration Job ${old.job}, which runs past its own deadline \\(2h`));
    expect(mine.next).toContain(`kubectl delete job -n shop ${old.job}`);
  });

  test('finished Jobs of earlier releases that Flux keeps: a note on the newest release with a delete command that never names its own Job', async () => {
    const first = release('v1.0.0');
    const second = release('v1.1.0');
    const current = release('v2.0.0');
    for (const r of [first, second]) {
      cluster.seed(r.manifests.filter((m) => m.kind === 'Job'));
      cluster.jobStatus(r.job, 'complete', { startedSecondsAgo: 7200 });
    }
    cluster.seed(current.manifests);
    cluster.jobStatus(current.job, 'complete', { startedSecondsAgo: 120 });
    cluster.rollout('Deployment', 'myapp', { updated: 2, available: 2 });

    const { report } = await cluster.json();

    const newest = report.releases.find((x: any) => x.job === current.job);
    const note = newest.notes.find((n: string) => n.includes('finished migration Jobs of earlier releases'));
    expect(note).toBe(`2 finished migration Jobs of earlier releases are kept (Flux does not prune them): delete them when you no longer need their logs: kubectl delete job -n shop ${[first.job, second.job].sort().join(' ')}`);
    expect(note).not.toContain(current.job);
  });

  test('a post-deploy migration waiting on a rollout that is stuck: FAILED; on one that progresses: WAITING', async () => {
    // GIVEN a release with a post-deploy migration whose pre-deploy migration failed
    const r = release('v2.0.0', { postDeployMigrationCommand: ['./contract'] });
    const post = r.manifests.find((m) => m.kind === 'Job' && m.metadata.labels['app.kubernetes.io/component'] === 'post-migration');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'failed');
    cluster.jobStatus(post.metadata.name, 'running');
    cluster.pods('myapp', 2, 'crashing');
    cluster.rollout('Deployment', 'myapp', { updated: 0, available: 2, stalled: true });

    const stuck = await cluster.json();

    expect(stuck.report.releases[0].postDeploy).toMatchObject({ name: post.metadata.name, state: 'Running', waitingFor: 'Deployment myapp (0/2 updated, 2 available)' });
    expect(stuck.report.releases[0].notes).toContain(`also: the post-deploy migration ${post.metadata.name} waits for Deployment myapp (0/2 updated, 2 available), a rollout that is stuck`);

    expect(stuck.code).toBe(1);

    // WHEN, in another cluster, the pre-deploy migration completed and the rollout progresses
    const fresh = await DoctorCluster.start(NS);
    try {
      fresh.seed(r.manifests);
      fresh.jobStatus(r.job, 'complete');
      fresh.jobStatus(post.metadata.name, 'running');
      fresh.rollout('Deployment', 'myapp', { updated: 1, available: 2 });
      const rolling = await fresh.json();
      expect(rolling.report.releases[0].verdict).toBe('WAITING');
      expect(rolling.report.releases[0].reason).toBe('Deployment myapp has not rolled out: 1/2 updated, 2 available');
      expect(rolling.report.releases[0].notes).toContain(`and: the post-deploy migration ${post.metadata.name} waits for Deployment myapp (1/2 updated, 2 available)`);
    } finally {
      await fresh.close();
    }
  });

  test('deadlines: a progress deadline shorter than the migration\'s is reported, and a rollout that gave up while the migration runs', async () => {
    const r = release('v2.0.0');
    const deployment = JSON.parse(JSON.stringify(r.deployment));
    deployment.spec.progressDeadlineSeconds = 600;
    cluster.seed([...r.manifests.filter((m) => m.kind !== 'Deployment'), deployment]);
    cluster.jobStatus(r.job, 'running', { startedSecondsAgo: 700 });
    cluster.pods('myapp', 1, 'waiting', { ageSeconds: 700 });
    cluster.rollout('Deployment', 'myapp', { updated: 1, available: 2, stalled: true });

    const { report } = await cluster.json();

    expect(report.releases[0].notes).toContain('and: Deployment myapp is reported failed (ProgressDeadlineExceeded) while its migration still runs: its progressDeadlineSeconds is shorter than the migration\'s deadline');
    expect(report.releases[0].notes).toContain('Deployment myapp\'s progressDeadlineSeconds (600) is shorter than the migration\'s deadline (7200): a long migration is reported as a failed rollout before it ends');
  });

  test('a migration that ran into its own deadline says so', async () => {
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'failed', { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline', startedSecondsAgo: 3600 });

    const { report } = await cluster.json();

    expect(report.releases[0].reason).toBe('the migration failed (DeadlineExceeded: Job was active longer than specified deadline): it ran into its own deadline, activeDeadlineSeconds=7200');
    expect(report.releases[0].next).toMatch(/raise migrationTimeout \(and the engine's timeout with it\)$/);
  });

  test('the migration succeeded but the release\'s pods crash after starting: FAILED, app and schema may disagree', async () => {
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'complete');
    const [pod] = cluster.pods('myapp', 2, 'done', { appCrashing: true });
    cluster.rollout('Deployment', 'myapp', { updated: 2, available: 0 });

    const { code, report } = await cluster.json();

    expect(code).toBe(1);
    expect(report.releases[0].reason).toBe('the migration succeeded, but 2 pods of Deployment myapp crash after starting (CrashLoopBackOff): the app and the schema may disagree');
    expect(report.releases[0].next).toBe(`kubectl logs -n shop ${pod.metadata.name} -c service --previous`);
  });

  test('pods of the previous release crash after the new migration: FAILED on the previous release, pointing at expand and contract', async () => {
    // GIVEN v1's pods serve, v2's migration completed and its rollout has not started, and v1's pods now crash
    const v1 = release('v1.0.0');
    const v2 = release('v2.0.0');
    cluster.seed(v1.manifests.filter((m) => m.kind === 'Job'));
    cluster.seed(v2.manifests);
    cluster.jobStatus(v1.job, 'complete', { startedSecondsAgo: 7200 });
    cluster.jobStatus(v2.job, 'complete');
    cluster.pods('myapp', 2, 'done', { template: v1.deployment.spec.template, appCrashing: true });
    cluster.rollout('Deployment', 'myapp', { updated: 0, available: 0 });

    const { code, report } = await cluster.json();

    expect(code).toBe(1);
    const old = report.releases.find((x: any) => x.tag === 'v1.0.0');
    expect(old.verdict).toBe('FAILED');
    expect(old.reason).toBe('2 pods of Deployment myapp of this release crash (CrashLoopBackOff) while the Deployment runs a newer one: a newer migration may have changed the schema under them (expand, then contract)');
    // Its waiters finished long ago: their permissions (the Role now names v2's Job) are not judged.
    expect(old.workloads[0].waiters).toEqual([]);
  });

  test('a Job that cannot create its pod: FAILED with the event that says why', async () => {
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.server.apply('events', NS, {
      metadata: { name: `${r.job}.17a` },
      type: 'Warning',
      reason: 'FailedCreate',
      message: 'Error creating: pods "x" is forbidden: exceeded quota: compute, requested: limits.cpu=1',
      involvedObject: { kind: 'Job', name: r.job, namespace: NS },
      lastTimestamp: new Date().toISOString(),
    });

    const { code, report } = await cluster.json();

    expect(code).toBe(1);
    expect(report.releases[0].reason).toMatch(/^the migration is running for \d+s of its 2h00m deadline; no pod: FailedCreate: Error creating: pods "x" is forbidden: exceeded quota/);
    expect(report.releases[0].next).toBe(`kubectl describe job -n shop ${r.job}`);
  });

  describe('the waiter program\'s ConfigMap', () => {
    /** What the kubelet leaves on a pod whose volume cannot be mounted: nothing started, and a FailedMount event. */
    function cannotMount(pod: any, configMap: string): void {
      pod.status = {
        phase: 'Pending',
        initContainerStatuses: (pod.spec.initContainers ?? []).map((c: any) => ({ name: c.name, state: { waiting: { reason: 'PodInitializing' } } })),
        containerStatuses: pod.spec.containers.map((c: any) => ({ name: c.name, state: { waiting: { reason: 'ContainerCreating' } } })),
      };
      cluster.server.apply('pods', NS, pod);
      cluster.server.apply('events', NS, {
        metadata: { name: `${pod.metadata.name}.mount` },
        type: 'Warning',
        reason: 'FailedMount',
        message: `MountVolume.SetUp failed for volume "migration-waiter-program" : configmap "${configMap}" not found`,
        involvedObject: { kind: 'Pod', name: pod.metadata.name, namespace: NS },
        lastTimestamp: new Date().toISOString(),
      });
    }
    const isProgram = (name: string) => (m: any) => m.kind === 'ConfigMap' && m.metadata.name === name;

    test('deleted: FAILED, naming the ConfigMap and the pods of the Deployment it holds, next: re-apply the chart', async () => {
      // GIVEN the migration is Complete, and the program's ConfigMap was deleted before the pods started
      const r = release('v2.0.0');
      expect(r.deployment.spec.template.spec.volumes).toContainEqual(expect.objectContaining({ configMap: expect.objectContaining({ name: 'test-migration-waiter' }) }));
      cluster.seed(r.manifests.filter((m) => !isProgram('test-migration-waiter')(m)));
      cluster.jobStatus(r.job, 'complete');
      for (const pod of cluster.pods('myapp', 2, 'waiting')) cannotMount(pod, 'test-migration-waiter');

      // WHEN doctor runs
      const text = await cluster.run();
      const { code, report } = await cluster.json();

      // THEN it is FAILED, saying which ConfigMap is missing and how many pods it holds
      expect(code).toBe(1);
      expect(report.releases[0].verdict).toBe('FAILED');
      expect(report.releases[0].reason).toBe('the waiter program\'s ConfigMap test-migration-waiter is missing, so 2 pods of Deployment myapp cannot start their waiter (FailedMount)');
      expect(report.releases[0].next).toMatch(/^re-apply the chart that carries it/);
      expect(text.stdout).toContain('why:  the waiter program\'s ConfigMap test-migration-waiter is missing, so 2 pods of Deployment myapp cannot start their waiter');
    });

    test('only the hook copy is missing under Argo CD: FAILED for the migration Job\'s recorder, not for the Deployment', async () => {
      // GIVEN an Argo CD release (whose Deployment mounts the ordinary copy; under Helm the hook copy
      // is the only one) whose hook copy is gone while its Job's pod waits for the mount
      const r = release('v2.0.0', { delivery: Delivery.argoCd() });
      const job = named(r.manifests, 'Job', r.job);
      expect(job.spec.template.spec.volumes).toContainEqual(expect.objectContaining({ configMap: expect.objectContaining({ name: 'test-migration-waiter-hook' }) }));
      cluster.seed(r.manifests.filter((m) => !isProgram('test-migration-waiter-hook')(m)));
      expect(cluster.server.get('configmaps', NS, 'test-migration-waiter')).toBeDefined();
      cluster.jobStatus(r.job, 'running');
      cannotMount(cluster.jobPod(r.job, 'running'), 'test-migration-waiter-hook');
      cluster.pods('myapp', 1, 'waiting');

      // WHEN doctor runs
      const { code, report } = await cluster.json();

      // THEN the Job's missing copy is the verdict, and the Deployment, whose copy exists, is not blamed
      expect(code).toBe(1);
      expect(report.releases[0].verdict).toBe('FAILED');
      expect(report.releases[0].reason).toBe(`the waiter program's ConfigMap test-migration-waiter-hook is missing, so 1 pod of the migration Job ${r.job} cannot start its recorder (FailedMount)`);
      expect(report.releases[0].next).toMatch(/^re-apply the chart that carries it/);
      expect(JSON.stringify(report.releases[0].notes)).not.toContain('Deployment myapp cannot start');
    });

    test('present, or a copy the user may not list: no finding', async () => {
      // GIVEN a migration running with its pods waiting in Init:0/1, every ConfigMap in place
      const r = release('v2.0.0');
      cluster.seed(r.manifests);
      cluster.jobStatus(r.job, 'running');
      cluster.jobPod(r.job, 'running');
      cluster.pods('myapp', 1, 'waiting');

      const present = await cluster.json();

      expect(present.report.releases[0].verdict).toBe('WAITING');
      expect(JSON.stringify(present.report)).not.toContain('is missing');

      // AND WHEN ConfigMaps cannot be listed, their absence from the snapshot proves nothing
      const noConfigMaps = [{ apiGroups: ['', 'apps', 'batch', 'authorization.k8s.io'], resources: ['jobs', 'pods', 'pods/log', 'deployments', 'statefulsets', 'daemonsets', 'replicasets', 'cronjobs', 'events', 'subjectaccessreviews'], verbs: ['get', 'list', 'create'] }];
      cluster.server.tokens.set('no-configmaps', noConfigMaps);
      cluster.writeKubeconfig('no-configmaps');
      const unseen = await cluster.json();

      expect(unseen.report.releases[0].verdict).toBe('WAITING');
      expect(JSON.stringify(unseen.report.releases)).not.toContain('is missing');
      expect(unseen.report.notes).toEqual([expect.stringMatching(/^could not list configmaps: .*forbidden/)]);
    });

    test('an optional ConfigMap volume of a waiter that is missing: no finding', async () => {
      // GIVEN pods whose template marks the program's volume optional
      const r = release('v2.0.0');
      const deployment = JSON.parse(JSON.stringify(r.deployment));
      for (const v of deployment.spec.template.spec.volumes) if (v.configMap?.name === 'test-migration-waiter') v.configMap.optional = true;
      cluster.seed([...r.manifests.filter((m) => m !== r.deployment && !isProgram('test-migration-waiter')(m)), deployment]);
      cluster.jobStatus(r.job, 'complete');
      cluster.pods('myapp', 1, 'waiting');

      const { report } = await cluster.json();

      expect(JSON.stringify(report.releases)).not.toContain('is missing');
    });

    test('written by a library version that named the program migration-waiter: found by the name the pods mount', async () => {
      // GIVEN a release whose ConfigMap and volumes carry the name earlier library versions gave every chart
      const r = release('v2.0.0');
      const renamed = JSON.parse(JSON.stringify(r.manifests).split('"test-migration-waiter"').join('"migration-waiter"'));
      expect(named(renamed, 'Deployment', 'myapp').spec.template.spec.volumes)
        .toContainEqual(expect.objectContaining({ configMap: expect.objectContaining({ name: 'migration-waiter' }) }));
      cluster.seed(renamed.filter((m: any) => !isProgram('migration-waiter')(m)));
      cluster.jobStatus(r.job, 'complete');
      for (const pod of cluster.pods('myapp', 2, 'waiting')) cannotMount(pod, 'migration-waiter');

      // WHEN doctor runs
      const { code, report } = await cluster.json();

      // THEN the missing ConfigMap is named as the pods name it
      expect(code).toBe(1);
      expect(report.releases[0].reason).toBe('the waiter program\'s ConfigMap migration-waiter is missing, so 2 pods of Deployment myapp cannot start their waiter (FailedMount)');
    });
  });

  test('a gated CronJob: the pod of its current run, held in Init, counts for the release', async () => {
    // GIVEN a CronJob gated by the release, whose run started while the migration runs
    const chart = new Chart(Testing.app(), 'test', { namespace: NS });
    const svc = new MigratedService(chart, 'myapp', { ...PATTERN_EXAMPLE, imageTag: 'v2.0.0' });
    const nightly = new kplus.CronJob(chart, 'nightly', { metadata: { name: 'nightly' }, schedule: Cron.daily() });
    nightly.addContainer({ name: 'report', image: 'registry.example.com/report:v2.0.0' });
    svc.migration.gate(nightly);
    const manifests = Testing.synth(chart);
    cluster.seed(manifests);
    cluster.jobStatus(svc.migration.jobName, 'running', { startedSecondsAgo: 60 });
    const cronJob = cluster.server.get('cronjobs', NS, 'nightly');
    const run = cluster.server.apply('jobs', NS, {
      metadata: { name: 'nightly-29400000', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly', uid: cronJob.metadata.uid }] },
      spec: cronJob.spec.jobTemplate.spec,
      status: { active: 1 },
    });
    const spec = cronJob.spec.jobTemplate.spec.template.spec;
    // What admission adds to a pod whose token is mounted.
    expect(spec.automountServiceAccountToken).toBe(true);
    for (const c of spec.initContainers) c.volumeMounts = [...(c.volumeMounts ?? []), { name: 'kube-api-access-1', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }];
    cluster.server.apply('pods', NS, {
      metadata: { name: 'nightly-29400000-x7k2p', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: run.metadata.name, uid: run.metadata.uid }] },
      spec,
      status: { phase: 'Pending', initContainerStatuses: spec.initContainers.map((c: any) => ({ name: c.name, state: { running: {} } })) },
    });

    const { report } = await cluster.json();

    // THEN the CronJob is a gated workload of the release, and its run is no release of its own
    expect(report.releases.map((x: any) => x.job)).toEqual([svc.migration.jobName]);
    const cron = report.releases[0].workloads.find((w: any) => w.kind === 'CronJob');
    expect(cron).toMatchObject({ name: 'nightly', heldPods: [{ name: 'nightly-29400000-x7k2p', state: 'Init:0/1' }] });
    expect(report.releases[0].reason).toMatch(/1 pod of CronJob nightly \(Init:0\/1\) waits for it$/);
  });

  test('a gated StatefulSet: its held pods, owned by the StatefulSet itself, count for the release', async () => {
    // GIVEN a MigratedService that also gates a StatefulSet, and a migration still running
    const chart = new Chart(Testing.app(), 'test', { namespace: NS });
    const svc = new MigratedService(chart, 'myapp', { ...PATTERN_EXAMPLE, imageTag: 'v2.0.0' });
    const search = new kplus.StatefulSet(chart, 'search', {
      metadata: { name: 'search' },
      service: new kplus.Service(chart, 'search-headless', { metadata: { name: 'search-headless' }, clusterIP: 'None', ports: [{ port: 9200 }] }),
    });
    search.addContainer({ name: 'search', image: 'registry.example.com/search:v2.0.0' });
    svc.migration.gate(search);
    // (a StatefulSet replaces its pods in place, which the library warns about: not what doctor looks at)
    MigrationWarnings.acknowledge(search, 'MS101', 'a one-replica StatefulSet in a doctor test');
    cluster.seed(Testing.synth(chart));
    cluster.jobStatus(svc.migration.jobName, 'running', { startedSecondsAgo: 60 });
    cluster.pods('StatefulSet/search', 1, 'waiting');
    cluster.rollout('StatefulSet', 'search', { updated: 0, available: 0, desired: 1 });

    const { code, report } = await cluster.json();

    expect(code).toBe(0);
    const workloads = report.releases[0].workloads.map((w: any) => [w.kind, w.name, w.heldPods.length]);
    expect(workloads).toEqual([['Deployment', 'myapp', 0], ['StatefulSet', 'search', 1]]);
    expect(report.releases[0].reason).toMatch(/; 1 pod of StatefulSet search \(Init:0\/1\) waits for it$/);
  });
});

describe('setups the library did not generate', () => {
  test('k8s-wait-for and kubectl wait on a failed Job: FAILED, and what each waiter does about it', async () => {
    const manifests = handWritten('billing-migration-v7', {
      image: 'groundnuty/k8s-wait-for:v2.0',
      command: ['sh', '-c', 'wait_for.sh job-wr billing-migration-v7 && kubectl wait --for=condition=complete job/billing-migration-v7 --timeout=1h'],
      args: [],
    });
    cluster.seed(manifests);
    cluster.jobStatus('billing-migration-v7', 'failed');
    cluster.pods('billing', 1, 'waiting', { waiterLog: '' });

    const { report } = await cluster.json();

    const [rel] = report.releases;
    expect(rel.verdict).toBe('FAILED');
    expect(rel.workloads[0].waiters.map((w: any) => [w.kind, w.noticesFailure])).toEqual([['k8s-wait-for', true], ['kubectl-wait', false]]);
    expect(rel.workloads[0].waiters[0].logNote).toBe('its log is empty (k8s-wait-for logs nothing while it waits on a failed Job)');
    expect(rel.notes).toContain('waiter wait-for-migration of Deployment billing waits for condition=complete only: on this failed Job it waits until its --timeout, then exits 1');
  });

  test('k8s-wait-for naming another Job: FAILED, naming both names', async () => {
    cluster.seed(handWritten('billing-migration-v7', { image: 'groundnuty/k8s-wait-for:v2.0', args: ['job-wr', 'billing-migrate-v7'] }));
    cluster.jobStatus('billing-migration-v7', 'complete');
    cluster.pods('billing', 2, 'crashing');

    const { code, report } = await cluster.json();

    expect(code).toBe(1);
    const rel = report.releases.find((x: any) => x.job === 'billing-migrate-v7');
    expect(rel.verdict).toBe('FAILED');
    expect(rel.reason).toBe('waiter wait-for-migration of Deployment billing waits for Job billing-migrate-v7, which does not exist; this release\'s migration Job is billing-migration-v7');
    expect(rel.workloads[0].waiters[0]).toMatchObject({ kind: 'k8s-wait-for', job: 'billing-migrate-v7', jobExists: false });
  });

  test('one Job name for every release: the Job of the previous tag is Complete, and doctor says the new migration never ran', async () => {
    // GIVEN a Job named without the tag, still the v6 one, and the Deployment rolled to v7
    const [job, deployment] = handWritten('billing-migration', { image: 'groundnuty/k8s-wait-for:v2.0', args: ['job-wr', 'billing-migration'] });
    job.spec.template.spec.containers[0].image = 'billing:v6';
    cluster.seed([job, deployment]);
    cluster.jobStatus('billing-migration', 'complete');
    cluster.pods('billing', 2, 'done');
    cluster.rollout('Deployment', 'billing', { updated: 2, available: 2, total: 2 });

    const { code, report } = await cluster.json();

    expect(code).toBe(1);
    expect(report.releases[0].reason).toBe('Job billing-migration runs tag v6, but Deployment billing runs v7: a Job name that stays the same across releases makes the new pods wait for the old migration, and the new one never runs');
    expect(report.releases[0].next).toMatch(/put the image tag in the Job's name/);
  });

  test('k8s-wait-for naming a prefix of several Jobs: FAILED, naming them', async () => {
    const [, deployment] = handWritten('unused', { image: 'groundnuty/k8s-wait-for:v2.0', args: ['job-wr', 'billing-migration'] });
    const jobs = ['billing-migration-v6', 'billing-migration-v7'].map((n) => handWritten(n, { image: 'x', args: [] })[0]);
    cluster.seed([...jobs, deployment]);
    cluster.jobStatus('billing-migration-v6', 'complete');
    cluster.jobStatus('billing-migration-v7', 'failed');
    cluster.pods('billing', 1, 'waiting');

    const { report } = await cluster.json();

    const rel = report.releases.find((x: any) => x.job === 'billing-migration');
    expect(rel.verdict).toBe('FAILED');
    expect(rel.reason).toBe('no Job is named billing-migration, so k8s-wait-for\'s kubectl describe falls back to the 2 Jobs whose name starts with it (billing-migration-v6, billing-migration-v7) and judges them together');
  });

  test('kubectl wait looking in another namespace: FAILED, naming both namespaces', async () => {
    // GIVEN the waiter says -n billing-system, the Job is in shop
    cluster.seed(handWritten('billing-migration-v7', { image: 'registry.k8s.io/kubectl:v1.32.0', args: ['wait', '--for=condition=complete', 'job/billing-migration-v7', '-n', 'billing-system', '--timeout=1h'] }));
    cluster.jobStatus('billing-migration-v7', 'complete');
    cluster.pods('billing', 1, 'waiting');

    const { report } = await cluster.json();

    const rel = report.releases.find((x: any) => x.namespace === 'billing-system');
    expect(rel.verdict).toBe('FAILED');
    expect(rel.reason).toBe('waiter wait-for-migration of Deployment billing looks for Job billing-migration-v7 in namespace billing-system, but it is in shop');
  });

  test('k8s-wait-for on a Job that is gone, with a ledger entry it does not read: FAILED', async () => {
    const r = release('v2.0.0');
    const deployment = JSON.parse(JSON.stringify(r.deployment));
    deployment.spec.template.spec.initContainers = [{ name: 'wait-for-migration', image: 'groundnuty/k8s-wait-for:no-root-v2.0', args: ['job-wr', r.job] }];
    cluster.seed([...r.manifests.filter((m) => m.kind !== 'Job' && m.kind !== 'Deployment'), deployment]);
    const ledger = cluster.server.get('configmaps', NS, 'myapp-migration-ledger');
    ledger.data = { [r.job]: JSON.stringify({ succeededAt: '2026-11-29T10:00:00.000Z' }) };
    cluster.server.apply('configmaps', NS, ledger);
    cluster.pods('myapp', 1, 'crashing');
    cluster.server.accounts.set(`system:serviceaccount:${NS}:myapp`, [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] }]);

    const { report } = await cluster.json();

    expect(report.releases[0].verdict).toBe('FAILED');
    expect(report.releases[0].reason).toMatch(/is gone; ledger myapp-migration-ledger records its success, but the k8s-wait-for waiter does not read the ledger and exits 1 on every restart$/);
  });
});

describe('on a real API server\'s answers: LIST items carry no kind', () => {
  /** What the fake answers a LIST with, read as doctor reads it: the items' kind must be absent, as a real server sends them. */
  async function listedKinds(path: string): Promise<unknown[]> {
    const raw = await cluster.runPrinted(`kubectl get --raw ${path}`);
    expect(raw.code).toBe(0);
    return JSON.parse(raw.stdout).items.map((i: any) => i.kind);
  }

  const isReaderRole = (job: string) => (m: any) => m.kind === 'Role' && (m.rules ?? []).some((rule: any) => (rule.resourceNames ?? []).includes(job));

  test.each([
    ['its RoleBinding is gone', (r: ReturnType<typeof release>) => r.manifests.filter((m) => !(m.kind === 'RoleBinding' && m.roleRef.name === r.manifests.find(isReaderRole(r.job)).metadata.name))],
    ['its Role is gone', (r: ReturnType<typeof release>) => r.manifests.filter((m) => !isReaderRole(r.job)(m))],
    ['its Role names another release\'s Job', (r: ReturnType<typeof release>) => r.manifests.map((m) => (isReaderRole(r.job)(m)
      ? { ...m, rules: m.rules.map((rule: any) => ({ ...rule, resourceNames: (rule.resourceNames ?? []).map((n: string) => (n === r.job ? release('v1.0.0').job : n)) })) }
      : m))],
  ])('a waiter whose ServiceAccount may not read its Job (%s): FAILED naming the account and the Job, with a kubectl auth can-i that says no', async (_case, applied) => {
    // GIVEN a release whose migration runs and whose pods wait, without the reader's permission
    const r = release('v2.0.0');
    cluster.seed(applied(r));
    cluster.jobStatus(r.job, 'running', { startedSecondsAgo: 60 });
    cluster.pods('myapp', 2, 'waiting', { waiterLog: `migration-waiter: forbidden to read Job shop/${r.job} (403: …)` });
    expect(await listedKinds('/apis/apps/v1/namespaces/shop/deployments')).toEqual([undefined]);

    // WHEN doctor runs
    const text = await cluster.run();
    const { code, report } = await cluster.json();

    // THEN it is FAILED, naming the account and the Job, and the command that shows it
    expect(text.code).toBe(1);
    expect(code).toBe(1);
    const [rel] = report.releases;
    expect(rel.verdict).toBe('FAILED');
    expect(rel.reason).toMatch(new RegExp(`^ServiceAccount shop/myapp may not list jobs\\.batch "${r.job}" in shop, watch jobs\\.batch "${r.job}" in shop.* so waiter wait-for-myapp-migration of Deployment myapp cannot see Job shop/${r.job}$`));
    const canI = `kubectl auth can-i list jobs.batch/${r.job} -n shop --as=system:serviceaccount:shop:myapp`;
    expect(rel.next).toBe(`grant it with a Role and RoleBinding; check: ${canI}`);
    expect(text.stdout).toContain(`check: ${canI}`);
    expect(rel.workloads.map((w: any) => [w.kind, w.name, w.heldPods.length])).toEqual([['Deployment', 'myapp', 2]]);
    expect(rel.workloads[0].waiters[0].access.filter((a: any) => a.allowed === false).map((a: any) => a.need)).toContain(`list jobs.batch "${r.job}" in shop`);

    // AND the command it prints, run with a real kubectl, says no; once the release's RBAC is applied, yes
    const denied = await cluster.runPrinted(canI);
    expect([denied.code, denied.stdout.trim(), denied.stderr]).toEqual([1, 'no', '']);
    cluster.seed(r.manifests.filter((m) => m.kind === 'Role' || m.kind === 'RoleBinding'));
    const allowed = await cluster.runPrinted(canI);
    expect([allowed.code, allowed.stdout.trim()]).toEqual([0, 'yes']);
  });

  test('a hand-written waiter naming a Job that does not exist: FAILED naming the waiter, the missing name and the nearest existing Job', async () => {
    // GIVEN a Job billing-seed-v7 (whose name and command do not look like a migration), and a waiter that names billing-seed-v8
    const [job, deployment] = handWritten('billing-seed-v7', { image: 'registry.k8s.io/kubectl:v1.32.0', args: ['wait', '--for=condition=complete', 'job/billing-seed-v8', '--timeout=1h'] });
    job.spec.template.spec.containers = [{ name: 'seed', image: 'billing:v7', command: ['./seed', 'orders'] }];
    cluster.seed([job, deployment]);
    cluster.jobStatus('billing-seed-v7', 'complete');
    cluster.pods('billing', 2, 'waiting');
    expect(await listedKinds('/api/v1/namespaces/shop/pods')).toEqual([undefined, undefined]);

    // WHEN doctor runs
    const text = await cluster.run();
    const { code, report } = await cluster.json();

    // THEN the release of the missing Job is FAILED, naming the waiter, the name, and the Job it likely meant
    expect(text.code).toBe(1);
    expect(code).toBe(1);
    const rel = report.releases.find((x: any) => x.job === 'billing-seed-v8');
    expect(rel.verdict).toBe('FAILED');
    expect(rel.reason).toMatch(/^waiter wait-for-migration of Deployment billing waits for Job billing-seed-v8 in namespace shop, which does not exist; the nearest existing Job is billing-seed-v7; 2 pods of Deployment billing \(Init:0\/1\) wait for it$/);
    expect(rel.nearestJob).toBe('billing-seed-v7');
    expect(rel.next).toContain('billing-seed-v7');
    expect(rel.workloads.map((w: any) => [w.kind, w.name, w.heldPods.length])).toEqual([['Deployment', 'billing', 2]]);
    expect(text.stdout).toMatch(/^FAILED +shop\/billing-seed-v8/m);
  });

  test('a hand-written waiter naming a Job with no name near it: FAILED, saying no Job is near', async () => {
    const [, deployment] = handWritten('unused', { image: 'groundnuty/k8s-wait-for:v2.0', args: ['job-wr', 'orders-backfill'] });
    cluster.seed([deployment]);
    cluster.pods('billing', 1, 'waiting');

    const { code, report } = await cluster.json();

    expect(code).toBe(1);
    expect(report.releases[0]).toMatchObject({ job: 'orders-backfill', verdict: 'FAILED' });
    expect(report.releases[0].reason).toBe('waiter wait-for-migration of Deployment billing waits for Job orders-backfill in namespace shop, which does not exist; no Job in namespace shop has a name near it; 1 pod of Deployment billing (Init:0/1) waits for it');
    expect(report.releases[0].nearestJob).toBeUndefined();
  });

  test('pods held in Init by a waiter are counted and named for every gated kind: Deployment, StatefulSet, DaemonSet, CronJob, Job, bare Pod', async () => {
    // GIVEN a migration running for 20 minutes, and pods of each gated kind held in Init since
    const { job, held } = cluster.holdEveryGatedKind(1200);
    // (the Job and the Pod are named per release: backfill-v2-0-0-<hash>, console-v2-0-0-<hash>)
    const nameOf = (kind: string) => Object.keys(held).find((k) => k.startsWith(`${kind}/`))!.split('/')[1];
    for (const path of ['/apis/apps/v1/namespaces/shop/daemonsets', '/apis/batch/v1/namespaces/shop/cronjobs', '/apis/batch/v1/namespaces/shop/jobs', '/api/v1/namespaces/shop/pods']) {
      expect((await listedKinds(path)).every((k) => k === undefined)).toBe(true);
    }

    // WHEN doctor runs
    const text = await cluster.run();
    const { code, report } = await cluster.json();

    // THEN one release, waiting too long (exit 1), whose workloads each count and name their held pods
    expect(text.code).toBe(1);
    expect(code).toBe(1);
    expect(report.releases.map((x: any) => x.job)).toEqual([job]);
    const [rel] = report.releases;
    expect(rel).toMatchObject({ verdict: 'WAITING', stuck: true });
    const byKind = Object.fromEntries(rel.workloads.map((w: any) => [`${w.kind}/${w.name}`, w.heldPods.map((p: any) => p.name).sort()]));
    expect(byKind).toEqual(Object.fromEntries(Object.entries(held).map(([k, v]) => [k, [...v].sort()])));
    expect(rel.reason).toContain('2 pods of Deployment myapp (Init:0/1), 1 pod of StatefulSet search (Init:0/1), 2 pods of DaemonSet agent (Init:0/1), 1 pod of CronJob nightly (Init:0/1), '
      + `1 pod of Job ${nameOf('Job')} (Init:0/1), 1 pod of Pod ${nameOf('Pod')} (Init:0/1) wait for it`);
    for (const [workload, pods] of Object.entries(held)) {
      const [kind, name] = workload.split('/');
      expect(text.stdout).toMatch(new RegExp(`^  ${kind} ${name}: .*; ${pods.length} pods? held in Init \\(${pods.map((p) => `${p}: Init:0/1`).join(', ').replace(/[.()]/g, '\\$&')}\\)$`, 'm'));
    }
  });

  test('a migration pod that no node was assigned to: its log is empty (kubectl logs exits 0), and doctor says why', async () => {
    // GIVEN the migration's pod is Pending with no node, as a real API server serves its log: nothing, with success
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'running', { startedSecondsAgo: 60 });
    const pod = cluster.jobPod(r.job, 'running');
    delete pod.spec.nodeName;
    pod.status = { phase: 'Pending', qosClass: 'BestEffort' };
    cluster.server.apply('pods', NS, pod);
    cluster.server.podLogs.set(`${NS}/${pod.metadata.name}/migrate`, '');
    const logs = await cluster.runPrinted(`kubectl logs ${pod.metadata.name} -n shop -c migrate --tail=10`);
    expect([logs.code, logs.stdout]).toEqual([0, '']);

    const { report } = await cluster.json();

    expect(report.releases[0].migration.pod).toEqual({ name: pod.metadata.name, state: 'Init:0/2' });
    expect(report.releases[0].migration.log).toBeUndefined();
    expect(report.releases[0].migration.logNote).toBe(`no log yet: pod ${pod.metadata.name} is not on a node (not scheduled); kubectl describe pod -n shop ${pod.metadata.name} shows why`);
  });
});

describe('finding and choosing releases', () => {
  test('newest first, --last, --release and --job', async () => {
    for (const [i, tag] of ['v1.0.0', 'v1.1.0', 'v1.2.0'].entries()) {
      const r = release(tag);
      const job = r.manifests.find((m) => m.kind === 'Job');
      job.metadata.creationTimestamp = new Date(Date.now() - (3 - i) * 3600_000).toISOString();
      cluster.seed([job, ...r.manifests.filter((m) => m.kind === 'ConfigMap')]);
      cluster.jobStatus(r.job, 'complete');
    }

    const all = await cluster.json();
    const last = await cluster.json('--last', '2');
    const one = await cluster.json('--release', 'v1.1.0');
    const byJob = await cluster.json('--job', release('v1.0.0').job);
    const none = await cluster.run('--release', 'v9');

    expect(all.report.releases.map((x: any) => x.tag)).toEqual(['v1.2.0', 'v1.1.0', 'v1.0.0']);
    expect(last.report.releases.map((x: any) => x.tag)).toEqual(['v1.2.0', 'v1.1.0']);
    expect(one.report.releases.map((x: any) => x.tag)).toEqual(['v1.1.0']);
    expect(byJob.report.releases.map((x: any) => x.tag)).toEqual(['v1.0.0']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no release in namespace shop matches --release v9; found: /);
  });

  test('an older release whose pods all started is OK, though its Role now names the newer Job only', async () => {
    // GIVEN v1's pods serve (their waiters finished), and the Deployment and the reader Role moved on to v2
    const v1 = release('v1.0.0');
    const v2 = release('v2.0.0');
    cluster.seed([...v1.manifests.filter((m) => m.kind === 'Job')]);
    cluster.seed(v2.manifests);
    cluster.jobStatus(v1.job, 'complete', { startedSecondsAgo: 7200 });
    cluster.jobStatus(v2.job, 'complete');
    cluster.pods('myapp', 2, 'done', { template: v1.deployment.spec.template });
    cluster.pods('myapp', 2, 'done');
    cluster.rollout('Deployment', 'myapp', { updated: 2, available: 2, total: 2 });

    const { code, report } = await cluster.json('--release', 'v1.0.0');

    expect(code).toBe(0);
    expect(report.releases.map((x: any) => [x.tag, x.verdict])).toEqual([['v1.0.0', 'OK']]);
    expect(report.releases[0].workloads).toEqual([]);
  });

  test('doctor --help, and the bin\'s usage names doctor', async () => {
    const help = await cluster.run('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: cdk8s-migrated-service doctor \[options\]/);
    expect(help.stdout).toContain('--stuck-after DURATION');
  });

  test('an empty namespace: a clear message, exit 0', async () => {
    const result = await cluster.run('-n', 'empty');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^No migration found in namespace empty/);
  });
});

describe('reaching the cluster as the user\'s kubectl does', () => {
  test('--kubeconfig, --context and -n are passed on; every request is a read, and no Secret is read', async () => {
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'complete');
    const other = `${cluster.dir}/other-config`;
    cluster.writeKubeconfig(USER_TOKEN, other);

    const result = await cluster.run('--kubeconfig', other, '--context', 'fake', '--namespace', NS);

    expect(result.code).toBe(0);
    expect(cluster.server.requests.every((q) => q.verb === 'get' || q.verb === 'list' || (q.verb === 'create' && q.resource === 'subjectaccessreviews'))).toBe(true);
    expect(cluster.server.requests.some((q) => q.resource === 'secrets')).toBe(false);
    const missing = await cluster.run('--context', 'nope');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^cdk8s-migrated-service doctor: kubectl has no usable cluster configuration: .*nope/);
  });

  test('a kubeconfig file that does not exist, given with --kubeconfig or in KUBECONFIG, or none at all: exit 2 naming the file', async () => {
    // GIVEN a release on the cluster, which none of these configurations reaches
    const r = release('v2.0.0');
    cluster.seed(r.manifests);

    // WHEN doctor runs with --kubeconfig naming a missing file, with and without -n
    const flag = await cluster.run('--kubeconfig', '/nonexistent/config');
    const flagWithNamespace = await cluster.run('--kubeconfig', '/nonexistent/config', '-n', NS);
    // AND with KUBECONFIG naming missing files (kubectl skips them and talks to localhost:8080)
    cluster.env = { KUBECONFIG: '/nonexistent/config:/nonexistent/other' };
    const variable = await cluster.run('-n', NS);
    // AND with no KUBECONFIG and no ~/.kube/config
    cluster.env = { KUBECONFIG: undefined };
    const none = await cluster.run('-n', NS);

    // THEN each exits 2 naming the file, not kubectl's "current-context must exist" or "localhost:8080 was refused"
    for (const result of [flag, flagWithNamespace]) {
      expect(result.code).toBe(2);
      expect(result.stderr).toBe('cdk8s-migrated-service doctor: the kubeconfig file /nonexistent/config does not exist. Give the path of an existing kubeconfig with --kubeconfig, or leave it out to use KUBECONFIG or ~/.kube/config\n');
    }
    expect(variable.code).toBe(2);
    expect(variable.stderr).toBe('cdk8s-migrated-service doctor: KUBECONFIG names /nonexistent/config, /nonexistent/other, which do not exist, so kubectl would fall back to localhost:8080. Set KUBECONFIG to your kubeconfig file, or give --kubeconfig\n');
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(`cdk8s-migrated-service doctor: no kubeconfig: KUBECONFIG is not set and ${cluster.dir}/.kube/config does not exist, so kubectl would fall back to localhost:8080. Set KUBECONFIG to your kubeconfig file, or give --kubeconfig\n`);
    expect(cluster.server.requests).toEqual([]);

    // AND a KUBECONFIG that lists a missing file before the real one works, as kubectl merges the files that exist
    cluster.env = { KUBECONFIG: `/nonexistent/config:${cluster.kubeconfig}` };
    const merged = await cluster.run();
    expect(merged.code).toBe(0);
    expect(merged.stdout).toMatch(/^WAITING +shop\/myapp-migration-v2-0-0-/m);
  });

  test('an exec credential plugin (as EKS, GKE and OIDC use) is run by kubectl, not by doctor', async () => {
    // GIVEN a kubeconfig whose only credential is a plugin that prints the user's token
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'complete');
    cluster.rollout('Deployment', 'myapp', { updated: 2, available: 2, total: 2 });
    const execInfo = cluster.writeExecKubeconfig(USER_TOKEN);

    const { code, report } = await cluster.json();

    // THEN doctor read the cluster with the plugin's token, and kubectl ran the plugin
    expect(code).toBe(0);
    expect(report.releases[0]).toMatchObject({ verdict: 'OK', job: r.job });
    expect(cluster.server.requests.filter((q) => q.verb === 'list').every((q) => q.token === USER_TOKEN)).toBe(true);
    expect(JSON.parse(readFileSync(execInfo, 'utf8'))).toMatchObject({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1' });
  });

  test.each(['1.27', '1.33'])('kubectl %s gives the same report', async (v) => {
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'failed');
    cluster.pods('myapp', 1, 'crashing');
    cluster.kubectl = `${KUBECTL_DIR}/kubectl.${v}`;

    const { code, report } = await cluster.json();

    expect(code).toBe(1);
    expect(report.releases[0]).toMatchObject({ verdict: 'FAILED', job: r.job });
    expect(report.releases[0].workloads[0].waiters[0].access.every((a: any) => a.allowed === true)).toBe(true);
  });

  test('no cluster: exit 2 saying it cannot reach it', async () => {
    const closed = await FakeApiServer.start();
    const port = closed.port;
    await closed.close();
    cluster.writeKubeconfig(USER_TOKEN, cluster.kubeconfig, port);

    const result = await cluster.run();

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^cdk8s-migrated-service doctor: cannot reach the cluster: .*127\.0\.0\.1:\d+ was refused - did you specify the right host or port\. Check your kubeconfig/);
  });

  test('forbidden to list Jobs: exit 2 saying which permission', async () => {
    cluster.server.tokens.set('read-nothing', []);
    cluster.writeKubeconfig('read-nothing');

    const result = await cluster.run();

    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^cdk8s-migrated-service doctor: you may not read what doctor needs: .*forbidden.*doctor needs get\/list on jobs, pods/);
  });

  test('a kind the user may not list (events) is reported as unseen, and doctor goes on', async () => {
    const noEvents = [{ apiGroups: ['', 'apps', 'batch', 'authorization.k8s.io'], resources: ['jobs', 'pods', 'pods/log', 'deployments', 'statefulsets', 'daemonsets', 'replicasets', 'cronjobs', 'configmaps', 'subjectaccessreviews'], verbs: ['get', 'list', 'create'] }];
    cluster.server.tokens.set('no-events', noEvents);
    cluster.writeKubeconfig('no-events');
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'failed');

    const { code, report } = await cluster.json();

    expect(code).toBe(1);
    expect(report.releases[0].verdict).toBe('FAILED');
    expect(report.notes).toEqual([expect.stringMatching(/^could not list events: .*forbidden/)]);
  });

  test('a token the cluster rejects: exit 2', async () => {
    cluster.writeKubeconfig('nobody-knows-this-token');
    const result = await cluster.run();
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/the cluster rejected your credentials/);
  });

  test('bad flags and a missing kubectl: exit 2 with a message', async () => {
    const bad = await cluster.run('--format', 'yaml');
    const unknown = await cluster.run('--frobnicate');
    const last = await cluster.run('--last', '0');
    cluster.kubectl = '/nonexistent/kubectl';
    const noKubectl = await cluster.run();

    expect([bad.code, unknown.code, last.code, noKubectl.code]).toEqual([2, 2, 2, 2]);
    expect(bad.stderr).toContain('--format yaml: use text or json');
    expect(unknown.stderr).toContain('unknown option --frobnicate');
    expect(last.stderr).toContain('--last 0: give a whole number of at least 1');
    expect(noKubectl.stderr).toContain('cannot run /nonexistent/kubectl: not found');
  });

  test('a user who may read but not create SubjectAccessReviews, nor read logs: doctor says so instead of guessing', async () => {
    const readOnly: RbacRule[] = [{ apiGroups: ['', 'apps', 'batch'], resources: ['jobs', 'pods', 'deployments', 'statefulsets', 'daemonsets', 'replicasets', 'configmaps', 'events'], verbs: ['get', 'list'] }];
    cluster.server.tokens.set('read-only', readOnly);
    cluster.writeKubeconfig('read-only');
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'failed');
    cluster.jobPod(r.job, 'failed', 'boom\n');
    cluster.pods('myapp', 1, 'crashing');

    const { report } = await cluster.json();

    const [rel] = report.releases;
    expect(rel.workloads[0].waiters[0].access.every((a: any) => a.allowed === undefined)).toBe(true);
    expect(rel.notes).toContain('could not check the waiters\' permissions: you may not create SubjectAccessReviews (ask for create on subjectaccessreviews.authorization.k8s.io, or have an admin run kubectl auth can-i --as=system:serviceaccount:<namespace>:<account>)');
    expect(rel.migration.logNote).toMatch(/^cannot read its log: you may not get pods\/log/);
  });
});

describe('the recorded answers of a real kube-apiserver 1.32 (test/fixtures/k8s-api)', () => {
  const RECORDINGS = join(REPO, 'test', 'fixtures', 'k8s-api', 'recordings');
  const recordings = (file: string): any[] => JSON.parse(readFileSync(join(RECORDINGS, file), 'utf8')).recordings;

  test('the LISTs of a namespace, whose items carry no kind: every item gets its kind, and the release, its Deployment and its held pod are found', () => {
    // GIVEN the recorded LIST answers of namespace rec-ns, exactly as kubectl get --raw prints them
    const lists = new Map(recordings('01-list-namespace.json').map((r) => [r.request.path.split('/').pop(), r.response.body_raw ?? JSON.stringify(r.response.body)]));
    const read = (resource: string): any[] => listItems(lists.get(resource)!, resource);
    expect(JSON.parse(lists.get('deployments')!).items.map((i: any) => i.kind)).toEqual([undefined]);

    // WHEN doctor's reading layer takes them, and its release finder runs on them
    const snapshot = {
      namespace: 'rec-ns',
      now: Date.now(),
      jobs: read('jobs'),
      pods: read('pods'),
      deployments: read('deployments'),
      statefulSets: read('statefulsets'),
      daemonSets: read('daemonsets'),
      replicaSets: read('replicasets'),
      cronJobs: read('cronjobs'),
      configMaps: read('configmaps'),
      events: read('events'),
      unreadable: new Map<string, string>(),
    };
    const facts = collectReleases(snapshot);

    // THEN each item has its List's kind and apiVersion, and the Deployment's pod waits for the Job
    expect(snapshot.pods.map((p) => [p.kind, p.apiVersion])).toEqual([['Pod', 'v1'], ['Pod', 'v1']]);
    expect(snapshot.cronJobs.map((p) => [p.kind, p.apiVersion])).toEqual([['CronJob', 'batch/v1']]);
    expect(facts.map((f) => f.jobName)).toEqual(['shop-migration-v1']);
    expect(facts[0].workloads.map((w) => [w.kind, w.name, w.heldPods.map((p: any) => p.metadata.name)])).toEqual([['Deployment', 'shop', ['shop-57ccdcbc4f-2t7bf']]]);
  });

  test('kubectl create -f - -o json of a List of SubjectAccessReviews: one document per item, read in order; a denial is just allowed: false', () => {
    const run = recordings('09-subject-access-review.json').find((r) => r.request.command === 'kubectl create --validate=false -f - -o json');

    const answers = parseJsonDocuments(run.response.stdout);

    const asked = run.request.stdin.items.map((i: any) => i.spec.resourceAttributes.verb);
    expect(answers.map((a) => a.spec.resourceAttributes.verb)).toEqual(asked);
    expect(answers.map((a) => a.status)).toEqual([expect.objectContaining({ allowed: true }), { allowed: false }]);
  });
});
