/**
 * The kubectl command lines MigrationWaiter.kubectlWait() emits, taken from the synthesized
 * Deployment and run with real kubectl binaries (the pinned image's version and the newest) against
 * the fake API server, with exactly the RBAC the synthesized Role grants.
 */
import { MigrationWaiter } from '../src';
import { KubeObject, RbacRule, RequestInfo } from './support/fake-api-server';
import { container, MINIMAL, named, oneOfKind, synthesize } from './support/manifests';
import { ContainerCommand, kubectlMinorOfImage, KubectlRun, useFakeCluster } from './support/real-kubectl';

jest.setTimeout(60_000);

const NS = 'shop';
const TOKEN = 'token-of-the-waiter';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// GIVEN the Deployment and Role the library synthesizes with the kubectl waiter
const { manifests } = synthesize({ ...MINIMAL, waiter: MigrationWaiter.kubectlWait() });
const pod = oneOfKind(manifests, 'Deployment').spec.template.spec;
const JOB: string = oneOfKind(manifests, 'Job').metadata.name;
const WAIT: ContainerCommand = container(pod, 'wait-for-myapp-migration');
const CHECK: ContainerCommand = container(pod, 'check-myapp-migration');
// The gated pods' Role (the queue's Role is the migration pod's).
const ROLE_RULES: RbacRule[] = named(manifests, 'Role', 'myapp-migration-reader').rules;
const PINNED = kubectlMinorOfImage(container(pod, 'wait-for-myapp-migration').image);
const NEWEST = '1.33';

const cluster = useFakeCluster({ token: TOKEN, rules: ROLE_RULES, namespace: NS, scratchPrefix: 'kubectl-wait-' });

function job(): KubeObject {
  return { metadata: { name: JOB }, spec: { template: { spec: { containers: [{ name: 'migrate', image: 'app:v2' }] } } }, status: { active: 1 } };
}

/** Runs one init container of the pod with real kubectl `minor`, as its service account. */
function run(minor: string, spec: ContainerCommand): KubectlRun {
  return cluster.run(spec, { minor });
}

/** Runs the pod's two init containers in order, as the kubelet does: the second only after the first exits 0. */
async function initContainers(minor: string): Promise<{ wait: number | null; check?: number | null; output: string }> {
  const first = run(minor, WAIT);
  const wait = await first.exited;
  if (wait !== 0) return { wait, output: first.stdout + first.stderr };
  const second = run(minor, CHECK);
  const check = await second.exited;
  return { wait, check, output: first.stdout + first.stderr + second.stdout + second.stderr };
}


/** Resolves once kubectl watches the Job; fails with kubectl's output if the latest run ended first. */
async function watching(): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (cluster.server.openWatches('jobs') < 1) {
    const latest = cluster.runs[cluster.runs.length - 1];
    if (latest && !latest.running) throw new Error(`kubectl exited before it watched the Job:\n${latest.stdout}${latest.stderr}`);
    if (Date.now() > deadline) throw new Error('gave up waiting for kubectl to watch the Job');
    await sleep(20);
  }
}

describe.each([PINNED, NEWEST])('kubectl %s runs the emitted command lines', (minor) => {
  test('a Job that completes while the pod waits: both containers exit 0', async () => {
    cluster.server.apply('jobs', NS, job());
    const pending = initContainers(minor);
    // WHEN the first container is watching and the Job then completes
    await watching();
    cluster.server.setJobCondition(NS, JOB, 'Complete');
    // THEN the pod's init containers both succeed
    const result = await pending;
    expect(result).toMatchObject({ wait: 0, check: 0 });
    // AND kubectl used every verb the Role grants, on this Job only, and the Role allowed every request
    expect(new Set(cluster.server.requests.map((r) => r.verb))).toEqual(new Set(ROLE_RULES.flatMap((r) => r.verbs)));
    const allowed = (r: RequestInfo) => ROLE_RULES.some((rule) => rule.verbs.includes(r.verb) && rule.resourceNames?.includes(r.name!));
    expect(cluster.server.requests.filter((r) => !allowed(r))).toEqual([]);
    expect(cluster.server.requests.every((r) => r.name === JOB && r.resource === 'jobs')).toBe(true);
    expect(result.output).not.toMatch(/forbidden/i);
  });

  test('a Job that completed before the pod started: both containers exit 0', async () => {
    cluster.server.apply('jobs', NS, job());
    cluster.server.setJobCondition(NS, JOB, 'Complete');
    expect(await initContainers(minor)).toMatchObject({ wait: 0, check: 0 });
  });

  test('a Job that fails while the pod waits: the first container returns and the second exits non-zero at once', async () => {
    cluster.server.apply('jobs', NS, job());
    const pending = initContainers(minor);
    await watching();
    cluster.server.setJobCondition(NS, JOB, 'Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    const result = await pending;
    expect(result.wait).toBe(0);
    expect(result.check).not.toBe(0);
    expect(result.output).toContain(`condition not met for jobs/${JOB}`);
  });

  test('the interim conditions (FailureTarget, SuccessCriteriaMet) are not an outcome: it waits for Failed or Complete', async () => {
    cluster.server.apply('jobs', NS, job());
    const first = run(minor, WAIT);
    await watching();
    // WHEN the Job controller (1.31+) adds FailureTarget and SuccessCriteriaMet, as it may before the terminal condition
    cluster.server.setJobCondition(NS, JOB, 'FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    cluster.server.setJobCondition(NS, JOB, 'SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods');
    await sleep(1000);
    // THEN it is still waiting
    expect(first.running).toBe(true);
    // AND Failed then ends the wait
    cluster.server.setJobCondition(NS, JOB, 'Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    expect(await first.exited).toBe(0);
  });

  test('an API server restart while it waits (refused, then 403, then a new resourceVersion history): rides it out', async () => {
    cluster.server.apply('jobs', NS, job());
    const first = run(minor, WAIT);
    await watching();
    // WHEN the API server restarts, and the Job completes once it serves again
    await cluster.server.restart({ downMs: 2500, forbiddenMs: 1000 });
    expect(first.running).toBe(true);
    cluster.server.setJobCondition(NS, JOB, 'Complete');
    // THEN client-go's reflector retried its way back and the wait ends on Complete
    expect(await first.exited).toBe(0);
  });

  test('a Job that does not exist yet, or is gone: exits non-zero at once (NotFound); the rerun after it is created waits', async () => {
    // GIVEN no Job (not applied yet, or deleted after it ran)
    const result = await initContainers(minor);
    // THEN the first container fails, so the kubelet reruns it
    expect(result.wait).not.toBe(0);
    expect(result.check).toBeUndefined();
    expect(result.output).toMatch(/NotFound/);
    // WHEN the Job is created and the kubelet reruns the container, and the Job completes
    cluster.server.apply('jobs', NS, job());
    const rerun = initContainers(minor);
    await watching();
    cluster.server.setJobCondition(NS, JOB, 'Complete');
    expect(await rerun).toMatchObject({ wait: 0, check: 0 });
  });
});
