/**
 * A namespace on the fake API server, seeded the way a cluster would hold a release, and `doctor`
 * run against it through a real kubectl, as a user runs it: a kubeconfig with the fake's CA and a
 * bearer token. The fake has no controllers, so the tests set Job, pod and rollout status themselves.
 */
import { execFile } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Chart, Cron, Testing } from 'cdk8s';
import { MigratedService, MigrationWarnings } from 'cdk8s-migrated-service';
import * as kplus from 'cdk8s-plus-28';
import { CA_FILE, FakeApiServer, FULL_ACCESS, KubeObject, RbacRule } from '../../../../test/support/fake-api-server';
import { PATTERN_EXAMPLE } from '../../../../test/support/manifests';
import { main } from '../../src/cli';

export const KUBECTL_DIR = '/usr/lib/google-cloud-sdk/bin';
export const USER_TOKEN = 'token-of-the-user';
const TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

export type WaiterState = 'waiting' | 'crashing' | 'done';
export type MigrationPodState = 'running' | 'failed' | 'done' | 'image-pull' | 'queued';

export interface Rollout {
  readonly desired?: number;
  readonly updated: number;
  readonly available: number;
  readonly total?: number;
  readonly stalled?: boolean;
}

export interface PodOptions {
  readonly ageSeconds?: number;
  /** The waiter container's log. */
  readonly waiterLog?: string;
  /** Another pod template than the Deployment's current one. */
  readonly template?: KubeObject;
  /** The app containers crash once the waiter let them start. */
  readonly appCrashing?: boolean;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const ago = (seconds: number): string => new Date(Date.now() - seconds * 1000).toISOString();
const PLURALS: Record<string, string> = {
  Job: 'jobs',
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  ConfigMap: 'configmaps',
  ServiceAccount: 'serviceaccounts',
  CronJob: 'cronjobs',
  Pod: 'pods',
};

export class DoctorCluster {
  public static async start(namespace = 'shop'): Promise<DoctorCluster> {
    return new DoctorCluster(await FakeApiServer.start(), namespace);
  }

  public readonly dir: string;
  public readonly kubeconfig: string;
  /** Which kubectl build runs: `kubectl.1.NN`. */
  public kubectl = `${KUBECTL_DIR}/kubectl.1.32`;
  /** The environment doctor runs in, over the default one (KUBECONFIG, HOME, PATH, KUBECTL); undefined removes a variable. */
  public env: Record<string, string | undefined> = {};
  private podCounter = 0;

  private constructor(public readonly server: FakeApiServer, public readonly namespace: string) {
    this.dir = mkdtempSync(join(tmpdir(), 'doctor-'));
    this.kubeconfig = join(this.dir, 'config');
    server.tokens.set(USER_TOKEN, FULL_ACCESS);
    this.writeKubeconfig(USER_TOKEN);
  }

