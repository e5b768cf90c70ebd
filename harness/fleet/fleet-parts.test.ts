import { existsSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import type { StartedRobotHost } from './backend.ts';
import { emptyParts, tearDownParts } from './fleet-parts.ts';
import { createRunDir } from './run-dir.ts';

// The parts' teardown is what a failed start and a stopping fleet share; a host that cannot stop
// must not keep the run's directory (or anything after it) alive.
test('a part that fails to stop does not keep the rest alive, and its error comes out', async () => {
  const runDir = await createRunDir();
  const parts = emptyParts(runDir);
  const stopped: string[] = [];
  // A test double for a robot host: only its stop() is under test here, not a robot.
  const host = (id: string, fails: boolean): StartedRobotHost =>
    ({
      stop: () => {
        stopped.push(id);
        return fails ? Promise.reject(new Error(`${id} would not stop`)) : Promise.resolve();
      },
    }) as unknown as StartedRobotHost;
  parts.hosts.push(host('r01', true), host('r02', false));
  const sessionClosed: string[] = [];

  await expect(tearDownParts(parts, [() => sessionClosed.push('session')])).rejects.toThrow(
    'r01 would not stop',
  );

  expect(sessionClosed).toEqual(['session']);
  expect(stopped.sort()).toEqual(['r01', 'r02']);
  expect(existsSync(runDir.path), 'the run directory is removed after the failed stop').toBe(false);
});
