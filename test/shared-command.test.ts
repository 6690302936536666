import * as fc from 'fast-check';
import { expansionVariable, hasCarriageReturn, shellOnlyExpansion, shellOnlyExpansionProblem } from '../src/shared/command';
import { parseQuantity } from '../src/shared/quantity';

describe('shellOnlyExpansion: what Kubernetes passes literally in an exec-form command', () => {
  test.each([
    ['$NODE_ENV', '$NODE_ENV'],
    ['--env=$NODE_ENV', '$NODE_ENV'],
    ['${NODE_ENV}', '${NODE_ENV}'],
    ['${NODE_ENV:-production}', '${NODE_ENV:-production}'],
    ['postgres://$DB_HOST/app', '$DB_HOST'],
    ['$(A)-$B', '$B'],
  ])('GIVEN %j WHEN checked THEN %j is reported', (arg, expected) => {
    expect(shellOnlyExpansion(arg)).toBe(expected);
  });

  test.each([
    'migrate:latest',
    '$(NODE_ENV)', // Kubernetes' own syntax
    '$$NODE_ENV', // Kubernetes' escape for a literal $
    'price: 5$',
    '$1', // not a variable name: a positional parameter never set in exec form, left to other checks
    '$',
  ])('GIVEN %j WHEN checked THEN nothing is reported', (arg) => {
    expect(shellOnlyExpansion(arg)).toBeUndefined();
  });

  test('GIVEN any text without a $ THEN nothing is reported; with $NAME appended THEN that is reported', () => {
    fc.assert(fc.property(fc.string().filter((s) => !s.includes('$')), fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,10}$/), (s, name) => {
      expect(shellOnlyExpansion(s)).toBeUndefined();
      expect(shellOnlyExpansion(`${s}$${name}`)).toBe(`$${name}`);
    }));
  });

  test('THEN the problem names the variable, the Kubernetes syntax and the shell alternative', () => {
    expect(expansionVariable('${NODE_ENV:-x}')).toBe('NODE_ENV');
    const problem = shellOnlyExpansionProblem('$NODE_ENV');
    expect(problem).toContain('$(NODE_ENV)');
    expect(problem).toContain('sh');
    expect(problem).toContain('literally');
  });
});

describe('hasCarriageReturn', () => {
  test('GIVEN a script with Windows line endings THEN it is found; with Unix ones THEN not', () => {
    expect(hasCarriageReturn('set -euo pipefail\r\nnpm run migrate\r\n')).toBe(true);
    expect(hasCarriageReturn('set -euo pipefail\nnpm run migrate\n')).toBe(false);
  });
});

describe('parseQuantity', () => {
  test.each([
    ['64Mi', 64 * 2 ** 20], ['128M', 128e6], ['1Gi', 2 ** 30], ['134217728', 134217728], ['1e9', 1e9], ['0.5Gi', 2 ** 29], [33554432, 33554432],
  ])('GIVEN %j THEN %d bytes', (quantity, bytes) => {
    expect(parseQuantity(quantity)).toBe(bytes);
  });
  test.each([['250m', 0.25], ['2', 2], [0.5, 0.5], ['1e3', 1000]])('GIVEN the cpu quantity %j THEN %d CPUs', (quantity, cpus) => {
    expect(parseQuantity(quantity)).toBe(cpus);
  });
  test.each(['${LIMIT}', '64 Mi', 'lots', '', '1e3Mi', NaN, Infinity])('GIVEN %j THEN not a quantity', (quantity) => {
    expect(parseQuantity(quantity)).toBeUndefined();
  });
});
