// The real CLI (bin/protolab.js on the compiled engine) run as a user runs it, for end-to-end tests.
import { spawnSync } from 'child_process';
import * as path from 'path';

export const BIN = path.resolve(__dirname, '../../../../bin/protolab.js');

export interface CliResult { code: number; stdout: string; stderr: string }

/** Run `protolab …args` to completion (a hung command fails after `timeoutMs`). */
export function cli(args: string[], timeoutMs = 540000): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
