/**
 * Run by jest before every test file of both packages (setupFilesAfterEnv in .projenrc.ts): a test
 * that lets one of the library's warnings print fails, with the warning and what to do. A test that
 * expects a warning captures and asserts it (`captureWarnings()` or `withWarnings()` in
 * test/support/warnings.ts, or a `jest.spyOn(console, 'warn').mockImplementation(…)` of its own),
 * so that the log of a passing run holds no warning, and a new one is noticed.
 *
 * A warning printed while the file is collected (a `describe` body that synthesizes for the tests
 * below it) fails the file's first test.
 */
import { format } from 'util';
import { LIBRARY_WARNING } from './warnings';

const original = console.warn;
let printed: string[] = [];
let collecting = true;

function guarded(...args: unknown[]): void {
  const text = format(...args);
  if (LIBRARY_WARNING.test(text)) {
    printed.push(text);
  }
  original.apply(console, args);
}

function failOn(unasserted: string[], when: string): void {
  if (unasserted.length > 0) {
    throw new Error(`${when} let ${unasserted.length} warning(s) of the library print:\n${unasserted.map((text) => `  ${text}`).join('\n')}\n`
      + 'If the test expects them, capture and assert them: const warnings = captureWarnings() (test/support/warnings.ts), '
      + 'then expect(warnings.ids()).toEqual([...]); in a describe body, withWarnings(() => ...). If it does not, fix the props '
      + 'that raise them, or acknowledge them with MigrationWarnings.acknowledge. See "Warnings in tests" in docs/development.md.');
  }
}

// From here on, through the collection of the test file.
console.warn = guarded;

beforeEach(() => {
  const collected = collecting ? printed : [];
  collecting = false;
  printed = [];
  console.warn = guarded;
  failOn(collected, 'the collection of this file (a describe body)');
});

afterEach(() => {
  console.warn = original;
  const unasserted = printed;
  printed = [];
  failOn(unasserted, 'this test');
});
