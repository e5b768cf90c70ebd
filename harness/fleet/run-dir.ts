import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import createDebug from 'debug';
import { onProcessExit } from '../core/cleanup.ts';
import { isAlive } from '../core/process-alive.ts';

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

export { isAlive };
