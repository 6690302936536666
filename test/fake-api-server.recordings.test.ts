/**
 * The fake API server (test/support/fake-api-server.ts) held to a real kube-apiserver 1.32 and its
 * controller manager: every recording in test/fixtures/k8s-api/recordings is replayed against the fake
 * (the same request, identity and RBAC, after setting up the same objects, with the recorded
 * actions of a watch done through the fake's own helpers) and the parts of the answers that do not
 * change from run to run are compared (see test/support/recordings.ts). kubectl runs are replayed
 * with the real kubectl 1.32.
 *
 * The fake's controllers act at once where the real ones take milliseconds to seconds, so a watch
 * is compared up to three seconds after its last action (scaled to the fake's pace: everything the
 * real server sent by then), and the timed BOOKMARKs of a watch by whether there is one.
 */
import { execFile } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { FakeApiServer, FULL_ACCESS, KubeObject, RbacRule } from './support/fake-api-server';
import { fakeServerKubeconfig, kubectlBinary } from './support/real-kubectl';
import { Answer, bodyShape, header, loadRecordings, objectShape, Recording, RecordingFile, send, WatchStream } from './support/recordings';

const NS = 'rec-ns';
const files = loadRecordings();

/**
 * The recordings the fake does not reproduce on purpose, by title, with the reason. The test checks
 * that each still differs, so that the list stays true.
 */
const DELIBERATE: Record<string, string> = {
  'GET the Job right after the DELETE (propagationPolicy Foreground)':
    'the fake\'s garbage collector acts at once: the Job is gone by the next request, not ~20 ms later (the watch shows the same steps)',
  'GET the Job right after the DELETE (propagationPolicy Orphan)': 'the same: the orphaning finishes before the next request',
  'GET the Job right after the DELETE (no propagationPolicy (the batch/v1 Job default))': 'the same: the orphaning finishes before the next request',
  'GET its pod right after the DELETE (propagationPolicy Foreground)': 'the same: the pod is already deleted',
  'GET its pod right after the DELETE (propagationPolicy Orphan)': 'the same: the pod is already orphaned (no ownerReferences)',
  'WATCH its pods by job-name label during the DELETE (no propagationPolicy (the batch/v1 Job default))':
    'which of the Job controller (finalizer) and the garbage collector (ownerReferences) edits the orphaned pod first is a race; the fake does it in the order the Orphan recording shows',
  'GET that pod right after the DELETE': 'the Job controller counts the deleted pod and lets it go at once, not a second later',
  'GET pod shop-debug-bound at the end of the watch': 'no PodGC: a bound pod with no kubelet stays until endPod() or its grace period, not until PodGC force-deletes it ~50 s later',
  'Log of a container that never started, in a pod bound to a node (spec.nodeName) whose Node object does not exist':
    'the fake has no Node objects: every spec.nodeName names a node whose kubelet answers',
  'kubectl logs of a container of a pod bound to a missing node': 'the same: no Node objects',
};

/** The identities of the recordings (see the recordings' README), as tokens of the fake. */
const WAITER_RULES: RbacRule[] = [
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'watch'], resourceNames: ['shop-migration-v1'] },
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['shop-ledger'] },
];
const RECORDER_RULES: RbacRule[] = [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'update'], resourceNames: ['shop-ledger'] }];

function tokenOf(identity: string): string | undefined {
  if (identity.startsWith('admin')) return 'admin';
  if (identity.startsWith('sa:waiter-deleted')) return 'deleted-account';
  if (identity.startsWith('sa:waiter')) return 'waiter';
  if (identity.startsWith('sa:recorder')) return 'recorder';
  if (identity.startsWith('no credentials')) return undefined;
  if (identity.startsWith('a bearer token that')) return 'not-a-token';
  throw new Error(`unknown identity in a recording: ${identity}`);
}

