// The SDK's subpaths resolve through its `./*` export (require: dist/cjs/*), which needs the .js;
// tsc and Node resolve them, eslint's import resolver does not.
// eslint-disable-next-line import/no-unresolved
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
// eslint-disable-next-line import/no-unresolved
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import { Answer, diagnoseRelease, LIMITS, lintManifests, listReleases, migrationLogs, ServerSettings } from './tools';
import { version as cliVersion, PROGRAM } from '../version';

/*
 * `cdk8s-migrated-service mcp`: doctor and lint as the tools of an assistant, over the Model Context
 * Protocol on stdio, through the official SDK (which validates every call against the schemas
 * below). Only this folder loads the SDK; the construct library's entry point never does.
 *
 * stdout carries the protocol and nothing else: a stray line there breaks the client's framing, so
 * console output is sent to stderr, with the server's own log.
 */

// By package name and version, so that npx runs this command wherever the assistant starts it.
const PACKAGE = 'cdk8s-migrated-service-cli';

export const MCP_USAGE = `Usage: ${PROGRAM} mcp [options]

Serves doctor and lint to an assistant: a Model Context Protocol server on stdin/stdout, with the
read-only tools list_releases, diagnose_release, migration_logs and lint_manifests. The cluster
tools reach the cluster through your own kubectl, as doctor does (your kubeconfig, contexts and
credential plugins), and only read: no write, no Secret. The server logs to stderr.

Configure it in your assistant's mcpServers:
  { "command": "npx", "args": ["-y", "${PACKAGE}@${cliVersion()}", "mcp"] }

Options:
  --kubectl PATH    the kubectl program (default: $KUBECTL, else kubectl on PATH)
  -h, --help        print this help and exit
`;

export interface McpIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

// A namespace is a DNS label (RFC 1123): anything else cannot name one, and it goes into an API path.
const namespace = z.string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a namespace is a lowercase DNS label: letters, digits and -, such as shop or payments-prod')
  .max(63, 'a namespace has at most 63 characters')
  .describe('The Kubernetes namespace of the release, as in kubectl -n.');
const cluster = {
  namespace,
  context: z.string().min(1).optional()
    .describe('The kubeconfig context, as in kubectl --context. Default: the kubeconfig\'s current context.'),
  kubeconfig: z.string().min(1).optional()
    .describe('The kubeconfig file, as in kubectl --kubeconfig. Default: KUBECONFIG, else ~/.kube/config.'),
};
const whichRelease = {
  release: z.string().min(1).optional()
    .describe('Only the release of this image tag (e.g. v1.4.0), as list_releases names it.'),
  job: z.string().min(1).optional()
    .describe('Only the release whose migration Job has this name.'),
};
const count = (what: string, limit: { readonly default: number; readonly max: number }) =>
  z.number().int().min(1).max(limit.max).default(limit.default).describe(`${what} (1 to ${limit.max}, default ${limit.default}).`);

/** One release of doctor's report, with the fields an assistant acts on; doctor adds more. */
const releaseReport = z.looseObject({
  job: z.string().describe('The migration Job, by which the release is named.'),
  namespace: z.string(),
  tag: z.string().optional().describe('The image tag of the release.'),
  verdict: z.string().describe('OK, WAITING or FAILED.'),
  reason: z.string().describe('Why, in one line.'),
  next: z.string().describe('The command to run, or the fix.'),
  stuck: z.boolean().describe('WAITING for longer than stuckAfter: a problem.'),
});

const doctorReport = {
  tool: z.string(),
  version: z.string(),
  namespace: z.string(),
  found: z.number().describe('How many releases the namespace holds.'),
  releases: z.array(releaseReport).describe('Newest first.'),
  notes: z.array(z.string()).describe('What doctor could not see (a kind it may not list).'),
};

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true } as const;

function toResult(answer: Answer) {
  return {
    content: [{ type: 'text' as const, text: answer.text }],
    ...(answer.structured ? { structuredContent: answer.structured } : {}),
    ...(answer.isError ? { isError: true } : {}),
  };
}

