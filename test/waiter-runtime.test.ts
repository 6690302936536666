/**
 * The waiter program (src/program, bundled into waiter/migration-waiter.js), run exactly as a pod runs it: the text of the
 * `migration-waiter` ConfigMap, as a file run by path (`node <dir>/migration-waiter.js <mode>`), against a fake API server that speaks the real GET/LIST/WATCH/404/403/410
 * semantics. "Fast" and "cheap" are proven by the requests the waiter makes, never by timing it.
 */
import { spawn, spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import * as vm from 'vm';
import * as fc from 'fast-check';
import { FakeApiServer, FULL_ACCESS, KubeObject, RbacRule, waiterClientEnv } from './support/fake-api-server';
import { ProgramProcess, until } from './support/program-process';
import { migrationWaiterScript } from '../src/constructs/waiter-script';

jest.setTimeout(40_000);

const NS = 'shop';
const JOB = 'web-migration-4f2a9c';
const LEDGER = 'web-migration-ledger';
const TOKEN = 'token-of-the-waiter';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Least privilege, as the README derives it: each object by name. */
const JOB_RULES: RbacRule[] = [
  { apiGroups: ['batch'], resources: ['jobs'], resourceNames: [JOB], verbs: ['list', 'watch'] },
  { apiGroups: [''], resources: ['configmaps'], resourceNames: [LEDGER], verbs: ['get'] },
];
const RECORD_RULES: RbacRule[] = [
  { apiGroups: [''], resources: ['configmaps'], resourceNames: [LEDGER], verbs: ['get', 'update'] },
];
/** What the recorder's Role adds under Helm and Argo CD: `create` cannot be limited to a name. */
const CREATE_CONFIG_MAPS: RbacRule = { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] };

let server: FakeApiServer;
let dir: string;
let waiters: Waiter[] = [];

/** A waiter process. */
class Waiter extends ProgramProcess {}

/** Requests the server denied while starting up after restart(), by verb, resource and name. */
const deniedWhileStarting = () => server.deniedWhileStarting.map((r) => `${r.verb} ${r.resource} ${r.name}`);

/** Log lines that mention `text`: a problem is logged once, not once per attempt. */
const linesWith = (waiter: Waiter, text: string) => waiter.lines.filter((line) => line.includes(text));

/** The restart of the issue: refused for 2.5 s, then 403 to allowed requests for 2 s. */
const RESTART = { downMs: 2500, forbiddenMs: 2000 };

function start(mode: string, env: Record<string, string> = {}, args?: string[]): Waiter {
  const program = join(dir, 'migration-waiter.js');
  writeFileSync(program, migrationWaiterScript());
  const child = spawn(process.execPath, args ?? [program, mode], {
    env: { ...waiterClientEnv(server.port, join(dir, 'token'), NS), ...env },
  });
  const waiter = new Waiter(child);
  waiters.push(waiter);
  return waiter;
}

/** A grace window for 401 and 403 short enough for a test that expects them to be final. */
const SHORT_GRACE = { WAITER_GRACE_SECONDS: '0' };

const startJobWaiter = (env: Record<string, string> = {}) => start('job', { MIGRATION_JOB: JOB, MIGRATION_LEDGER: LEDGER, ...env });

function job(name = JOB): KubeObject {
  return { metadata: { name }, spec: { backoffLimit: 2, template: { spec: { containers: [{ name: 'migrate', image: 'app:v2' }] } } }, status: { active: 1 } };
}

function ledger(data: Record<string, string> = {}): KubeObject {
  return { metadata: { name: LEDGER }, data };
}

beforeEach(async () => {
  server = await FakeApiServer.start();
  dir = mkdtempSync(join(tmpdir(), 'waiter-test-'));
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  server.tokens.set(TOKEN, [...JOB_RULES, ...RECORD_RULES]);
});

afterEach(async () => {
  for (const waiter of waiters) waiter.child.kill('SIGKILL');
  await Promise.all(waiters.map((w) => w.exited));
  waiters = [];
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the embedded text', () => {
  test('is the committed bundle as it is, and exposes its helpers without running', () => {
    // GIVEN the text that goes into the ConfigMap
    const text = migrationWaiterScript();
    // THEN it is the bundle of src/program, byte for byte, says so on its first line, and stays small
    expect(text).toBe(readFileSync(join(__dirname, '..', 'waiter', 'migration-waiter.js'), 'utf8'));
    expect(text.split('\n')[0]).toMatch(/^\/\/ Generated from src\/program by `npx projen bundle:program`/);
    expect(Buffer.byteLength(text)).toBeLessThan(36 * 1024);
    // AND it compiles, and when loaded as a module it defines its helpers without calling main()
    expect(() => new vm.Script(text)).not.toThrow();
    expect(Object.keys(waiterModule())).toEqual(expect.arrayContaining(['rolloutProgress', 'withEntry']));
  });

  test('is memoized', () => {
    expect(migrationWaiterScript()).toBe(migrationWaiterScript());
  });

  test('ships in the npm package, one level above lib/ where the compiled module looks for it', () => {
    // GIVEN the package as npm would pack it
    const packed = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: join(__dirname, '..'), encoding: 'utf8' });
    // THEN it contains the program
    const files: string[] = JSON.parse(packed.stdout)[0].files.map((file: { path: string }) => file.path);
    expect(files).toContain('waiter/migration-waiter.js');
  });
});

/** The program's helpers, loaded from the embedded text as a module (main() does not run then). */
function waiterModule(): Record<string, any> {
  const module = { exports: {} as Record<string, any> };
  new vm.Script(migrationWaiterScript()).runInNewContext({ module, require, process, __filename: '/lib/migration-waiter.js', Buffer });
  return module.exports;
}