async function startFake(): Promise<FakeApiServer> {
  const fake = await FakeApiServer.start();
  fake.tokens.set('admin', FULL_ACCESS);
  fake.users.set('admin', 'kubernetes-admin');
  fake.tokens.set('waiter', WAITER_RULES);
  fake.users.set('waiter', `system:serviceaccount:${NS}:waiter`);
  fake.accounts.set(`system:serviceaccount:${NS}:waiter`, WAITER_RULES);
  fake.tokens.set('recorder', RECORDER_RULES);
  fake.users.set('recorder', `system:serviceaccount:${NS}:recorder`);
  fake.namespaces.add(NS);
  return fake;
}

// --- The objects: the namespace as 01-list-namespace.json shows it, and each file's Jobs ---

const snapshot = files.find((f) => f.file.startsWith('01-list-namespace'))!;
const template = snapshot.recordings.find((r) => r.request.path === `/apis/batch/v1/namespaces/${NS}/jobs`)!.response.body.items[0];

function seedNamespace(fake: FakeApiServer): void {
  for (const r of snapshot.recordings) {
    const resource = r.request.path!.split('/').pop()!;
    for (const item of r.response.body.items) fake.apply(resource, NS, item);
  }
}

/** A Job like shop-migration-v1, named `name`, started by the Job controller with a pod named `pod`. */
function seedJob(fake: FakeApiServer, name: string, pod: string, spec: KubeObject = {}, labels: Record<string, string> = {}): void {
  fake.createJob(NS, newJob(name, spec, labels), pod);
}

function newJob(name: string, spec: KubeObject = {}, labels: Record<string, string> = {}): KubeObject {
  const version = name.replace(/^shop-migration-/, '');
  const jobLabels = { ...template.metadata.labels, 'app.kubernetes.io/version': version, ...labels };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels: jobLabels },
    spec: {
      backoffLimit: 0,
      ...spec,
      template: { metadata: { labels: jobLabels }, spec: { restartPolicy: 'Never', containers: template.spec.template.spec.containers } },
    },
  };
}

/** What each file needs besides the namespace snapshot. */
const SETUP: Record<string, (fake: FakeApiServer) => void> = {
  '04b-watch-start-points.json': (fake) => {
    fake.succeedJobPod(NS, 'shop-migration-v1');
    // The Job that fails in 05, in its final state: 04b relabels it.
    seedJob(fake, 'shop-migration-fails', 'shop-migration-fails-9gtrf', {}, { 'app.kubernetes.io/version': 'fails' });
    fake.failJobPod(NS, 'shop-migration-fails');
  },
  '05-watch-job-fails.json': (fake) => seedJob(fake, 'shop-migration-fails', 'shop-migration-fails-9gtrf'),
  '07-errors.json': (fake) => {
    // 06's Job, complete, for the field selectors on status.
    seedJob(fake, 'shop-migration-disrupted', 'shop-migration-disrupted-rcbz9');
    fake.succeedJobPod(NS, 'shop-migration-disrupted');
  },
  '08-delete-job-background.json': (fake) => seedJob(fake, 'shop-migration-delete-background', 'shop-migration-delete-background-gl8lv'),
  '08-delete-job-default.json': (fake) => seedJob(fake, 'shop-migration-delete-default', 'shop-migration-delete-default-hg6ms'),
  '08-delete-job-foreground.json': (fake) => seedJob(fake, 'shop-migration-delete-foreground', 'shop-migration-delete-foreground-fbtkd'),
  '08-delete-job-orphan.json': (fake) => seedJob(fake, 'shop-migration-delete-orphan', 'shop-migration-delete-orphan-7wtbv'),
  '08b-delete-pods.json': (fake) => seedJob(fake, 'shop-migration-pod-deleted', 'shop-migration-pod-deleted-vh6sk'),
  '08c-delete-job-ttl.json': (fake) => seedJob(fake, 'shop-migration-ttl', 'shop-migration-ttl-mqzzz', { ttlSecondsAfterFinished: 0 }),
  '10-pod-logs.json': (fake) => {
    const job = newJob('shop-migration-logs');
    job.spec.template.spec.initContainers = template.spec.template.spec.initContainers;
    fake.createJob(NS, job, 'shop-migration-logs-d9kzt');
    fake.apply('pods', NS, { metadata: { name: 'shop-logs-bound' }, spec: { nodeName: 'node-gone', containers: [{ name: 'web', image: 'registry.example.com/shop:v1' }] }, status: { phase: 'Pending' } });
  },
  '11-timestamps.json': (fake) => fake.succeedJobPod(NS, 'shop-migration-v1'),
};

