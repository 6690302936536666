/**
 * The watch-stream reader: a chunked watch answer, one JSON event a line, cut anywhere by the network.
 */
import * as fc from 'fast-check';
import { WatchEvent, watchStreamReader } from '../../src/program/watch-stream';

function read(chunks: string[]): WatchEvent[] {
  const events: WatchEvent[] = [];
  const push = watchStreamReader((event) => events.push(event));
  for (const chunk of chunks) push(chunk);
  return events;
}

/** `text` cut at `cuts` (positions, in any order, repeats allowed). */
function cut(text: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  return [0, ...at].map((start, i) => text.slice(start, [...at, text.length][i]));
}

const event = fc.record({
  type: fc.constantFrom('ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK'),
  object: fc.record({
    metadata: fc.record({ name: fc.string(), resourceVersion: fc.nat().map(String) }),
    data: fc.dictionary(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' })),
  }),
});

describe('watchStreamReader', () => {
  test('GIVEN events, one JSON a line, cut into chunks anywhere (inside a line, a string, a multi-byte character) WHEN read THEN each event arrives once, whole and in order', () => {
    fc.assert(fc.property(fc.array(event, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (events, cuts) => {
      const text = events.map((e) => `${JSON.stringify(e)}\n`).join('');
      expect(read(cut(text, cuts))).toEqual(events);
    }));
  });

  test('GIVEN a line without its newline yet WHEN read THEN it waits for the rest', () => {
    const events: WatchEvent[] = [];
    const push = watchStreamReader((e) => events.push(e));
    push('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"MOD');
    expect(events.map((e) => e.type)).toEqual(['ADDED']);
    push('IFIED"}\n');
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED']);
  });

  test('GIVEN blank lines between events (keep-alives) WHEN read THEN they are skipped', () => {
    expect(read(['\n', '{"type":"ADDED"}\n \r\n\n{"type":"DELETED"}\n']).map((e) => e.type)).toEqual(['ADDED', 'DELETED']);
  });

  test('GIVEN a line that is not JSON WHEN read THEN the reader throws, so that the request fails and is retried', () => {
    expect(() => read(['{"type":"ADDED"}\n<html>proxy error</html>\n'])).toThrow(SyntaxError);
  });

  test('GIVEN an onEvent that throws (an ERROR event) WHEN read THEN the error reaches the caller and later lines are not read', () => {
    const seen: string[] = [];
    const push = watchStreamReader((e) => {
      seen.push(e.type);
      if (e.type === 'ERROR') throw new Error('410 Gone');
    });
    expect(() => push('{"type":"ERROR"}\n{"type":"ADDED"}\n')).toThrow('410 Gone');
    expect(seen).toEqual(['ERROR']);
  });
});
