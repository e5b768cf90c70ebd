import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import createDebug from 'debug';
import { onProcessExit } from '../core/cleanup.ts';

const log = createDebug('fleetdrill:run-dir');
const PREFIX = 'fleetdrill-';

/** A run's private temp directory: robot disks, console logs, sockets. Removed by `remove()`. */
export interface RunDir {
  readonly path: string;
  remove(): Promise<void>;
}

/**
 * Creates `$TMPDIR/fleetdrill-<pid>-XXXXXX`, after removing the leftovers of runs whose process
 * is gone (a runner killed with SIGKILL cannot clean up after itself).
 */
export async function createRunDir(): Promise<RunDir> {
  await sweepStaleRunDirs();
  const path = await mkdtemp(join(tmpdir(), `${PREFIX}${process.pid}-`));
  const unregister = onProcessExit(() => rmSync(path, { recursive: true, force: true }));
  let removed = false;
  return {
    path,
    async remove() {
      if (removed) return;
      removed = true;
      unregister();
      await rm(path, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/** Removes run dirs left by processes that no longer exist. */
export async function sweepStaleRunDirs(): Promise<string[]> {
  const swept: string[] = [];
  let entries: string[];
  try {
    entries = await readdir(tmpdir());
  } catch {
    return swept;
  }
  for (const name of entries) {
    const match = /^fleetdrill-(\d+)-/.exec(name);
    if (!match || isAlive(Number(match[1]))) continue;
    const path = join(tmpdir(), name);
    await rm(path, { recursive: true, force: true }).catch(() => {});
    swept.push(path);
    log('removed stale run dir %s', path);
  }
  return swept;
}

/** True for a running process; a zombie (dead, not yet reaped: common in containers) is not. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}
