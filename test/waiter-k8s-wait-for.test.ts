/**
 * The command line MigrationWaiter.k8sWaitFor() emits, taken from the synthesized Deployment and
 * run as the image runs it: the real `wait_for.sh` of groundnuty/k8s-wait-for (its entrypoint) under
 * busybox `sh` and busybox's sed, grep, xargs and sleep, calling a real kubectl, against the fake API
 * server with exactly the RBAC the synthesized Role grants.
 *
 * The image ships kubectl 1.25, which is not available here: this runs the oldest real kubectl
 * there is (1.27). The script is a third-party test fixture (test/support/vendor/k8s-wait-for/).
 * The tests are skipped, saying why, when busybox or the script is missing.
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, symlinkSync } from 'fs';
import { join } from 'path';
import { MigrationWaiter } from '../src';
import { KubeObject, RbacRule, RequestInfo } from './support/fake-api-server';
import { container, MINIMAL, named, oneOfKind, synthesize } from './support/manifests';
import { ContainerCommand, kubectlBinary, KubectlRun, useFakeCluster } from './support/real-kubectl';

jest.setTimeout(60_000);

const NS = 'shop';
const TOKEN = 'token-of-the-waiter';
const OLDEST = '1.27';
const SCRIPT = process.env.K8S_WAIT_FOR_SCRIPT ?? join(__dirname, 'support', 'vendor', 'k8s-wait-for', 'wait_for.sh');
const BUSYBOX = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();
const missing = [!BUSYBOX && 'busybox (apt-get install busybox)', !existsSync(SCRIPT) && `the script ${SCRIPT}`].filter((m) => m);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// GIVEN the Deployment and Role the library synthesizes with the k8s-wait-for waiter
const { manifests } = synthesize({ ...MINIMAL, waiter: MigrationWaiter.k8sWaitFor() });
const JOB: string = oneOfKind(manifests, 'Job').metadata.name;
const WAIT: ContainerCommand & { image: string } = container(oneOfKind(manifests, 'Deployment').spec.template.spec, 'wait-for-myapp-migration');
// The gated pods' Role (the queue's Role is the migration pod's).
const ROLE_RULES: RbacRule[] = named(manifests, 'Role', 'myapp-migration-reader').rules;

const cluster = useFakeCluster({ token: TOKEN, rules: ROLE_RULES, namespace: NS, scratchPrefix: 'k8s-wait-for-' });

function job(): KubeObject {
  // As the Job controller reports it since Kubernetes 1.24 (JobReadyPods): kubectl describe then prints
  // "1 Active (0 Ready) / 0 Succeeded / 0 Failed", the form wait_for.sh v2.0 parses.
  return { metadata: { name: JOB }, spec: { template: { spec: { containers: [{ name: 'migrate', image: 'app:v2' }] } } }, status: { active: 1, ready: 0 } };
}

/**
 * Runs the container as the image does: its entrypoint `wait_for.sh` with the manifest's args and
 * env, under busybox sh, with only busybox's applets and kubectl on PATH (as in the Alpine image).
 */
function runWaiter(): KubectlRun {
  const home = cluster.nextHome();
  const applets = join(home, 'busybox');
  mkdirSync(applets, { recursive: true });
  for (const applet of ['sh', 'sed', 'grep', 'xargs', 'expr', 'sleep', 'date', 'printf', 'echo', 'tr']) symlinkSync(BUSYBOX, join(applets, applet));
  symlinkSync(kubectlBinary(OLDEST), join(applets, 'kubectl'));
  return cluster.run({ ...WAIT, command: [join(applets, 'sh'), SCRIPT] }, { minor: OLDEST, home, onlyPath: applets });
}

const jobReads = () => cluster.server.requests.filter((r) => r.resource === 'jobs' && r.verb === 'get').length;

(missing.length > 0 ? describe.skip : describe)(`k8s-wait-for's wait_for.sh with busybox sh and real kubectl ${OLDEST}`, () => {
  test('the container runs the image\'s entrypoint with arguments job-wr and the Job\'s name', () => {
    expect(WAIT.image).toMatch(/^groundnuty\/k8s-wait-for:/);
    expect(WAIT.command).toBeUndefined();
    expect(WAIT.args).toEqual(['job-wr', JOB]);
  });

  test('a Job that completes while the pod waits: exits 0 at the next poll', async () => {
    cluster.server.apply('jobs', NS, job());
    const waiter = runWaiter();
    // WHEN its first poll has found the Job running
    await until('a first poll', () => waiter.stdout.includes(`Waiting for job ${JOB}...`));
    const polled = jobReads();
    expect(waiter.running).toBe(true);
    cluster.server.setJobCondition(NS, JOB, 'Complete');
    // THEN it exits 0 after the next poll
    expect(await waiter.exited).toBe(0);
    expect(waiter.stdout).toContain(`job ${JOB} is ready.`);
    expect(jobReads()).toBeGreaterThan(polled);
    // AND the Role's `get` was all it needed on the Job, and every Job request was allowed
    const allowed = (r: RequestInfo) => ROLE_RULES.some((rule) => rule.verbs.includes(r.verb) && rule.resourceNames?.includes(r.name!));
    expect(cluster.server.requests.filter((r) => r.resource === 'jobs' && !allowed(r))).toEqual([]);
    expect(new Set(cluster.server.requests.filter((r) => r.resource === 'jobs').map((r) => r.verb))).toEqual(new Set(['get']));
  });

  test('a Job that completed before the pod started: exits 0 at once', async () => {
    cluster.server.apply('jobs', NS, job());
    cluster.server.setJobCondition(NS, JOB, 'Complete');
    expect(await runWaiter().exited).toBe(0);
  });

  test('a Job that failed: waits forever, polling, and never says the migration failed', async () => {
    cluster.server.apply('jobs', NS, job());
    cluster.server.setJobCondition(NS, JOB, 'Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    const waiter = runWaiter();
    await until('three polls', () => jobReads() >= 3);
    expect(waiter.running).toBe(true);
    expect(waiter.stdout).toContain(`Waiting for job ${JOB}...`);
    expect(waiter.stdout + waiter.stderr).not.toMatch(/fail/i);
  });

  test.each(['not created yet', 'gone'])('a Job that is %s: exits 1 at once', async (state) => {
    if (state === 'gone') {
      cluster.server.apply('jobs', NS, job());
      cluster.server.delete('jobs', NS, JOB);
    }
    const waiter = runWaiter();
    expect(await waiter.exited).toBe(1);
    expect(waiter.stderr).toMatch(/NotFound|not found|forbidden/);
  });
});

if (missing.length > 0) {
  test(`k8s-wait-for's wait_for.sh is not run: missing ${missing.join(' and ')}`, () => {
    console.warn(`skipped the wait_for.sh tests: missing ${missing.join(' and ')} (see test/support/vendor/k8s-wait-for/README.md)`);
  });
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}
