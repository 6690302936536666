/**
 * Releases that overlap: every migration Job of a DatabaseMigration, pre- and post-deploy, waits
 * for its turn in `wait-for-turn`, under every engine, with read-only RBAC; and the container the
 * construct emits runs, as synthesized, against the real program and the fake API server.
 */
import { Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { DatabaseMigration, DatabaseMigrationProps, Delivery, MigrationTool, MigrationWaiter } from '../src';
import { container, named, positionOf } from './support/manifests';
import { ProgramHarness } from './support/program-process';

const SHOP: DatabaseMigrationProps = {
  imageTag: 'v1.2.3',
  image: 'registry.example.com/shop-migration',
  migrationTool: MigrationTool.flyway({ locations: ['filesystem:/flyway/sql/expand'], postDeployLocations: ['filesystem:/flyway/sql/contract'] }),
  secretNames: ['shop-secrets'],
};
const SELECTOR = 'app.kubernetes.io/name=shop,app.kubernetes.io/managed-by=cdk8s,app.kubernetes.io/component in (migration,post-migration)';

/** A web Deployment created first, then the migration that gates it. */
function synth(props: Partial<DatabaseMigrationProps> = {}) {
  const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
  // (its progress deadline covers the queue and the migration, so that nothing is warned about)
  const web = new kplus.Deployment(chart, 'web', { metadata: { name: 'web' }, progressDeadline: Duration.hours(3) });
  web.addContainer({ image: 'registry.example.com/shop:v1.2.3' });
  const migration = new DatabaseMigration(chart, 'shop', { ...SHOP, ...props });
  migration.gate(web);
  return { migration, manifests: Testing.synth(chart) };
}

const podOf = (manifests: any[], job: string) => named(manifests, 'Job', job).spec.template.spec;
const envOf = (c: any) => Object.fromEntries(c.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

const ENGINES: Array<[string, Delivery]> = [
  ['flux', Delivery.flux()], ['kubectl', Delivery.kubectl()], ['helm', Delivery.helm({ hookWeight: 3 })], ['argocd', Delivery.argoCd({ syncWave: -2 })],
];

describe.each(ENGINES)('under %s', (engine, delivery) => {
  const { migration, manifests } = synth({ delivery });
  const pre = podOf(manifests, migration.jobName);
  const post = podOf(manifests, migration.postDeploy!.jobName);

  test('GIVEN both Jobs THEN the pre-deploy pod waits for its turn first, the post-deploy pod right after its rollout', () => {
    expect(pre.initContainers.map((c: any) => c.name)).toEqual(['wait-for-turn', 'migrate']);
    expect(post.initContainers.map((c: any) => c.name)).toEqual(['wait-for-rollout', 'wait-for-turn']);
  });

  test('GIVEN the wait-for-turn containers THEN they run the program\'s queue mode with this migration\'s selector, their Job, their pod and their share of the deadline', () => {
    const preQueue = container(pre, 'wait-for-turn');
    expect(preQueue.command).toEqual(['node', '/opt/migration-waiter/migration-waiter.js']);
    expect(preQueue.args).toEqual(['queue']);
    expect(envOf(preQueue)).toEqual(expect.objectContaining({
      MIGRATION_JOB: migration.jobName,
      MIGRATION_SELECTOR: SELECTOR,
      QUEUE_TIMEOUT_SECONDS: '3600',
      POD_NAME: { fieldRef: { fieldPath: 'metadata.name' } },
    }));
    expect(envOf(container(post, 'wait-for-turn'))).toEqual(expect.objectContaining({ MIGRATION_JOB: migration.postDeploy!.jobName, MIGRATION_SELECTOR: SELECTOR }));
    // AND the rollout waiter gives up when a later release takes over
    expect(envOf(container(post, 'wait-for-rollout')).MIGRATION_SELECTOR).toBe(SELECTOR);
    // AND the migration container, which runs the application's code, has no token
    for (const pod of [pre, post]) {
      const migrate = [...pod.initContainers, ...pod.containers].find((c: any) => c.name === 'migrate');
      expect((migrate.volumeMounts ?? []).map((m: any) => m.mountPath)).not.toContain('/var/run/secrets/kubernetes.io/serviceaccount');
    }
  });

  test('GIVEN the queue\'s Role THEN it lists and watches Jobs and pods, and nothing else: no get, no write, no Secret', () => {
    const role = named(manifests, 'Role', 'shop-migration-queue');
    expect(role.rules).toEqual([
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
    ]);
    const binding = named(manifests, 'RoleBinding', 'shop-migration-queue');
    expect(binding.roleRef.name).toBe('shop-migration-queue');
    // bound to the accounts of both Jobs' pods
    expect(binding.subjects.map((s: any) => s.name).sort()).toEqual([pre.serviceAccountName, post.serviceAccountName].sort());
    expect(binding.subjects.every((s: any) => s.namespace === 'shop')).toBe(true);
  });

  test('GIVEN the deadlines THEN each Job\'s covers its queue and its migration', () => {
    expect(named(manifests, 'Job', migration.jobName).spec.activeDeadlineSeconds).toBe(3600 + 3600);
    expect(named(manifests, 'Job', migration.postDeploy!.jobName).spec.activeDeadlineSeconds).toBe(3600 + 3600 + 600 + 3600 + 3600);
  });

  test('GIVEN the order THEN the queue\'s Role and RoleBinding come before the Jobs that use them', () => {
    for (const kind of ['Role', 'RoleBinding']) {
      expect(positionOf(manifests, kind, 'shop-migration-queue')).toBeLessThan(positionOf(manifests, 'Job', migration.jobName));
    }
  });

  if (engine === 'flux') {
    test('GIVEN Flux THEN neither Job is pruned when the next release drops it, and neither has a TTL', () => {
      for (const name of [migration.jobName, migration.postDeploy!.jobName]) {
        const job = named(manifests, 'Job', name);
        expect(job.metadata.annotations['kustomize.toolkit.fluxcd.io/prune']).toBe('disabled');
        expect(job.spec.ttlSecondsAfterFinished).toBeUndefined();
      }
    });
  } else {
    test('GIVEN an engine other than Flux THEN no Flux annotation', () => {
      expect(named(manifests, 'Job', migration.jobName).metadata.annotations?.['kustomize.toolkit.fluxcd.io/prune']).toBeUndefined();
    });
  }

  if (engine === 'helm' || engine === 'argocd') {
    test('GIVEN a hook engine THEN the queue\'s Role and RoleBinding are hooks of the Job\'s phase, ordered as the recorder\'s are: before the Job', () => {
      const hook = engine === 'helm' ? 'helm.sh/hook' : 'argocd.argoproj.io/hook';
      const job = named(manifests, 'Job', migration.jobName);
      const recorderRole = named(manifests, 'Role', 'shop-migration-recorder').metadata.annotations;
      for (const kind of ['Role', 'RoleBinding']) {
        const annotations = named(manifests, kind, 'shop-migration-queue').metadata.annotations;
        expect(annotations[hook]).toBe(job.metadata.annotations[hook]);
        expect(annotations).toEqual(recorderRole);
      }
      // Helm creates hooks one at a time by weight: one below the Job's. Argo CD applies RBAC before Jobs within a wave.
      if (engine === 'helm') expect(Number(recorderRole['helm.sh/hook-weight'])).toBeLessThan(Number(job.metadata.annotations['helm.sh/hook-weight']));
      // AND the pre-deploy Job mounts the hook copy of the program, which exists before it
      expect(pre.volumes.find((v: any) => v.name === 'migration-waiter-program').configMap.name).toBe('shop-migration-waiter-hook');
    });
  }
});

describe('a waiter that is not the watch waiter', () => {
  test.each([['k8sWaitFor', MigrationWaiter.k8sWaitFor()], ['kubectlWait', MigrationWaiter.kubectlWait()]])(
    'GIVEN %s THEN the queue still runs the program, from the Node.js image, as an account of its own', (_label, waiter) => {
      const { migration, manifests } = synth({ waiter });
      const pre = podOf(manifests, migration.jobName);
      expect(container(pre, 'wait-for-turn').image).toBe('node:24.11.0-alpine3.22');
      expect(pre.serviceAccountName).toBe('shop-migration-queue');
      expect(named(manifests, 'ServiceAccount', 'shop-migration-queue').automountServiceAccountToken).toBe(false);
      expect(named(manifests, 'ConfigMap', 'shop-migration-waiter')).toBeDefined();
    });
});

describe('queueTimeout', () => {
  test('GIVEN a queueTimeout THEN the pre-deploy deadline is it plus the migration timeout, and the queue gives up after it', () => {
    const { migration, manifests } = synth({ queueTimeout: Duration.minutes(20), migrationTimeout: Duration.minutes(30) });
    expect(named(manifests, 'Job', migration.jobName).spec.activeDeadlineSeconds).toBe(1200 + 1800);
    expect(envOf(container(podOf(manifests, migration.jobName), 'wait-for-turn')).QUEUE_TIMEOUT_SECONDS).toBe('1200');
  });

  test.each([Duration.seconds(0), Duration.millis(1500)])('GIVEN queueTimeout %s THEN the construct refuses it, naming the prop and the rule', (queueTimeout) => {
    expect(() => synth({ queueTimeout })).toThrow(/DatabaseMigration "shop\/shop".*queueTimeout/);
  });
});

describe('the synthesized wait-for-turn container, run as the pod runs it', () => {
  const harness = new ProgramHarness('shop', 'queue-token', 'release-queue-');

  test('GIVEN an earlier release\'s migration runs WHEN this release\'s synthesized queue container runs with its Role THEN it waits, then starts when that one ends', async () => {
    const server = harness.server;
    // GIVEN the manifests of two releases, as the construct writes them
    const earlier = synth({ imageTag: 'v1.2.2' });
    const later = synth();
    const earlierJob = named(earlier.manifests, 'Job', earlier.migration.jobName);
    const laterJob = named(later.manifests, 'Job', later.migration.jobName);
    // AND the queue's Role as the fake API server's RBAC for the pod's token
    server.tokens.set('queue-token', named(later.manifests, 'Role', 'shop-migration-queue').rules);
    const minuteAgo = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const now = new Date(Date.now() - 10_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    server.apply('jobs', 'shop', { ...earlierJob, metadata: { ...earlierJob.metadata, creationTimestamp: minuteAgo }, status: { startTime: minuteAgo, active: 1 } });
    server.apply('jobs', 'shop', { ...laterJob, metadata: { ...laterJob.metadata, creationTimestamp: now }, status: { startTime: now, active: 1 } });
    const podLabels = (job: any) => ({ ...job.spec.template.metadata.labels, 'batch.kubernetes.io/job-name': job.metadata.name });
    server.apply('pods', 'shop', { metadata: { name: `${earlierJob.metadata.name}-a1b2c`, labels: podLabels(earlierJob) }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } });
    server.apply('pods', 'shop', { metadata: { name: `${laterJob.metadata.name}-d3e4f`, labels: podLabels(laterJob) }, spec: { nodeName: 'n1' }, status: { phase: 'Pending' } });

    // WHEN the later release's wait-for-turn runs with its command (node, the program at its mount path), args and env
    const queue = container(laterJob.spec.template.spec, 'wait-for-turn');
    const env = Object.fromEntries(queue.env.map((e: any) => [e.name, e.value ?? `${laterJob.metadata.name}-d3e4f`]));
    expect(queue.command).toEqual(['node', '/opt/migration-waiter/migration-waiter.js']);
    const p = harness.start(queue.args, env);

    // THEN it waits behind the earlier release, and starts when that migration completes
    await p.output(/waiting for its turn behind release v1\.2\.2's migration Job shop-migration-v1-2-2-/);
    server.endPod('shop', `${earlierJob.metadata.name}-a1b2c`);
    server.setJobCondition('shop', earlierJob.metadata.name, 'Complete');
    expect(await p.exitCode()).toBe(0);
  });
});
