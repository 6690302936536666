import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, Chart, Cron, Duration, JsonPatch, Testing } from 'cdk8s';
import {
  ArgoCdHookDeletePolicy,
  DatabaseMigration,
  DatabaseQueue,
  Delivery,
  HelmHookDeletePolicy,
  MigratedService,
  MigrationTool,
  MigrationWaiter,
} from 'cdk8s-migrated-service';
import * as kplus from 'cdk8s-plus-28';
import { parse } from 'yaml';
import { chartYaml, FIXTURES, lintFiles, lintText, ruleIds } from './support';
import { deliveryFromEnv, MyAppChart } from '../../../../examples/app/main';
import { captureWarnings } from '../../../../test/support/warnings';
import { parseManifests } from '../../src/lint/load';
import { Manifests } from '../../src/lint/model';
import { Finding } from '../../src/lint/rules';

// The library's output is the reference implementation of the pattern: the linter must find
// nothing in it but the library's own known gaps, listed here so that each one is a decision.
//
// KNOWN GAPS of the library at this commit: none. (Before the watch waiter, maxUnavailable: 0 and
// a kubectlWait() that notices failure, they were MS015 on every Deployment and MS020 for
// kubectlWait().) A gap added here must say why, and which rule finds it.
const KNOWN_GAPS: { readonly [rule: string]: string } = {};

const ENGINES: Array<[string, () => Delivery]> = [
  ['flux', () => Delivery.flux()],
  ['argoCd', () => Delivery.argoCd()],
  ['argoCd HookFailed, wave -1', () => Delivery.argoCd({ hookDeletePolicy: ArgoCdHookDeletePolicy.HOOK_FAILED, syncWave: -1 })],
  ['helm', () => Delivery.helm()],
  ['helm hook-failed, weight -5', () => Delivery.helm({ hookDeletePolicy: HelmHookDeletePolicy.HOOK_FAILED, hookWeight: -5 })],
  ['kubectl', () => Delivery.kubectl()],
];
const WAITERS: Array<[string, () => MigrationWaiter]> = [
  ['watch (default)', () => MigrationWaiter.watch()],
  ['k8sWaitFor', () => MigrationWaiter.k8sWaitFor()],
  ['kubectlWait', () => MigrationWaiter.kubectlWait()],
];
const TOOLS: Array<[string, () => MigrationTool]> = [
  ['prisma', () => MigrationTool.prisma()],
  ['alembic', () => MigrationTool.alembic()],
  ['liquibase', () => MigrationTool.liquibase()],
  ['flyway', () => MigrationTool.flyway()],
  ['golangMigrate', () => MigrationTool.golangMigrate()],
  ['django', () => MigrationTool.django()],
  ['rails', () => MigrationTool.rails()],
  ['knex', () => MigrationTool.knex()],
  ['typeorm', () => MigrationTool.typeorm()],
  ['sequelize', () => MigrationTool.sequelize()],
  ['custom', () => MigrationTool.custom(['./migrate', 'up'], { writablePaths: ['/var/cache/app'] })],
];

function unexpected(findings: Finding[]): string[] {
  return findings.filter((f) => !(f.rule.id in KNOWN_GAPS)).map((f) => `${f.rule.id} ${f.message}`);
}

