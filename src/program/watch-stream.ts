/**
 * The reader of a watch's answer: a chunked 200 whose every line is one JSON event.
 */

/** One event of a watch (`ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK` or `ERROR`). */
export interface WatchEvent {
  readonly type: string;
  readonly object?: any;
}

/**
 * A reader that splits the chunks of a watch stream into lines and hands each non-blank line,
 * parsed, to `onEvent`. A chunk may end inside a line, which waits for the next chunk. The reader
 * throws what JSON.parse or onEvent throws; the caller then ends the stream, so the rest is never
 * read.
 */
export function watchStreamReader(onEvent: (event: WatchEvent) => void): (chunk: string) => void {
  let text = '';
  return (chunk) => {
    text += chunk;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (line.trim()) onEvent(JSON.parse(line));
    }
  };
}
