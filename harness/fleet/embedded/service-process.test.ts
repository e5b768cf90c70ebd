import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { RobotUnreachableError } from '../../core/errors.ts';
import type { RobotSpec } from '../backend.ts';
import { robotHostBoot } from '../host/index.ts';
import { ServiceProcess } from './service-process.ts';

/** A service that prints a boot stage every 100 ms for `bootMs`, then writes its ready line. */
const slowButSteady = (bootMs: number) => `
  const started = Date.now();
  const stage = setInterval(() => {
    console.log('boot stage at ' + (Date.now() - started) + ' ms');
    if (Date.now() - started < ${bootMs}) return;
    clearInterval(stage);
    require('node:fs').writeSync(3, JSON.stringify({ rosbridgePort: 1 }) + '\\n');
  }, 100);
  setInterval(() => {}, 1000);
`;

/** A service that gets part of the way and then waits forever, printing nothing, using no CPU. */
const stuck = `
  console.log('loading map');
  console.log('waiting for the lidar');
  setInterval(() => {}, 1000);
`;

function service(dir: string, script: string, idleMs: number) {
  const spec = { id: 'r07' } as RobotSpec;
  return new ServiceProcess({
    ...robotHostBoot(spec, { logPath: join(dir, 'console.log'), bootTimeoutMs: idleMs, what: 'robot host' }),
    validateReady: (line) => line,
    command: () => ['-e', script],
  });
}

/** Busy loops beside the test, as a loaded machine has them. */
function cpuHogs(count: number): ChildProcess[] {
  return Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }),
  );
}

test('a boot slower than its idle window, but steady, comes up beside CPU hogs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetdrill-slow-boot-'));
  const hogs = cpuHogs(2);
  const robot = service(dir, slowButSteady(2_200), 1_000);
  try {
    const startedAt = performance.now();
    await expect(robot.start()).resolves.toEqual({ rosbridgePort: 1 });
    // Twice the window: a fixed deadline of that size would have failed it.
    expect(performance.now() - startedAt).toBeGreaterThan(2_000);
  } finally {
    for (const hog of hogs) hog.kill('SIGKILL');
    await robot.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a boot that stops making progress is named with its log tail within the idle window and a little', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetdrill-stuck-boot-'));
  const robot = service(dir, stuck, 500);
  try {
    const startedAt = performance.now();
    const error = await robot.start().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    const tookMs = performance.now() - startedAt;
    expect(error).toBeInstanceOf(RobotUnreachableError);
    const message = (error as Error).message;
    expect(message).toMatch(/^robot r07: robot host not ready: no progress .* \(idle window 500 ms/);
    expect(message).toContain('--- last log lines of r07 ---');
    expect(message).toContain('waiting for the lidar');
    // Node's own start-up (CPU) and the two lines are progress; silence after them is not.
    expect(tookMs).toBeLessThan(500 + 2_000);
  } finally {
    await robot.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