describe('the library\'s own output lints clean but for its known gaps', () => {
  for (const namespace of ['shop', undefined]) {
    for (const [engine, delivery] of ENGINES) {
      for (const [waiterName, waiter] of WAITERS) {
        test(`${engine}, ${waiterName}, namespace ${namespace ?? '(none)'}`, () => {
          // GIVEN the library's manifests for this engine and waiter
          const chart = new Chart(Testing.app(), 'test', { namespace });
          new MigratedService(chart, 'myapp', {
            imageTag: 'v1.2.3',
            image: 'registry.example.com/myapp',
            migrationTool: MigrationTool.prisma(),
            configMapNames: ['myapp-config'],
            secretNames: ['myapp-secrets'],
            port: 3000,
            deploymentVariables: true,
            delivery: delivery(),
            waiter: waiter(),
          });
          // WHEN they are linted at every severity
          const result = lintText(chartYaml(chart), 'myapp.k8s.yaml');
          // THEN nothing is found
          expect(unexpected(result.findings)).toEqual([]);
          expect(result.findings.map((f) => f.rule.id)).toEqual([]);
          expect(result.suppressed).toEqual([]);
        });
      }
    }
  }

  // A queue under Helm needs rising hook weights, one per service, in the queue's order.
  const QUEUED_ENGINES: Array<[string, (i: number) => Delivery]> = [
    ['flux', () => Delivery.flux()],
    ['argoCd', () => Delivery.argoCd()],
    ['argoCd HookFailed, wave -1', () => Delivery.argoCd({ hookDeletePolicy: ArgoCdHookDeletePolicy.HOOK_FAILED, syncWave: -1 })],
    ['helm', (i) => Delivery.helm({ hookWeight: 10 * i })],
    ['helm hook-failed', (i) => Delivery.helm({ hookDeletePolicy: HelmHookDeletePolicy.HOOK_FAILED, hookWeight: 10 * i - 5 })],
    ['kubectl', () => Delivery.kubectl()],
  ];
  describe.each(QUEUED_ENGINES)('config defined in the chart, image pull secrets and a database queue, %s', (engine, delivery) => {
    test.each(WAITERS)('with the %s waiter, nothing is found', (_waiterName, waiter) => {
      // GIVEN the ConfigMap and Secret the services read, defined in the same chart (so that a hook
      // Job reads its own copies of them), two services that migrate one database in a queue, with
      // image pull secrets, and the program ConfigMaps, Job names and labels of this engine
      const chart = new Chart(Testing.app(), 'test', { namespace: 'shop' });
      new kplus.ConfigMap(chart, 'config', { metadata: { name: 'shop-config' }, data: { DATABASE_HOST: 'db' } });
      new kplus.Secret(chart, 'secrets', { metadata: { name: 'shop-secrets' }, stringData: { DATABASE_PASSWORD: 'x' } });
      const services = ['api', 'billing'].map((name, i) => new MigratedService(chart, name, {
        imageTag: `v1.${i}.0`,
        image: `registry.example.com/${name}`,
        migrationTool: MigrationTool.knex({ migrationsTableName: `${name}_migrations` }),
        configMapNames: ['shop-config'],
        secretNames: ['shop-secrets'],
        imagePullSecretNames: ['registry-credentials'],
        port: 3000,
        delivery: delivery(i),
        waiter: waiter(),
      }));
      new DatabaseQueue(chart, 'shop-database', { name: 'shop', migrations: services.map((s) => s.migration) });
      // WHEN linted at every severity
      const text = chartYaml(chart);
      const result = lintText(text, 'shop.k8s.yaml');
      // THEN nothing is found
      expect(unexpected(result.findings)).toEqual([]);
      expect(result.findings.map((f) => f.rule.id)).toEqual([]);
      // AND the case is what it says: the queue's label is on both Jobs
      expect(text.match(/cdk8s-migrated-service.dev\/database: shop/g)?.length).toBeGreaterThanOrEqual(2);
      // AND a hook Job reads hook copies of the config, which the workloads do not
      expect(text.includes('cdk8s-migrated-service.dev/hook-copy-of')).toBe(/argoCd|helm/.test(engine));
    });
  });

  test('every migration tool preset, each a service of one chart', () => {
    // GIVEN one chart with a service per preset, alternating the waiters
    const chart = new Chart(Testing.app(), 'test', { namespace: 'shop' });
    TOOLS.forEach(([name, tool], i) => new MigratedService(chart, name.toLowerCase(), {
      imageTag: `v1.${i}.0`,
      image: `registry.example.com/${name.toLowerCase()}`,
      migrationTool: tool(),
      secretNames: [`${name.toLowerCase()}-db`],
      env: {},
    }));
    // WHEN linted
    const result = lintText(chartYaml(chart));
    // THEN no service's RBAC, Job or waiter trips a rule of another's
    expect(unexpected(result.findings)).toEqual([]);
  });

  test.each(WAITERS)('a post-deploy migration, with the %s waiter, is neither a waiter nor an unwaited migration', (_name, waiter) => {
    // GIVEN the library with a post-deploy (contract) migration, whose Job waits for the rollout
    const chart = new Chart(Testing.app(), 'test', { namespace: 'shop' });
    new MigratedService(chart, 'myapp', {
      imageTag: 'v1.2.3',
      image: 'registry.example.com/myapp',
      migrationCommand: ['./migrate', 'expand'],
      postDeployMigrationCommand: ['./migrate', 'contract'],
      waiter: waiter(),
    });
    // WHEN linted at every severity THEN nothing is found
    const result = lintText(chartYaml(chart));
    expect(result.objects).toBeGreaterThan(6);
    expect(unexpected(result.findings)).toEqual([]);
  });

  test('a DatabaseMigration gating a workload of every kind', () => {
    // GIVEN one migration that gates a Deployment, StatefulSet, DaemonSet, CronJob, Job and Pod,
    // which read the migration's Secret, and whose Deployment and DaemonSet keep their capacity,
    // as gate() asks
    const chart = new Chart(Testing.app(), 'test', { namespace: 'shop' });
    const image = 'registry.example.com/shop:v1.2.3';
    const envFrom = [kplus.Env.fromSecret(kplus.Secret.fromSecretName(chart, 'shop-secrets', 'shop-secrets'))];
    const web = new kplus.Deployment(chart, 'web', {
      metadata: { name: 'web' },
      strategy: kplus.DeploymentStrategy.rollingUpdate({ maxUnavailable: kplus.PercentOrAbsolute.absolute(0) }),
    });
    web.addContainer({ name: 'web', image, envFrom });
    const search = new kplus.StatefulSet(chart, 'search', {
      metadata: { name: 'search' },
      service: new kplus.Service(chart, 'search-headless', { metadata: { name: 'search-headless' }, clusterIP: 'None', ports: [{ port: 9200 }] }),
    });
    search.addContainer({ name: 'search', image, envFrom });
    const agent = new kplus.DaemonSet(chart, 'agent', { metadata: { name: 'agent' } });
    agent.addContainer({ name: 'agent', image, envFrom });
    ApiObject.of(agent).addJsonPatch(JsonPatch.add('/spec/updateStrategy', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: { value: 0 }, maxSurge: { value: 1 } } }));
    const nightly = new kplus.CronJob(chart, 'nightly', { metadata: { name: 'nightly' }, schedule: Cron.daily() });
    nightly.addContainer({ name: 'report', image, envFrom });
    const migration = new DatabaseMigration(chart, 'shop', {
      imageTag: 'v1.2.3', image: 'registry.example.com/shop-migration', migrationTool: MigrationTool.prisma(), secretNames: ['shop-secrets'],
    });
    // (a gated Job or Pod is named per release: its pod template cannot change once created)
    const once = new kplus.Job(chart, 'once', { metadata: { name: migration.releaseName('once') } });
    once.addContainer({ name: 'once', image, envFrom });
    const debug = new kplus.Pod(chart, 'debug', { metadata: { name: migration.releaseName('debug') } });
    debug.addContainer({ name: 'debug', image, envFrom });
    for (const workload of [web, search, agent, nightly, once, debug]) {
      migration.gate(workload);
    }
    // (gate() warns that the default progressDeadlineSeconds is shorter than the migration timeout)
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const text = chartYaml(chart);
    warn.mockRestore();
    // WHEN linted at every severity
    const result = lintText(text);
    // THEN every workload is seen waiting, and nothing is found
    expect(unexpected(result.findings)).toEqual([]);
    const waiting = new Manifests(parseManifests(text, 'x.yaml')).waiters.map((w) => w.workload.object.kind).sort();
    expect(waiting).toEqual(['CronJob', 'DaemonSet', 'Deployment', 'Job', 'Pod', 'StatefulSet']);
  });

  test('a gated Deployment and DaemonSet that keep their default updates are reported, as gate() warns', () => {
    // GIVEN gated workloads with the default rolling updates
    const chart = new Chart(Testing.app(), 'test', { namespace: 'shop' });
    // (4 replicas: from there the default maxUnavailable 25% stops an old pod)
    const web = new kplus.Deployment(chart, 'web', { metadata: { name: 'web' }, replicas: 4 });
    web.addContainer({ name: 'web', image: 'registry.example.com/shop:v1.2.3' });
    const agent = new kplus.DaemonSet(chart, 'agent', { metadata: { name: 'agent' } });
    agent.addContainer({ name: 'agent', image: 'registry.example.com/shop:v1.2.3' });
    const migration = new DatabaseMigration(chart, 'shop', { imageTag: 'v1.2.3', image: 'registry.example.com/shop-migration', migrationCommand: ['./migrate'] });
    const gates = [migration.gate(web), migration.gate(agent)];
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const text = chartYaml(chart);
    warn.mockRestore();
    // WHEN linted THEN both lose capacity, which is what the library warns about
    expect(gates.flatMap((gate) => gate.warnings).filter((w) => w.includes('maxUnavailable'))).toHaveLength(2);
    expect(lintText(text).findings.map((f) => `${f.rule.id} ${f.object.kind}`)).toEqual(['MS015 Deployment', 'MS015 DaemonSet']);
  });

  test('a TTL the user opts into is reported, as the library warns about it', () => {
    // GIVEN the library with ttlAfterFinished, which it accepts with a warning
    const chart = new Chart(Testing.app(), 'test', { namespace: 'shop' });
    const warnings = captureWarnings();
    new MigratedService(chart, 'myapp', {
      imageTag: 'v1.2.3',
      image: 'registry.example.com/myapp',
      migrationCommand: ['./migrate'],
      ttlAfterFinished: Duration.hours(1),
    });
    // WHEN synthesized and linted
    const text = chartYaml(chart);
    // THEN the library warned (at synth), and the linter agrees with it
    expect(warnings.ids()).toEqual(['MS005']);
    expect(ruleIds(lintText(text))).toContain('MS005');
  });
});