/** The server with its four tools; `log` writes one line to stderr per call. */
export function createServer(settings: ServerSettings, log: (line: string) => void): McpServer {
  const server = new McpServer({ name: PROGRAM, version: settings.version }, {
    instructions: 'Diagnoses the database migrations of cdk8s-migrated-service releases (a migration Job per image tag, '
      + 'workloads whose init containers wait for it) on the user\'s cluster, through the user\'s kubectl, read-only. '
      + 'Start with list_releases for a namespace, then diagnose_release for one release, then migration_logs when the migration failed or hangs. '
      + 'lint_manifests checks manifests before they are applied.',
  });
  const run = <A>(tool: string, body: (args: A) => Promise<Answer> | Answer) => async (args: A) => {
    const start = Date.now();
    let answer: Answer;
    try {
      answer = await body(args);
    } catch (e) {
      // A bug is an answer too: the server keeps serving.
      answer = { text: `internal error in ${tool}: ${e instanceof Error ? e.message : String(e)}. This is a bug of ${PROGRAM}; doctor on the command line may say more.`, isError: true };
    }
    const where = (args as { namespace?: string }).namespace;
    const verdicts = (answer.structured?.releases as Array<{ verdict: string }> | undefined)?.map((r) => r.verdict).join(',');
    log(`${tool}${where ? ` namespace=${where}` : ''}: ${answer.isError ? `error: ${answer.text.split('\n')[0]}` : verdicts !== undefined ? `[${verdicts}]` : 'ok'} in ${Date.now() - start} ms`);
    return toResult(answer);
  };

  server.registerTool('list_releases', {
    title: 'List the migration releases of a namespace',
    description: 'Lists the releases (one migration Job per image tag) of a Kubernetes namespace, newest first, each with doctor\'s verdict: '
      + 'OK, WAITING (the migration runs, or pods wait for it) or FAILED, the reason in one line, and the next command to run. '
      + 'Use it first, to see which release is in trouble; then call diagnose_release with its release tag or job for the whole diagnosis. Read-only.',
    inputSchema: z.strictObject({ ...cluster, limit: count('How many releases to list, newest first', LIMITS.limit) }),
    outputSchema: z.looseObject({ ...doctorReport, releases: z.array(releaseReport.omit({ namespace: true })).describe('Newest first.') }),
    annotations: { title: 'List migration releases', ...READ_ONLY },
  }, run('list_releases', (args) => listReleases(args, settings)));

  server.registerTool('diagnose_release', {
    title: 'Diagnose a release\'s migration',
    description: 'doctor\'s diagnosis of a release on the cluster: the verdict (OK, WAITING or FAILED), why in one line, the next command or fix, '
      + 'and what it is based on: the migration Job\'s state, age against its deadline and last log lines, the ledger, each gated workload\'s rollout '
      + 'and pods held in Init, whether each waiter may read the Job (SubjectAccessReview) and has a token, concurrent migrations, the post-deploy migration. '
      + 'Give release (image tag) or job for one release; without them it diagnoses the newest releases of the namespace. '
      + 'The structured content is doctor\'s JSON report (doctor --format json). Read-only.',
    inputSchema: z.strictObject({
      ...cluster,
      ...whichRelease,
      last: count('How many releases to diagnose, newest first, when neither release nor job is given', LIMITS.last),
      logLines: count('Lines of the migration\'s log in the report', LIMITS.logLines),
      stuckAfter: z.string().regex(/^\d+(s|m|h)?$/, 'a duration such as 90s, 10m or 1h').default(LIMITS.stuckAfter)
        .describe(`WAITING longer than this counts as stuck: 90s, 10m, 1h (default ${LIMITS.stuckAfter}).`),
    }),
    outputSchema: z.looseObject(doctorReport),
    annotations: { title: 'Diagnose a release', ...READ_ONLY },
  }, run('diagnose_release', (args) => diagnoseRelease(args, settings)));

  server.registerTool('migration_logs', {
    title: 'Read the log of a release\'s migration',
    description: 'The last lines of the migration container\'s log, from the newest pod of the release\'s migration Job (the newest release '
      + 'when neither release nor job is given). Use it when diagnose_release says the migration failed or hangs: the error, or the lock it waits on, is there. '
      + `At most ${LIMITS.lines.max} lines and ${LIMITS.logChars / 1024} KiB. Read-only.`,
    inputSchema: z.strictObject({ ...cluster, ...whichRelease, lines: count('How many lines, from the end of the log', LIMITS.lines) }),
    outputSchema: z.looseObject({
      tool: z.string(),
      version: z.string(),
      namespace: z.string(),
      job: z.string(),
      tag: z.string().optional(),
      state: z.string().describe('The Job\'s state: Complete, Failed, Running, Suspended or Pending.'),
      pod: z.string(),
      container: z.string(),
      lines: z.array(z.string()).describe('The log lines, oldest first.'),
      truncated: z.boolean().describe(`The lines asked for held more than ${LIMITS.logChars / 1024} KiB: only the end is kept.`),
    }),
    annotations: { title: 'Read a migration log', ...READ_ONLY },
  }, run('migration_logs', (args) => migrationLogs(args, settings)));

  server.registerTool('lint_manifests', {
    title: 'Lint Kubernetes manifests for the migration pattern\'s traps',
    description: 'Runs the lint command on Kubernetes manifests, given as YAML text (yaml: e.g. the output of helm template, kubectl kustomize or cdk8s synth) '
      + 'or as files and directories on this machine (paths: absolute paths; directories are read recursively). It finds the traps of the migration Job '
      + '+ init container pattern: a Job name without the image tag, a waiter without RBAC to read the Job, deadlines in the wrong order, and more. '
      + 'Each finding has a rule id, a severity, the object and line, a message and the fix. It reads no cluster. Read-only.',
    inputSchema: z.strictObject({
      yaml: z.string().max(16 * 1024 * 1024).optional().describe('The manifests as YAML text, multi-document allowed.'),
      paths: z.array(z.string().min(1)).max(100).optional().describe('YAML files or directories to read instead of yaml.'),
      severity: z.enum(['error', 'warning', 'info']).default('warning').describe('Report findings at or above this severity (default warning).'),
      disable: z.array(z.string().min(1)).max(50).default([]).describe('Rules to turn off, by id (MS005) or name.'),
    }),
    outputSchema: z.looseObject({
      tool: z.looseObject({ name: z.string(), version: z.string() }),
      objects: z.number().describe('How many Kubernetes objects were read.'),
      findings: z.array(z.looseObject({
        ruleId: z.string(),
        severity: z.string(),
        message: z.string(),
        fix: z.string(),
        file: z.string(),
        line: z.number(),
      })),
    }),
    annotations: { title: 'Lint manifests', ...READ_ONLY, openWorldHint: false },
  }, run('lint_manifests', (args) => lintManifests(args, settings)));

  return server;
}