describe('the ledger\'s bound', () => {
  const { withEntry } = waiterModule();
  const jobName = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/);
  const time = fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }).map((ms) => new Date(ms).toISOString());

  test('keeps this entry and the newest others up to the limit, and every key that is not an entry', () => {
    fc.assert(fc.property(
      fc.dictionary(jobName, time, { maxKeys: 30 }),
      fc.dictionary(fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/), fc.string({ maxLength: 10 }), { maxKeys: 5 }),
      jobName, fc.integer({ min: 1, max: 25 }),
      (entries, foreign, name, max) => {
        // GIVEN a ledger of entries plus keys of someone else's (values that are not entries)
        const data: Record<string, string> = { ...foreign };
        for (const [key, succeededAt] of Object.entries(entries)) data[key] = JSON.stringify({ succeededAt });
        const others = Object.keys(entries).filter((key) => key !== name);
        // WHEN this Job's success is added with a limit of max entries
        const result: Record<string, string> = withEntry(data, name, { succeededAt: '2031-01-01T00:00:00.000Z' }, max);
        // THEN this entry is there, the non-entries are untouched, and the kept entries are the newest
        expect(JSON.parse(result[name]).succeededAt).toBe('2031-01-01T00:00:00.000Z');
        for (const [key, value] of Object.entries(foreign)) if (key !== name && !(key in entries)) expect(result[key]).toBe(value);
        const kept = others.filter((key) => key in result);
        expect(kept.length).toBe(Math.min(others.length, max - 1));
        const oldestKept = Math.min(...kept.map((key) => Date.parse(entries[key])));
        for (const dropped of others.filter((key) => !(key in result))) expect(Date.parse(entries[dropped])).toBeLessThanOrEqual(oldestKept);
      }));
  });
});