describe('the example app and its pipelines', () => {
  test.each(['flux', 'argocd', 'helm', 'kubectl'])('the example app for %s lints clean but for the known gaps', (engine) => {
    // GIVEN the example app's manifests, which the pipelines lint before delivering them
    const chart = new MyAppChart(Testing.app(), 'myapp', { imageTag: 'v1.2.3', delivery: deliveryFromEnv(engine) });
    // WHEN linted THEN only the library's known gaps are found
    expect(unexpected(lintText(chartYaml(chart)).findings)).toEqual([]);
  });

  test('both pipelines lint the synthesized manifests before delivering them', () => {
    // GIVEN the pipeline examples
    const examples = path.join(__dirname, '..', '..', '..', '..', 'examples');
    const gitlab = parse(fs.readFileSync(path.join(examples, 'gitlab-ci', '.gitlab-ci.yml'), 'utf8'));
    const github = parse(fs.readFileSync(path.join(examples, 'github-actions', 'deploy.yml'), 'utf8'));
    // THEN each lints the manifests synth wrote: GitLab in a job that both deliver jobs need,
    // GitHub in the synth job, before the manifests are uploaded for delivery
    expect(gitlab['lint:manifests'].script).toContain('npx cdk8s-migrated-service-cli lint "${CDK8S_APP_DIR}/manifests/"');
    expect(gitlab['lint:manifests'].needs).toEqual([{ job: 'synth', artifacts: true }]);
    for (const deliver of ['deliver:oci', 'commit:manifests']) {
      expect(gitlab[deliver].needs).toContain('lint:manifests');
    }
    const steps: any[] = github.jobs.synth.steps;
    const lintStep = steps.findIndex((s) => s.run === 'npx cdk8s-migrated-service-cli lint manifests/');
    expect(lintStep).toBeGreaterThan(steps.findIndex((s) => s.run?.includes('cdk8s synth')));
    expect(lintStep).toBeLessThan(steps.findIndex((s) => s.uses?.startsWith('actions/upload-artifact@')));
  });
});

