import { spawnSync } from 'node:child_process';

/**
 * Removes containers synchronously, for process exit, where nothing asynchronous runs: the
 * docker CLI, when there is one, at `engineUrl` (default: the CLI's own engine). What it cannot remove, the next run's leftover sweep does.
 */
export function removeContainersNow(ids: readonly string[], engineUrl?: string): void {
  if (!ids.length) return;
  const host = engineUrl ? ['--host', engineUrl] : [];
  spawnSync('docker', [...host, 'rm', '--force', '--volumes', ...ids], { stdio: 'ignore', timeout: 10_000 });
}