  /** The user's kubeconfig: the fake's address and CA, a bearer token, and the namespace as the context's. */
  public writeKubeconfig(token: string, file = this.kubeconfig, port = this.server.port): void {
    writeFileSync(file, [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: fake, cluster: {server: "https://127.0.0.1:${port}", certificate-authority: "${CA_FILE}"}}]`,
      `users: [{name: user, user: {token: "${token}"}}]`,
      `contexts: [{name: fake, context: {cluster: fake, user: user, namespace: ${this.namespace}}}]`,
      'current-context: fake',
      '',
    ].join('\n'));
  }

  /**
   * A kubeconfig whose user gets its token from an exec credential plugin, as EKS, GKE and OIDC
   * setups do: a script that prints an ExecCredential.
   */
  public writeExecKubeconfig(token: string): string {
    const plugin = join(this.dir, 'credential-plugin.sh');
    writeFileSync(plugin, [
      '#!/bin/sh',
      `echo "$KUBERNETES_EXEC_INFO" > "${join(this.dir, 'exec-info.json')}"`,
      `echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${token}"}}'`,
      '',
    ].join('\n'), { mode: 0o755 });
    writeFileSync(this.kubeconfig, [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: fake, cluster: {server: "https://127.0.0.1:${this.server.port}", certificate-authority: "${CA_FILE}"}}]`,
      `users: [{name: user, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: "${plugin}", interactiveMode: Never}}}]`,
      `contexts: [{name: fake, context: {cluster: fake, user: user, namespace: ${this.namespace}}}]`,
      'current-context: fake',
      '',
    ].join('\n'));
    return join(this.dir, 'exec-info.json');
  }

  /** Stores synthesized manifests as applied objects; Roles and RoleBindings become the fake's RBAC. */
  public seed(manifests: readonly KubeObject[], namespace = this.namespace): void {
    const roles = new Map<string, RbacRule[]>();
    for (const m of manifests) {
      const plural = PLURALS[m.kind];
      if (plural) this.server.apply(plural, m.metadata.namespace ?? namespace, m);
      if (m.kind === 'Role') roles.set(m.metadata.name, m.rules);
    }
    for (const b of manifests.filter((m) => m.kind === 'RoleBinding')) {
      for (const s of b.subjects ?? []) {
        if (s.kind !== 'ServiceAccount') continue;
        const user = `system:serviceaccount:${s.namespace ?? b.metadata.namespace ?? namespace}:${s.name}`;
        this.server.accounts.set(user, [...(this.server.accounts.get(user) ?? []), ...(roles.get(b.roleRef.name) ?? [])]);
      }
    }
  }

  public job(name: string): KubeObject {
    const job = this.server.get('jobs', this.namespace, name);
    if (!job) throw new Error(`no Job ${name}`);
    return job;
  }

  /** Sets what the Job controller would: start time, active pods, conditions. */
  public jobStatus(name: string, state: 'running' | 'complete' | 'failed', options: { startedSecondsAgo?: number; reason?: string; message?: string } = {}): void {
    const job = this.job(name);
    const started = ago(options.startedSecondsAgo ?? 30);
    job.status = { startTime: started, active: state === 'running' ? 1 : 0 };
    if (state === 'complete') {
      job.status = { ...job.status, succeeded: 1, completionTime: ago(Math.max((options.startedSecondsAgo ?? 30) - 20, 0)), conditions: [{ type: 'Complete', status: 'True' }] };
    }
    if (state === 'failed') {
      job.status = { ...job.status, failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: options.reason ?? 'BackoffLimitExceeded', message: options.message ?? 'Job has reached the specified backoff limit', lastTransitionTime: ago(5) }] };
    }
    this.server.apply('jobs', this.namespace, job);
  }

  /** The Job's pod, with its migration container in the given state, and its log. */
  public jobPod(jobName: string, state: MigrationPodState, log?: string): KubeObject {
    const job = this.job(jobName);
    const spec = JSON.parse(JSON.stringify(job.spec.template.spec));
    const migrate = [...(spec.initContainers ?? []), ...spec.containers].find((c: KubeObject) => c.name === 'migrate') ?? spec.containers[0];
    const isInit = (spec.initContainers ?? []).some((c: KubeObject) => c.name === migrate.name);
    const migrateState = {
      'running': { running: { startedAt: ago(20) } },
      'failed': { terminated: { exitCode: 1, reason: 'Error' } },
      'done': { terminated: { exitCode: 0, reason: 'Completed' } },
      'image-pull': { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } },
      // still in wait-for-turn, behind another release's migration
      'queued': { waiting: { reason: 'PodInitializing' } },
    }[state];
    const name = `${jobName.slice(0, 50)}-${(++this.podCounter).toString(36).padStart(5, 'x')}`;
    // The init containers before the migration (the queue's wait-for-turn) have ended, unless the pod is queued.
    const inits: KubeObject[] = spec.initContainers ?? [];
    const initsBefore = inits.slice(0, Math.max(inits.findIndex((c) => c.name === migrate.name), 0)).map((c) => c.name);
    const statuses = (containers: KubeObject[]) => (containers ?? []).map((c) => ({
      name: c.name,
      state: initsBefore.includes(c.name) ? (state === 'queued' ? { running: { startedAt: ago(20) } } : { terminated: { exitCode: 0, reason: 'Completed' } })
        : c.name === migrate.name ? migrateState : state === 'done' ? { terminated: { exitCode: 0, reason: 'Completed' } } : isInit ? { waiting: { reason: 'PodInitializing' } } : { running: {} },
    }));
    // A pod whose container ran, or pulls its image, is bound to a node: its kubelet serves its log.
    spec.nodeName = 'node-1';
    const pod = {
      metadata: {
        name,
        labels: { 'batch.kubernetes.io/job-name': jobName, 'job-name': jobName },
        annotations: job.spec.template.metadata?.annotations,
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: job.metadata.uid, controller: true }],
      },
      spec,
      status: {
        phase: state === 'done' ? 'Succeeded' : state === 'failed' ? 'Failed' : 'Pending',
        initContainerStatuses: statuses(spec.initContainers),
        containerStatuses: statuses(spec.containers),
      },
    };
    this.server.apply('pods', this.namespace, pod);
    if (log !== undefined) this.server.podLogs.set(`${this.namespace}/${name}/${migrate.name}`, log);
    return pod;
  }

  /** Sets a workload's rollout status as its controller would report it. */
  public rollout(kind: string, name: string, status: Rollout): void {
    const plural = PLURALS[kind];
    const o = this.server.get(plural, this.namespace, name);
    if (status.desired !== undefined) o.spec.replicas = status.desired;
    const desired = o.spec.replicas ?? 1;
    o.status = {
      observedGeneration: o.metadata.generation,
      replicas: status.total ?? Math.max(desired, status.updated + status.available),
      updatedReplicas: status.updated,
      availableReplicas: status.available,
      readyReplicas: status.available,
      conditions: status.stalled ? [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] : [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }],
    };
    this.server.apply(plural, this.namespace, o);
  }

  /**
   * `count` pods of a workload's current template, owned as its controller makes them (a
   * Deployment's through a ReplicaSet, a CronJob's through the Job of a run), with the waiter in the
   * given state; a bare pod ("Pod/name") is given that state itself. Admission's token mount is
   * added unless the pod template turns it off.
   */
  public pods(workload: string, count: number, waiter: WaiterState, options: PodOptions = {}): KubeObject[] {
    // "name" is a Deployment, whose pods a ReplicaSet owns; "StatefulSet/name", "DaemonSet/name" or
    // "Job/name" own their pods themselves; "Pod/name" is a bare pod, which is its own (only) pod.
    const [kind, ownerName] = workload.includes('/') ? workload.split('/') : ['Deployment', workload];
    const d = this.server.get(PLURALS[kind], this.namespace, ownerName);
    const template = options.template ?? (kind === 'Pod' ? { metadata: d.metadata, spec: d.spec } : kind === 'CronJob' ? d.spec.jobTemplate.spec.template : d.spec.template);
    const hash = `${(++this.podCounter).toString(36)}f9c7d`.slice(0, 10);
    const rsName = `${ownerName}-${hash}`;
    let owner = { apiVersion: kind === 'Job' ? 'batch/v1' : 'apps/v1', kind, name: ownerName, uid: d.metadata.uid, controller: true };
    let jobName = kind === 'Job' ? ownerName : undefined;
    if (kind === 'CronJob') {
      // The CronJob controller's run: a Job it owns, which owns the pods.
      jobName = `${ownerName}-29400000`;
      const run = this.server.apply('jobs', this.namespace, {
        metadata: { name: jobName, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: ownerName, uid: d.metadata.uid, controller: true }] },
        spec: d.spec.jobTemplate.spec,
        status: { active: count },
      });
      owner = { apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: run.metadata.uid, controller: true };
    }
    if (kind === 'Deployment') {
      this.server.apply('replicasets', this.namespace, {
        metadata: { name: rsName, labels: template.metadata?.labels, ownerReferences: [owner] },
        spec: { replicas: count, template },
      });
      owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: '', controller: true };
    }
    const pods: KubeObject[] = [];
    for (let i = 0; i < count; i++) {
      const spec = JSON.parse(JSON.stringify(template.spec));
      if (spec.automountServiceAccountToken !== false) {
        for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
          if (!(c.volumeMounts ?? []).some((m: KubeObject) => m.mountPath === TOKEN_PATH)) {
            c.volumeMounts = [...(c.volumeMounts ?? []), { name: 'kube-api-access-x1y2z', mountPath: TOKEN_PATH, readOnly: true }];
          }
        }
      }
      spec.nodeName = 'node-1';
      const waiterStatus = {
        waiting: { running: { startedAt: ago(options.ageSeconds ?? 60) } },
        crashing: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container' } },
        done: { terminated: { exitCode: 0, reason: 'Completed' } },
      }[waiter];
      const name = kind === 'Pod' ? ownerName : `${rsName}-${(i + 10).toString(36)}q${this.podCounter}`;
      const pod = {
        metadata: {
          name,
          labels: { ...template.metadata?.labels, ...(jobName !== undefined ? { 'batch.kubernetes.io/job-name': jobName, 'job-name': jobName } : {}) },
          creationTimestamp: ago(options.ageSeconds ?? 60),
          ...(kind === 'Pod' ? {} : { ownerReferences: [owner] }),
        },
        spec,
        status: {
          phase: waiter === 'done' ? 'Running' : 'Pending',
          initContainerStatuses: (spec.initContainers ?? []).map((c: KubeObject) => ({ name: c.name, state: waiterStatus })),
          containerStatuses: spec.containers.map((c: KubeObject) => ({
            name: c.name,
            ready: waiter === 'done' && !options.appCrashing,
            restartCount: options.appCrashing ? 4 : 0,
            state: waiter !== 'done' ? { waiting: { reason: 'PodInitializing' } }
              : options.appCrashing ? { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s restarting failed container' } } : { running: {} },
          })),
        },
      };
      this.server.apply('pods', this.namespace, pod);
      if (options.waiterLog !== undefined) this.server.podLogs.set(`${this.namespace}/${name}/${spec.initContainers[0].name}`, options.waiterLog);
      pods.push(pod);
    }
    return pods;
  }

  /**
   * A release (v2.0.0 of the pattern's example) that gates a workload of every kind gate() accepts
   * besides its Deployment myapp: StatefulSet search, DaemonSet agent, CronJob nightly, Job backfill
   * and bare Pod console. Its migration runs for `secondsAgo`, and pods of each kind wait in Init
   * since then. Returns the migration Job's name and, by `Kind/name`, the names of the held pods.
   */
  public holdEveryGatedKind(secondsAgo: number): { job: string; held: Record<string, string[]> } {
    const chart = new Chart(Testing.app(), 'test', { namespace: this.namespace });
    const svc = new MigratedService(chart, 'myapp', { ...PATTERN_EXAMPLE, imageTag: 'v2.0.0' });
    const image = 'registry.example.com/myapp:v2.0.0';
    const search = new kplus.StatefulSet(chart, 'search', {
      metadata: { name: 'search' },
      service: new kplus.Service(chart, 'search-headless', { metadata: { name: 'search-headless' }, clusterIP: 'None', ports: [{ port: 9200 }] }),
    });
    const agent = new kplus.DaemonSet(chart, 'agent', { metadata: { name: 'agent' } });
    const nightly = new kplus.CronJob(chart, 'nightly', { metadata: { name: 'nightly' }, schedule: Cron.daily() });
    // A gated Job or Pod is named per release (its pod template cannot change once created)
    const backfill = new kplus.Job(chart, 'backfill', { metadata: { name: svc.migration.releaseName('backfill') } });
    const console_ = new kplus.Pod(chart, 'console', { metadata: { name: svc.migration.releaseName('console') } });
    for (const w of [search, agent, nightly, backfill, console_]) {
      w.addContainer({ name: w.node.id, image });
      svc.migration.gate(w);
    }
    // A StatefulSet and a DaemonSet at their defaults lose a replica while they wait: what the
    // library warns about is not what doctor's tests look at.
    MigrationWarnings.acknowledge(chart, 'MS101', 'a fixture of every gated kind, at its defaults');
    MigrationWarnings.acknowledge(chart, 'MS015', 'a fixture of every gated kind, at its defaults');
    this.seed(Testing.synth(chart));
    const job = svc.migration.jobName;
    this.jobStatus(job, 'running', { startedSecondsAgo: secondsAgo });
    this.jobPod(job, 'running', 'applying 0042\n');
    const held: Record<string, string[]> = {};
    for (const [workload, count] of [['myapp', 2], ['StatefulSet/search', 1], ['DaemonSet/agent', 2], ['CronJob/nightly', 1], [`Job/${backfill.name}`, 1], [`Pod/${console_.name}`, 1]] as const) {
      held[workload.includes('/') ? workload : `Deployment/${workload}`] = this.pods(workload, count, 'waiting', { ageSeconds: secondsAgo - 10 }).map((p) => p.metadata.name);
    }
    return { job, held };
  }

  /** Runs the bin's `doctor` command in this process, with kubectl reaching the fake. */
  public async run(...args: string[]): Promise<RunResult> {
    let stdout = '';
    let stderr = '';
    const io = {
      stdout: (t: string) => { stdout += t; },
      stderr: (t: string) => { stderr += t; },
      readStdin: async () => '',
      env: { PATH: process.env.PATH ?? '', HOME: this.dir, KUBECONFIG: this.kubeconfig, KUBECTL: this.kubectl, ...this.env },
    };
    const code = await main(['doctor', ...args], io);
    return { code, stdout, stderr };
  }

  /**
   * Runs a command line that doctor printed (`kubectl auth can-i …`), as the user would: the real
   * kubectl with the user's kubeconfig. The line is split on spaces: doctor's commands quote nothing.
   */
  public async runPrinted(commandLine: string): Promise<RunResult> {
    const [program, ...args] = commandLine.trim().split(/\s+/);
    if (program !== 'kubectl') throw new Error(`not a kubectl command: ${commandLine}`);
    return new Promise((resolve) => {
      execFile(this.kubectl, args, { env: { PATH: process.env.PATH ?? '', HOME: this.dir, KUBECONFIG: this.kubeconfig }, encoding: 'utf8' },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
    });
  }

  /** Runs doctor with `--format json` and returns the parsed report. */
  public async json(...args: string[]): Promise<{ code: number; report: KubeObject }> {
    const r = await this.run('--format', 'json', ...args);
    if (r.code === 2) throw new Error(`doctor could not run: ${r.stderr}`);
    return { code: r.code, report: JSON.parse(r.stdout) };
  }

  public async close(): Promise<void> {
    await this.server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
