/**
 * `cdk8s-migrated-service mcp` as an assistant uses it: the SDK's own client drives the real server
 * process over stdio, against the fake API server seeded as for doctor's tests, through a real
 * kubectl. One server serves every test, as one serves an assistant's whole session: each call
 * names its cluster with the `kubeconfig` argument, and a bad call never stops the next one.
 */
import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { FIXTURES } from './lint/support';
import { DoctorCluster, KUBECTL_DIR, USER_TOKEN } from './support/doctor-cluster';
import { CLI, NODE_ARGS, NODE_ENV, PACKAGE, REPO } from './support/from-sources';
import { McpSession, startMcp } from './support/mcp-client';
import { FakeApiServer } from '../../../test/support/fake-api-server';
import { PATTERN_EXAMPLE, named, synthesize } from '../../../test/support/manifests';
import { main } from '../src/cli';
import { version } from '../src/version';

jest.setTimeout(90_000);

const NS = 'shop';
const TOOLS = ['diagnose_release', 'lint_manifests', 'list_releases', 'migration_logs'];
const CLI_VERSION = version();
let mcp: McpSession;
let home: string;
let cluster: DoctorCluster;
let unreachable: string;

beforeAll(async () => {
  // The server's own kubeconfig (KUBECONFIG) points at a cluster that is gone: a call without the
  // kubeconfig argument finds no cluster.
  home = mkdtempSync(join(tmpdir(), 'mcp-'));
  const closed = await FakeApiServer.start();
  const port = closed.port;
  await closed.close();
  unreachable = join(home, 'unreachable-config');
  writeFileSync(unreachable, [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{name: gone, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]`,
    'users: [{name: user, user: {token: x}}]',
    'contexts: [{name: gone, context: {cluster: gone, user: user}}]',
    'current-context: gone',
    '',
  ].join('\n'));
  mcp = await startMcp({ PATH: process.env.PATH ?? '', HOME: home, KUBECONFIG: unreachable, KUBECTL: `${KUBECTL_DIR}/kubectl.1.32` });
});
afterAll(async () => {
  await mcp?.close();
  rmSync(home, { recursive: true, force: true });
});

beforeEach(async () => {
  cluster = await DoctorCluster.start(NS);
});
afterEach(async () => {
  // Whatever a test asked, the server only read, never a Secret, and wrote nothing but protocol to stdout.
  const requests = cluster.server.requests;
  expect(requests.filter((q) => !(q.verb === 'get' || q.verb === 'list' || (q.verb === 'create' && q.resource === 'subjectaccessreviews')))).toEqual([]);
  expect(requests.filter((q) => q.resource === 'secrets')).toEqual([]);
  expect(mcp.errors).toEqual([]);
  await cluster.close();
});

function release(tag: string) {
  const { service, manifests } = synthesize({ ...PATTERN_EXAMPLE, imageTag: tag });
  return { manifests, job: service.migration.jobName, deployment: named(manifests, 'Deployment', 'myapp') };
}

/** A release whose migration completed and whose pods rolled out. */
function healthy(tag: string) {
  const r = release(tag);
  cluster.seed(r.manifests);
  cluster.jobStatus(r.job, 'complete', { startedSecondsAgo: 300 });
  cluster.jobPod(r.job, 'done', 'applied 3 migrations\n');
  cluster.pods('myapp', 2, 'done');
  cluster.rollout('Deployment', 'myapp', { updated: 2, available: 2, total: 2 });
  return r;
}

interface ToolResult {
  readonly text: string;
  readonly structured: any;
  readonly isError: boolean;
}

/** Calls a tool on the cluster of this test (unless the arguments name another kubeconfig). */
async function call(name: string, args: Record<string, unknown> = {}, options: { cluster?: boolean } = {}): Promise<ToolResult> {
  const withCluster = options.cluster === false || name === 'lint_manifests' ? args : { namespace: NS, kubeconfig: cluster.kubeconfig, ...args };
  const result: any = await mcp.client.callTool({ name, arguments: withCluster });
  expect(result.content).toHaveLength(1);
  expect(result.content[0].type).toBe('text');
  return { text: result.content[0].text, structured: result.structuredContent, isError: result.isError === true };
}

/** doctor's JSON report without the clock's readings, which move between two runs. */
function steady(report: any): any {
  return JSON.parse(JSON.stringify(report, (key, value) => (key === 'ageSeconds' || key === 'version' ? undefined : value)));
}

describe('the tools an assistant sees', () => {
  test('four read-only tools, each with a description, an input schema that requires the namespace, and an output schema', async () => {
    // WHEN the client lists the tools
    const { tools } = await mcp.client.listTools();

    // THEN their names, annotations and schemas are the ones documented
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
    for (const tool of tools) {
      expect(tool.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, idempotentHint: true });
      expect(tool.description!.length).toBeGreaterThan(150);
      expect(tool.description).toContain('Read-only.');
      expect(tool.inputSchema).toMatchObject({ type: 'object', additionalProperties: false });
      expect(tool.outputSchema).toMatchObject({ type: 'object' });
    }
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    for (const name of ['list_releases', 'diagnose_release', 'migration_logs']) {
      expect(byName[name].inputSchema.required).toEqual(['namespace']);
      expect(Object.keys(byName[name].inputSchema.properties!)).toEqual(expect.arrayContaining(['namespace', 'context', 'kubeconfig']));
      expect((byName[name].inputSchema.properties as any).namespace).toMatchObject({ type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 });
    }
    const props = (name: string): any => byName[name].inputSchema.properties;
    expect(props('diagnose_release')).toMatchObject({
      release: { type: 'string' },
      job: { type: 'string' },
      last: { type: 'integer', default: 5, minimum: 1, maximum: 50 },
      logLines: { type: 'integer', default: 10, maximum: 200 },
      stuckAfter: { type: 'string', default: '10m' },
    });
    expect(props('migration_logs').lines).toMatchObject({ type: 'integer', default: 50, minimum: 1, maximum: 1000 });
    expect(props('list_releases').limit).toMatchObject({ type: 'integer', default: 20, maximum: 100 });
    expect(props('lint_manifests')).toMatchObject({
      yaml: { type: 'string' },
      paths: { type: 'array', items: { type: 'string' } },
      severity: { enum: ['error', 'warning', 'info'], default: 'warning' },
    });
    // lint reads no cluster: it asks for none, and says it does not reach outside.
    expect(byName.lint_manifests.inputSchema.required ?? []).toEqual([]);
    expect(byName.lint_manifests.annotations?.openWorldHint).toBe(false);
    expect((byName.diagnose_release.outputSchema as any).required).toEqual(expect.arrayContaining(['namespace', 'releases', 'found']));
  });

  test('mcp --help, a bad option, and the bin\'s usage naming mcp', async () => {
    const run = async (...args: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await main(args, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, readStdin: async () => '' });
      return { code, stdout, stderr };
    };
    const help = await run('mcp', '--help');
    const bad = await run('mcp', '--port', '8080');
    const usage = await run('--help');

    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: cdk8s-migrated-service mcp \[options\]/);
    expect(help.stdout).toContain(`{ "command": "npx", "args": ["-y", "cdk8s-migrated-service-cli@${CLI_VERSION}", "mcp"] }`);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('cdk8s-migrated-service mcp: unknown option --port\nRun "cdk8s-migrated-service mcp --help" for usage.\n');
    expect(usage.stdout).toMatch(/^ +cdk8s-migrated-service mcp \[options\] +\(doctor and lint as tools for an assistant/m);
  });

  test('the server says who it is, and logs to stderr only', async () => {
    expect(mcp.client.getServerVersion()).toMatchObject({ name: 'cdk8s-migrated-service' });
    expect(mcp.client.getInstructions()).toMatch(/list_releases .* diagnose_release .* migration_logs/);
    expect(mcp.stderr()).toMatch(/^cdk8s-migrated-service mcp: serving \S+ on stdio \(kubectl: \S+kubectl\.1\.32\)$/m);
  });
});

describe('a healthy, a failed and a waiting release', () => {
  test('healthy: OK in the list and in the diagnosis, whose structured content is doctor\'s JSON report', async () => {
    // GIVEN a completed migration whose pods rolled out
    const r = healthy('v2.0.0');

    // WHEN the assistant lists the releases, then diagnoses the one it found
    const list = await call('list_releases');
    const diagnosis = await call('diagnose_release', { release: list.structured.releases[0].tag });
    const doctor = await cluster.json('--release', 'v2.0.0');

    // THEN
    expect(list.isError).toBe(false);
    expect(list.structured).toMatchObject({ namespace: NS, found: 1, releases: [{ job: r.job, tag: 'v2.0.0', verdict: 'OK', next: 'nothing to do', stuck: false, migration: { state: 'Complete' } }] });
    expect(list.text).toMatch(new RegExp(`^OK +${r.job} \\(release v2\\.0\\.0\\), Job Complete 20s: the migration is Complete \\(took 20s\\); Deployment myapp 2/2 available\\. next: nothing to do$`, 'm'));
    expect(diagnosis.isError).toBe(false);
    expect(diagnosis.text).toContain('why:  the migration is Complete (took 20s); Deployment myapp 2/2 available');
    expect(diagnosis.text).toContain('next: nothing to do');
    expect(diagnosis.structured.tool).toBe('cdk8s-migrated-service doctor');
    expect(steady(diagnosis.structured)).toEqual(steady(doctor.report));
  });

  test('failed: FAILED with the reason and the command, and migration_logs gives the log, bounded by lines', async () => {
    // GIVEN the release's Job failed and its pods crash-loop in Init
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'failed', { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    cluster.jobPod(r.job, 'failed', 'applying 0042_add_index\nERROR: relation "orders" does not exist\n');
    cluster.pods('myapp', 2, 'crashing', { waiterLog: `migration-waiter: Job shop/${r.job} failed (BackoffLimitExceeded: …); not starting` });

    // WHEN
    const diagnosis = await call('diagnose_release', { job: r.job });
    const logs = await call('migration_logs', { release: 'v2.0.0' });
    const last = await call('migration_logs', { job: r.job, lines: 1 });

    // THEN the verdict, its reason and the next command, as doctor gives them
    const [rel] = diagnosis.structured.releases;
    expect(rel).toMatchObject({ verdict: 'FAILED', job: r.job, reason: 'the migration failed (BackoffLimitExceeded: Job has reached the specified backoff limit)' });
    expect(rel.next).toBe(`kubectl logs -n shop job/${r.job} -c migrate; fix the migration and ship a new tag, or re-create this Job`);
    expect(rel.migration.log).toEqual(['applying 0042_add_index', 'ERROR: relation "orders" does not exist']);
    expect(diagnosis.text).toMatch(/^FAILED +shop\/myapp-migration-v2-0-0-\w+ +\(release v2\.0\.0\)$/m);
    // AND the log, from the migration container of the Job's pod
    expect(logs.isError).toBe(false);
    expect(logs.structured).toMatchObject({ job: r.job, tag: 'v2.0.0', state: 'Failed', container: 'migrate', truncated: false, lines: ['applying 0042_add_index', 'ERROR: relation "orders" does not exist'] });
    expect(logs.text).toMatch(/^Log of container migrate of pod \S+, Job shop\/myapp-migration-v2-0-0-\w+ \(release v2\.0\.0\), Failed: last 2 lines \(lines asked: 50\)\.\napplying 0042_add_index\nERROR: relation "orders" does not exist\n$/);
    expect(last.structured.lines).toEqual(['ERROR: relation "orders" does not exist']);
    const tails = cluster.server.requests.filter((q) => q.resource === 'pods/log');
    expect(tails.length).toBeGreaterThanOrEqual(2);
  });

  test('waiting: WAITING, stuck past stuckAfter and not within it; the log shows what it waits on', async () => {
    // GIVEN a migration running for 20 minutes and a pod waiting in Init:0/1
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'running', { startedSecondsAgo: 1200 });
    cluster.jobPod(r.job, 'running', 'waiting for advisory lock 72707369\n');
    cluster.pods('myapp', 1, 'waiting', { ageSeconds: 1190, waiterLog: `migration-waiter: waiting for Job shop/${r.job} to complete` });

    const stuck = await call('diagnose_release');
    const patient = await call('diagnose_release', { stuckAfter: '1h' });
    const logs = await call('migration_logs');

    expect(stuck.structured.releases[0]).toMatchObject({ verdict: 'WAITING', stuck: true });
    expect(stuck.structured.releases[0].reason).toMatch(/^the migration is running for 20m of its 2h00m deadline/);
    expect(stuck.text).toMatch(/waiting too long/);
    expect(patient.structured.releases[0]).toMatchObject({ verdict: 'WAITING', stuck: false });
    expect(logs.structured).toMatchObject({ state: 'Running', lines: ['waiting for advisory lock 72707369'] });
  });
});

describe('RBAC: the waiter\'s, and the user\'s', () => {
  test('the waiter may not read the Job: FAILED naming the account and the permission', async () => {
    // GIVEN the reader RoleBinding was never applied
    const r = release('v2.0.0');
    cluster.seed(r.manifests.filter((m) => !(m.kind === 'RoleBinding' && m.metadata.name === 'myapp-migration-reader')));
    cluster.jobStatus(r.job, 'complete');
    cluster.pods('myapp', 2, 'crashing', { waiterLog: `migration-waiter: forbidden to read Job shop/${r.job} (403: …)` });

    const { structured } = await call('list_releases');

    expect(structured.releases[0].verdict).toBe('FAILED');
    expect(structured.releases[0].reason).toMatch(/^ServiceAccount shop\/myapp may not list jobs\.batch .* \(SubjectAccessReview\)/);
    expect(structured.releases[0].next).toMatch(/^grant it with a Role and RoleBinding; check: kubectl auth can-i /);
  });

  test('the user may not list Jobs: a tool error with doctor\'s message and the permissions it needs; the next call with a token that may, works', async () => {
    // GIVEN a user who may read nothing
    const r = healthy('v2.0.0');
    cluster.server.tokens.set('read-nothing', []);
    const denied = join(cluster.dir, 'denied-config');
    cluster.writeKubeconfig('read-nothing', denied);

    // WHEN the assistant calls with that kubeconfig, then with the user's own
    const forbidden = await call('diagnose_release', { kubeconfig: denied });
    const allowed = await call('diagnose_release');

    // THEN the first is an error it can act on, and the server went on serving
    expect(forbidden.isError).toBe(true);
    expect(forbidden.structured).toBeUndefined();
    expect(forbidden.text).toMatch(/^you may not read what doctor needs in namespace shop: .*forbidden.*doctor needs get\/list on jobs, pods, .* and get on pods\/log\.$/);
    expect(allowed.isError).toBe(false);
    expect(allowed.structured.releases[0]).toMatchObject({ verdict: 'OK', job: r.job });
  });

  test('a kubeconfig whose credential comes from an exec plugin: kubectl runs the plugin', async () => {
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'complete');
    const execInfo = cluster.writeExecKubeconfig(USER_TOKEN);

    const { structured, isError } = await call('list_releases');

    expect(isError).toBe(false);
    expect(structured.releases[0]).toMatchObject({ job: r.job });
    expect(JSON.parse(readFileSync(execInfo, 'utf8'))).toMatchObject({ kind: 'ExecCredential' });
  });
});

describe('on a real API server\'s answers: LIST items carry no kind', () => {
  test('a waiter whose Role is gone: diagnose_release is FAILED naming the account, the Job and the kubectl auth can-i, and shows the held pods', async () => {
    // GIVEN the reader Role was deleted while the migration runs and pods wait
    const r = release('v2.0.0');
    cluster.seed(r.manifests.filter((m) => !(m.kind === 'Role' && m.metadata.name === 'myapp-migration-reader')));
    cluster.jobStatus(r.job, 'running', { startedSecondsAgo: 60 });
    const pods = cluster.pods('myapp', 2, 'waiting');

    const { structured, text, isError } = await call('diagnose_release');

    expect(isError).toBe(false);
    const [rel] = structured.releases;
    expect(rel.verdict).toBe('FAILED');
    expect(rel.reason).toMatch(new RegExp(`^ServiceAccount shop/myapp may not list jobs\\.batch "${r.job}" in shop.* cannot see Job shop/${r.job}$`));
    expect(rel.next).toBe(`grant it with a Role and RoleBinding; check: kubectl auth can-i list jobs.batch/${r.job} -n shop --as=system:serviceaccount:shop:myapp`);
    expect(rel.workloads.map((w: any) => [w.kind, w.name, w.heldPods.map((p: any) => p.name).sort()])).toEqual([['Deployment', 'myapp', pods.map((p) => p.metadata.name).sort()]]);
    expect(text).toContain('2 pods held in Init');
  });

  test('a hand-written waiter naming a Job that does not exist: FAILED naming the waiter and the nearest existing Job', async () => {
    // GIVEN Job billing-seed-v7, and a Deployment whose waiter waits for billing-seed-v8
    cluster.server.accounts.set(`system:serviceaccount:${NS}:billing`, [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch'] }]);
    cluster.seed([
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'billing-seed-v7' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'seed', image: 'billing:v7', command: ['./seed'] }] } } } },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'billing' },
        spec: {
          selector: { matchLabels: { app: 'billing' } },
          template: {
            metadata: { labels: { app: 'billing' } },
            spec: {
              serviceAccountName: 'billing',
              initContainers: [{ name: 'wait-for-seed', image: 'registry.k8s.io/kubectl:v1.32.0', args: ['wait', '--for=condition=complete', 'job/billing-seed-v8', '--timeout=1h'] }],
              containers: [{ name: 'app', image: 'billing:v7' }],
            },
          },
        },
      },
    ]);
    cluster.jobStatus('billing-seed-v7', 'complete');
    cluster.pods('billing', 1, 'waiting');

    const listed = await call('list_releases');
    const diagnosed = await call('diagnose_release', { job: 'billing-seed-v8' });

    const expected = 'waiter wait-for-seed of Deployment billing waits for Job billing-seed-v8 in namespace shop, which does not exist; the nearest existing Job is billing-seed-v7; 1 pod of Deployment billing (Init:0/1) waits for it';
    expect(listed.structured.releases).toEqual([expect.objectContaining({ job: 'billing-seed-v8', verdict: 'FAILED', reason: expected })]);
    expect(diagnosed.structured.releases[0]).toMatchObject({ job: 'billing-seed-v8', verdict: 'FAILED', reason: expected, nearestJob: 'billing-seed-v7' });
  });

  test('migration_logs of a migration pod no node was assigned to: an error saying it has no log yet, not an empty log', async () => {
    // GIVEN the migration's pod is Pending with no node, whose log a real API server answers with nothing
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'running');
    const pod = cluster.jobPod(r.job, 'running');
    delete pod.spec.nodeName;
    pod.status = { phase: 'Pending', qosClass: 'BestEffort' };
    cluster.server.apply('pods', NS, pod);
    cluster.server.podLogs.set(`${NS}/${pod.metadata.name}/migrate`, '');

    const logs = await call('migration_logs');

    expect(logs.isError).toBe(true);
    expect(logs.text).toBe(`pod ${pod.metadata.name} of Job shop/${r.job} is not on a node yet (not scheduled), so it has no log. `
      + `diagnose_release says why it waits; kubectl describe pod -n shop ${pod.metadata.name} shows its events (FailedScheduling).`);
  });

  test('pods held in Init by a waiter, for every gated kind: diagnose_release counts and names them', async () => {
    const { held } = cluster.holdEveryGatedKind(1200);

    const { structured } = await call('diagnose_release');

    const [rel] = structured.releases;
    expect(rel).toMatchObject({ verdict: 'WAITING', stuck: true });
    const byKind = Object.fromEntries(rel.workloads.map((w: any) => [`${w.kind}/${w.name}`, w.heldPods.map((p: any) => p.name).sort()]));
    expect(byKind).toEqual(Object.fromEntries(Object.entries(held).map(([k, v]) => [k, [...v].sort()])));
    // (the Job and the Pod are named per release: backfill-v2-0-0-<hash>, console-v2-0-0-<hash>)
    const nameOf = (kind: string) => Object.keys(held).find((k) => k.startsWith(`${kind}/`))!.split('/')[1];
    expect(rel.reason).toContain('2 pods of Deployment myapp (Init:0/1), 1 pod of StatefulSet search (Init:0/1), 2 pods of DaemonSet agent (Init:0/1), 1 pod of CronJob nightly (Init:0/1), '
      + `1 pod of Job ${nameOf('Job')} (Init:0/1), 1 pod of Pod ${nameOf('Pod')} (Init:0/1) wait for it`);
  });
});

describe('errors are answers: a bad call, then a good one', () => {
  test('no cluster: a tool error saying so and what to check; the next call, given a kubeconfig, answers', async () => {
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'complete');

    // WHEN a call goes to the server's own kubeconfig (a cluster that is gone), then one names this cluster's
    const none = await call('list_releases', { namespace: NS }, { cluster: false });
    const good = await call('list_releases');

    expect(none.isError).toBe(true);
    expect(none.text).toMatch(/^cannot reach the cluster: .*127\.0\.0\.1:\d+ was refused.*\. Check the kubeconfig and context arguments, and the network \(kubectl cluster-info\)\.$/);
    expect(good.isError).toBe(false);
    expect(good.structured.releases).toHaveLength(1);
  });

  test('bad arguments, an unknown tool, an unknown context, namespace, release and rule: each a tool error with what to do, and the server keeps serving', async () => {
    const r = healthy('v2.0.0');
    const pid = mcp.pid();

    // WHEN the assistant makes each mistake in turn
    const badNamespace = await call('diagnose_release', { namespace: 'Shop_Prod' });
    const unknownArgument = await call('diagnose_release', { ns: 'shop' });
    const tooManyLines = await call('migration_logs', { lines: 100_000 });
    const badDuration = await call('diagnose_release', { stuckAfter: 'ten minutes' });
    const unknownTool = await call('delete_release', { namespace: NS }, { cluster: false });
    const unknownContext = await call('list_releases', { context: 'nope' });
    const unknownNamespace = await call('list_releases', { namespace: 'payments' });
    const noRelease = await call('diagnose_release', { release: 'v9.9.9' });
    const noLogRelease = await call('migration_logs', { job: 'no-such-job' });
    const badRule = await call('lint_manifests', { yaml: 'kind: x', disable: ['MS999'] });
    // THEN a good call is answered, by the same process
    const good = await call('diagnose_release');

    const errors = [badNamespace, unknownArgument, tooManyLines, badDuration, unknownTool, unknownContext, unknownNamespace, noRelease, noLogRelease,
      badRule];
    expect(errors.map((e) => e.isError)).toEqual(errors.map(() => true));
    expect(badNamespace.text).toMatch(/Invalid arguments for tool diagnose_release: a namespace is a lowercase DNS label/);
    expect(unknownArgument.text).toMatch(/Invalid arguments for tool diagnose_release: .*ns/);
    expect(tooManyLines.text).toMatch(/Invalid arguments for tool migration_logs: .*1000/);
    expect(badDuration.text).toMatch(/a duration such as 90s, 10m or 1h/);
    expect(unknownTool.text).toMatch(/Tool delete_release not found/);
    expect(unknownContext.text).toMatch(/^kubectl has no usable cluster configuration: .*nope.*\. Pass the kubeconfig or context argument/);
    expect(unknownNamespace.text).toBe('namespace payments does not exist. List the namespaces with kubectl get namespaces, or check the context argument.');
    expect(noRelease.text).toMatch(new RegExp(`^no release in namespace shop matches release v9\\.9\\.9; found: ${r.job} \\(release v2\\.0\\.0\\)\\. Call list_releases`));
    expect(noLogRelease.text).toMatch(/^no release in namespace shop matches job no-such-job; found: /);
    expect(badRule.text).toMatch(/^disable MS999: no such rule/);
    expect(good.isError).toBe(false);
    expect(good.structured.releases[0].verdict).toBe('OK');
    expect(mcp.pid()).toBe(pid);
    // AND each call the server handled left one line on stderr
    expect(mcp.stderr()).toMatch(/^cdk8s-migrated-service mcp: list_releases namespace=payments: error: namespace payments does not exist\. .* in \d+ ms$/m);
    expect(mcp.stderr()).toMatch(/^cdk8s-migrated-service mcp: diagnose_release namespace=shop: \[OK\] in \d+ ms$/m);
  });

  test('a kubeconfig that does not exist, as the argument or in the server\'s KUBECONFIG: a tool error naming the file and where to set it', async () => {
    // GIVEN a call whose kubeconfig argument names a missing file, and a server whose KUBECONFIG does
    const argument = await call('list_releases', { kubeconfig: '/nonexistent/config' });
    const lost = await startMcp({ PATH: process.env.PATH ?? '', HOME: home, KUBECONFIG: '/nonexistent/config', KUBECTL: `${KUBECTL_DIR}/kubectl.1.32` });
    try {
      const r = await lost.client.callTool({ name: 'diagnose_release', arguments: { namespace: NS } }) as any;

      // THEN each says the file does not exist, not "current-context must exist" or "localhost:8080 was refused"
      expect(argument.isError).toBe(true);
      expect(argument.text).toBe('the kubeconfig file /nonexistent/config does not exist. Give the path of an existing kubeconfig in the kubeconfig argument, or leave it out to use KUBECONFIG or ~/.kube/config');
      expect(r.isError).toBe(true);
      expect(r.content[0].text).toBe('KUBECONFIG names /nonexistent/config, which does not exist, so kubectl would fall back to localhost:8080. '
        + 'Set KUBECONFIG in the env of this server\'s entry in the assistant\'s MCP configuration, or pass the kubeconfig argument');
    } finally {
      await lost.close();
    }
  });

  test('no kubectl where the assistant starts the server: a tool error that says where to set it', async () => {
    // GIVEN a server started with a PATH and KUBECTL that hold no kubectl, as a desktop app may start it
    const lost = await startMcp({ PATH: '/usr/bin:/bin', HOME: home, KUBECTL: '/nonexistent/kubectl' });
    try {
      const r = await lost.client.callTool({ name: 'list_releases', arguments: { namespace: NS, kubeconfig: cluster.kubeconfig } }) as any;
      expect(r.isError).toBe(true);
      expect(r.content[0].text).toBe('cannot run /nonexistent/kubectl: not found. Install kubectl, or set KUBECTL (or PATH) in the env of this server\'s entry in the assistant\'s MCP configuration');
    } finally {
      await lost.close();
    }
  });

  test('an empty namespace that exists: no release, and not an error; migration_logs says there is no migration', async () => {
    cluster.server.namespaces.add('empty');

    const list = await call('list_releases', { namespace: 'empty' });
    const logs = await call('migration_logs', { namespace: 'empty' });

    expect(list.isError).toBe(false);
    expect(list.structured).toMatchObject({ namespace: 'empty', found: 0, releases: [] });
    expect(list.text).toMatch(/^No migration found in namespace empty/);
    expect(logs.isError).toBe(true);
    expect(logs.text).toMatch(/^no migration found in namespace empty/);
  });

  test('migration_logs on a release whose Job is gone, or has no pod yet: an error that says why and where to look', async () => {
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'running');
    const noPod = await call('migration_logs');
    cluster.server.delete('jobs', NS, r.job);
    cluster.pods('myapp', 1, 'waiting');
    const gone = await call('migration_logs');

    expect(noPod).toMatchObject({ isError: true, text: expect.stringMatching(new RegExp(`^Job shop/${r.job} \\(Running\\) has no pod, so no log: .*kubectl describe job -n shop ${r.job}`)) });
    expect(gone).toMatchObject({ isError: true, text: expect.stringMatching(new RegExp(`^Job shop/${r.job} no longer exists, and its pods' logs went with it\\.`)) });
  });
});

