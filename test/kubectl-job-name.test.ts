import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import * as fc from 'fast-check';
import { DatabaseQueue, Delivery, MigratedService, MigratedServiceProps } from '../src';
import { allOfKind, MINIMAL, named, oneOfKind, synthesize, waitedJob } from './support/manifests';
import { captureWarnings } from './support/warnings';
import * as libraryVersionModule from '../src/constructs/library-version';
import { isDnsLabel, versionedResourceName } from '../src/shared/names';

const KUBECTL: MigratedServiceProps = { ...MINIMAL, delivery: Delivery.kubectl(), postDeployMigrationCommand: ['./contract'] };

function jobNames(props: MigratedServiceProps): string[] {
  return allOfKind(synthesize(props).manifests, 'Job').map((job) => job.metadata.name);
}

describe('the Job name under Delivery.kubectl()', () => {
  test('carries a digest of the pod template after the tag, and stays the same while the template does', () => {
    // GIVEN the same props synthesized twice
    const first = jobNames(KUBECTL);
    const second = jobNames(KUBECTL);

    // THEN each Job is named <name>-migration-<tag>-<8 hex> (and the post-deploy Job alike), and applying again changes nothing
    expect(first[0]).toMatch(/^myapp-migration-v1-0-0-[0-9a-f]{10}-[0-9a-f]{8}$/);
    expect(first[1]).toMatch(/^myapp-post-migration-v1-0-0-[0-9a-f]{10}-[0-9a-f]{8}$/);
    expect(first[0].slice(-8)).toBe(first[1].slice(-8));
    expect(second).toEqual(first);
  });

  test.each<[string, Partial<MigratedServiceProps>]>([
    ['env', { env: { LOG_LEVEL: kplus.EnvValue.fromValue('debug') } }],
    ['migration resources', { migrationResources: { memory: { request: Size.mebibytes(256), limit: Size.mebibytes(512) } } }],
    ['command', { migrationCommand: ['./migrate', '--verbose'] }],
    ['secretNames', { secretNames: ['db'] }],
  ])('changes when the %s of the same tag change, so kubectl apply creates a new Job instead of failing on the immutable template', (_what, change) => {
    // GIVEN a release synthesized again with the same tag and another pod template
    const before = jobNames(KUBECTL);
    const after = jobNames({ ...KUBECTL, ...change });

    // THEN the Jobs have new names, with the same tag
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
    expect(after[0].startsWith('myapp-migration-v1-0-0-')).toBe(true);
  });

  test('changes with a library upgrade, which may change the containers the library adds to the Job', () => {
    // GIVEN the same props under two library versions
    const before = jobNames(KUBECTL);
    jest.spyOn(libraryVersionModule, 'libraryVersion').mockReturnValue('99.0.0');
    const after = jobNames(KUBECTL);
    jest.restoreAllMocks();

    // THEN the Jobs have new names
    expect(after[0]).not.toBe(before[0]);
  });

  test('every reference to the Job uses the new name: the waiter, the Role, the ledger recorder', () => {
    // GIVEN a release under kubectl
    const { manifests } = synthesize(KUBECTL);
    const job = allOfKind(manifests, 'Job')[0];

    // THEN the service's waiter waits for it, and the Role names it
    expect(waitedJob(oneOfKind(manifests, 'Deployment').spec.template.spec.initContainers[0])).toBe(job.metadata.name);
    const reader = named(manifests, 'Role', 'myapp-migration-reader');
    expect(reader.rules.find((rule: any) => rule.resources.includes('jobs')).resourceNames).toEqual([job.metadata.name]);
    // AND its pods are labelled with it (which is why it stays within 63 characters)
    expect(isDnsLabel(job.metadata.name)).toBe(true);
  });

  test('is a DNS label of at most 63 characters for any name and tag', () => {
    // (a random tag may be one that conventionally moves, which the constructs warn about: MS105)
    const warnings = captureWarnings();
    fc.assert(fc.property(
      fc.stringMatching(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/),
      // (a tag needs a digit to name a release)
      fc.stringMatching(/^[A-Za-z0-9_.-]{0,126}$/).map((rest) => `v1${rest}`),
      (name, imageTag) => {
        for (const jobName of jobNames({ ...KUBECTL, name, imageTag })) {
          expect(isDnsLabel(jobName)).toBe(true);
        }
      }), { numRuns: 25 });
    fc.assert(fc.property(
      fc.stringMatching(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/),
      fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/),
      fc.stringMatching(/^[0-9a-f]{8}$/),
      (name, tag, hash) => {
        const jobName = versionedResourceName(name, '-post-migration-', tag, hash);
        expect(isDnsLabel(jobName)).toBe(true);
        expect(jobName.endsWith(`-${hash}`)).toBe(true);
      }));
    expect(warnings.ids().filter((id) => id !== 'MS105')).toEqual([]);
  });

  test.each([['flux', Delivery.flux()], ['argoCd', Delivery.argoCd()], ['helm', Delivery.helm()]])(
    'under Delivery.%s() stays <name>-migration-<tag>: the engine re-creates the Job itself', (_engine, delivery) => {
      expect(jobNames({ ...MINIMAL, delivery })).toEqual(['myapp-migration-v1-0-0-2485f4d55a']);
    });
});

