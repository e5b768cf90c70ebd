import { spawnSync } from 'node:child_process';

/**
 * Removes containers synchronously, for process exit, where nothing asynchronous runs: the
 * docker CLI, when there is one. What it cannot remove, the next run's leftover sweep does.
 */
export function removeContainersNow(ids: readonly string[]): void {
  if (!ids.length) return;
  spawnSync('docker', ['rm', '--force', '--volumes', ...ids], { stdio: 'ignore', timeout: 10_000 });
}
