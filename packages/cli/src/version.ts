import * as fs from 'fs';
import * as path from 'path';

/** The name the bin is installed as (package.json's `bin`), which every command's messages and usage name. */
export const PROGRAM = 'cdk8s-migrated-service';

/**
 * The version of this package, from its package.json (one folder up, from src/ in the repository
 * and from lib/ once installed). Every command reports it: `--version`, the JSON and SARIF
 * reports, the MCP server's handshake and the npx line it prints.
 */
export function version(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