describe('the pattern document\'s example', () => {
  const dir = path.join(FIXTURES, 'pattern');
  // In the order of the document's kustomization.yaml, with the RBAC section last.
  const files = ['deployment-variables.yaml', 'migration-job.yaml', 'deployment.yaml', 'kustomization.yaml', 'rbac.yaml']
    .map((f) => path.join(dir, f));

  test('has exactly the findings its traps deserve', () => {
    // GIVEN the YAML blocks of the pattern document, copied verbatim
    // WHEN linted at every severity
    const result = lintFiles(files);
    // THEN:
    expect(ruleIds(result)).toEqual([
      'MS005', // ttlSecondsAfterFinished: 3600 on the waited Job
      'MS007', // the Deployment runs as "default"; the RoleBinding binds myapp-service
      'MS008', // the Role reads every Job (no resourceNames)
      'MS014', // no activeDeadlineSeconds
      'MS015', // info: at 2 replicas the default 25% rounds down to 0, but from 4 replicas on it stops old pods
      'MS019', // info: the service container reads no database setting and none of the Job's ConfigMap and Secret
      'MS021', // backoffLimit: 0 without a podFailurePolicy: a drain fails the release
      'MS025', // the root k8s-wait-for image, with no runAsNonRoot or runAsUser
    ]);
    // AND the name with ${IMAGE_TAG} counts as versioned, job-wr mode passes, the Job comes first
    expect(ruleIds(result)).not.toEqual(expect.arrayContaining(['MS001']));
    const where = Object.fromEntries(result.findings.map((f) => [f.rule.id, `${path.basename(f.object.source.file)}:${f.line}`]));
    expect(where).toEqual({
      MS005: 'migration-job.yaml:11',
      MS007: 'deployment.yaml:10',
      MS008: 'rbac.yaml:7',
      MS014: 'migration-job.yaml:9',
      MS015: 'deployment.yaml:8',
      MS019: 'migration-job.yaml:15',
      MS021: 'migration-job.yaml:10',
      MS025: 'deployment.yaml:13',
    });
  });

  test('read as a directory, the Deployment comes first, which Flux does not mind', () => {
    // GIVEN the same files in file-name order (deployment.yaml before migration-job.yaml)
    // WHEN the directory is linted
    const result = lintFiles([dir]);
    // THEN the order is not reported: the Job carries Flux's force annotation, and Flux applies
    // every object of a revision at once, so only plain `kubectl apply -f` order matters
    expect(result.findings[0].object.source.file).toMatch(/\/deployment\.yaml$/);
    expect(ruleIds(result)).toEqual(ruleIds(lintFiles(files)));
  });
});
