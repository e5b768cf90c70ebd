import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../core/paths.ts';

/** The CLI as a user runs it. */
export const FLEETDRILL_BIN = join(REPO_ROOT, 'bin/fleetdrill.js');

/** What a finished CLI run said and how it ended. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `fleetdrill <args>` from the repository to completion, with `env` over this process's
 * environment, and resolves with its exit code and everything it printed.
 */
export function runFleetdrill(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FLEETDRILL_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
