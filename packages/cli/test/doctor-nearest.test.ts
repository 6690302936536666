/**
 * The nearest existing Job name doctor offers when a waiter names a Job that does not exist.
 */
import * as fc from 'fast-check';
import { editDistance, nearestName } from '../src/doctor/nearest';

const jobName = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/);

describe('editDistance', () => {
  test('is a distance: zero only for equal names, symmetric, and at most the longer length', () => {
    fc.assert(fc.property(jobName, jobName, (a, b) => {
      const d = editDistance(a, b);
      expect(d === 0).toBe(a === b);
      expect(editDistance(b, a)).toBe(d);
      expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length));
      expect(d).toBeGreaterThanOrEqual(Math.abs(a.length - b.length));
    }));
  });

  test('counts insertions, deletions and substitutions', () => {
    expect(editDistance('billing-migrate-v7', 'billing-migration-v7')).toBe(3);
    expect(editDistance('shop-migration-v1', 'shop-migration-v2')).toBe(1);
  });
});

describe('nearestName', () => {
  test('a name one edit away is found, never the wanted name itself; a name far from it is not offered', () => {
    fc.assert(fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{5,20}$/), fc.array(jobName, { maxLength: 5 }), fc.nat(), (wanted, others, at) => {
      const i = at % wanted.length;
      const typo = `${wanted.slice(0, i)}${wanted[i] === 'x' ? 'y' : 'x'}${wanted.slice(i + 1)}`;
      const found = nearestName(wanted, [...others, typo, wanted]);
      expect(found).toBeDefined();
      expect(found).not.toBe(wanted);
      expect(editDistance(wanted, found!) <= 1 || found!.startsWith(wanted) || wanted.startsWith(found!)).toBe(true);
    }));
    expect(nearestName('billing-seed-v8', ['billing-seed-v7', 'orders-backfill'])).toBe('billing-seed-v7');
    expect(nearestName('orders-backfill', ['billing-seed-v7', 'myapp-migration-v2-0-0-1cf887de9e'])).toBeUndefined();
    expect(nearestName('billing-migration', ['billing-migration-v7', 'billing-migration-v10'])).toBe('billing-migration-v7');
  });
});