/** `mcp`: parses its options, then serves on stdio; the server stays up until the client closes stdin. */
export async function mcpMain(argv: readonly string[], io: McpIo, version: string): Promise<number> {
  let kubectl: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      io.stdout(MCP_USAGE);
      return 0;
    }
    if (arg === '--kubectl' || arg.startsWith('--kubectl=')) {
      kubectl = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (!kubectl) {
        io.stderr(`${PROGRAM} mcp: --kubectl needs a value\nRun "${PROGRAM} mcp --help" for usage.\n`);
        return 2;
      }
      continue;
    }
    io.stderr(`${PROGRAM} mcp: ${arg.startsWith('-') ? `unknown option ${arg}` : `unexpected argument "${arg}": mcp takes options only`}\nRun "${PROGRAM} mcp --help" for usage.\n`);
    return 2;
  }
  const env = io.env ?? process.env;
  const log = (line: string): void => io.stderr(`${PROGRAM} mcp: ${line}\n`);
  // Whatever a dependency prints goes to stderr: stdout is the protocol's.
  for (const method of ['log', 'info', 'debug', 'warn'] as const) {
    console[method] = (...args: unknown[]) => io.stderr(`${args.map(String).join(' ')}\n`);
  }
  const server = createServer({ kubectl: kubectl ?? env.KUBECTL ?? 'kubectl', env, version }, log);
  await server.connect(new StdioServerTransport());
  log(`serving ${version} on stdio (kubectl: ${kubectl ?? env.KUBECTL ?? 'kubectl'})`);
  // The process lives while stdin is open. When the client closes it, the calls under way finish
  // and answer (a pipe's stdout is written synchronously), then nothing is left and node exits.
  return 0;
}
