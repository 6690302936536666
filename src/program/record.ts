/**
 * Mode `record`: records the migration's success in the ledger ConfigMap, in the migration Job's
 * pod after the migration.
 */
import { connection, send } from './api';
import { count, env, required } from './config';
import { describe, ProgramError } from './errors';
import { withEntry } from './ledger';
import { finish, finished, log } from './log';
import { problemLog, retryable, retryDelayMs, sleep } from './retry';

export async function recordSuccess(): Promise<void> {
  const name = required('MIGRATION_JOB');
  const ledger = required('MIGRATION_LEDGER');
  const max = count('LEDGER_MAX_ENTRIES', 20, 1);
  const waitSeconds = count('LEDGER_WAIT_SECONDS', 120, 0);
  if (finished()) return;
  const { namespace } = connection();
  const ref = `ledger ConfigMap ${namespace}/${ledger}`;
  const path = `/api/v1/namespaces/${namespace}/configmaps/${ledger}`;
  const entry: { succeededAt: string; image?: string } = { succeededAt: new Date().toISOString() };
  if (env.MIGRATION_IMAGE) entry.image = env.MIGRATION_IMAGE;
  const deadline = Date.now() + waitSeconds * 1000;
  // Recording is best effort: the migration itself succeeded, and failing here would fail the Job
  // and with it a Helm or Argo CD release. So every way out exits 0, with a WARNING when it failed.
  const consequence = `The migration succeeded, but once Job ${namespace}/${name} is deleted, new pods of this release will wait for it`;
  const problems = problemLog(ref);
  let conflicts = 0;
  let problem = '';
  let mayCreate = true;
  let waitLogged = false;
  for (;;) {
    try {
      if (problem === 'missing' && mayCreate) {
        // Under Helm and Argo CD the chart leaves the ledger out and this program creates it: their
        // hook Job runs before the release's objects exist. Elsewhere the Role allows no create
        // (403): the ledger is applied with the Job, so wait for it. No labels: Argo CD's tracking
        // label (app.kubernetes.io/instance) would make it the app's, to be pruned.
        try {
          await send('POST', `/api/v1/namespaces/${namespace}/configmaps`,
            { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ledger }, data: withEntry({}, name, entry, max) });
          return await finish(0, `created ${ref} and recorded the success of Job ${namespace}/${name} at ${entry.succeededAt}`);
        } catch (e) {
          const err = e as ProgramError;
          if (err.status === 401 || err.status === 403) mayCreate = false;
          else if (err.status !== 409) throw err;
        }
      }
      const configMap = await send('GET', path);
      configMap.data = withEntry(configMap.data || {}, name, entry, max);
      delete configMap.metadata.managedFields;
      // PUT with the resourceVersion we read: a concurrent writer makes it fail with 409, not lose
      // its entry.
      await send('PUT', path, configMap);
      return await finish(0, `recorded the success of Job ${namespace}/${name} at ${entry.succeededAt} in ${ref}`);
    } catch (e) {
      const err = e as ProgramError;
      if (!retryable(err)) {
        return finish(0, `WARNING: could not record the migration's success in ${ref} (${describe(err)}): the service account needs get and update on configmaps named ${ledger}. ${consequence}`);
      }
      if (err.status === 404 && problem !== 'missing' && mayCreate) {
        problem = 'missing';
        continue;
      }
      if (err.status === 404 && !waitLogged) {
        waitLogged = true;
        log(`${ref} does not exist yet; retrying for up to ${waitSeconds} s`);
      }
      problem = err.status === 404 ? 'missing' : describe(err);
      if (err.status !== 404 && err.status !== 409) problems.report(err);
    }
    if (Date.now() >= deadline) {
      return finish(0, `WARNING: could not record the migration's success in ${ref} within LEDGER_WAIT_SECONDS=${waitSeconds}: ${problem === 'missing' ? 'it does not exist' : problem}. ${consequence}`);
    }
    // A conflict is no fault: another writer just succeeded, so read again soon, unless it keeps
    // happening. Everything else waits as the retry policy says.
    const conflict = problem.startsWith('HTTP 409') && ++conflicts <= 5;
    const pause = conflict ? 100 + Math.random() * 200 : retryDelayMs();
    await sleep(Math.min(pause, Math.max(deadline - Date.now(), 0)));
  }
}
