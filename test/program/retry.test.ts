/**
 * The retry policy (one pause, 0.5 to 1.5 s, whatever failed) and the grace window for 401 and 403.
 */
import * as fc from 'fast-check';
import { ProgramError } from '../../src/program/errors';
import { contact, problemLog, retryable, retryDelayMs, setGraceMs } from '../../src/program/retry';

const error = (status?: number, code?: string): ProgramError => Object.assign(new Error('boom'), { status, code });

afterEach(() => {
  jest.restoreAllMocks();
  setGraceMs(60_000);
});

describe('retryDelayMs', () => {
  test('GIVEN any draw of the random number WHEN asked THEN the pause is between 0.5 and 1.5 s', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (r) => {
      jest.spyOn(Math, 'random').mockReturnValue(r);
      const delay = retryDelayMs();
      expect(delay).toBeGreaterThanOrEqual(500);
      // 500 + r * 1000 for r < 1 may round to 1500 in floating point: the bound is inclusive there.
      expect(delay).toBeLessThanOrEqual(1500);
      expect(delay).toBeCloseTo(500 + 1000 * r);
    }));
  });

  test('GIVEN many attempts in a row WHEN asked THEN the pause never grows: it averages 1 s from the first attempt to the last', () => {
    const delays = Array.from({ length: 4000 }, () => retryDelayMs());
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(delays.slice(0, 2000))).toBeGreaterThan(950);
    expect(mean(delays.slice(0, 2000))).toBeLessThan(1050);
    expect(mean(delays.slice(2000))).toBeGreaterThan(950);
    expect(mean(delays.slice(2000))).toBeLessThan(1050);
  });
});

describe('retryable', () => {
  test('GIVEN any error but 401 and 403 (connection errors, 404, 409, 429, 5xx) THEN it is retried, however long it lasts', () => {
    fc.assert(fc.property(fc.option(fc.integer({ min: 100, max: 599 }).filter((s) => s !== 401 && s !== 403)), fc.nat(), (status, late) => {
      setGraceMs(0);
      contact(0);
      expect(retryable(error(status ?? undefined, 'ECONNREFUSED'), late + 1)).toBe(true);
    }));
  });

  test('GIVEN 401 or 403 THEN it is retried exactly while the last good answer is at most the grace window old', () => {
    const ms = (max: number) => fc.integer({ min: 0, max });
    fc.assert(fc.property(fc.constantFrom(401, 403), ms(600_000), ms(1_200_000), (status, grace, since) => {
      setGraceMs(grace);
      contact(1_000_000);
      expect(retryable(error(status), 1_000_000 + since)).toBe(since <= grace);
    }));
  });

  test('GIVEN a good answer after a long denial THEN the window starts again', () => {
    setGraceMs(60_000);
    contact(0);
    expect(retryable(error(403), 90_000)).toBe(false);
    contact(90_000);
    expect(retryable(error(403), 120_000)).toBe(true);
  });
});

describe('problemLog', () => {
  test('GIVEN the same problem on every attempt THEN it is logged once, and its end once', () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const problems = problemLog('jobs web-migration-4f2a9c');
    for (let i = 0; i < 5; i++) problems.report(error(undefined, 'ECONNREFUSED'));
    problems.over();
    problems.over();
    expect(stderr.mock.calls.map((c) => String(c[0]))).toEqual([
      expect.stringMatching(/ migration-waiter: jobs web-migration-4f2a9c: ECONNREFUSED: boom; retrying about once a second\n$/),
    ]);
    expect(stdout.mock.calls.map((c) => String(c[0]))).toEqual([
      expect.stringMatching(/ migration-waiter: jobs web-migration-4f2a9c: the API server answers again\n$/),
    ]);
  });

  test('GIVEN a 403 THEN the line says how long it is retried; a new problem is logged again', () => {
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    setGraceMs(60_000);
    const problems = problemLog('jobs j');
    problems.report(error(undefined, 'ECONNREFUSED'));
    problems.report(error(403));
    problems.report(error(403));
    const lines = stderr.mock.calls.map((c) => String(c[0]));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('HTTP 403: boom; retrying about once a second (an API server that is starting denies requests for a moment; after 60 s without a good answer this is final)');
  });
});