/**
 * Actions the recordings do not list because the fake has no timer for them, done at the
 * recorded moment: activeDeadlineSeconds runs out.
 */
const TIMERS: Record<string, Array<{ t_ms: number; action: string }>> = {
  'WATCH Job shop-migration-deadline (activeDeadlineSeconds 5, pod stays Pending), opened before the Job was created': [{ t_ms: 4450, action: 'deadline shop-migration-deadline' }],
  'WATCH the pods of Job shop-migration-deadline': [{ t_ms: 4450, action: 'deadline shop-migration-deadline' }],
};

// --- Replaying ---

interface Outcome {
  readonly expected: KubeObject;
  readonly actual: KubeObject;
}

/** An action of a recording, done to the fake; an HTTP request's answer is kept for the recording that made it. */
async function act(fake: FakeApiServer, action: string, answers: Map<string, Answer>): Promise<void> {
  let m: RegExpExecArray | null;
  if ((m = /kubectl patch pod (\S+) --subresource=status --type=merge -p '(.*)'$/.exec(action))) {
    const { status } = JSON.parse(m[2]);
    fake.setPodPhase(NS, resolvePod(fake, m[1]), status.phase, status.conditions);
  } else if ((m = /kubectl (annotate|label) job (\S+) ([^=\s]+)=(\S+)/.exec(action))) {
    const job = fake.get('jobs', NS, m[2]);
    const field = m[1] === 'annotate' ? 'annotations' : 'labels';
    job.metadata[field] = { ...job.metadata[field], [m[3]]: m[4] };
    fake.apply('jobs', NS, job);
  } else if ((m = /^admin: DELETE (\S+) with (?:no body|body (\{.*?\}))(?: \(.*\))?$/.exec(action))) {
    answers.set(`DELETE ${m[1]}`, await send(fake.port, 'DELETE', m[1], 'admin', m[2] ? JSON.parse(m[2]) : undefined));
  } else if ((m = /^admin: POST Job (\S+) with activeDeadlineSeconds: (\d+), backoffLimit (\d+)/.exec(action))) {
    await send(fake.port, 'POST', `/apis/batch/v1/namespaces/${NS}/jobs`, 'admin', newJob(m[1], { activeDeadlineSeconds: Number(m[2]), backoffLimit: Number(m[3]) }));
  } else if ((m = /^deadline (\S+)$/.exec(action))) {
    fake.exceedJobDeadline(NS, m[1]);
  } else {
    throw new Error(`an action the conformance test cannot replay: ${action}`);
  }
}

/** A pod a recording names; a replacement the fake's Job controller made has another random suffix. */
function resolvePod(fake: FakeApiServer, name: string): string {
  if (fake.get('pods', NS, name)) return name;
  const job = name.replace(/-[a-z0-9]{5}$/, '');
  const pod = fake.podsOfJob(NS, job).find((p) => !['Succeeded', 'Failed'].includes(p.status?.phase));
  if (!pod) throw new Error(`no pod ${name}, nor a running pod of Job ${job}`);
  return pod.metadata.name;
}

/** A recorded path with the resourceVersion of "the LIST" made the fake's own. */
function pathFor(path: string, resourceVersion: string): string {
  return path.replace(/resourceVersion=(\d+)/, (whole, rv) => (rv === '0' || rv === '1' || rv.length >= 8 ? whole : `resourceVersion=${resourceVersion}`));
}

/** Status, content type (unless the recording kept no headers) and body shape of an answer. */
type HttpHeaders = Record<string, string | string[] | undefined>;

function answerShape(recorded: Recording, status: number, headers: HttpHeaders | undefined, body: KubeObject, text: string | undefined): KubeObject {
  const withHeaders = Object.keys(recorded.response.headers ?? {}).length > 0;
  return { status, contentType: withHeaders ? header(headers, 'content-type') : 'not recorded', body: body !== undefined ? bodyShape(body) : text };
}

