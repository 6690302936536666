import { Chart, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { DatabaseMigration, MigratedService, MigrationTool, MigrationWaiter, MigrationWarnings } from '../src';
import { captureWarnings } from './support/warnings';
import { conventionallyMoves, identifiesRelease } from '../src/shared/release-tag';

let printed: string[];
beforeEach(() => {
  printed = captureWarnings().texts;
});
afterEach(() => {
  jest.restoreAllMocks();
});

const SHOP = { image: 'registry.example.com/shop', migrationTool: MigrationTool.prisma() };

// --- tag shapes ---------------------------------------------------------------------------------

const digits = (min: number, max: number) => fc.integer({ min, max }).map(String);
const prefix = fc.constantFrom('', 'v');
const hex = fc.stringMatching(/^[0-9a-f]{7,40}$/);
/** What follows a version in an image tag: a distribution or a runtime, not a build. */
const variant = fc.constantFrom('alpine', 'slim', 'bookworm', 'alpine3.22', 'jdk17', 'slim-bookworm');

/** Tags that name one build: nothing should warn about them. */
const uniqueTag = fc.oneof(
  // full semver, with or without a pre-release or build metadata
  fc.tuple(prefix, digits(0, 999), digits(0, 999), digits(0, 9999999999), fc.constantFrom('', '-rc.1', '-beta.2', '-alpine', '-rc1', '_build.7'))
    .map(([p, a, b, c, s]) => `${p}${a}.${b}.${c}${s}`),
  // commit SHAs, short or full, and a branch with the SHA
  hex,
  fc.tuple(fc.constantFrom('main', 'master', 'develop', 'release', 'feature-x'), hex).map(([branch, sha]) => `${branch}-${sha}`),
  // dates and CI build numbers
  fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10).replace(/-/g, '.')),
  fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true })
    .map((d) => `nightly-${d.toISOString().slice(0, 10).replace(/-/g, '')}`),
  digits(100, 99999999).map((n) => `build-${n}`),
  digits(100, 99999999),
);

/** Tags that a registry re-points at each new release of their line. */
const movingTag = fc.oneof(
  fc.tuple(prefix, digits(0, 99)).map(([p, major]) => `${p}${major}`),
  fc.tuple(prefix, digits(0, 99), digits(0, 99)).map(([p, major, minor]) => `${p}${major}.${minor}`),
  fc.tuple(digits(0, 99), fc.option(digits(0, 99), { nil: undefined }), variant)
    .map(([major, minor, v]) => `${major}${minor === undefined ? '' : `.${minor}`}-${v}`),
  fc.tuple(prefix, digits(0, 99), digits(0, 99), digits(0, 99), fc.constantFrom('-SNAPSHOT', '-snapshot', '.SNAPSHOT'))
    .map(([p, a, b, c, s]) => `${p}${a}.${b}.${c}${s}`),
  fc.tuple(fc.constantFrom('stable', 'latest', 'nightly', 'edge', 'dev', 'main', 'Stable', 'lts'), fc.constantFrom('-', '.', '_'), digits(0, 99))
    .map(([channel, sep, n]) => `${channel}${sep}${n}`),
  digits(0, 99).map((major) => `${major}.x`),
);

describe('which release tags conventionally move', () => {
  test.each([
    ['v2', /bare major or a major\.minor/],
    ['2', /bare major/],
    ['1.4', /major\.minor/],
    ['v1.4', /major\.minor/],
    ['20-alpine', /major\.minor/],
    ['stable-1', /names the channel "stable"/],
    ['latest-2', /names the channel "latest"/],
    ['1.2.3-SNAPSHOT', /-SNAPSHOT tag/],
  ])('%s moves', (tag, reason) => {
    expect(identifiesRelease(tag)).toBe(true);
    expect(conventionallyMoves(tag)).toMatch(reason);
  });

  test.each([
    'v1.2.3', '1.2.3-rc.1', '3f2a9c1', '2024.06.01', 'v1.2286938253.0', 'main-3f2a9c1', '24.11.0-alpine3.22', 'no-root-v2.0',
    'v1.28.15', 'nightly-20240601', '1234', '1.4-rc1',
  ])('%s names one build', (tag) => {
    expect(conventionallyMoves(tag)).toBeUndefined();
  });

  test('every tag of a full version, a SHA, a date or a build number names one build', () => {
    fc.assert(fc.property(uniqueTag, (tag) => {
      expect(identifiesRelease(tag)).toBe(true);
      expect(conventionallyMoves(tag)).toBeUndefined();
    }), { numRuns: 500 });
  });

  test('every bare major, major.minor, -SNAPSHOT and channel line moves', () => {
    fc.assert(fc.property(movingTag, (tag) => {
      expect(identifiesRelease(tag)).toBe(true);
      expect(conventionallyMoves(tag)).toBeDefined();
    }), { numRuns: 500 });
  });

  test('a tag that names no release is left to identifiesRelease, which refuses it', () => {
    fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/), (tag) => {
      if (!identifiesRelease(tag)) {
        expect(conventionallyMoves(tag)).toBeUndefined();
      }
    }), { numRuns: 500 });
  });
});

