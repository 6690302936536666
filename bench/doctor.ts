/**
 * doctor benchmark: a namespace of the fake API server (test/support/fake-api-server.ts) with 10
 * applications of 5 releases each (50 migration Jobs, all synthesized by the library) and 550 pods:
 * per application, 40 pods of the previous release serving, 10 pods of the newest release held in
 * Init, and one pod per Job. doctor runs through a real kubectl, as a user runs it; the benchmark
 * counts the API requests by verb and resource, and times the whole command.
 *
 * Then the same namespace through the MCP server (`cdk8s-migrated-service mcp`, a child process
 * driven by the SDK's client over stdio, as an assistant drives it): one tool call at a time, timed
 * from the call to its answer, the server's start-up apart.
 *
 * `npm run bench:doctor -- --reps 5 --kubectl /path/to/kubectl`. Timings are printed, never asserted.
 */
import { loadavg } from 'os';
import { performance } from 'perf_hooks';
import { Chart, Testing } from 'cdk8s';
import { DoctorCluster, KUBECTL_DIR } from '../packages/cli/test/support/doctor-cluster';
import { startMcp } from '../packages/cli/test/support/mcp-client';
import { MigratedService } from '../src';

const APPS = 10;
const TAGS = ['v1.0.0', 'v1.1.0', 'v1.2.0', 'v1.3.0', 'v1.4.0'];
const SERVING = 40;
const HELD = 10;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

function synth(app: string, tag: string): any[] {
  const chart = new Chart(Testing.app(), 'bench', { namespace: 'bench' });
  new MigratedService(chart, app, {
    imageTag: tag,
    image: `registry.example.com/${app}`,
    migrationCommand: ['./migrate'],
    replicas: SERVING + HELD,
  });
  return Testing.synth(chart);
}

async function seed(cluster: DoctorCluster): Promise<void> {
  for (let a = 0; a < APPS; a++) {
    const app = `app${a}`;
    const releases = TAGS.map((tag) => synth(app, tag));
    releases.forEach((manifests, i) => {
      const job = manifests.find((m) => m.kind === 'Job');
      job.metadata.creationTimestamp = new Date(Date.now() - (TAGS.length - i) * 3600_000).toISOString();
      // Every release's Job and the newest release's other objects.
      cluster.seed(i === TAGS.length - 1 ? manifests : [job]);
      const newest = i === TAGS.length - 1;
      cluster.jobStatus(job.metadata.name, newest && a % 2 === 0 ? 'running' : 'complete', { startedSecondsAgo: newest ? 120 : 3600 });
      cluster.jobPod(job.metadata.name, newest && a % 2 === 0 ? 'running' : 'done', 'applied 1 migration\n');
    });
    const previous = releases[TAGS.length - 2].find((m) => m.kind === 'Deployment');
    cluster.pods(app, SERVING, 'done', { template: previous.spec.template, ageSeconds: 3600 });
    cluster.pods(app, HELD, 'waiting', { ageSeconds: 100, waiterLog: 'migration-waiter: waiting for the Job to complete' });
    cluster.rollout('Deployment', app, { updated: HELD, available: SERVING, total: SERVING + HELD });
  }
}

