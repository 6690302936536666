/**
 * The program's `queue` mode, run as a migration pod runs it (the embedded text, by path) against
 * the fake API server with the least privilege the construct grants: list and watch on Jobs and
 * pods of the namespace. Overlapping releases in each order of events; "prompt" and "cheap" are
 * shown by events and requests, never by timing.
 */
import { FakeApiServer, KubeObject, RbacRule } from './support/fake-api-server';
import { ProgramHarness, ProgramProcess, until } from './support/program-process';

jest.setTimeout(40_000);

const NS = 'shop';
const TOKEN = 'token-of-the-migration-pod';
const LABELS = { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/managed-by': 'cdk8s' };
const SELECTOR = 'app.kubernetes.io/name=web,app.kubernetes.io/managed-by=cdk8s,app.kubernetes.io/component in (migration,post-migration)';
/** What the construct grants the migration pod for its queue: namespace-wide reads, nothing else. */
const QUEUE_RULES: RbacRule[] = [
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'watch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const harness = new ProgramHarness(NS, TOKEN, 'queue-test-');
let server: FakeApiServer;
beforeEach(() => {
  server = harness.server;
  server.jobControllerLagMs = undefined;
  server.tokens.set(TOKEN, QUEUE_RULES);
});

/** A Job of release `version`, created `ageSeconds` ago (old enough that the settle rule is past, unless a test says otherwise). */
function createJob(version: string, ageSeconds = 60, component = 'migration'): string {
  const name = `web-${component}-${version}`;
  const created = new Date(server.now() - ageSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  server.apply('jobs', NS, {
    metadata: { name, creationTimestamp: created, labels: { ...LABELS, 'app.kubernetes.io/component': component, 'app.kubernetes.io/version': version } },
    spec: { activeDeadlineSeconds: 7200, backoffLimit: 0 },
    // As the Job controller writes it: active 1, the zero counts left out, terminating and ready kept.
    status: { startTime: created, active: 1, terminating: 0, uncountedTerminatedPods: {}, ready: 0 },
  });
  return name;
}

/** The Job controller's pod for `job`: bound to a node unless `unbound`. */
function createPod(job: string, suffix = 'x7k2p', options: { unbound?: boolean; phase?: string } = {}): string {
  const name = `${job}-${suffix}`;
  const source = server.get('jobs', NS, job);
  server.apply('pods', NS, {
    metadata: {
      name,
      labels: { ...source.metadata.labels, 'batch.kubernetes.io/job-name': job, 'job-name': job },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job, uid: source.metadata.uid, controller: true, blockOwnerDeletion: true }],
      // The Job controller holds each pod until it has counted it.
      finalizers: ['batch.kubernetes.io/job-tracking'],
    },
    spec: { ...(options.unbound ? {} : { nodeName: 'node-1' }), terminationGracePeriodSeconds: 30, containers: [{ name: 'record-success' }] },
    status: { phase: options.phase ?? 'Running' },
  });
  return name;
}

/**
 * The migration pod of a Job ends; the Job controller reports it in its real steps: SuccessCriteriaMet
 * then Complete, or (backoffLimit 0) FailureTarget then Failed, the pod's finalizer removed between.
 */
function finishJob(pod: string, outcome: 'Complete' | 'Failed'): void {
  server.endPod(NS, pod, outcome === 'Complete' ? 'Succeeded' : 'Failed');
}

function startQueue(job: string, pod: string, env: Record<string, string> = {}): ProgramProcess {
  return harness.start(['queue'], { MIGRATION_JOB: job, MIGRATION_SELECTOR: SELECTOR, POD_NAME: pod, QUEUE_TIMEOUT_SECONDS: '3600', ...env });
}

/** A queue that has read both lists, opened both watches and said what it waits for. */
async function waiting(queued: ProgramProcess, behind: RegExp): Promise<void> {
  await queued.output(behind);
  await until('both watches', () => server.openWatches('jobs') >= 1 && server.openWatches('pods') >= 1);
}

/** GIVEN release v1's migration running, and release v2's pod queued behind it. */
async function queuedBehindRunningV1(): Promise<{ v1: string; v1Pod: string; v2: string; queued: ProgramProcess }> {
  const v1 = createJob('v1', 120);
  const v1Pod = createPod(v1);
  const v2 = createJob('v2', 30);
  const queued = startQueue(v2, createPod(v2, 'b8q4z'));
  await waiting(queued, /behind release v1's/);
  return { v1, v1Pod, v2, queued };
}

/** Requests made within `ms` while nothing changes. */
async function requestsWhileIdle(ms = 1500): Promise<number> {
  const before = server.requests.length;
  await sleep(ms);
  return server.requests.length - before;
}

const linesWith = (p: ProgramProcess, text: string) => p.lines.filter((line) => line.includes(text));

describe('two releases', () => {
  test('GIVEN release v1\'s migration runs WHEN v2\'s pod queues THEN it waits, says so once, costs nothing while idle, and starts when v1 succeeds', async () => {
    const v1 = createJob('v1', 120);
    const v1Pod = createPod(v1);
    const v2 = createJob('v2', 30);
    const v2Pod = createPod(v2, 'b8q4z', { phase: 'Pending' });
    const queued = startQueue(v2, v2Pod);
    await waiting(queued, /waiting for its turn behind release v1's migration Job web-migration-v1 \(running since /);
    // WHILE v1 runs: no request at all but the two open watches
    expect(await requestsWhileIdle()).toBe(0);
    expect(queued.running).toBe(true);
    // WHEN v1's pod succeeds and its Job completes
    const before = server.requests.length;
    finishJob(v1Pod, 'Complete');
    // THEN v2 starts, after reading both lists once more to confirm
    expect(await queued.exitCode()).toBe(0);
    expect(queued.stdout).toMatch(/its turn: no migration of another release runs or goes before Job shop\/web-migration-v2; starting the migration/);
    expect(server.requests.slice(before).map((r) => `${r.verb} ${r.resource}`)).toEqual(['list jobs', 'list pods']);
    expect(linesWith(queued, 'waiting for its turn behind')).toHaveLength(1);
    // AND it only ever listed and watched, never by name, never a write
    expect(new Set(server.requests.map((r) => `${r.verb} ${r.resource}`))).toEqual(new Set(['list jobs', 'list pods', 'watch jobs', 'watch pods']));
  });

  test('GIVEN v1\'s migration fails WHEN its pod has ended THEN v2 starts (it runs the pending migrations itself)', async () => {
    const { v1Pod, queued } = await queuedBehindRunningV1();
    finishJob(v1Pod, 'Failed');
    expect(await queued.exitCode()).toBe(0);
  });

  test('GIVEN v1 hits its deadline WHEN its Job is Failed but its pod still terminates THEN v2 waits for the pod to be gone', async () => {
    const { v1, v1Pod, queued } = await queuedBehindRunningV1();
    // As a Job controller before 1.31 did: Failed at once, then the pod deleted, whose process runs on until it exits.
    server.setJobCondition(NS, v1, 'Failed', 'DeadlineExceeded');
    server.deletePod(NS, v1Pod);
    await queued.output(/behind pod web-migration-v1-x7k2p of release v1's migration Job web-migration-v1 \(terminating/);
    expect(await requestsWhileIdle(1000)).toBe(0);
    expect(queued.running).toBe(true);
    server.endPod(NS, v1Pod);
    expect(await queued.exitCode()).toBe(0);
  });

  test('GIVEN v1 hits its deadline on a 1.32 control plane WHEN its Job has FailureTarget while its pod terminates THEN v2 waits until the pod is gone and the Job Failed', async () => {
    const { v1, v1Pod, queued } = await queuedBehindRunningV1();
    // WHEN the deadline passes: the pod is deleted, the Job gets FailureTarget with terminating 1 and
    // stays without Failed while the bound pod's process runs on (its grace period)
    server.exceedJobDeadline(NS, v1);
    await queued.output(/behind pod web-migration-v1-x7k2p of release v1's migration Job web-migration-v1 \(terminating/);
    expect(server.get('jobs', NS, v1).status).toMatchObject({ terminating: 1, failed: 1 });
    expect(server.get('jobs', NS, v1).status.conditions.map((c: KubeObject) => c.type)).toEqual(['FailureTarget']);
    expect(await requestsWhileIdle(1000)).toBe(0);
    expect(queued.running).toBe(true);
    // THEN once the pod is gone the Job is Failed, and v2 starts
    server.endPod(NS, v1Pod);
    expect(server.get('jobs', NS, v1).status.conditions.map((c: KubeObject) => c.type)).toEqual(['FailureTarget', 'Failed']);
    expect(await queued.exitCode()).toBe(0);
  });

  test.each(['Background', 'Foreground'] as const)('GIVEN v1 is pruned (%s propagation) while it runs WHEN its pod terminates THEN v2 waits until the pod is gone', async (propagation) => {
    const { v1, v1Pod, queued } = await queuedBehindRunningV1();
    // WHEN the engine deletes v1's Job: the garbage collector deletes its pod, which stays while its container runs
    server.deleteJob(NS, v1, propagation);
    expect(server.get('jobs', NS, v1) !== undefined).toBe(propagation === 'Foreground');
    expect(server.get('pods', NS, v1Pod).metadata.deletionTimestamp).toBeDefined();
    await queued.output(/behind pod web-migration-v1-x7k2p of .*terminating/);
    expect(queued.running).toBe(true);
    // THEN v2 starts once the pod is gone (and, in the foreground, the Job with it)
    server.endPod(NS, v1Pod);
    expect(server.get('jobs', NS, v1)).toBeUndefined();
    expect(await queued.exitCode()).toBe(0);
  });

  test('GIVEN v1\'s pod was never bound to a node WHEN v1 is pruned THEN the pod is gone at once and v2 starts', async () => {
    const v1 = createJob('v1', 120);
    createPod(v1, 'x7k2p', { unbound: true, phase: 'Pending' });
    const v2 = createJob('v2', 30);
    const queued = startQueue(v2, createPod(v2, 'b8q4z'));
    await waiting(queued, /behind release v1's/);
    server.deleteJob(NS, v1, 'Background');
    expect(server.podsOfJob(NS, v1)).toEqual([]);
    expect(await queued.exitCode()).toBe(0);
  });

  test('GIVEN a rollback: the older tag\'s Job is created after the newer one\'s WHEN both queue THEN the Job created first goes first', async () => {
    const v2 = createJob('v2', 120);
    const v2Pod = createPod(v2);
    const v1 = createJob('v1', 30);
    const older = startQueue(v1, createPod(v1, 'b8q4z'));
    const newer = startQueue(v2, v2Pod);
    expect(await newer.exitCode()).toBe(0);
    await waiting(older, /behind release v2's migration Job web-migration-v2/);
    expect(older.running).toBe(true);
    finishJob(v2Pod, 'Complete');
    expect(await older.exitCode()).toBe(0);
  });

  test('GIVEN nothing else of this migration WHEN the first release queues THEN it starts at once, and another DatabaseMigration\'s Jobs do not hold it', async () => {
    server.apply('jobs', NS, { metadata: { name: 'cart-migration-v9', labels: { 'app.kubernetes.io/name': 'cart', 'app.kubernetes.io/managed-by': 'cdk8s', 'app.kubernetes.io/component': 'migration' } }, status: { active: 1 } });
    const v1 = createJob('v1', 30);
    expect(await startQueue(v1, createPod(v1)).exitCode()).toBe(0);
  });
});

describe('three releases', () => {
  test('GIVEN v1 runs and v2 and v3 queue WHEN v1 then v2 finish THEN v2 goes second and v3 third, each told whom it waits for', async () => {
    // Two watch streams (pods, Jobs) carry the pod's end and its Job's: with the real controller's
    // lag the pod's comes first, so v3 never sees v1's Job finished while its pod still runs.
    server.jobControllerLagMs = 200;
    const v1 = createJob('v1', 180);
    const v1Pod = createPod(v1);
    const v2 = createJob('v2', 120);
    const v2Pod = createPod(v2, 'b8q4z');
    const v3 = createJob('v3', 60);
    const third = startQueue(v3, createPod(v3, 'c3m9w'));
    const second = startQueue(v2, v2Pod);
    await waiting(third, /behind release v1's migration Job web-migration-v1 .*, and 1 more Job$/m);
    await waiting(second, /behind release v1's/);
    finishJob(v1Pod, 'Complete');
    expect(await second.exitCode()).toBe(0);
    // v2 now migrates (its pod runs on past the queue): v3 waits for it
    await third.output(/behind release v2's migration Job web-migration-v2/);
    expect(third.running).toBe(true);
    finishJob(v2Pod, 'Failed');
    expect(await third.exitCode()).toBe(0);
    expect(linesWith(third, 'waiting for its turn behind')).toHaveLength(2);
  });

  test('GIVEN v1 runs, v2 queues and v3 queues WHEN v2 is pruned while queued THEN v3 still waits for v1 only', async () => {
    const v1 = createJob('v1', 180);
    const v1Pod = createPod(v1);
    const v2 = createJob('v2', 120);
    const v2Pod = createPod(v2, 'b8q4z', { unbound: true, phase: 'Pending' });
    const v3 = createJob('v3', 60);
    const third = startQueue(v3, createPod(v3, 'c3m9w'));
    await waiting(third, /behind release v1's/);
    server.deleteJob(NS, v2, 'Background');
    expect(server.get('pods', NS, v2Pod)).toBeUndefined();
    expect(await requestsWhileIdle(1000)).toBe(0);
    expect(third.running).toBe(true);
    finishJob(v1Pod, 'Complete');
    expect(await third.exitCode()).toBe(0);
  });
});

describe('the edges', () => {
  test('GIVEN two Jobs created in the same second WHEN the one created later sorts first by name THEN neither starts before the settle time, and the name decides', async () => {
    // GIVEN the server's clock held at one second
    const t = Math.floor(Date.now() / 1000) * 1000;
    server.fixedTime = t + 300;
    const b = createJob('b', 0);
    const bPod = createPod(b);
    const later = startQueue(b, bPod);
    await later.output(/waiting for its turn: /);
    await until('both watches', () => server.openWatches('pods') >= 1);
    // WHILE the clock has not reached its creation second + 2 s, b does not start, though nothing holds it
    await sleep(1200);
    expect(later.running).toBe(true);
    // WHEN a Job created in the same second, whose name sorts first, appears
    const a = createJob('a', 0);
    const aPod = createPod(a, 'q1w2e');
    server.fixedTime = t + 2500;
    // THEN a goes first, and b waits for it
    expect(await startQueue(a, aPod).exitCode()).toBe(0);
    await later.output(/behind release a's migration Job web-migration-a/);
    finishJob(aPod, 'Complete');
    expect(await later.exitCode()).toBe(0);
  });

  test('GIVEN a queued migration WHEN its own Job is deleted THEN it exits 1 and does not start', async () => {
    const v1 = createJob('v1', 120);
    createPod(v1);
    const v2 = createJob('v2', 30);
    const queued = startQueue(v2, createPod(v2, 'b8q4z', { unbound: true }));
    await waiting(queued, /behind release v1's/);
    server.delete('jobs', NS, v2);
    expect(await queued.exitCode()).toBe(1);
    expect(queued.stderr).toMatch(/Job shop\/web-migration-v2 does not exist any more \(it was deleted\): not starting the migration/);
  });

  test('GIVEN a queue timeout WHEN the turn has not come by then THEN it exits 1 before migrating', async () => {
    const v1 = createJob('v1', 120);
    createPod(v1);
    const v2 = createJob('v2', 30);
    const queued = startQueue(v2, createPod(v2, 'b8q4z'), { QUEUE_TIMEOUT_SECONDS: '32' });
    expect(await queued.exitCode()).toBe(1);
    expect(queued.stderr).toMatch(/waited 32 s \(QUEUE_TIMEOUT_SECONDS\) for its turn behind release v1's migration Job web-migration-v1 .*not starting the migration/);
  });

  test('GIVEN a node drain: the own Job\'s evicted pod still terminates WHEN its replacement queues THEN it waits for the evicted one', async () => {
    const v1 = createJob('v1', 120);
    const evicted = createPod(v1, 'old11');
    server.deletePod(NS, evicted);
    const queued = startQueue(v1, createPod(v1, 'new22'));
    await waiting(queued, /behind pod web-migration-v1-old11 of release v1's migration Job web-migration-v1 \(terminating/);
    server.endPod(NS, evicted);
    expect(await queued.exitCode()).toBe(0);
  });

  test('GIVEN the API server restarts while v2 waits WHEN v1 completes after the restart THEN v2 rides it out and starts', async () => {
    const { v1Pod, queued } = await queuedBehindRunningV1();
    await server.restart({ downMs: 2500, forbiddenMs: 2000 });
    expect(queued.running).toBe(true);
    await until('both watches again', () => server.openWatches('jobs') >= 1 && server.openWatches('pods') >= 1);
    finishJob(v1Pod, 'Complete');
    expect(await queued.exitCode()).toBe(0);
    // Each problem once (refused, then denied), then that the server answers again
    expect(server.deniedWhileStarting.length).toBeGreaterThan(0);
    expect(linesWith(queued, 'ECONNREFUSED').length).toBeLessThanOrEqual(2);
    expect(linesWith(queued, 'the API server answers again').length).toBeGreaterThan(0);
  });

  test('GIVEN the pod may not list pods WHEN the denial lasts past the grace window THEN it exits 1 naming the RBAC it needs', async () => {
    server.tokens.set(TOKEN, [QUEUE_RULES[0]]);
    const v1 = createJob('v1', 30);
    const queued = startQueue(v1, createPod(v1), { WAITER_GRACE_SECONDS: '0' });
    expect(await queued.exitCode()).toBe(1);
    expect(queued.stderr).toMatch(/list and watch on jobs \(API group batch\) and on pods in namespace shop/);
  });

  test.each(['MIGRATION_JOB', 'MIGRATION_SELECTOR', 'QUEUE_TIMEOUT_SECONDS'])('GIVEN %s is not set THEN it exits 2 and names it', async (variable) => {
    const queued = startQueue('web-migration-v1', 'p', { [variable]: '' });
    expect(await queued.exitCode()).toBe(2);
    expect(queued.stderr).toMatch(new RegExp(`environment variable ${variable} is not set`));
  });
});

describe('rollout mode, superseded', () => {
  function deployment(release: string): KubeObject {
    return {
      metadata: { name: 'web' },
      spec: { replicas: 2, template: { spec: { initContainers: [{ name: 'wait-for-web-migration', env: [{ name: 'MIGRATION_JOB', value: release }] }], containers: [{ name: 'web' }] } } },
      status: { observedGeneration: 1, replicas: 2, updatedReplicas: 0, availableReplicas: 2 },
    };
  }

  const startRollout = (env: Record<string, string>): ProgramProcess =>
    harness.start(['rollout'], { RELEASE_MIGRATION_JOB: 'web-migration-v1', ROLLOUT_WORKLOADS: '[{"kind":"Deployment","name":"web"}]', ...env });

  beforeEach(() => {
    server.tokens.set(TOKEN, [...QUEUE_RULES, { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['web'], verbs: ['list', 'watch'] }]);
    createJob('v1', 120);
    createJob('v2', 60);
    server.apply('deployments', NS, deployment('web-migration-v2'));
  });

  test('GIVEN a later release\'s pods replaced this release\'s WHEN its post-deploy Job waits for the rollout THEN it gives up, naming the later release', async () => {
    const rollout = startRollout({ MIGRATION_SELECTOR: SELECTOR });
    expect(await rollout.exitCode()).toBe(1);
    expect(rollout.stderr).toMatch(/superseded by release v2 \(Job shop\/web-migration-v2\), whose pods replaced this release's/);
  });

  test('GIVEN no MIGRATION_SELECTOR WHEN the template is another release\'s THEN rollout mode keeps waiting, as before', async () => {
    const rollout = startRollout({});
    await rollout.output(/its pod template is not this release's yet/);
    await sleep(500);
    expect(rollout.running).toBe(true);
  });

  test('GIVEN this release\'s own template WHEN it rolls out THEN rollout mode succeeds with the selector set', async () => {
    server.apply('deployments', NS, { ...deployment('web-migration-v1'), status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 } });
    expect(await startRollout({ MIGRATION_SELECTOR: SELECTOR }).exitCode()).toBe(0);
  });
});
