/**
 * `DatabaseMigration.progressDeadline`: the progress deadline a gated Deployment needs, which
 * MigratedService gives its own Deployment and the README's "Gating more workloads" example gives
 * the Deployments it gates. A deadline the library picks never raises MS102.
 */
import { App, Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { DatabaseMigration, MigratedService, MigrationWarnings } from '../src';
import { MINIMAL } from './support/manifests';

/* eslint-disable @typescript-eslint/no-explicit-any */

function migrationIn(chart: Chart, props: { migrationTimeout?: Duration; queueTimeout?: Duration } = {}): DatabaseMigration {
  return new DatabaseMigration(chart, 'shop', { imageTag: 'v1.0.0', image: 'registry.example.com/shop', migrationCommand: ['./migrate'], ...props });
}

const minutes = (n: number | undefined) => (n === undefined ? undefined : Duration.minutes(n));

test.each([
  [undefined, undefined, 3600 + 3600 + 600],
  [20, undefined, 1200 + 1200 + 600],
  [20, 5, 300 + 1200 + 600],
])('GIVEN migrationTimeout %s min and queueTimeout %s min THEN progressDeadline is their sum plus 10 minutes: %i s', (migrationTimeout, queueTimeout, seconds) => {
  const migration = migrationIn(new Chart(Testing.app(), 'shop', { namespace: 'shop' }), { migrationTimeout: minutes(migrationTimeout), queueTimeout: minutes(queueTimeout) });
  expect(migration.progressDeadline.toSeconds()).toBe(seconds);
  // AND it exceeds the Job's own deadline, which counts the queue and the migration
  const job = Testing.synth(Chart.of(migration)).find((m: any) => m.kind === 'Job');
  expect(migration.progressDeadline.toSeconds()).toBeGreaterThan(job.spec.activeDeadlineSeconds);
});

test('GIVEN a MigratedService with a queueTimeout of its own THEN its Deployment gets its migration\'s progressDeadline', () => {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  const service = new MigratedService(chart, 'myapp', { ...MINIMAL, queueTimeout: Duration.minutes(5) });
  const deployment = Testing.synth(chart).find((m: any) => m.kind === 'Deployment');
  expect(deployment.spec.progressDeadlineSeconds).toBe(service.migration.progressDeadline.toSeconds());
  expect(deployment.spec.progressDeadlineSeconds).toBe(300 + 3600 + 600);
});

test('GIVEN a strict App WHEN a Deployment with migration.progressDeadline is gated THEN it synthesizes; one second shorter than the Job\'s deadline fails with MS102', () => {
  const synthWith = (deadline: (migration: DatabaseMigration) => Duration) => {
    const app = new App({ outdir: Testing.app().outdir });
    MigrationWarnings.strict(app);
    const chart = new Chart(app, 'shop', { namespace: 'shop' });
    const migration = migrationIn(chart);
    const web = new kplus.Deployment(chart, 'web', {
      strategy: kplus.DeploymentStrategy.rollingUpdate({ maxUnavailable: kplus.PercentOrAbsolute.absolute(0) }),
      progressDeadline: deadline(migration),
    });
    web.addContainer({ image: migration.releaseImage('registry.example.com/shop') });
    migration.gate(web);
    return () => app.synth();
  };
  expect(synthWith((migration) => migration.progressDeadline)).not.toThrow();
  expect(synthWith(() => Duration.seconds(7200 - 1))).toThrow(/MS102/);
});