async function main(): Promise<void> {
  const reps = Number(arg('reps', '3'));
  const cluster = await DoctorCluster.start('bench');
  cluster.kubectl = arg('kubectl', `${KUBECTL_DIR}/kubectl.1.32`);
  try {
    await seed(cluster);
    const pods = cluster.server.requests.length; // seeding makes no requests
    console.log(`doctor benchmark: ${APPS * TAGS.length} releases, ${APPS * (SERVING + HELD) + APPS * TAGS.length} pods, kubectl ${cluster.kubectl}, ${reps} runs each; load ${loadavg()[0].toFixed(2)}${pods ? '' : ''}`);
    console.log('');
    console.log('| run | releases shown | wall time (median, min-max) | LIST | GET | pods/log GET | SubjectAccessReview | exit |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const [label, args] of [['default (--last 5)', []], ['--last 50', ['--last', '50']], ['--release v1.4.0 --last 50', ['--release', 'v1.4.0', '--last', '50']]] as const) {
      const times: number[] = [];
      let counts = { list: 0, get: 0, log: 0, sar: 0, shown: 0, code: 0 };
      for (let rep = 0; rep < reps; rep++) {
        cluster.server.requests.length = 0;
        const start = performance.now();
        const result = await cluster.run('--format', 'json', ...args);
        times.push(performance.now() - start);
        const report = JSON.parse(result.stdout);
        const requests = cluster.server.requests;
        counts = {
          list: requests.filter((r) => r.verb === 'list').length,
          get: requests.filter((r) => r.verb === 'get' && r.resource !== 'pods/log').length,
          log: requests.filter((r) => r.resource === 'pods/log').length,
          sar: requests.filter((r) => r.resource === 'subjectaccessreviews').length,
          shown: report.releases.length,
          code: result.code,
        };
      }
      times.sort((x, y) => x - y);
      const median = times[Math.floor(times.length / 2)];
      console.log(`| ${label} | ${counts.shown} | ${(median / 1000).toFixed(2)} s (${(times[0] / 1000).toFixed(2)}-${(times[times.length - 1] / 1000).toFixed(2)}) | ${counts.list} | ${counts.get} | ${counts.log} | ${counts.sar} | ${counts.code} |`);
    }
    await benchMcp(cluster, reps);
  } finally {
    await cluster.close();
  }
}

/** The MCP server's tools on the same namespace: LIST calls and the wall time of one call. */
async function benchMcp(cluster: DoctorCluster, reps: number): Promise<void> {
  const started = performance.now();
  const mcp = await startMcp({ PATH: process.env.PATH ?? '', HOME: cluster.dir, KUBECONFIG: cluster.kubeconfig, KUBECTL: cluster.kubectl });
  const startup = performance.now() - started;
  try {
    console.log('');
    console.log(`MCP server (from the sources, through ts-node): started and initialized in ${(startup / 1000).toFixed(2)} s`);
    console.log('');
    console.log('| tool call | releases answered | wall time (median, min-max) | LIST | GET (pod, for its log) | pods/log GET | SubjectAccessReview | isError |');
    console.log('|---|---|---|---|---|---|---|---|');
    const calls: Array<[string, string, Record<string, unknown>]> = [
      ['diagnose_release (last 5)', 'diagnose_release', {}],
      ['diagnose_release (last 50)', 'diagnose_release', { last: 50 }],
      ['diagnose_release (release v1.4.0)', 'diagnose_release', { release: 'v1.4.0', last: 50 }],
      ['list_releases (limit 50)', 'list_releases', { limit: 50 }],
      ['migration_logs (newest release)', 'migration_logs', {}],
    ];
    for (const [label, name, args] of calls) {
      const times: number[] = [];
      let counts = { list: 0, get: 0, log: 0, sar: 0, shown: 0, error: false };
      for (let rep = 0; rep < reps; rep++) {
        cluster.server.requests.length = 0;
        const start = performance.now();
        const result: any = await mcp.client.callTool({ name, arguments: { namespace: 'bench', ...args } });
        times.push(performance.now() - start);
        const requests = cluster.server.requests;
        counts = {
          list: requests.filter((r) => r.verb === 'list').length,
          get: requests.filter((r) => r.verb === 'get' && r.resource !== 'pods/log').length,
          log: requests.filter((r) => r.resource === 'pods/log').length,
          sar: requests.filter((r) => r.resource === 'subjectaccessreviews').length,
          shown: result.structuredContent?.releases?.length ?? (result.structuredContent?.lines ? 1 : 0),
          error: result.isError === true,
        };
      }
      times.sort((x, y) => x - y);
      const median = times[Math.floor(times.length / 2)];
      console.log(`| ${label} | ${counts.shown} | ${(median / 1000).toFixed(2)} s (${(times[0] / 1000).toFixed(2)}-${(times[times.length - 1] / 1000).toFixed(2)}) | ${counts.list} | ${counts.get} | ${counts.log} | ${counts.sar} | ${counts.error} |`);
    }
  } finally {
    await mcp.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
