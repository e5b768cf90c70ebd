import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { ConfigError } from '../core/errors.ts';
import { referenceFleet } from '../testing/reference-fleet.ts';
import { EmbeddedBackend } from './embedded/backend.ts';
import type { StartedFleet } from './started-fleet.ts';
import { Robot } from './robot.ts';

test.describe('a robot taken off the network on the embedded backend', () => {
  test.describe.configure({ timeout: 60_000 });
  let fleet: StartedFleet | undefined;
  test.afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  test('the fault layer pulls its cable: its link dies, the robot runs on, and reconnect brings the link back', async () => {
    fleet = await referenceFleet({ robots: 1, seed: 3, telemetry: false }).start();
    const robot = fleet.robot('r01');
    expect([...robot.capabilities].sort()).toEqual(['disconnect', 'freeze', 'power-cut']);
    await robot.pose();
    await robot.disconnectNetwork();
    await expect(robot.pose(1_500), 'nothing over the pulled link').rejects.toThrow();
    // The robot itself is up: only its cable is out.
    const seen = await new Promise<number>((resolve) => {
      const stop = robot.onTruePose((pose) => {
        stop();
        resolve(pose.x);
      });
    });
    expect(Number.isFinite(seen)).toBe(true);
    expect(robot.powered).toBe(true);
    await robot.reconnectNetwork();
    await robot.ros.waitUntilConnected(10_000);
    await robot.pose(5_000);
    expect(fleet.deathsSince(0), 'a disconnected robot is not a dead one').toEqual([]);
  });

  test('a robot with no cable anywhere lacks the capability, and the error names robot and capability', async () => {
    fleet = await referenceFleet({ robots: 1, seed: 4, telemetry: false }).start();
    const runDir = await mkdtemp(join(tmpdir(), 'fleetdrill-cable-'));
    const backend = await new EmbeddedBackend({ runDir }).start();
    // A second robot of the same software, on its own host, with no fault layer in front of it.
    const spec = { ...fleet.robot('r01').spec, id: 'r09', index: 1 };
    const host = await backend.startRobot(spec);
    try {
      expect(host.cable, 'a process has no cable of its own').toBeUndefined();
      const bare = await Robot.attach(spec, host, { readyTimeoutMs: 20_000 });
      try {
        expect(bare.capabilities.has('disconnect')).toBe(false);
        expect(bare.capabilities.has('power-cut')).toBe(true);
        const refused = bare.disconnectNetwork();
        await expect(refused).rejects.toBeInstanceOf(ConfigError);
        await expect(refused).rejects.toThrow(/'disconnect': robot r09/);
      } finally {
        bare.detach();
      }
    } finally {
      await host.stop();
      await backend.stop();
      await rm(runDir, { recursive: true, force: true });
    }
  });
});