describe('the Job name under Delivery.kubectl() follows what the App around the service puts in the pod template', () => {
  /** The pre-deploy Job of `myapp` in a chart with the id `chartId`. */
  function preDeployJob(chartId: string): any {
    const chart = new Chart(Testing.app(), chartId, { namespace: 'shop' });
    new MigratedService(chart, 'myapp', KUBECTL);
    return allOfKind(Testing.synth(chart), 'Job')[0];
  }

  test('a chart of another id mounts another waiter program ConfigMap, so the Job gets another name', () => {
    // GIVEN the same service in charts of two ids (the program ConfigMap is named after the chart)
    const before = preDeployJob('shop');
    const after = preDeployJob('store');

    // WHEN the pod templates differ (the program volume names another ConfigMap)
    expect(after.spec.template).not.toEqual(before.spec.template);

    // THEN the Job names differ, or kubectl apply would fail on the immutable template
    expect(after.metadata.name).not.toBe(before.metadata.name);
  });

  // Known gaps: the digest is computed when the migration is constructed, and these inputs of the
  // pod templates arrive later, so the name cannot follow them yet. Under kubectl, with the same
  // tag, apply a new tag (or delete the finished Jobs) after such a change. These tests fail while
  // the gap exists (test.failing); when the name follows them, make them ordinary tests.
  test.failing('joining a DatabaseQueue (label, queue selector) gives the Job another name', () => {
    // GIVEN the same service, alone and then queued on a shared database
    const names = [false, true].map((queued) => {
      const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
      const service = new MigratedService(chart, 'myapp', KUBECTL);
      if (queued) {
        new DatabaseQueue(chart, 'ShopDatabase', { name: 'shop', migrations: [service.migration] });
      }
      return allOfKind(Testing.synth(chart), 'Job')[0].metadata.name;
    });

    // THEN the Job names differ
    expect(names[1]).not.toBe(names[0]);
  });

  test.failing('gating one more workload (the post-deploy Job waits for its rollout) gives the post-deploy Job another name', () => {
    // GIVEN the same service, then with a worker gated too
    const names = [false, true].map((worker) => {
      const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
      const service = new MigratedService(chart, 'myapp', KUBECTL);
      if (worker) {
        service.migration.gate(new kplus.Deployment(chart, 'worker', {
          metadata: { name: 'worker' },
          progressDeadline: Duration.hours(3),
          containers: [{ image: 'worker:v1.0.0', securityContext: { ensureNonRoot: false } }],
        }));
      }
      return allOfKind(Testing.synth(chart), 'Job')[1].metadata.name;
    });

    // THEN the post-deploy Job names differ
    expect(names[1]).not.toBe(names[0]);
  });
});