// --- the constructs -------------------------------------------------------------------------------

describe('a migration tagged with a moving tag', () => {
  test('DatabaseMigration warns MS105, naming the tag, the Job name and the fix', () => {
    // GIVEN a migration of the release tag v2
    const chart = new Chart(Testing.app(), 'shop');
    const migration = new DatabaseMigration(chart, 'web', { ...SHOP, imageTag: 'v2' });
    // WHEN the chart is synthesized
    Testing.synth(chart);
    // THEN one warning says why, with the Job name every v2.x release would share
    expect(printed).toEqual([expect.stringMatching(/^\[WARNING MS105 moving-image-tag\] DatabaseMigration "shop\/web": imageTag "v2" is a bare major/)]);
    expect(printed[0]).toContain(`The migration Job is named after the tag (${migration.jobName})`);
    expect(migration.jobName).toBe('web-migration-v2');
    expect(printed[0]).toContain('kubectl apply and Flux leave the first one\'s completed Job in place');
    expect(printed[0]).toContain('Tag each build uniquely: a full version ("v1.2.3") or a commit SHA.');
  });

  test('MigratedService warns too, and it can be acknowledged on the service', () => {
    // GIVEN a service on a -SNAPSHOT tag, acknowledged
    const app = Testing.app();
    const chart = new Chart(app, 'shop');
    const web = new MigratedService(chart, 'web', { ...SHOP, imageTag: '1.2.3-SNAPSHOT', port: 3000 });
    MigrationWarnings.acknowledge(web, 'moving-image-tag', 'a preview environment, rebuilt from scratch at every deploy');
    MigrationWarnings.strict(app);
    // WHEN synthesized strictly
    // THEN nothing fails and nothing is printed
    expect(() => Testing.synth(chart)).not.toThrow();
    expect(printed).toEqual([]);
  });

  test('unacknowledged, it fails a strict synth', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'shop');
    new MigratedService(chart, 'web', { ...SHOP, imageTag: 'stable-1', port: 3000 });
    MigrationWarnings.strict(app);
    // (the service's migration raises it, as it does the other migration warnings; acknowledging the service covers it)
    expect(() => Testing.synth(chart)).toThrow(/\[MS105 moving-image-tag\] DatabaseMigration "shop\/web\/Migration": imageTag "stable-1" names the channel "stable".*\(web-migration-stable-1\)/);
  });

  test('a full version is not warned about', () => {
    const chart = new Chart(Testing.app(), 'shop');
    new DatabaseMigration(chart, 'web', { ...SHOP, imageTag: 'v2.0.1' });
    Testing.synth(chart);
    expect(printed).toEqual([]);
  });
});

describe('the waiter image is pinned', () => {
  test.each([
    ['node:latest', /":latest" names no version/],
    ['node:lts', /":lts" names no version/],
    ['node:20', /"20" is a bare major/],
    ['node:20-alpine', /"20-alpine" is a bare major/],
    ['registry.k8s.io/kubectl:v1.28', /"v1\.28" is a bare major or a major\.minor/],
    ['registry.example.com/waiter:1.0.0-SNAPSHOT', /-SNAPSHOT tag/],
  ])('MigrationWaiter.watch({ image: %j }) is refused, with the fix', (image, reason) => {
    expect(() => MigrationWaiter.watch({ image })).toThrow(reason);
    expect(() => MigrationWaiter.watch({ image })).toThrow(
      `MigrationWaiter.watch(): image ${JSON.stringify(image)} is invalid: `);
    expect(() => MigrationWaiter.watch({ image })).toThrow(
      'Pin the image to a full version (e.g. "node:24.11.0-alpine3.22", "registry.k8s.io/kubectl:v1.28.15") or to a digest ("<image>@sha256:...").');
  });

  test.each([
    ['k8sWaitFor', () => MigrationWaiter.k8sWaitFor({ image: 'groundnuty/k8s-wait-for:latest' })],
    ['kubectlWait', () => MigrationWaiter.kubectlWait({ image: 'registry.k8s.io/kubectl:v1.33' })],
  ])('%s refuses a moving tag too', (_factory, create) => {
    expect(create).toThrow(/is invalid: .*Pin the image to a full version/);
  });

  test.each([
    'node:24.11.0-alpine3.22',
    'groundnuty/k8s-wait-for:no-root-v2.0',
    'registry.k8s.io/kubectl:v1.28.15',
    `node@sha256:${'a'.repeat(64)}`,
    `node:20@sha256:${'a'.repeat(64)}`,
    'registry.example.com/shop:3f2a9c1',
  ])('%s is accepted', (image) => {
    expect(() => MigrationWaiter.watch({ image })).not.toThrow();
  });
});
