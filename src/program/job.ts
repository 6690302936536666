/**
 * Mode `job`: waits for this release's migration Job, in the init container of each gated pod.
 */
import { connection } from './api';
import { env, RECHECK_MS, required } from './config';
import { deniedMessage } from './errors';
import { follow } from './follow';
import { readLedger } from './ledger';
import { finish, finished, log } from './log';

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

export async function waitForJob(): Promise<void> {
  const name = required('MIGRATION_JOB');
  const container = env.MIGRATION_CONTAINER || 'migrate';
  const ledger = env.MIGRATION_LEDGER || '';
  if (finished()) return;
  const { namespace } = connection();
  const ref = `Job ${namespace}/${name}`;
  let missing = false;
  let checking = false;
  // A Job that is missing may be gone (TTL, prune, deleted by hand) or not applied yet (engines
  // apply in any order): exit 0 only on the ledger's evidence of success, otherwise keep waiting.
  const checkMissing = async () => {
    checking = true;
    const evidence = await readLedger(ledger, name, () => missing && !finished());
    checking = false;
    if (!missing) return;
    if (evidence.succeededAt) {
      return finish(0, `${ref} does not exist, but ledger ConfigMap ${namespace}/${ledger} records its success at ${evidence.succeededAt}: starting`);
    }
    log(`${ref} does not exist (yet); waiting for it to be created and to complete: ${evidence.text}`);
    return;
  };
  setInterval(() => {
    if (missing && !checking) void checkMissing();
  }, RECHECK_MS);
  const onJob = (job: any, deleted?: any) => {
    const conditions: Condition[] = ((job || deleted || {}).status || {}).conditions || [];
    const condition = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
    if (condition('Complete')) return finish(0, `${ref} is Complete: the migration succeeded, starting`);
    // FailureTarget (Kubernetes 1.31+) comes before Failed, which waits for the pods to terminate;
    // either means the Job will not succeed. No retry here: the kubelet restarts this container.
    const failed = condition('Failed') || condition('FailureTarget');
    if (failed) {
      return finish(1, `${ref} failed (${failed.reason || 'no reason given'}: ${failed.message || 'no message'}); not starting. Read the migration's logs: kubectl logs -n ${namespace} job/${name} -c ${container}`);
    }
    if (job) {
      if (missing) log(`${ref} now exists; waiting for it to complete`);
      missing = false;
    } else if (!missing) {
      missing = true;
      if (!checking) void checkMissing();
    }
    return;
  };
  log(`waiting for ${ref} to complete`);
  await follow('/apis/batch/v1', 'jobs', name, onJob, (err) =>
    finish(1, deniedMessage(err, ref, `list and watch on jobs (API group batch) named ${name} in namespace ${namespace}`)));
}