describe('job mode', () => {
  test('exits 0 on the watch event that reports Complete, after one LIST and one WATCH', async () => {
    // GIVEN a running Job and a waiter watching it
    server.apply('jobs', NS, job());
    const waiter = startJobWaiter();
    await server.waitForWatches(1, 'jobs');
    expect(waiter.running).toBe(true);
    // WHEN the Job completes
    server.setJobCondition(NS, JOB, 'Complete');
    // THEN the waiter exits 0 and says why
    expect(await waiter.exitCode()).toBe(0);
    expect(waiter.stdout).toMatch(`Job ${NS}/${JOB} is Complete`);
    // AND it never polled: the exit can only have come from the watch event
    expect(server.requests.map((r) => `${r.verb} ${r.resource} ${r.name}`)).toEqual([`list jobs ${JOB}`, `watch jobs ${JOB}`]);
  });

  test('the Job controller\'s real steps: SuccessCriteriaMet does not start the pods, Complete ~10 ms later does', async () => {
    // GIVEN a Job started by the Job controller, its pod running, and a waiter watching it
    server.createJob(NS, job());
    const waiter = startJobWaiter();
    await server.waitForWatches(1, 'jobs');
    // WHEN its pod succeeds: MODIFIED with SuccessCriteriaMet, the pod's finalizer removed, MODIFIED with Complete
    server.succeedJobPod(NS, JOB);
    expect(server.get('jobs', NS, JOB).status.conditions.map((c: KubeObject) => c.type)).toEqual(['SuccessCriteriaMet', 'Complete']);
    // THEN the waiter exits 0 on Complete
    expect(await waiter.exitCode()).toBe(0);
    expect(waiter.stdout).toMatch(`Job ${NS}/${JOB} is Complete`);
  });

  test('exits 0 at once when the Job is already Complete, without watching', async () => {
    server.apply('jobs', NS, job());
    server.setJobCondition(NS, JOB, 'Complete');
    const waiter = startJobWaiter();
    expect(await waiter.exitCode()).toBe(0);
    expect(server.count('watch')).toBe(0);
  });

  test('log lines are single lines with an ISO timestamp and the program name', async () => {
    server.apply('jobs', NS, job());
    server.setJobCondition(NS, JOB, 'Complete');
    const waiter = startJobWaiter();
    await waiter.exited;
    expect(waiter.lines.length).toBeGreaterThan(0);
    for (const line of waiter.lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z migration-waiter: \S/);
  });

  test.each([
    ['BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
    ['DeadlineExceeded', 'Job was active longer than specified deadline'],
    ['PodFailurePolicy', 'Container migrate for pod shop/web-migration-4f2a9c-x7k2p failed with exit code 3 matching FailJob rule at index 1'],
  ])('exits 1 on Failed (%s) with one stderr line naming the Job, the reason, the message and the logs command', async (reason, message) => {
    // GIVEN a waiter on a running Job
    server.apply('jobs', NS, job());
    const waiter = startJobWaiter();
    await server.waitForWatches(1, 'jobs');
    // WHEN the Job fails
    server.setJobCondition(NS, JOB, 'Failed', reason, message);
    // THEN it exits 1 with one clear line on stderr
    expect(await waiter.exitCode()).toBe(1);
    const errors = waiter.stderr.trim().split('\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`Job ${NS}/${JOB} failed (${reason}: ${message})`);
    expect(errors[0]).toContain(`kubectl logs -n ${NS} job/${JOB} -c migrate`);
  });

  test('names the migration container from MIGRATION_CONTAINER in the logs command', async () => {
    server.apply('jobs', NS, job());
    server.setJobCondition(NS, JOB, 'Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    const waiter = startJobWaiter({ MIGRATION_CONTAINER: 'flyway' });
    expect(await waiter.exitCode()).toBe(1);
    expect(waiter.stderr).toContain(`kubectl logs -n ${NS} job/${JOB} -c flyway`);
  });

  test('exits 1 on FailureTarget, which comes before Failed while the failed pods terminate', async () => {
    server.apply('jobs', NS, job());
    const waiter = startJobWaiter();
    await server.waitForWatches(1, 'jobs');
    server.setJobCondition(NS, JOB, 'FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    expect(await waiter.exitCode()).toBe(1);
    expect(waiter.stderr).toContain('BackoffLimitExceeded');
  });

  test('a Job that does not exist yet: says so, keeps waiting, and goes on when it appears and completes', async () => {
    // GIVEN no Job yet (an engine applied the Deployment first) and a ledger without its record
    server.apply('configmaps', NS, ledger());
    const waiter = startJobWaiter();
    await waiter.output(/does not exist \(yet\); waiting for it/);
    await server.waitForWatches(1, 'jobs');
    expect(waiter.running).toBe(true);
    expect(waiter.stdout).toContain(`ledger ConfigMap ${NS}/${LEDGER} has no record of its success`);
    // WHEN the Job is created, then completes
    server.apply('jobs', NS, job());
    await waiter.output(/now exists/);
    expect(waiter.running).toBe(true);
    server.setJobCondition(NS, JOB, 'Complete');
    // THEN it exits 0, having seen both through the one watch
    expect(await waiter.exitCode()).toBe(0);
    expect(server.count('list', 'jobs')).toBe(1);
    expect(server.count('watch', 'jobs')).toBe(1);
  });

  test('a Job gone but recorded in the ledger: exits 0 and says when it succeeded', async () => {
    // GIVEN the Job was deleted (TTL, prune) after the ledger recorded its success
    server.apply('configmaps', NS, ledger({ [JOB]: JSON.stringify({ succeededAt: '2026-11-20T10:00:00.000Z' }) }));
    // WHEN a pod of that release starts
    const waiter = startJobWaiter();
    // THEN it starts, reading the ledger once by name
    expect(await waiter.exitCode()).toBe(0);
    expect(waiter.stdout).toContain(`Job ${NS}/${JOB} does not exist, but ledger ConfigMap ${NS}/${LEDGER} records its success at 2026-11-20T10:00:00.000Z`);
    expect(server.requests.filter((r) => r.resource === 'configmaps').map((r) => `${r.verb} ${r.name}`)).toEqual([`get ${LEDGER}`]);
  });

  test('a Job gone without evidence: keeps waiting, re-reads the ledger now and then, and exits 0 once it records success', async () => {
    // GIVEN no Job and a ledger recording only another release
    server.apply('configmaps', NS, ledger({ 'web-migration-old': JSON.stringify({ succeededAt: '2026-11-01T10:00:00.000Z' }) }));
    const waiter = startJobWaiter({ WAITER_RECHECK_SECONDS: '1' });
    await waiter.output(/has no record of its success/);
    // WHEN it re-checks
    await until('a second ledger read', () => server.count('get', 'configmaps') >= 2);
    expect(waiter.running).toBe(true);
    // AND the ledger then records this Job's success
    server.apply('configmaps', NS, ledger({ [JOB]: JSON.stringify({ succeededAt: '2026-11-24T10:00:00.000Z' }) }));
    // THEN it exits 0
    expect(await waiter.exitCode()).toBe(0);
    expect(waiter.stdout).toContain('records its success at 2026-11-24T10:00:00.000Z');
  });

  test.each([
    ['does not exist', () => undefined, 'does not exist, so no evidence'],
    ['is forbidden', () => server.tokens.set(TOKEN, JOB_RULES.slice(0, 1)), 'HTTP 403 Forbidden'],
    ['is unset', () => undefined, 'no ledger configured'],
  ])('a missing Job and a ledger that %s: no evidence, logged, and it keeps waiting', async (what, arrange, logged) => {
    arrange();
    const waiter = startJobWaiter(what === 'is unset' ? { MIGRATION_LEDGER: '' } : SHORT_GRACE);
    await waiter.output(/does not exist \(yet\)/);
    await server.waitForWatches(1, 'jobs');
    expect(waiter.stdout).toContain(logged);
    expect(waiter.running).toBe(true);
  });

  test('a missing Job is not reported more often than the re-check period', async () => {
    const waiter = startJobWaiter();
    await server.waitForWatches(1, 'jobs');
    await sleep(1500);
    expect(waiter.lines.filter((line) => line.includes('does not exist'))).toHaveLength(1);
    expect(server.count('get', 'configmaps')).toBe(1);
  });

  test('403 on the Job: exits 1 naming the verbs, the resource and the name the service account needs', async () => {
    // GIVEN a Role for another Job only
    server.tokens.set(TOKEN, [{ apiGroups: ['batch'], resources: ['jobs'], resourceNames: ['other-job'], verbs: ['list', 'watch'] }]);
    const waiter = startJobWaiter(SHORT_GRACE);
    expect(await waiter.exitCode()).toBe(1);
    expect(waiter.stderr).toContain(`jobs.batch "${JOB}" is forbidden`);
    expect(waiter.stderr).toContain(`needs list and watch on jobs (API group batch) named ${JOB} in namespace ${NS}`);
    expect(waiter.stderr).toContain('automountServiceAccountToken: true');
  });

  test('403 when only the WATCH is forbidden: exits 1 too', async () => {
    server.apply('jobs', NS, job());
    server.tokens.set(TOKEN, [{ apiGroups: ['batch'], resources: ['jobs'], resourceNames: [JOB], verbs: ['list'] }]);
    const waiter = startJobWaiter(SHORT_GRACE);
    expect(await waiter.exitCode()).toBe(1);
    expect(waiter.stderr).toContain('cannot watch resource "jobs"');
  });

  test('a rule with resourceNames is what makes the LIST legal: without the name in the selector it is 403', async () => {
    // This proves the fake server authorizes like the real one, on which the waiter's least-privilege RBAC relies.
    server.apply('jobs', NS, job());
    const waiter = startJobWaiter({ MIGRATION_JOB: 'web-migration-other', ...SHORT_GRACE });
    expect(await waiter.exitCode()).toBe(1);
    expect(waiter.stderr).toContain('cannot list resource "jobs" in API group "batch"');
  });

  test('401: exits 1 saying the token was rejected and must be mounted', async () => {
    writeFileSync(join(dir, 'token'), 'expired-token');
    const waiter = startJobWaiter(SHORT_GRACE);
    expect(await waiter.exitCode()).toBe(1);
    expect(waiter.stderr).toContain('401 Unauthorized');
    expect(waiter.stderr).toContain('token must be mounted');
  });

  test('an empty token file: the real server answers 403 as system:anonymous, and the waiter says no credentials were sent', async () => {
    // GIVEN a token file that is empty: the request carries no token at all
    server.apply('jobs', NS, job());
    writeFileSync(join(dir, 'token'), '');
    // WHEN the waiter runs out of its grace window
    const waiter = startJobWaiter(SHORT_GRACE);
    // THEN it blames the missing token, not the Role
    expect(await waiter.exitCode()).toBe(1);
    expect(waiter.stderr).toContain('saw no credentials');
    expect(waiter.stderr).toContain('User "system:anonymous"');
    expect(waiter.stderr).not.toContain('needs list and watch');
  });

  test('re-reads the token on every connection, since bound tokens rotate', async () => {
    server.apply('jobs', NS, job());
    const waiter = startJobWaiter();
    await server.waitForWatches(1, 'jobs');
    // WHEN the kubelet rotates the token and the watch is cut
    writeFileSync(join(dir, 'token'), 'rotated-token');
    server.tokens.set('rotated-token', JOB_RULES);
    server.tokens.delete(TOKEN);
    server.dropWatches();
    await until('a watch with the new token', () => server.requests.some((r) => r.verb === 'watch' && r.token === 'rotated-token'));
    server.setJobCondition(NS, JOB, 'Complete');
    expect(await waiter.exitCode()).toBe(0);
  });

  test('a server that drops every watch: reconnects about once a second, never in a busy loop, and still sees Complete', async () => {
    // GIVEN a server that cuts each watch 50 ms after it opens
    server.apply('jobs', NS, job());
    server.dropWatchesAfterMs = 50;
    const waiter = startJobWaiter();
    await server.waitForWatches(1, 'jobs');
    // WHEN 4 seconds pass
    await sleep(4000);
    // THEN it reconnected about once a second (0.5-1.5 s apart): a busy loop would make hundreds
    const watches = server.count('watch', 'jobs');
    expect(watches).toBeGreaterThanOrEqual(2);
    expect(watches).toBeLessThanOrEqual(6);
    expect(waiter.stderr).toMatch(/jobs web-migration-4f2a9c: ECONNRESET.*retrying/);
    // AND once the server behaves, it resumes from the last resourceVersion (no new LIST) and sees Complete
    server.dropWatchesAfterMs = undefined;
    server.setJobCondition(NS, JOB, 'Complete');
    expect(await waiter.exitCode()).toBe(0);
    expect(server.count('list', 'jobs')).toBe(1);
  });

  test('a server that answers 503 or resets connections: retries about once a second', async () => {
    server.apply('jobs', NS, job());
    let served = 0;
    server.interceptor = () => (++served % 2 === 0 ? 'reset' : 503);
    const waiter = startJobWaiter();
    await sleep(3000);
    expect(server.count()).toBeGreaterThanOrEqual(2);
    expect(server.count()).toBeLessThanOrEqual(5);
    expect(waiter.stderr).toContain('HTTP 503');
    server.interceptor = undefined;
    server.setJobCondition(NS, JOB, 'Complete');
    expect(await waiter.exitCode()).toBe(0);
  });

  test('an API server restart (refused, then 403 for a moment, then a new resourceVersion history): rides it out and sees Complete', async () => {
    // GIVEN a waiter watching a running Job
    server.apply('jobs', NS, job());
    const waiter = startJobWaiter();
    await server.waitForWatches(1, 'jobs');
    // WHEN the API server restarts
    await server.restart(RESTART);
    // THEN it retried during the moment of 403s (it does not sleep through the restart) and did not exit
    expect(deniedWhileStarting()).toContain(`watch jobs ${JOB}`);
    expect(waiter.running).toBe(true);
    // AND it LISTs again, since its resourceVersion is from before the restart (410), and watches
    await until('a second LIST', () => server.count('list', 'jobs') >= 2);
    await server.waitForWatches(1, 'jobs');
    // WHEN the Job then completes
    server.setJobCondition(NS, JOB, 'Complete');
    // THEN it exits 0
    expect(await waiter.exitCode()).toBe(0);
    // AND it logged each problem once, not once per attempt, and that the server answers again
    expect(linesWith(waiter, 'ECONNREFUSED')).toHaveLength(1);
    expect(linesWith(waiter, 'HTTP 403')).toHaveLength(1);
    expect(linesWith(waiter, 'HTTP 403')[0]).toContain('retrying about once a second');
    expect(linesWith(waiter, 'answers again')).toHaveLength(1);
  });

  test('a Job that is gone and an API server restart while reading the ledger: retries the ledger and starts', async () => {
    // GIVEN a gone Job whose success the ledger records, and an API server that is restarting
    server.apply('configmaps', NS, ledger({ [JOB]: JSON.stringify({ succeededAt: '2026-11-20T10:00:00.000Z' }) }));
    let restarted: Promise<void> | undefined;
    server.interceptor = (request) => {
      if (request.resource === 'configmaps' && !restarted) {
        restarted = server.restart(RESTART);
        return 'reset';
      }
      return undefined;
    };
    // WHEN a pod of that release starts
    const waiter = startJobWaiter();
    // THEN it rides out the restart and starts on the ledger's evidence, never concluding "no evidence"
    expect(await waiter.exitCode()).toBe(0);
    await restarted;
    expect(waiter.stdout).toContain('records its success at 2026-11-20T10:00:00.000Z');
    expect(waiter.lines.filter((line) => line.includes('no evidence'))).toEqual([]);
  });

  test.each([401, 403])('%s that clears within the grace window: logged once, keeps waiting, then sees Complete', async (status) => {
    // GIVEN a waiter watching a running Job
    server.apply('jobs', NS, job());
    const waiter = startJobWaiter();
    await server.waitForWatches(1, 'jobs');
    // WHEN its watch is cut and the server answers with status for a few attempts
    server.interceptor = () => status;
    server.dropWatches();
    await until('three denied attempts', () => server.count('watch', 'jobs') >= 4);
    server.interceptor = undefined;
    await server.waitForWatches(1, 'jobs');
    server.setJobCondition(NS, JOB, 'Complete');
    // THEN it exits 0, having logged the denial once
    expect(await waiter.exitCode()).toBe(0);
    expect(linesWith(waiter, `HTTP ${status}`)).toHaveLength(1);
  });

  test('a 403 that outlasts WAITER_GRACE_SECONDS after the last good answer is final: exits 1 with the usual message', async () => {
    server.apply('jobs', NS, job());
    const waiter = startJobWaiter({ WAITER_GRACE_SECONDS: '2' });
    await server.waitForWatches(1, 'jobs');
    // WHEN the Role loses the Job for good
    server.tokens.set(TOKEN, []);
    server.dropWatches();
    // THEN it exits 1 after retrying for the grace window, with the message a 403 always had
    expect(await waiter.exitCode()).toBe(1);
    expect(server.count('watch', 'jobs')).toBeGreaterThanOrEqual(3);
    expect(waiter.stderr).toContain(`forbidden to read Job ${NS}/${JOB} (403: jobs.batch "${JOB}" is forbidden`);
  });

  test('makes no request at all while an open watch sees nothing change', async () => {
    server.apply('jobs', NS, job());
    const waiter = startJobWaiter();
    await server.waitForWatches(1, 'jobs');
    const before = server.count();
    await sleep(3000);
    expect(server.count()).toBe(before);
    expect(waiter.running).toBe(true);
  });

  test('renews a watch the server ended at its timeoutSeconds from the same resourceVersion, without a new LIST', async () => {
    // GIVEN watches that last one second
    server.apply('jobs', NS, job());
    const waiter = startJobWaiter({ WAITER_WATCH_SECONDS: '1' });
    await until('three watches', () => server.count('watch', 'jobs') >= 3);
    // AND bookmarks along the way
    server.sendBookmarks();
    // THEN one LIST only, and it still sees Complete
    server.setJobCondition(NS, JOB, 'Complete');
    expect(await waiter.exitCode()).toBe(0);
    expect(server.count('list', 'jobs')).toBe(1);
    expect(waiter.stderr).toBe('');
  });

  test('410 Gone (a compacted resourceVersion): LISTs again and carries on', async () => {
    // GIVEN a waiter whose resourceVersion has since been compacted away
    server.apply('jobs', NS, job());
    const waiter = startJobWaiter();
    await server.waitForWatches(1, 'jobs');
    server.apply('configmaps', NS, ledger());
    server.compact();
    // WHEN its watch is cut and it reconnects from that version
    server.dropWatches();
    await until('a second LIST', () => server.count('list', 'jobs') === 2);
    await server.waitForWatches(1, 'jobs');
    server.setJobCondition(NS, JOB, 'Complete');
    // THEN it exits 0
    expect(await waiter.exitCode()).toBe(0);
  });

  test('keeps nothing across runs: after a failure, a re-created Job that succeeds lets the next run through', async () => {
    // GIVEN a first run that saw the Job fail
    server.apply('jobs', NS, job());
    server.setJobCondition(NS, JOB, 'Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
    expect(await startJobWaiter().exitCode()).toBe(1);
    // WHEN the Job is deleted and re-created, and the kubelet restarts the waiter
    server.delete('jobs', NS, JOB);
    server.apply('jobs', NS, job());
    const second = startJobWaiter();
    await server.waitForWatches(1, 'jobs');
    server.setJobCondition(NS, JOB, 'Complete');
    // THEN the new run exits 0
    expect(await second.exitCode()).toBe(0);
  });

  test('SIGTERM ends it at once: as PID 1 it would otherwise be ignored until the grace period ends', async () => {
    server.apply('jobs', NS, job());
    const waiter = startJobWaiter();
    await server.waitForWatches(1, 'jobs');
    waiter.child.kill('SIGTERM');
    // An exit code (not a signal) shows its own handler ran, which is what PID 1 needs.
    expect(await waiter.exited).toEqual({ code: 143, signal: null });
  });

  test('runs from the file too: `node waiter/migration-waiter.js job`', async () => {
    server.apply('jobs', NS, job());
    server.setJobCondition(NS, JOB, 'Complete');
    const waiter = start('job', { MIGRATION_JOB: JOB }, [join(__dirname, '..', 'waiter', 'migration-waiter.js'), 'job']);
    expect(await waiter.exitCode()).toBe(0);
  });
});

describe('configuration errors exit 2 with a clear message', () => {
  test.each([
    ['an unknown mode', 'wait', {}, 'unknown mode "wait"'],
    ['no API server address', 'job', { KUBERNETES_SERVICE_HOST: '', MIGRATION_JOB: JOB }, 'KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set'],
    ['no token', 'job', { WAITER_TOKEN_FILE: '/nonexistent/token', MIGRATION_JOB: JOB }, 'automountServiceAccountToken: true'],
    ['no Job name', 'job', {}, 'MIGRATION_JOB is not set'],
    ['a CronJob among the workloads', 'rollout', { RELEASE_MIGRATION_JOB: JOB, ROLLOUT_WORKLOADS: '[{"kind":"CronJob","name":"report"}]' }, 'ROLLOUT_WORKLOADS must be a JSON array'],
    ['an empty ledger size', 'record', { MIGRATION_JOB: JOB, MIGRATION_LEDGER: LEDGER, LEDGER_MAX_ENTRIES: '0' }, 'LEDGER_MAX_ENTRIES must be a whole number >= 1, got "0"'],
    ['a wait that is not a number', 'record', { MIGRATION_JOB: JOB, MIGRATION_LEDGER: LEDGER, LEDGER_WAIT_SECONDS: '2m' }, 'LEDGER_WAIT_SECONDS must be a whole number >= 0'],
  ])('%s', async (_what, mode, env, message) => {
    const waiter = start(mode, env);
    expect(await waiter.exitCode()).toBe(2);
    expect(waiter.stderr).toContain(message);
    expect(server.count()).toBe(0);
  });
});

describe('record mode', () => {
  const startRecorder = (env: Record<string, string> = {}) => start('record', { MIGRATION_JOB: JOB, MIGRATION_LEDGER: LEDGER, MIGRATION_IMAGE: 'registry.example.com/web:v2', ...env });
  const entry = (data: Record<string, string>, key: string) => JSON.parse(data[key]);

  test('records the success with its time and image, and keeps keys that are not ledger entries', async () => {
    // GIVEN a ledger holding one entry and a key of someone else's
    server.apply('configmaps', NS, ledger({ 'web-migration-old': JSON.stringify({ succeededAt: '2026-11-01T10:00:00.000Z' }), 'owner-notes': 'hands off' }));
    // WHEN the migration Job's pod records its success
    const recorder = startRecorder();
    expect(await recorder.exitCode()).toBe(0);
    // THEN the ledger has this Job's entry, and the rest untouched
    const data = server.get('configmaps', NS, LEDGER).data;
    expect(entry(data, JOB)).toEqual({ succeededAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/), image: 'registry.example.com/web:v2' });
    expect(data['owner-notes']).toBe('hands off');
    expect(data['web-migration-old']).toBeDefined();
    expect(recorder.stdout).toContain(`recorded the success of Job ${NS}/${JOB}`);
    expect(server.requests.map((r) => `${r.verb} ${r.resource} ${r.name}`)).toEqual([`get configmaps ${LEDGER}`, `update configmaps ${LEDGER}`]);
  });

  test('keeps at most LEDGER_MAX_ENTRIES entries, dropping the oldest', async () => {
    // GIVEN four older entries, out of order, and two keys that are not entries
    server.apply('configmaps', NS, ledger({
      'web-migration-a': JSON.stringify({ succeededAt: '2026-11-04T00:00:00.000Z' }),
      'web-migration-b': JSON.stringify({ succeededAt: '2026-11-01T00:00:00.000Z' }),
      'web-migration-c': JSON.stringify({ succeededAt: '2026-11-03T00:00:00.000Z' }),
      'web-migration-d': JSON.stringify({ succeededAt: '2026-11-02T00:00:00.000Z' }),
      'not-an-entry': 'plain text',
      'Settings.json': JSON.stringify({ succeededAt: '2000-01-01T00:00:00.000Z' }),
    }));
    // WHEN a success is recorded with a limit of 3
    expect(await startRecorder({ LEDGER_MAX_ENTRIES: '3' }).exitCode()).toBe(0);
    // THEN this entry and the two newest remain, and the other keys are untouched
    expect(Object.keys(server.get('configmaps', NS, LEDGER).data).sort()).toEqual(
      ['Settings.json', JOB, 'not-an-entry', 'web-migration-a', 'web-migration-c'].sort());
  });

  test('retries on 409 Conflict, keeping the concurrent writer\'s change', async () => {
    // GIVEN another writer that updates the ledger between the recorder's GET and PUT, twice
    server.apply('configmaps', NS, ledger());
    let conflicts = 0;
    server.interceptor = (request) => {
      if (request.verb === 'update' && conflicts < 2) {
        conflicts += 1;
        server.apply('configmaps', NS, ledger({ ...server.get('configmaps', NS, LEDGER).data, [`api-migration-${conflicts}`]: JSON.stringify({ succeededAt: '2026-11-23T00:00:00.000Z' }) }));
      }
      return undefined;
    };
    // WHEN it records
    const recorder = startRecorder();
    // THEN it succeeds on the third PUT, and both writers' entries are there
    expect(await recorder.exitCode()).toBe(0);
    expect(server.count('update', 'configmaps')).toBe(3);
    expect(Object.keys(server.get('configmaps', NS, LEDGER).data).sort()).toEqual(['api-migration-1', 'api-migration-2', JOB]);
  });

  test('waits for a ledger that does not exist yet (a pre-install hook runs first), then records', async () => {
    const recorder = startRecorder({ LEDGER_WAIT_SECONDS: '30' });
    await recorder.output(/does not exist yet/);
    server.apply('configmaps', NS, ledger());
    expect(await recorder.exitCode()).toBe(0);
    expect(entry(server.get('configmaps', NS, LEDGER).data, JOB).succeededAt).toBeDefined();
  });

  test('gives up on a ledger that never appears after LEDGER_WAIT_SECONDS: exit 0 with a WARNING', async () => {
    const recorder = startRecorder({ LEDGER_WAIT_SECONDS: '1' });
    expect(await recorder.exitCode()).toBe(0);
    expect(recorder.stderr).toContain('WARNING: could not record');
    expect(recorder.stderr).toContain('LEDGER_WAIT_SECONDS=1');
    expect(recorder.stderr).toContain('The migration succeeded');
    // (a GET, the create its Role refuses, then at most two more GETs in that second)
    expect(server.count('get', 'configmaps')).toBeLessThanOrEqual(4);
    expect(server.count('create', 'configmaps')).toBe(1);
  });

  test('creates a missing ledger with its entry when its Role allows create (a Helm or Argo CD hook Job on a first install)', async () => {
    // GIVEN no ledger, and the recorder's Role under a hook engine, which adds create
    server.tokens.set(TOKEN, [...RECORD_RULES, CREATE_CONFIG_MAPS]);
    // WHEN it records
    const recorder = startRecorder();
    // THEN it creates the ledger at once, holding its entry, and exits 0
    expect(await recorder.exitCode()).toBe(0);
    expect(recorder.stdout).toContain(`created ledger ConfigMap ${NS}/${LEDGER} and recorded the success of Job ${NS}/${JOB}`);
    expect(entry(server.get('configmaps', NS, LEDGER).data, JOB)).toMatchObject({ image: 'registry.example.com/web:v2' });
    expect(server.count('create', 'configmaps')).toBe(1);
    expect(server.count('update', 'configmaps')).toBe(0);
  });

  test('a ledger created by another writer between its GET and its create: records into that one, keeping its entries', async () => {
    // GIVEN no ledger, and another recorder that creates it just before this one does
    server.tokens.set(TOKEN, [...RECORD_RULES, CREATE_CONFIG_MAPS]);
    server.interceptor = (info) => {
      if (info.verb === 'create') server.apply('configmaps', NS, ledger({ 'api-migration-1': JSON.stringify({ succeededAt: '2026-11-20T10:00:00.000Z' }) }));
      return undefined;
    };
    // WHEN it records
    const recorder = startRecorder();
    // THEN its create fails with 409, and it adds its entry to the other writer's ledger
    expect(await recorder.exitCode()).toBe(0);
    expect(Object.keys(server.get('configmaps', NS, LEDGER).data).sort()).toEqual(['api-migration-1', JOB]);
    expect(server.count('update', 'configmaps')).toBe(1);
  });

  test('an API server restart while it records: rides it out and records, with no WARNING', async () => {
    // GIVEN the ledger, and an API server that goes down as the recorder starts
    server.apply('configmaps', NS, ledger());
    const restarted = server.restart(RESTART);
    // WHEN the migration Job's pod records its success
    const recorder = startRecorder();
    await restarted;
    // THEN it retried during the moment of 403s, and recorded once the server served again
    expect(deniedWhileStarting()).toContain(`get configmaps ${LEDGER}`);
    expect(await recorder.exitCode()).toBe(0);
    expect(entry(server.get('configmaps', NS, LEDGER).data, JOB).succeededAt).toBeDefined();
    expect(recorder.stderr).not.toContain('WARNING');
    expect(linesWith(recorder, 'ECONNREFUSED')).toHaveLength(1);
    expect(linesWith(recorder, 'HTTP 403')).toHaveLength(1);
  });

  test('403: exit 0 with a WARNING naming the permission it lacks', async () => {
    server.apply('configmaps', NS, ledger());
    server.tokens.set(TOKEN, [{ apiGroups: [''], resources: ['configmaps'], resourceNames: [LEDGER], verbs: ['get'] }]);
    const recorder = startRecorder(SHORT_GRACE);
    expect(await recorder.exitCode()).toBe(0);
    expect(recorder.stderr).toContain('WARNING');
    expect(recorder.stderr).toContain(`needs get and update on configmaps named ${LEDGER}`);
    expect(server.get('configmaps', NS, LEDGER).data).toEqual({});
  });
});

describe('rollout mode', () => {
  const RELEASE = JOB;
  const PREVIOUS = 'web-migration-1b7e03';
  const ROLLOUT_RULES: RbacRule[] = [
    { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['web'], verbs: ['list', 'watch'] },
    { apiGroups: ['apps'], resources: ['statefulsets'], resourceNames: ['cache'], verbs: ['list', 'watch'] },
    { apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: ['agent'], verbs: ['list', 'watch'] },
  ];
  const gatedTemplate = (release: string) => ({
    spec: {
      initContainers: [{ name: 'wait-for-migration', image: 'node:24.11.0-alpine3.22', env: [{ name: 'MIGRATION_JOB', value: release }] }],
      containers: [{ name: 'app', image: 'web:v2' }],
    },
  });
  const deployment = (status: KubeObject, release = RELEASE, replicas = 4): KubeObject =>
    ({ metadata: { name: 'web' }, spec: { replicas, template: gatedTemplate(release) }, status: { observedGeneration: 1, ...status } });
  const DONE = { updatedReplicas: 4, replicas: 4, availableReplicas: 4, readyReplicas: 4 };
  const startRollout = (workloads: object[], env: Record<string, string> = {}) =>
    start('rollout', { RELEASE_MIGRATION_JOB: RELEASE, ROLLOUT_WORKLOADS: JSON.stringify(workloads), ...env });
  const WEB = { kind: 'Deployment', name: 'web' };

  beforeEach(() => server.tokens.set(TOKEN, ROLLOUT_RULES));

  test('exits 0 when every workload has rolled out this release', async () => {
    // GIVEN a Deployment, a StatefulSet and a DaemonSet, all rolled out
    server.apply('deployments', NS, deployment(DONE));
    server.apply('statefulsets', NS, {
      metadata: { name: 'cache' },
      spec: { replicas: 2, template: gatedTemplate(RELEASE) },
      status: { observedGeneration: 1, replicas: 2, readyReplicas: 2, updatedReplicas: 2, availableReplicas: 2, currentRevision: 'cache-7d9', updateRevision: 'cache-7d9' },
    });
    server.apply('daemonsets', NS, {
      metadata: { name: 'agent' },
      spec: { template: gatedTemplate(RELEASE) },
      status: { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 },
    });
    // WHEN the rollout waiter runs
    const waiter = startRollout([WEB, { kind: 'StatefulSet', name: 'cache' }, { kind: 'DaemonSet', name: 'agent' }]);
    // THEN it exits 0, each read by name
    expect(await waiter.exitCode()).toBe(0);
    expect(waiter.stdout).toContain(`every workload has rolled out release ${RELEASE}`);
    expect(server.requests.filter((r) => r.verb !== 'watch').map((r) => `${r.verb} ${r.resource} ${r.name}`).sort())
      .toEqual(['list daemonsets agent', 'list deployments web', 'list statefulsets cache']);
  });

  test('still rolling: keeps waiting and logs progress, then exits 0 on the watch event that completes it', async () => {
    // GIVEN a Deployment half way: 2 of 4 updated, 4 old pods still serving
    server.apply('deployments', NS, deployment({ updatedReplicas: 2, replicas: 6, availableReplicas: 4 }));
    const waiter = startRollout([WEB]);
    await waiter.output(/Deployment web: 2\/4 updated, 4 available, 6 total/);
    await server.waitForWatches(1, 'deployments');
    // WHEN the last old pod goes
    server.apply('deployments', NS, deployment({ updatedReplicas: 4, replicas: 5, availableReplicas: 4 }));
    await sleep(300);
    expect(waiter.running).toBe(true);
    server.apply('deployments', NS, deployment(DONE));
    // THEN it exits 0, having read through one LIST and one WATCH
    expect(await waiter.exitCode()).toBe(0);
    expect(server.count('list')).toBe(1);
    expect(server.count('watch')).toBe(1);
  });

  test('stuck behind a failed pre-deploy migration: never exits 0, and keeps saying where it stands', async () => {
    // GIVEN new pods stuck in Init (their migration failed) and the progress deadline passed
    server.apply('deployments', NS, deployment({
      updatedReplicas: 1,
      replicas: 5,
      availableReplicas: 4,
      unavailableReplicas: 1,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
    }));
    const waiter = startRollout([WEB], { WAITER_RECHECK_SECONDS: '1' });
    // WHEN time passes
    await until('three progress lines', () => waiter.lines.filter((l) => l.includes('1/4 updated')).length >= 3);
    // THEN it still waits, saying why
    expect(waiter.running).toBe(true);
    expect(waiter.stdout).toContain('ProgressDeadlineExceeded');
    expect(server.count('list')).toBe(1);
  });

  test('the previous release\'s pod template, fully rolled out: keeps waiting', async () => {
    server.apply('deployments', NS, deployment(DONE, PREVIOUS));
    const waiter = startRollout([WEB], { WAITER_RECHECK_SECONDS: '1' });
    await waiter.output(/not this release's yet/);
    await server.waitForWatches(1, 'deployments');
    expect(waiter.running).toBe(true);
    // AND when this release's template arrives and rolls out, it exits 0
    server.apply('deployments', NS, { ...deployment(DONE), status: { ...DONE, observedGeneration: 1 } });
    await waiter.output(/has not yet observed generation 2/);
    server.apply('deployments', NS, { ...deployment(DONE), status: { ...DONE, observedGeneration: 2 } });
    expect(await waiter.exitCode()).toBe(0);
  });

  test('a workload deleted during the wait: keeps waiting and says so', async () => {
    server.apply('deployments', NS, deployment({ updatedReplicas: 2, replicas: 6, availableReplicas: 4 }));
    const waiter = startRollout([WEB], { WAITER_RECHECK_SECONDS: '1' });
    await server.waitForWatches(1, 'deployments');
    server.delete('deployments', NS, 'web');
    await waiter.output(/Deployment web: does not exist \(yet\)/);
    expect(waiter.running).toBe(true);
  });

  test('StatefulSet: waits for currentRevision to reach updateRevision, except under OnDelete', async () => {
    const statefulSet = (strategy: string, currentRevision: string, observedGeneration: number) => ({
      metadata: { name: 'cache' },
      spec: { replicas: 2, updateStrategy: { type: strategy }, template: gatedTemplate(RELEASE) },
      status: { observedGeneration, replicas: 2, readyReplicas: 2, updatedReplicas: 2, availableReplicas: 2, currentRevision, updateRevision: 'cache-new' },
    });
    server.apply('statefulsets', NS, statefulSet('RollingUpdate', 'cache-old', 1));
    const waiter = startRollout([{ kind: 'StatefulSet', name: 'cache' }]);
    await waiter.output(/revision cache-old -> cache-new/);
    expect(waiter.running).toBe(true);
    server.apply('statefulsets', NS, statefulSet('OnDelete', 'cache-old', 2));
    expect(await waiter.exitCode()).toBe(0);
  });

  test('403: exits 1 naming what the service account needs', async () => {
    server.tokens.set(TOKEN, ROLLOUT_RULES.slice(1));
    const waiter = startRollout([WEB], SHORT_GRACE);
    expect(await waiter.exitCode()).toBe(1);
    expect(waiter.stderr).toContain(`needs list and watch on deployments (API group apps) named web in namespace ${NS}`);
  });

  describe('the rule per kind, with counters missing from the status counted as 0', () => {
    const { rolloutProgress } = waiterModule();
    const at = (kind: string, spec: KubeObject, status: KubeObject) =>
      rolloutProgress(kind, 'w', { metadata: { generation: 3 }, spec: { ...spec, template: gatedTemplate(RELEASE) }, status: { observedGeneration: 3, ...status } }, RELEASE);
    test.each([
      ['Deployment, replicas defaulting to 1', 'Deployment', {}, { updatedReplicas: 1, replicas: 1, availableReplicas: 1 }, true],
      ['Deployment with no status counters yet', 'Deployment', { replicas: 2 }, {}, false],
      ['Deployment scaled to 0', 'Deployment', { replicas: 0 }, {}, true],
      ['Deployment with an old pod left', 'Deployment', { replicas: 2 }, { updatedReplicas: 2, replicas: 3, availableReplicas: 2 }, false],
      ['Deployment with an updated pod not yet available', 'Deployment', { replicas: 2 }, { updatedReplicas: 2, replicas: 2, availableReplicas: 1 }, false],
      ['Deployment whose controller lags a generation', 'Deployment', {}, { observedGeneration: 2, updatedReplicas: 1, replicas: 1, availableReplicas: 1 }, false],
      ['DaemonSet done', 'DaemonSet', {}, { desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 }, true],
      ['DaemonSet with a pod unavailable', 'DaemonSet', {}, { desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3, numberUnavailable: 1 }, false],
      ['DaemonSet with an old pod', 'DaemonSet', {}, { desiredNumberScheduled: 3, updatedNumberScheduled: 2, numberAvailable: 3 }, false],
      ['StatefulSet not ready', 'StatefulSet', { replicas: 2 },
        { replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 1, currentRevision: 'r2', updateRevision: 'r2' }, false],
      ['StatefulSet partitioned (revisions differ)', 'StatefulSet', { replicas: 2, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } },
        { replicas: 2, updatedReplicas: 1, availableReplicas: 2, readyReplicas: 2, currentRevision: 'r1', updateRevision: 'r2' }, false],
    ])('%s', (_what, kind, spec, status, done) => {
      expect(at(kind, spec, status).done).toBe(done);
    });
  });

  test('an API server restart: rides it out, and exits 0 once the rollout completes afterwards', async () => {
    // GIVEN a rollout in progress, watched
    server.apply('deployments', NS, deployment({ updatedReplicas: 2, replicas: 6, availableReplicas: 4 }));
    const waiter = startRollout([WEB]);
    await server.waitForWatches(1, 'deployments');
    // WHEN the API server restarts
    await server.restart(RESTART);
    // THEN it retried during the moment of 403s and keeps waiting
    expect(deniedWhileStarting()).toContain('watch deployments web');
    expect(waiter.running).toBe(true);
    await until('a second LIST', () => server.count('list', 'deployments') >= 2);
    await server.waitForWatches(1, 'deployments');
    // WHEN the rollout completes
    server.apply('deployments', NS, deployment(DONE));
    // THEN it exits 0, having logged each problem once
    expect(await waiter.exitCode()).toBe(0);
    expect(linesWith(waiter, 'ECONNREFUSED')).toHaveLength(1);
    expect(linesWith(waiter, 'HTTP 403')).toHaveLength(1);
  });

  test('unrestricted RBAC is not needed, but works', async () => {
    server.tokens.set(TOKEN, FULL_ACCESS);
    server.apply('deployments', NS, deployment(DONE));
    expect(await startRollout([WEB]).exitCode()).toBe(0);
  });
});
