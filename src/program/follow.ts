/**
 * Following one object by name, through every fault the retry policy retries.
 */
import { connection, send } from './api';
import { WATCH_SECONDS } from './config';
import { apiError, ProgramError } from './errors';
import { finished } from './log';
import { problemLog, retryable, retryDelayMs, sleep } from './retry';

/** Gets the object, or null (with the last state of the object in `deleted`, when it was deleted) while it does not exist. */
export type OnChange = (object: any, deleted?: any) => void;

// Follows one object by name: LIST it with a metadata.name field selector (which a Role rule with
// resourceNames allows, unlike a plain LIST), then WATCH from the list's resourceVersion so no
// change between the two is lost. onChange gets the object, or null while it does not exist.
// Runs until the process exits; 401 and 403 that outlast the grace window call onDenied, anything
// else is retried.
export async function follow(group: string, plural: string, name: string, onChange: OnChange,
  onDenied: (err: ProgramError) => unknown): Promise<unknown> {
  const base = `${group}/namespaces/${connection().namespace}/${plural}?fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`;
  const problems = problemLog(`${plural} ${name}`);
  let resourceVersion = '';
  let goneBefore = false;
  for (;;) {
    let healthy = false;
    let retryNow = false;
    let gone = false;
    try {
      if (!resourceVersion) {
        const list = await send('GET', base);
        if (!list.metadata || !list.metadata.resourceVersion) throw new Error('the LIST answer has no resourceVersion');
        problems.over();
        onChange((list.items || [])[0] || null);
        resourceVersion = list.metadata.resourceVersion;
      }
      const opened = Date.now();
      const query = `&watch=1&allowWatchBookmarks=true&timeoutSeconds=${WATCH_SECONDS}&resourceVersion=${resourceVersion}`;
      await send('GET', base + query, null, (event) => {
        if (event.type === 'ERROR') throw apiError(event.object && event.object.code, event.object);
        const meta = (event.object && event.object.metadata) || {};
        resourceVersion = meta.resourceVersion || resourceVersion;
        if (event.type === 'ADDED' || event.type === 'MODIFIED') onChange(event.object);
        if (event.type === 'DELETED') onChange(null, event.object);
        // Bookmarks do not count as progress: a server that sent one and then closed the stream
        // every time would otherwise be reconnected to in a busy loop.
        if (event.type !== 'BOOKMARK') healthy = true;
      });
      // A watch that ran for most of its timeout ended normally: renew it at once. One the server
      // closed early counts as a failure, so a server or proxy that closes every stream at once
      // gets the retry pause instead of a busy loop.
      if (Date.now() - opened >= WATCH_SECONDS * 500) healthy = true;
    } catch (e) {
      const err = e as ProgramError;
      if (err.status === 410) {
        // The resourceVersion was compacted away (or the API server restarted): LIST again, at
        // once unless the previous attempt also ended so.
        resourceVersion = '';
        gone = true;
        retryNow = !goneBefore || healthy;
        healthy = false;
      } else if (!retryable(err)) {
        return onDenied(err);
      } else {
        problems.report(err);
      }
    }
    if (finished()) return;
    goneBefore = gone;
    if (healthy) problems.over();
    else if (!retryNow) await sleep(retryDelayMs());
  }
}
