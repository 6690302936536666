/**
 * The program's modules fed the answers a real kube-apiserver 1.32 gave to the program's own
 * requests (test/fixtures/k8s-api/recordings): lists whose items carry no kind, watch streams with
 * BOOKMARKs and a 410 ERROR event, objects leaving a label selector, 401 and 403 bodies.
 */
import { apiError, deniedMessage, describe as describeError } from '../../src/program/errors';
import { tracked } from '../../src/program/follow';
import { hasFinished, JobState, jobOfPod, turnOf } from '../../src/program/queue-order';
import { WatchEvent, watchStreamReader } from '../../src/program/watch-stream';
import { loadRecordings, Recording } from '../support/recordings';

const files = loadRecordings();
function recording(file: string, title: string): Recording {
  const found = files.find((f) => f.file === file)?.recordings.find((r) => r.title === title);
  if (!found) throw new Error(`no recording "${title}" in ${file}`);
  return found;
}

/** The stream as the program reads it: the recorded events, one JSON line each, cut into odd chunks. */
function replayStream(r: Recording): WatchEvent[] {
  const seen: WatchEvent[] = [];
  const read = watchStreamReader((e) => seen.push(e));
  const text = r.response.events!.map((e) => `${JSON.stringify(e.event)}\n`).join('');
  for (let i = 0; i < text.length; i += 97) read(text.slice(i, i + 97));
  return seen;
}

describe('403 and 401 as the real server words them', () => {
  test('GIVEN the 403 of a request without credentials (system:anonymous) WHEN the program words it THEN it blames the missing token, not a missing RBAC rule', () => {
    const r = recording('07-errors.json', 'LIST without any credentials (403 as system:anonymous)');
    const err = apiError(r.response.status, r.response.body);
    const message = deniedMessage(err, 'Job rec-ns/shop-migration-v1', 'list and watch on jobs (API group batch) named shop-migration-v1 in namespace rec-ns');
    expect(message).toContain('saw no credentials');
    expect(message).toContain('403 as system:anonymous');
    expect(message).toContain('WAITER_TOKEN_FILE');
    expect(message).not.toContain('needs list and watch');
  });

  test('GIVEN the 403 of the waiter\'s account WHEN the program words it THEN it names the rule the account needs', () => {
    const r = recording('03-rbac-resourcenames.json', 'LIST jobs with fieldSelector naming another Job (403)');
    const err = apiError(r.response.status, r.response.body);
    expect(err).toMatchObject({ status: 403, reason: 'Forbidden' });
    const message = deniedMessage(err, 'Job rec-ns/shop-migration-v2', 'list and watch on jobs (API group batch) named shop-migration-v2 in namespace rec-ns');
    expect(message).toContain('User "system:serviceaccount:rec-ns:waiter" cannot list resource "jobs"');
    expect(message).toContain('needs list and watch on jobs (API group batch) named shop-migration-v2');
  });

  test('GIVEN the 401 of a deleted account\'s token WHEN the program words it THEN it says the token was rejected', () => {
    const r = recording('07-errors.json', 'LIST with the token of a deleted ServiceAccount (401)');
    const message = deniedMessage(apiError(r.response.status, r.response.body), 'Job rec-ns/shop-migration-v1', 'list');
    expect(message).toContain('rejected the service account token (401 Unauthorized)');
  });

  test('GIVEN the 500 of a non-numeric resourceVersion (a Status with no reason) WHEN described THEN the status and message, no "undefined"', () => {
    const r = recording('07-errors.json', 'WATCH with a resourceVersion that is not a number (500)');
    expect(describeError(apiError(r.response.status, r.response.body))).toBe(`HTTP 500: ${r.response.body.message}`);
  });
});

describe('watch streams', () => {
  test('GIVEN the Job watch while its pod succeeds WHEN read THEN SuccessCriteriaMet, Complete, then a BOOKMARK with only a resourceVersion', () => {
    const events = replayStream(recording('04-watch-job-succeeds.json', 'The same WATCH with timeoutSeconds=30'));
    expect(events.map((e) => e.type)).toEqual(['MODIFIED', 'MODIFIED', 'BOOKMARK']);
    expect(events.map((e) => (e.object.status?.conditions ?? []).map((c: { type: string }) => c.type))).toEqual([['SuccessCriteriaMet'], ['SuccessCriteriaMet', 'Complete'], []]);
    expect(hasFinished(events[1].object)).toBe(true);
    expect(events[2].object.metadata).toEqual({ resourceVersion: expect.any(String), creationTimestamp: null });
  });

  test('GIVEN the Job watch past its deadline WHEN read THEN the Job counts as finished from FailureTarget on, while its pod terminates, not only from Failed', () => {
    const events = replayStream(recording('05b-watch-job-deadline.json', 'WATCH Job shop-migration-deadline (activeDeadlineSeconds 5, pod stays Pending), opened before the Job was created'));
    const target = events.findIndex((e) => (e.object.status?.conditions ?? []).some((c: { type: string }) => c.type === 'FailureTarget'));
    const failed = events.findIndex((e) => (e.object.status?.conditions ?? []).some((c: { type: string }) => c.type === 'Failed'));
    expect(events[target].object.status.terminating).toBe(1);
    expect(failed).toBeGreaterThan(target + 1);
    expect(events.slice(0, target).map((e) => hasFinished(e.object))).not.toContain(true);
    expect(events.slice(target).map((e) => hasFinished(e.object))).not.toContain(false);
  });

  test('GIVEN a watch from a compacted resourceVersion WHEN read THEN one ERROR event whose Status makes a 410 error', () => {
    const events = replayStream(recording('07-errors.json', 'WATCH with resourceVersion=1 (too old)'));
    expect(events.map((e) => e.type)).toEqual(['ERROR']);
    const err = apiError(events[0].object.code, events[0].object);
    expect(err).toMatchObject({ status: 410, reason: 'Expired' });
  });

  test('GIVEN a Job that leaves and re-enters a label selector WHEN a followed list applies the events THEN it is gone, then back', () => {
    const list = recording('01b-list-selectors-and-namespaces.json', 'LIST jobs with a labelSelector (queue mode)').response.body;
    const changes: number[] = [];
    const jobs = tracked<JobState>(() => changes.push(jobs.objects.size));
    jobs.handlers.reset(list.items);
    const events = replayStream(recording('04b-watch-start-points.json', 'WATCH with a labelSelector while the object\'s label changes so it stops, then starts again, to match'));
    for (const e of events) jobs.handlers.change(e.type as 'ADDED' | 'DELETED', e.object);
    expect(events.map((e) => e.type)).toEqual(['DELETED', 'ADDED']);
    expect(jobs.objects.has('shop-migration-fails')).toBe(true);
    expect(changes).toEqual([1, 1, 2]);
  });
});

describe('lists whose items carry no kind', () => {
  test('GIVEN the queue\'s recorded LISTs of Jobs and pods WHEN the turn is computed THEN the pod is found by its labels and v1 is clear to run', () => {
    const jobs = recording('01b-list-selectors-and-namespaces.json', 'LIST jobs with a labelSelector (queue mode)').response.body;
    const pods = recording('01b-list-selectors-and-namespaces.json', 'LIST pods with a labelSelector (queue mode)').response.body;
    expect(jobs.items.every((i: JobState & { kind?: string }) => i.kind === undefined)).toBe(true);
    expect(jobOfPod(pods.items[0])).toBe('shop-migration-v1');
    expect(turnOf('shop-migration-v1', pods.items[0].metadata.name, jobs.items, pods.items)).toEqual({ kind: 'clear' });
  });
});
