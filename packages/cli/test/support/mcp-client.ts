/**
 * The MCP server as an assistant runs it: the bin's `mcp` command in a child process, driven over
 * stdio by the SDK's own client. Everything the server writes to stderr is kept, and every message
 * on stdout that is not protocol shows up in `errors` (the client's transport cannot parse it).
 */
// Subpaths of the SDK's `./*` export: see src/mcp/server.ts.
// eslint-disable-next-line import/no-unresolved
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
// eslint-disable-next-line import/no-unresolved
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CLI, NODE_ARGS, NODE_ENV, PACKAGE } from './from-sources';


export interface McpSession {
  readonly client: Client;
  /** What the server wrote to stderr so far. */
  readonly stderr: () => string;
  /** Errors the client saw on the transport: a non-protocol line on stdout is one. */
  readonly errors: Error[];
  /** The server process's id, while it runs. */
  readonly pid: () => number | null;
  close(): Promise<void>;
}

/** Another command line for the server, as an assistant's configuration gives it. */
export interface ServerCommand {
  readonly command: string;
  readonly args: string[];
  readonly cwd?: string;
}

/** Starts `cdk8s-migrated-service mcp` (from the sources, through ts-node) with this environment. */
export async function startMcp(env: Record<string, string>, args: readonly string[] = [], command?: ServerCommand): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: command?.command ?? process.execPath,
    args: command?.args ?? [...NODE_ARGS, CLI, 'mcp', ...args],
    cwd: command?.cwd ?? PACKAGE,
    env: { ...NODE_ENV, ...env },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  const client = new Client({ name: 'cdk8s-migrated-service-tests', version: '1.0.0' });
  const errors: Error[] = [];
  client.onerror = (e) => errors.push(e);
  await client.connect(transport);
  return {
    client,
    stderr: () => stderr,
    errors,
    pid: () => transport.pid,
    close: () => client.close(),
  };
}
