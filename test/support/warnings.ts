/**
 * The library's warnings in tests. A warning is printed with console.warn (`[WARNING MS102 …]`) at
 * synth; a test that expects one captures it and asserts it, so that the test log stays quiet and a
 * warning nobody expected stands out. test/support/unasserted-warnings.ts, which jest runs before
 * every test file of both packages, fails a test that lets one print.
 */
import { format } from 'util';

/** What `captureWarnings()` caught so far, in order. */
export interface CapturedWarnings {
  /** Each console.warn call, as it would have been printed. */
  readonly texts: string[];
  /** The ids of the library's warnings among them (`MS102`, …), in order. */
  ids(): string[];
}

/**
 * Captures every console.warn call of the rest of the calling test (nothing is printed). The capture
 * ends with the test; assert on what it holds:
 *
 *   const warnings = captureWarnings();
 *   Testing.synth(chart);
 *   expect(warnings.ids()).toEqual(['MS102']);
 */
export function captureWarnings(): CapturedWarnings {
  const texts: string[] = [];
  jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
    texts.push(format(...args));
  });
  return { texts, ids: () => texts.flatMap((text) => /^\[WARNING (MS\d+) /.exec(text)?.[1] ?? []) };
}

/** A library warning as console.warn prints it: its id, then its name. */
export const LIBRARY_WARNING = /^\[WARNING MS\d+ [a-z0-9-]+\] /;

/**
 * Runs `fn` with console.warn captured, and gives back what it returned and what it warned. Unlike
 * `captureWarnings()`, it works outside a test too: in a `describe` body that synthesizes once for
 * the tests below it (assert the warnings in one of them).
 */
export function withWarnings<T>(fn: () => T): { readonly value: T; readonly texts: string[]; readonly ids: string[] } {
  const texts: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    texts.push(format(...args));
  };
  try {
    const value = fn();
    return { value, texts, ids: texts.flatMap((text) => /^\[WARNING (MS\d+) /.exec(text)?.[1] ?? []) };
  } finally {
    console.warn = warn;
  }
}
