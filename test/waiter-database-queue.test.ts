/**
 * The program's `queue` mode in a queue shared by several services (`DatabaseQueue`), run as a
 * migration pod runs it against the fake API server with the Role the construct grants (list and
 * watch on Jobs and pods): api's migrations go before billing's within one apply, whatever the
 * order the Jobs were created in. Each test creates billing's Job first, so that creation order
 * alone cannot make it pass.
 */
import { DatabaseQueue } from '../src';
import { FakeApiServer, RbacRule } from './support/fake-api-server';
import { ProgramHarness, ProgramProcess, until } from './support/program-process';
import { QUEUE_OFFSET_ANNOTATION } from '../src/constructs/release-queue';

jest.setTimeout(40_000);

const NS = 'shop';
const TOKEN = 'token-of-the-migration-pod';
const SELECTOR = `${DatabaseQueue.DATABASE_LABEL}=shop`;
const QUEUE_RULES: RbacRule[] = [
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'watch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const harness = new ProgramHarness(NS, TOKEN, 'database-queue-test-');
let server: FakeApiServer;
beforeEach(() => {
  server = harness.server;
  server.jobControllerLagMs = undefined;
  server.tokens.set(TOKEN, QUEUE_RULES);
});

/** The migration Job of `service`'s release `version`, created `ageSeconds` ago, with the queue offset the construct gives it. */
function createJob(service: string, version: string, ageSeconds: number, offsetSeconds: number): string {
  const name = `${service}-migration-${version}`;
  const created = new Date(server.now() - ageSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  server.apply('jobs', NS, {
    metadata: {
      name,
      creationTimestamp: created,
      labels: { 'app.kubernetes.io/name': service, 'app.kubernetes.io/version': version, 'app.kubernetes.io/component': 'migration', [DatabaseQueue.DATABASE_LABEL]: 'shop' },
      ...(offsetSeconds > 0 ? { annotations: { [QUEUE_OFFSET_ANNOTATION]: `${offsetSeconds}` } } : {}),
    },
    spec: { activeDeadlineSeconds: 7200, backoffLimit: 0 },
    status: { startTime: created, active: 1, terminating: 0, uncountedTerminatedPods: {}, ready: 0 },
  });
  return name;
}

function createPod(job: string, phase = 'Running'): string {
  const name = `${job}-x7k2p`;
  const source = server.get('jobs', NS, job);
  server.apply('pods', NS, {
    metadata: {
      name,
      labels: { ...source.metadata.labels, 'batch.kubernetes.io/job-name': job, 'job-name': job },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job, uid: source.metadata.uid, controller: true, blockOwnerDeletion: true }],
      finalizers: ['batch.kubernetes.io/job-tracking'],
    },
    spec: { nodeName: 'node-1', terminationGracePeriodSeconds: 30, containers: [{ name: 'migrate' }] },
    status: { phase },
  });
  return name;
}

function startQueue(job: string, pod: string): ProgramProcess {
  return harness.start(['queue'], { MIGRATION_JOB: job, MIGRATION_SELECTOR: SELECTOR, POD_NAME: pod, QUEUE_TIMEOUT_SECONDS: '3600' });
}

describe('api before billing, one database', () => {
  test('GIVEN billing\'s Job created 3 s BEFORE api\'s in one apply WHEN both queue THEN api starts, billing waits for it, and starts when it completes', async () => {
    // GIVEN billing (second in the queue, offset 30 s) created first, then api (first, no offset)
    const billing = createJob('billing', 'v7', 63, 30);
    const billingPod = createPod(billing, 'Pending');
    const api = createJob('api', 'v3', 60, 0);
    const apiPod = createPod(api, 'Pending');
    // WHEN both queue
    const billingQueue = startQueue(billing, billingPod);
    const apiQueue = startQueue(api, apiPod);
    // THEN api's turn comes at once, billing waits behind api's Job
    expect(await apiQueue.exitCode()).toBe(0);
    await billingQueue.output(/waiting for its turn behind release v3's migration Job api-migration-v3/);
    server.setPodPhase(NS, apiPod, 'Running');
    await sleep(500);
    expect(billingQueue.running).toBe(true);
    // WHEN api's migration succeeds THEN billing starts
    server.endPod(NS, apiPod, 'Succeeded');
    expect(await billingQueue.exitCode()).toBe(0);
    expect(billingQueue.stdout).toMatch(/its turn: no migration of another release runs or goes before Job shop\/billing-migration-v7/);
    // AND both only listed and watched
    expect(new Set(server.requests.map((r) => `${r.verb} ${r.resource}`))).toEqual(new Set(['list jobs', 'list pods', 'watch jobs', 'watch pods']));
  });

  test('GIVEN api\'s migration fails WHEN its pod has ended THEN billing is not blocked: it starts', async () => {
    const billing = createJob('billing', 'v7', 63, 30);
    const billingPod = createPod(billing, 'Pending');
    const api = createJob('api', 'v3', 60, 0);
    const apiPod = createPod(api);
    const billingQueue = startQueue(billing, billingPod);
    await billingQueue.output(/behind release v3's migration Job api-migration-v3/);
    server.endPod(NS, apiPod, 'Failed');
    expect(await billingQueue.exitCode()).toBe(0);
  });

  test('GIVEN billing\'s Job alone, within its offset WHEN api\'s Job of the same apply comes a second later THEN billing waits for it', async () => {
    // GIVEN billing's Job just created, with an offset of 4 s, and no api Job yet
    const billing = createJob('billing', 'v7', 0, 4);
    const billingQueue = startQueue(billing, createPod(billing, 'Pending'));
    await billingQueue.output(/waiting up to 4 s after its Job's creation for the migrations of the services it runs after/);
    // WHEN api's Job comes 1 s later (the rest of the apply)
    await sleep(1000);
    expect(billingQueue.running).toBe(true);
    const api = createJob('api', 'v3', 0, 0);
    const apiPod = createPod(api);
    // THEN billing waits for it
    await billingQueue.output(/behind release v3's migration Job api-migration-v3/);
    await sleep(4000);
    expect(billingQueue.running).toBe(true);
    server.endPod(NS, apiPod, 'Succeeded');
    expect(await billingQueue.exitCode()).toBe(0);
  });

  test('GIVEN billing\'s Job alone WHEN no api Job comes within its offset THEN billing starts once the offset has passed', async () => {
    const billing = createJob('billing', 'v7', 0, 3);
    const started = Date.now();
    const billingQueue = startQueue(billing, createPod(billing, 'Pending'));
    expect(await billingQueue.exitCode()).toBe(0);
    // THEN not before its creation second + offset + the 2 s settle rule (the second may have begun up to 1 s earlier)
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    await until('exit', () => !billingQueue.running);
  });
});
