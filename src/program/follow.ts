/**
 * Following one object by name, or the objects a selector selects, through every fault the retry
 * policy retries.
 */
import { connection, send } from './api';
import { WATCH_SECONDS } from './config';
import { apiError, ProgramError } from './errors';
import { finished } from './log';
import { problemLog, retryable, retryDelayMs, sleep } from './retry';

/** Gets the object, or null (with the last state of the object in `deleted`, when it was deleted) while it does not exist. */
export type OnChange = (object: any, deleted?: any) => void;

/** What a followed list reports: its whole content after each LIST, then each change. */
export interface ListHandlers {
  /** The objects, after every LIST (at the start, and after a 410 or an outage). */
  reset(items: any[]): void;
  /** One change, as a watch reports it: ADDED, MODIFIED or DELETED (with the object's last state). */
  change(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: any): void;
}

/** A map of objects by name that a followed list keeps up to date. */
export interface Tracked<T> {
  readonly objects: Map<string, T>;
  readonly handlers: ListHandlers;
  listed(): boolean;
}

export function tracked<T extends { metadata: { name: string } }>(onChange: () => void): Tracked<T> {
  const objects = new Map<string, T>();
  let listed = false;
  return {
    objects,
    listed: () => listed,
    handlers: {
      reset(items) {
        objects.clear();
        for (const item of items) objects.set(item.metadata.name, item);
        listed = true;
        onChange();
      },
      change(type, object) {
        if (type === 'DELETED') objects.delete(object.metadata.name);
        else objects.set(object.metadata.name, object);
        onChange();
      },
    },
  };
}

// Follows one object by name: LIST it with a metadata.name field selector (which a Role rule with
// resourceNames allows, unlike a plain LIST), then WATCH from the list's resourceVersion so no
// change between the two is lost. onChange gets the object, or null while it does not exist.
// Runs until the process exits; 401 and 403 that outlast the grace window call onDenied, anything
// else is retried.
export function follow(group: string, plural: string, name: string, onChange: OnChange,
  onDenied: (err: ProgramError) => unknown): Promise<unknown> {
  return followList(group, plural, `fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`, `${plural} ${name}`, {
    reset: (items) => onChange(items[0] || null),
    change: (type, object) => (type === 'DELETED' ? onChange(null, object) : onChange(object)),
  }, onDenied);
}

// Follows the objects of `plural` in the pod's namespace that `selector` (a query such as
// `labelSelector=...`) selects: LIST, then WATCH from the list's resourceVersion, renewed when the
// server ends it; a 410 (compacted away, or a restarted server) LISTs again. Runs until the process
// exits; 401 and 403 that outlast the grace window call onDenied, anything else is retried.
export async function followList(group: string, plural: string, selector: string, subject: string, handlers: ListHandlers,
  onDenied: (err: ProgramError) => unknown): Promise<unknown> {
  const base = `${group}/namespaces/${connection().namespace}/${plural}?${selector}`;
  const problems = problemLog(subject);
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
        handlers.reset(list.items || []);
        resourceVersion = list.metadata.resourceVersion;
      }
      const opened = Date.now();
      const query = `&watch=1&allowWatchBookmarks=true&timeoutSeconds=${WATCH_SECONDS}&resourceVersion=${resourceVersion}`;
      await send('GET', base + query, null, (event) => {
        if (event.type === 'ERROR') throw apiError(event.object && event.object.code, event.object);
        const meta = (event.object && event.object.metadata) || {};
        resourceVersion = meta.resourceVersion || resourceVersion;
        if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') handlers.change(event.type, event.object);
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
