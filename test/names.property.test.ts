import { Chart, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { MigratedService } from '../src';
import { container, named, oneOfKind, waitedJob } from './support/manifests';
import { quietWarnings } from './support/shop';
import { isDnsLabel, isLabelValue, versionedName, versionLabelValue } from '../src/shared/names';
import { identifiesRelease } from '../src/shared/release-tag';

// A tag that conventionally moves (v2, 1.4) is accepted with a warning (MS105, tested in
// moving-tags.test.ts), which these properties about names do not read.
quietWarnings();

/** Any tag Docker accepts, except latest (the name functions take any other). */
const dockerTag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/).filter((tag) => tag !== 'latest');

/** Any tag the constructs accept: one that names a release. */
const releaseTag = dockerTag.filter(identifiesRelease);

/** Any valid base name: any DNS-1035 label, up to 63 characters. */
const baseName = fc.stringMatching(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);

/**
 * A tag and a different tag that sanitising alone would confuse with it: the same characters with
 * case flipped and ".", "_" and "-" swapped at random.
 */
const confusablePair = fc
  .tuple(dockerTag, fc.infiniteStream(fc.nat()))
  .map(([tag, choices]) => {
    const it = choices[Symbol.iterator]();
    const variant = [...tag].map((char, i) => {
      const roll = it.next().value as number;
      if (i > 0 && '._-'.includes(char)) {
        return '._-'[roll % 3];
      }
      return roll % 2 === 0 ? char.toUpperCase() : char.toLowerCase();
    }).join('');
    return [tag, variant] as const;
  })
  .filter(([a, b]) => a !== b && b !== 'latest');

describe('names for any valid tag and base name', () => {
  test('every object name is a DNS label of at most 63 characters, and the waiter waits for the Job', () => {
    fc.assert(
      fc.property(releaseTag, baseName, (imageTag, name) => {
        // GIVEN any valid tag and name
        const chart = new Chart(Testing.app(), 'test');
        const service = new MigratedService(chart, 'svc', {
          name, imageTag, image: 'registry.example.com/app', migrationCommand: ['migrate'], port: 80, deploymentVariables: true,
        });
        // WHEN synthesized
        const manifests = Testing.synth(chart);
        // THEN every name is a DNS label (which also makes it a valid label value for job-name)
        for (const manifest of manifests) {
          expect(isDnsLabel(manifest.metadata.name)).toBe(true);
        }
        // AND the waiter and the Role name exactly the Job that exists
        const job = oneOfKind(manifests, 'Job');
        const waiter = container(oneOfKind(manifests, 'Deployment').spec.template.spec, service.migration.waiterContainerName);
        expect(isDnsLabel(waiter.name)).toBe(true);
        expect(waitedJob(waiter)).toBe(job.metadata.name);
        expect(named(manifests, 'Role', service.migration.role.name).rules[0].resourceNames).toEqual([job.metadata.name]);
        // AND the version label is a valid label value
        expect(isLabelValue(job.metadata.labels['app.kubernetes.io/version'])).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  test('distinct tags give distinct Job names', () => {
    fc.assert(
      fc.property(baseName, dockerTag, dockerTag, (name, a, b) => {
        fc.pre(a !== b);
        expect(versionedName(`${name}-migration-`, a)).not.toBe(versionedName(`${name}-migration-`, b));
      }),
      { numRuns: 2000 },
    );
  });

  test('tags that differ only in case or separators give distinct Job names', () => {
    // The case that sanitising alone gets wrong: "V1.0" and "v1_0" both read "v1-0".
    fc.assert(
      fc.property(baseName, confusablePair, (name, [a, b]) => {
        expect(versionedName(`${name}-migration-`, a)).not.toBe(versionedName(`${name}-migration-`, b));
      }),
      { numRuns: 2000 },
    );
  });

  test('a tag that is already a lowercase DNS label and fits is kept verbatim', () => {
    const safeTag = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,9}[a-z0-9])?$/);
    fc.assert(
      fc.property(baseName, safeTag, (name, tag) => {
        expect(versionedName(`${name}-migration-`, tag)).toBe(`${name}-migration-${tag}`);
      }),
    );
  });

  test('the version label is a valid label value and identical to a tag that already is one', () => {
    fc.assert(
      fc.property(dockerTag, (tag) => {
        const value = versionLabelValue(tag);
        expect(isLabelValue(value)).toBe(true);
        if (isLabelValue(tag)) {
          expect(value).toBe(tag);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the name checks themselves', () => {
  // These guard the property tests above: a checker that accepts everything proves nothing.
  test.each([
    ['a', true], ['a-1', true], ['-a', false], ['a-', false], ['A', false], ['a_b', false], ['a.b', false],
    ['a'.repeat(63), true], ['a'.repeat(64), false],
  ])('isDnsLabel(%j) is %p', (value, expected) => {
    expect(isDnsLabel(value)).toBe(expected);
  });

  test.each([
    ['', true], ['v1.0_RC-1', true], ['_v1', false], ['v1.', false], ['a'.repeat(64), false],
  ])('isLabelValue(%j) is %p', (value, expected) => {
    expect(isLabelValue(value)).toBe(expected);
  });

  test('a long or unsafe tag is cut, keeps a readable prefix, and ends in a hash', () => {
    const name = versionedName('myapp-migration-', `Release_${'9'.repeat(120)}`);
    expect(name).toMatch(/^myapp-migration-release-9+-[0-9a-f]{10}$/);
    expect(name).toHaveLength(63);
  });

  test('a tag with nothing readable left is the hash alone', () => {
    const prefix = `${'a'.repeat(42)}-migration-`;
    expect(versionedName(prefix, '___')).toMatch(new RegExp(`^${prefix}[0-9a-f]{10}$`));
  });
});
