import { diagnose, DoctorOptions } from './diagnose';
import { collectReleases } from './facts';
import { formatJson, formatText } from './format';
import { Kubectl, KubectlError } from './kubectl';
import { readSnapshot } from './snapshot';
import { PROGRAM } from '../version';

export const EXIT_OK = 0;
export const EXIT_PROBLEM = 1;
export const EXIT_CANNOT_RUN = 2;

export interface DoctorIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The environment kubectl runs in; the process's own by default. */
  readonly env?: NodeJS.ProcessEnv;
}

export const DOCTOR_USAGE = `Usage: ${PROGRAM} doctor [options]

Says what is wrong with the migrations of a namespace on a live cluster: for each release, newest
first, OK, WAITING or FAILED, the reason in one line, and the next command to run. It reaches the
cluster through your own kubectl (your kubeconfig, context and credential plugins) and only reads:
it lists Jobs, pods, workloads, ReplicaSets, CronJobs, ConfigMaps and events (never Secrets), reads logs, and
asks the API server what the waiters may read (SubjectAccessReview, which stores nothing).

Options:
  -n, --namespace NS        the namespace (default: the context's)
  --context NAME            the kubeconfig context (default: the current one)
  --kubeconfig FILE         the kubeconfig file (default: kubectl's, KUBECONFIG or ~/.kube/config)
  --kubectl PATH            the kubectl program (default: $KUBECTL, else kubectl on PATH)
  --release TAG             only the release of this image tag
  --job NAME                only the release whose migration Job is NAME
  --last N                  how many releases to show, newest first (default: 5)
  --stuck-after DURATION    WAITING longer than this is a problem: 90s, 10m, 1h (default: 10m)
  --log-lines N             lines of the migration's log to show (default: 10)
  --format text|json        output format (default: text)
  -h, --help                print this help and exit

Exit codes: 0 every release OK (or WAITING for less than --stuck-after); 1 a release FAILED or
waits too long; 2 doctor could not run (no cluster, no permission to list, bad flags).
`;

class UsageError extends Error {}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

interface Options extends Writable<DoctorOptions> {
  namespace?: string;
  context?: string;
  kubeconfig?: string;
  kubectl?: string;
  format: 'text' | 'json';
}

function seconds(flag: string, value: string): number {
  const m = /^(\d+)(s|m|h)?$/.exec(value);
  if (!m) throw new UsageError(`${flag} ${value}: give a duration such as 90s, 10m or 1h`);
  return Number(m[1]) * ({ s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h' ?? 's'] ?? 1);
}

function count(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} ${value}: give a whole number of at least 1`);
  return Number(value);
}

function parseArgs(argv: readonly string[]): Options | 'help' {
  const o: Options = { last: 5, stuckAfterSeconds: 600, logLines: 10, format: 'text' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '-h': case '--help': return 'help';
      case '-n': case '--namespace': o.namespace = value(); break;
      case '--context': o.context = value(); break;
      case '--kubeconfig': o.kubeconfig = value(); break;
      case '--kubectl': o.kubectl = value(); break;
      case '--release': o.release = value(); break;
      case '--job': o.job = value(); break;
      case '--last': o.last = count(flag, value()); break;
      case '--log-lines': o.logLines = count(flag, value()); break;
      case '--stuck-after': o.stuckAfterSeconds = seconds(flag, value()); break;
      case '--format': {
        const v = value();
        if (v !== 'text' && v !== 'json') throw new UsageError(`--format ${v}: use text or json`);
        o.format = v;
        break;
      }
      default:
        if (/^-n./.test(arg)) {
          o.namespace = arg.slice(2);
          break;
        }
        throw new UsageError(arg.startsWith('-') ? `unknown option ${flag}` : `unexpected argument "${arg}": doctor takes options only`);
    }
  }
  return o;
}

/** What to tell the user when kubectl could not do what doctor asked, and what to do about it. */
export function cannotRun(e: KubectlError, namespace: string | undefined): string {
  const message = e.message.replace(/[.?!]$/, '');
  const where = namespace ? ` in namespace ${namespace}` : '';
  switch (e.kind) {
    case 'no-kubectl': case 'no-kubeconfig': return e.message;
    case 'unreachable': return `cannot reach the cluster: ${message}. Check your kubeconfig, --context and network (kubectl cluster-info).`;
    case 'unauthorized': return `the cluster rejected your credentials: ${message}. Log in again (kubectl auth whoami).`;
    case 'forbidden': return `you may not read what doctor needs${where}: ${message}. doctor needs get/list on jobs, pods, deployments, statefulsets, daemonsets, replicasets, cronjobs, configmaps and events, and get on pods/log.`;
    case 'config': return `kubectl has no usable cluster configuration: ${message}. Give --kubeconfig or --context, or set a current context.`;
    default: return `kubectl failed (${e.command}): ${e.message}`;
  }
}

/** `doctor`: parses its options, diagnoses, writes the report, returns the exit code. */
export async function doctorMain(argv: readonly string[], io: DoctorIo, version: string): Promise<number> {
  let options: Options | 'help';
  try {
    options = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`${PROGRAM} doctor: ${e.message}\nRun "${PROGRAM} doctor --help" for usage.\n`);
      return EXIT_CANNOT_RUN;
    }
    throw e;
  }
  if (options === 'help') {
    io.stdout(DOCTOR_USAGE);
    return EXIT_OK;
  }
  const env = io.env ?? process.env;
  const kubectl = new Kubectl({ binary: options.kubectl ?? env.KUBECTL ?? 'kubectl', kubeconfig: options.kubeconfig, context: options.context, env });
  try {
    const namespace = options.namespace ?? await kubectl.contextNamespace();
    const snapshot = await readSnapshot(kubectl, namespace);
    const facts = collectReleases(snapshot);
    const report = await diagnose(kubectl, snapshot, facts, options);
    if (report.releases.length === 0 && (options.job !== undefined || options.release !== undefined) && facts.length > 0) {
      io.stderr(`${PROGRAM} doctor: no release in namespace ${namespace} matches ${options.job !== undefined ? `--job ${options.job}` : `--release ${options.release}`}; `
        + `found: ${facts.slice(0, 10).map((f) => f.jobName).join(', ')}${facts.length > 10 ? ', …' : ''}\n`);
      return EXIT_CANNOT_RUN;
    }
    io.stdout(options.format === 'json' ? formatJson(report, version) : formatText(report));
    return report.releases.some((r) => r.verdict === 'FAILED' || r.stuck) ? EXIT_PROBLEM : EXIT_OK;
  } catch (e) {
    if (e instanceof KubectlError) {
      io.stderr(`${PROGRAM} doctor: ${cannotRun(e, options.namespace)}\n`);
      return EXIT_CANNOT_RUN;
    }
    throw e;
  }
}
