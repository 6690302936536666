/**
 * Mode `queue`: waits for this migration's turn, in the first init container of a migration Job's
 * pod (after the rollout waiter in a post-deploy Job's pod), so that two releases' migrations never
 * run against the database at once. See queue-order.ts for the order.
 */
import { connection, send, serverNow } from './api';
import { count, env, required } from './config';
import { deniedMessage, ProgramError } from './errors';
import { followList, tracked } from './follow';
import { finish, finished, log } from './log';
import { describeHolder, Holder, JobState, keyOf, PodState, QUEUE_OFFSET_ANNOTATION, SETTLE_MS, settled, turnDeadline, turnOf } from './queue-order';
import { retryable, retryDelayMs, sleep } from './retry';

export async function waitForTurn(): Promise<void> {
  const own = required('MIGRATION_JOB');
  const selector = required('MIGRATION_SELECTOR');
  required('QUEUE_TIMEOUT_SECONDS');
  const queueSeconds = count('QUEUE_TIMEOUT_SECONDS', 0, 1);
  const ownPod = env.POD_NAME || '';
  if (finished()) return;
  const { namespace } = connection();
  const query = `labelSelector=${encodeURIComponent(selector)}`;
  const rule = `list and watch on jobs (API group batch) and on pods in namespace ${namespace}`;
  const denied = (err: ProgramError) => finish(1, deniedMessage(err, `the Jobs and pods of ${selector}`, rule));

  let head = '';
  // After a confirmation that found a holder the watches have not reported yet, wait for them.
  let confirming = false;
  let stale = false;
  let offsetLogged = false;
  const jobs = tracked<JobState>(() => {
    stale = false;
    evaluate();
  });
  const pods = tracked<PodState>(() => {
    stale = false;
    evaluate();
  });

  const waitBehind = (holders: readonly Holder[], ownJob: JobState): Promise<never> | void => {
    const first = holders[0];
    const now = serverNow();
    if (now !== undefined && now >= turnDeadline(ownJob, queueSeconds)) {
      return finish(1, `waited ${queueSeconds} s (QUEUE_TIMEOUT_SECONDS) for its turn behind ${describeHolder(first)}; not starting `
        + 'the migration, so that it never runs out of its Job\'s deadline midway. The next release runs the pending migrations.');
    }
    const identity = `${first.job}/${first.pod ?? ''}/${first.terminating}`;
    if (identity !== head) {
      head = identity;
      const others = new Set(holders.map((h) => h.job).filter((job) => job !== first.job)).size;
      log(`waiting for its turn behind ${describeHolder(first)}${others > 0 ? `, and ${others} more Job${others > 1 ? 's' : ''}` : ''}`);
    }
  };

  // The watches say nothing holds it back: read both lists afresh, and start only on lists that
  // the API server answered late enough to show every Job that sorts first (queue-order.ts).
  const confirm = async (): Promise<unknown> => {
    confirming = true;
    try {
      for (;;) {
        let date = Infinity;
        const read = async (group: string, plural: string) => {
          const list = await send('GET', `${group}/namespaces/${namespace}/${plural}?${query}`, null, undefined, (d) => {
            date = Math.min(date, d);
          });
          return (list.items || []) as any[];
        };
        let listed: [JobState[], PodState[]];
        try {
          listed = [await read('/apis/batch/v1', 'jobs'), await read('/api/v1', 'pods')];
        } catch (e) {
          if (!retryable(e as ProgramError)) return await denied(e as ProgramError);
          await sleep(retryDelayMs());
          continue;
        }
        const turn = turnOf(own, ownPod, ...listed);
        const ownJob = listed[0].find((j) => j.metadata.name === own);
        if (turn.kind === 'gone' || turn.kind === 'wait' || !ownJob) {
          stale = true;
          if (turn.kind === 'wait' && ownJob) void waitBehind(turn.holders, ownJob);
          return undefined;
        }
        if (date !== Infinity && date >= turnDeadline(ownJob, queueSeconds)) {
          return await finish(1, `its turn came more than ${queueSeconds} s (QUEUE_TIMEOUT_SECONDS) after Job ${namespace}/${own} started: not starting `
            + 'the migration, so that it never runs out of its Job\'s deadline midway. The next release runs the pending migrations.');
        }
        if (date !== Infinity && settled(ownJob, date)) {
          return await finish(0, `its turn: no migration of another release runs or goes before Job ${namespace}/${own}; starting the migration`);
        }
        // Created less than 2 s ago by the server's clock: a Job created in the same second may still sort first.
        // In a shared queue, so may an earlier service's Job of the same apply, up to the Job's offset.
        const offset = ownJob.metadata.annotations?.[QUEUE_OFFSET_ANNOTATION];
        if (offset && !offsetLogged) {
          offsetLogged = true;
          log(`waiting up to ${offset} s after its Job's creation for the migrations of the services it runs after (${QUEUE_OFFSET_ANNOTATION})`);
        }
        await sleep(Math.max(keyOf(ownJob.metadata).time + SETTLE_MS - (date === Infinity ? 0 : date), 100));
      }
    } finally {
      confirming = false;
    }
  };

  function evaluate(): void {
    if (finished() || confirming || stale || !jobs.listed() || !pods.listed()) return;
    const turn = turnOf(own, ownPod, [...jobs.objects.values()], [...pods.objects.values()]);
    if (turn.kind === 'gone') {
      void finish(1, `Job ${namespace}/${own} does not exist any more (it was deleted): not starting the migration`);
    } else if (turn.kind === 'wait') {
      void waitBehind(turn.holders, jobs.objects.get(own)!);
    } else {
      void confirm();
    }
  }

  // The queue's deadline passes without an event: check it by the clock (no request).
  setInterval(() => {
    const ownJob = jobs.objects.get(own);
    const now = serverNow();
    if (ownJob && now !== undefined && now >= turnDeadline(ownJob, queueSeconds)) {
      stale = false;
      evaluate();
    }
  }, 1000);
  log(`waiting for its turn: Job ${namespace}/${own} migrates after the Jobs of ${selector} created before it, and while no pod of theirs runs`);
  await Promise.all([
    followList('/apis/batch/v1', 'jobs', query, `jobs ${selector}`, jobs.handlers, denied),
    followList('/api/v1', 'pods', query, `pods ${selector}`, pods.handlers, denied),
  ]);
}