function parse(text: string): KubeObject {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The watch events compared: those within `windowMs`, timed BOOKMARKs only as "there was one". */
function eventsShape(events: Array<{ t: number; event: KubeObject }>, windowMs: number, toTheEnd: boolean): KubeObject {
  const timed = (e: KubeObject): boolean => e.type === 'BOOKMARK' && !e.object?.metadata?.annotations?.['k8s.io/initial-events-end'];
  return {
    events: events.filter((e) => e.t <= windowMs && !timed(e.event)).map((e) => ({ type: e.event.type, object: objectShape(e.event.object) })),
    timedBookmark: toTheEnd ? events.some((e) => timed(e.event)) : 'not compared',
  };
}

/** Opens the watches of one group together, does their actions once, and compares what each saw. */
async function replayWatches(fake: FakeApiServer, group: Recording[], answers: Map<string, Answer>, outcomes: Map<string, Outcome>,
  fromRv?: string): Promise<void> {
  const rv = fromRv ?? fake.resourceVersion;
  const actions = [...(group[0].actions ?? []), ...(TIMERS[group[0].title] ?? [])].sort((a, b) => a.t_ms - b.t_ms);
  const lastAction = actions.length ? actions[actions.length - 1].t_ms : 0;
  const streams = group.map((r) => new WatchStream(fake.port, pathFor(r.request.path!, rv), tokenOf(r.identity)));
  await Promise.all(streams.map((s) => s.opened));
  const pace = Date.now();
  for (const { action } of actions) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    await act(fake, action, answers);
  }
  const actionsMs = Date.now() - pace;
  // Watches the server ended on its own within seconds run to their end; the others are closed.
  const toTheEnd = (r: Recording): boolean => r.response.stream_end?.closed_by === 'server' && r.response.stream_end.t_ms <= 12_000;
  await new Promise((resolve) => setTimeout(resolve, 300));
  group.forEach((r, i) => {
    if (!toTheEnd(r)) streams[i].close();
  });
  await Promise.all(streams.map((s) => s.ended));
  group.forEach((r, i) => {
    const s = streams[i];
    const recorded = r.response.events ?? [];
    const window = actions.length ? lastAction + 3000 : Infinity;
    outcomes.set(r.title, {
      expected: {
        ...answerShape(r, r.response.status!, r.response.headers, r.response.status === 200 ? undefined : r.response.body, undefined),
        ...(r.response.status === 200 ? eventsShape(recorded.map((e) => ({ t: e.t_ms, event: e.event })), window, toTheEnd(r)) : {}),
      },
      actual: {
        ...answerShape(r, s.status, s.headers, s.status === 200 ? undefined : parse(s.text), undefined),
        ...(s.status === 200 ? eventsShape(s.events.map((e) => ({ t: e.t <= actionsMs + 300 ? 0 : e.t, event: e.event })), window, toTheEnd(r)) : {}),
      },
    });
  });
}

