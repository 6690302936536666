#!/usr/bin/env node
/**
 * The package's one bin, `cdk8s-migrated-service`: it dispatches to a command (lint, doctor, mcp),
 * each of which lives in its own folder and knows nothing of the others' entry points. Nothing
 * imports this file: what the commands share (the version, the I/O they are given) is passed in or
 * lives in a module of its own.
 */
import { doctorMain } from './doctor/cli';
import { EXIT_CLEAN, EXIT_UNUSABLE, Io, lintMain, USAGE } from './lint/cli';
import { PROGRAM, version } from './version';

/** The whole command line: `argv` without `node` and the script; returns the exit code. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'lint':
      return lintMain(rest, io);
    case 'doctor':
      return doctorMain(rest, io, version());
    case 'mcp': {
      // Loaded only for this command: lint and doctor start without the MCP SDK.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { mcpMain } = require('./mcp/server') as typeof import('./mcp/server');
      return mcpMain(rest, io, version());
    }
    case undefined:
    case '-h':
    case '--help':
      io.stdout(USAGE);
      return EXIT_CLEAN;
    case '--version':
      io.stdout(`${version()}\n`);
      return EXIT_CLEAN;
    default:
      io.stderr(`${PROGRAM}: unknown command "${command}": the commands are lint, doctor and mcp\nRun "${PROGRAM} --help" for usage.\n`);
      return EXIT_UNUSABLE;
  }
}

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer | string) => chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

if (require.main === module) {
  const io: Io = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readStdin: () => readAll(process.stdin),
  };
  main(process.argv.slice(2), io).then(
    (code) => { process.exitCode = code; },
    (e: unknown) => {
      // Never a stack trace for the user; the message is enough to report.
      process.stderr.write(`${PROGRAM}: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = EXIT_UNUSABLE;
    },
  );
}
