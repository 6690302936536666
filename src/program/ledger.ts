/**
 * The ledger: a ConfigMap whose keys are Job names and whose values are
 * `{"succeededAt":"<ISO time>","image":"..."}`. It outlives the Job (TTL, Flux prune, deletion by
 * hand), so a restarted pod of a release whose migration succeeded still starts.
 */
import { connection, send } from './api';
import { describe, ProgramError } from './errors';
import { problemLog, retryable, retryDelayMs, sleep } from './retry';

/** One entry of the ledger. */
export interface LedgerEntry {
  readonly succeededAt: string;
  readonly image?: string;
}

/** The entry in a ledger value, or null when the value is not one (someone else's key). */
export function ledgerEntry(value: string | undefined): LedgerEntry | null {
  try {
    const entry = JSON.parse(value as string);
    return entry && typeof entry.succeededAt === 'string' ? entry : null;
  } catch (err) {
    return null;
  }
}

// Keeps the newest `max` ledger entries (this one included). Keys whose value is not a ledger
// entry belong to someone else and are kept as they are.
export function withEntry(data: Record<string, string>, name: string, entry: LedgerEntry, max: number): Record<string, string> {
  const isJobName = (key: string) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(key);
  const succeededAt = (key: string) => (ledgerEntry(data[key]) as LedgerEntry).succeededAt;
  const others = Object.keys(data)
    .filter((key) => key !== name && isJobName(key) && ledgerEntry(data[key]))
    .sort((a, b) => succeededAt(b).localeCompare(succeededAt(a)));
  // Spread defines each key as its own property; Object.assign would *set* them, and setting a key
  // "__proto__" (a valid ConfigMap key) changes the prototype instead, dropping the key from the ledger.
  const result: Record<string, string> = { ...data, [name]: JSON.stringify(entry) };
  for (const key of others.slice(Math.max(max - 1, 0))) delete result[key];
  return result;
}

/** What the ledger says about one Job: when it succeeded, or why there is no evidence. */
export type LedgerEvidence =
  | { readonly succeededAt: string; readonly text?: undefined }
  | { readonly succeededAt?: undefined; readonly text: string };

// The ledger's view of one Job: { succeededAt } when it records a success, otherwise { text } saying
// why there is no evidence. Retries what the retry policy retries for as long as wanted() says the
// answer still matters. Never throws: a missing or forbidden ledger is no evidence, not a crash.
export async function readLedger(ledger: string, name: string, wanted: () => boolean): Promise<LedgerEvidence> {
  const { namespace } = connection();
  const ref = `ledger ConfigMap ${namespace}/${ledger}`;
  if (!ledger) return { text: 'no ledger configured (MIGRATION_LEDGER is unset), so no evidence of an earlier success' };
  const problems = problemLog(ref);
  for (;;) {
    try {
      const configMap = await send('GET', `/api/v1/namespaces/${namespace}/configmaps/${ledger}`);
      problems.over();
      const entry = ledgerEntry((configMap.data || {})[name]);
      return entry ? { succeededAt: entry.succeededAt } : { text: `${ref} has no record of its success` };
    } catch (e) {
      const err = e as ProgramError;
      if (err.status === 404) return { text: `${ref} does not exist, so no evidence of its success` };
      if (!retryable(err) && (err.status === 401 || err.status === 403)) {
        return { text: `cannot read ${ref} (${describe(err)}; the service account needs get on configmaps named ${ledger}), so no evidence of its success` };
      }
      if (!wanted()) return { text: `cannot read ${ref} (${describe(err)}), so no evidence of its success` };
      problems.report(err);
    }
    await sleep(retryDelayMs());
  }
}