async function runKubectl(fake: FakeApiServer, r: Recording, dir: string): Promise<KubeObject> {
  const token = tokenOf(r.identity.replace(/ \(kubectl.*$/, ''));
  const home = join(dir, `home-${Math.random().toString(36).slice(2)}`);
  const kubeconfig = fakeServerKubeconfig(home, fake.port, token ?? '', NS);
  const args = r.request.command!.split(' ').slice(1);
  return new Promise((resolve) => {
    const child = execFile(kubectlBinary('1.32'), args, { env: { HOME: home, KUBECONFIG: kubeconfig, PATH: process.env.PATH } }, (error, stdout, stderr) => {
      resolve({ exitCode: error ? (error as KubeObject).code : 0, stdout, stderr });
    });
    if (r.request.stdin) child.stdin!.end(JSON.stringify(r.request.stdin));
    else child.stdin!.end();
  });
}

/** kubectl's stdout: JSON documents (one per object), compared by shape; other text as is. */
function stdoutShape(stdout: string): KubeObject {
  if (!stdout.startsWith('{')) return stdout;
  return stdout.split(/\n(?=\{)/).map((doc) => bodyShape(JSON.parse(doc)));
}

async function replayFile(f: RecordingFile): Promise<Map<string, Outcome>> {
  const outcomes = new Map<string, Outcome>();
  const answers = new Map<string, Answer>();
  const fake = await startFake();
  const dir = mkdtempSync(join(tmpdir(), 'recordings-'));
  try {
    seedNamespace(fake);
    SETUP[f.file]?.(fake);
    const watches = f.recordings.filter((r) => r.response.events);
    // Watches recorded during the same actions were open together: one group, one run of the actions.
    const groupOf = (r: Recording): Recording[] => watches.filter((w) => JSON.stringify(w.actions ?? []).replace(/"t_ms":\d+/g, '') === JSON.stringify(r.actions ?? []).replace(/"t_ms":\d+/g, '') && (w.actions ?? []).length > 0 || w === r);
    const done = new Set<Recording>();
    for (const r of f.recordings) {
      const request = `${r.request.method} ${r.request.path}`;
      // A request some watch group makes as its action is made there, with its watches open.
      const actor = watches.find((w) => !done.has(w) && (w.actions ?? []).some((a) => a.action.includes(request)));
      const group = r.response.events ? groupOf(r) : actor && groupOf(actor);
      if (group && !done.has(group[0])) {
        group.forEach((w) => done.add(w));
        let fromRv: string | undefined;
        if (r.title === 'WATCH from the resourceVersion of a LIST made about 8 minutes earlier') {
          // The LIST was made before the Job was touched and completed: do both, then watch from it.
          fromRv = fake.resourceVersion;
          await act(fake, 'admin: kubectl annotate job shop-migration-v1 example.com/touched=yes', answers);
          fake.succeedJobPod(NS, 'shop-migration-v1');
        }
        await replayWatches(fake, group, answers, outcomes, fromRv);
      }
      if (r.response.events) continue;
      if (r.request.command) {
        const expected: KubeObject = { exitCode: r.response.exitCode, stderr: r.response.stderr };
        const run = await runKubectl(fake, r, dir);
        if (r.response.stdout !== undefined) expected.stdout = stdoutShape(r.response.stdout);
        else expected.stdout = stdoutShape(JSON.stringify(snapshot.recordings[0].response.body));
        outcomes.set(r.title, { expected, actual: { exitCode: run.exitCode, stderr: run.stderr, stdout: stdoutShape(run.stdout) } });
        continue;
      }
      const body = r.request.body && { ...r.request.body, metadata: { ...r.request.body.metadata } };
      if (body?.metadata?.resourceVersion !== undefined) {
        // "As read" is the fake's current version; a stale one is any older one.
        body.metadata.resourceVersion = /stale/.test(r.title) ? '1' : fake.get('configmaps', NS, body.metadata.name)?.metadata.resourceVersion;
      }
      const path = pathFor(r.request.path!, fake.resourceVersion);
      const answer = answers.get(request) ?? await send(fake.port, r.request.method!, path, tokenOf(r.identity), body);
      outcomes.set(r.title, {
        expected: answerShape(r, r.response.status!, r.response.headers, r.response.body, r.response.body_text ?? ''),
        actual: answerShape(r, answer.status, answer.headers, parse(answer.text), answer.text),
      });
    }
  } finally {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return outcomes;
}

describe.each(files.map((f) => [f.file, f] as const))('%s', (_file, f) => {
  let outcomes: Map<string, Outcome>;
  beforeAll(async () => {
    // GIVEN a fake API server seeded with the recorded objects and identities
    // WHEN every recording of the file is replayed against it
    outcomes = await replayFile(f);
  }, 120_000);

  test.each(f.recordings.map((r) => [r.title, r] as const))('%s', (title) => {
    const outcome = outcomes.get(title);
    expect(outcome).toBeDefined();
    if (DELIBERATE[title]) {
      // THEN a deliberate difference still differs (else it leaves the list)
      expect(outcome!.actual).not.toEqual(outcome!.expected);
    } else {
      // THEN the fake answers as the real server did
      expect(outcome!.actual).toEqual(outcome!.expected);
    }
  });
});