describe('lint_manifests', () => {
  test('YAML text the library synthesized: no finding; a file with a trap: the finding, with its rule and fix', async () => {
    const r = release('v2.0.0');
    const yaml = r.manifests.map((m) => JSON.stringify(m)).join('\n---\n');
    const positive = join(FIXTURES, 'rules', 'MS005-positive.yaml');

    const clean = await call('lint_manifests', { yaml });
    const trap = await call('lint_manifests', { paths: [positive], severity: 'info' });
    const disabled = await call('lint_manifests', { paths: [positive], severity: 'info', disable: ['MS005'] });

    expect(clean.isError).toBe(false);
    expect(clean.structured).toMatchObject({ tool: { name: 'cdk8s-migrated-service lint' }, objects: r.manifests.length, findings: [] });
    expect(clean.text).toMatch(/^\d+ objects: 0 errors, 0 warnings, 0 infos\nNo finding at or above the severity asked\.\n$/);
    expect(trap.isError).toBe(false);
    expect(trap.structured.findings.map((f: any) => f.ruleId)).toContain('MS005');
    expect(trap.structured.findings.find((f: any) => f.ruleId === 'MS005')).toMatchObject({ file: positive, line: expect.any(Number), fix: expect.any(String) });
    expect(trap.text).toMatch(new RegExp(`^${positive.replace(/[.]/g, '\\.')}:\\d+: \\w+ MS005 `, 'm'));
    expect(disabled.structured.findings.map((f: any) => f.ruleId)).not.toContain('MS005');
    expect(disabled.structured.suppressed.map((f: any) => f.ruleId)).toContain('MS005');
  });

  test('input it cannot use: unparseable YAML, a missing file, no object, or neither yaml nor paths, each a tool error', async () => {
    const unparseable = await call('lint_manifests', { yaml: 'kind: Job\napiVersion: batch/v1\nmetadata: {name: [\n' });
    const missing = await call('lint_manifests', { paths: ['no/such/file.yaml'] });
    const empty = await call('lint_manifests', { yaml: '# nothing\n' });
    const neither = await call('lint_manifests', {});

    expect([unparseable, missing, empty, neither].map((x) => x.isError)).toEqual([true, true, true, true]);
    expect(unparseable.text).toMatch(/^<yaml argument>:\d+: /);
    expect(unparseable.structured.errors).toHaveLength(1);
    expect(missing.text).toMatch(/no\/such\/file\.yaml.*\nRelative paths are read from the server's working directory, .*: give absolute paths\./s);
    expect(empty.text).toMatch(/^no Kubernetes object/);
    expect(neither.text).toMatch(/^give either yaml .* or paths/);
  });
});

describe('the SDK stays out of the construct library', () => {
  /** The modules a fresh node process has loaded after requiring `entry` (through ts-node, as the tests run the sources). */
  function loadedBy(entry: string): string[] {
    const script = `require(${JSON.stringify(entry)}); process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
    const result = spawnSync(process.execPath, [...NODE_ARGS, '-e', script], {
      cwd: REPO, encoding: 'utf8', env: { ...process.env, ...NODE_ENV },
    });
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout);
  }
  const sdk = (files: string[]) => files.filter((f) => /[/\\]node_modules[/\\](@modelcontextprotocol|zod)[/\\]|[/\\]src[/\\]mcp[/\\]/.test(f));

  test('requiring the package entry loads neither the MCP SDK nor zod; requiring the server does', () => {
    // GIVEN the package's entry (src/index.ts, compiled to lib/index.js), and as a control the server
    const library = loadedBy(join(REPO, 'src', 'index.ts'));
    const server = loadedBy(join(PACKAGE, 'src', 'mcp', 'server.ts'));

    // THEN the library's import graph holds no SDK module, and the control shows the check sees them
    expect(library.some((f) => f.endsWith(join('src', 'index.ts')))).toBe(true);
    expect(sdk(library)).toEqual([]);
    expect(sdk(server).some((f) => f.includes('@modelcontextprotocol'))).toBe(true);
    expect(sdk(server).some((f) => /[/\\]zod[/\\]/.test(f))).toBe(true);
  });
});

describe('the README\'s and docs/mcp.md\'s snippets, run', () => {
  const README = readFileSync(join(REPO, 'README.md'), 'utf8');
  const DOC = readFileSync(join(REPO, 'docs', 'mcp.md'), 'utf8');
  const blocks = (text: string, lang: string): string[] => [...text.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]);
  const section = README.slice(README.indexOf('## Use it from an assistant (MCP)'), README.indexOf('## Lint existing manifests'));

  /** An assistant's project with the CLI installed, whose bin runs these sources: `npx` finds it there, offline. */
  function assistantProject(): string {
    const dir = mkdtempSync(join(tmpdir(), 'assistant-'));
    const pkg = join(dir, 'node_modules', 'cdk8s-migrated-service-cli');
    mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
    mkdirSync(pkg);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'assistant-project', private: true, devDependencies: { 'cdk8s-migrated-service-cli': CLI_VERSION } }));
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'cdk8s-migrated-service-cli', version: CLI_VERSION, bin: { 'cdk8s-migrated-service': 'bin.sh' } }));
    writeFileSync(join(pkg, 'bin.sh'), `#!/bin/sh\nexec "${process.execPath}" ${NODE_ARGS.map((a) => `"${a}"`).join(' ')} "${CLI}" "$@"\n`, { mode: 0o755 });
    symlinkSync(join('..', 'cdk8s-migrated-service-cli', 'bin.sh'), join(dir, 'node_modules', '.bin', 'cdk8s-migrated-service'));
    return dir;
  }
  /** The documented args with `<version>` filled in as a user does: the version of the library in use, which the CLI shares. */
  const filledIn = (args: string[]) => args.map((a) => a.replace('<version>', CLI_VERSION));
  const npmEnv = { npm_config_update_notifier: 'false', npm_config_offline: 'true', npm_config_cache: join(tmpdir(), 'mcp-npm-cache') };

  test('the README\'s mcpServers entry parses, and its command starts a server that lists the four tools', async () => {
    // GIVEN the README's configuration, verbatim
    const [config] = blocks(section, 'json');
    const entry = JSON.parse(config).mcpServers['cdk8s-migrated-service'];
    expect(entry).toEqual({ command: 'npx', args: ['-y', 'cdk8s-migrated-service-cli@<version>', 'mcp'] });
    const project = assistantProject();
    // WHEN an assistant starts its command in a project that has the package
    const session = await startMcp({ PATH: process.env.PATH ?? '', HOME: home, ...npmEnv }, [], { command: entry.command, args: filledIn(entry.args), cwd: project });
    try {
      // THEN it serves the tools the README lists
      const { tools } = await session.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
      for (const name of TOOLS) expect(section).toContain(`- \`${name}\`: `);
      expect(session.errors).toEqual([]);
    } finally {
      await session.close();
      rmSync(project, { recursive: true, force: true });
    }
  });

  test('docs/mcp.md: its configuration with an environment reaches the cluster through KUBECONFIG and KUBECTL, and its exchange gives the answer shown', async () => {
    // GIVEN the failed release of the example
    const r = release('v2.0.0');
    cluster.seed(r.manifests);
    cluster.jobStatus(r.job, 'failed', { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    cluster.jobPod(r.job, 'failed', 'applying 0042_add_index\nERROR: relation "orders" does not exist\n');
    // AND the documented configuration, its environment pointed at this machine's kubeconfig and kubectl
    const [config, request, structured] = blocks(DOC, 'json');
    const entry = JSON.parse(config).mcpServers['cdk8s-migrated-service'];
    expect(entry.command).toBe('npx');
    expect(entry.args).toEqual(['-y', 'cdk8s-migrated-service-cli@<version>', 'mcp']);
    expect(Object.keys(entry.env).sort()).toEqual(['KUBECONFIG', 'KUBECTL', 'PATH']);
    const env = { ...entry.env, KUBECONFIG: cluster.kubeconfig, KUBECTL: `${KUBECTL_DIR}/kubectl.1.32`, PATH: process.env.PATH ?? '' };
    const project = assistantProject();
    const session = await startMcp({ ...env, HOME: home, ...npmEnv }, [], { command: entry.command, args: filledIn(entry.args), cwd: project });
    try {
      // WHEN the assistant makes the documented call, verbatim, and the README's
      const call_ = JSON.parse(request);
      const result: any = await session.client.callTool(call_);
      const readmeArgs = JSON.parse(/`(\{"namespace": "shop", "release": "v2\.0\.0"\})`/.exec(section)![1]);
      const fromReadme: any = await session.client.callTool({ name: 'diagnose_release', arguments: readmeArgs });

      // THEN the answer holds the lines and the structured content shown
      expect(result.isError).toBeFalsy();
      const lines = result.content[0].text.split('\n');
      for (const line of blocks(DOC, 'text')[0].trimEnd().split('\n')) expect(lines).toContain(line);
      expect(result.structuredContent).toMatchObject(JSON.parse(structured));
      expect(fromReadme.structuredContent).toEqual(expect.objectContaining({ releases: [expect.objectContaining({ verdict: 'FAILED', job: r.job })] }));
    } finally {
      await session.close();
      rmSync(project, { recursive: true, force: true });
    }
  });
});
