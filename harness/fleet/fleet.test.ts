import { existsSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import type { BackendName } from '../core/config.ts';
import { ConfigError, RobotDiedError, RobotUnreachableError } from '../core/errors.ts';
import { EventBus } from '../core/events.ts';
import { ROBOT_TOPICS } from '../ros/messages.ts';
import { processesWithEnv } from '../testing/leftovers.ts';
import { Fleet, robotId } from './fleet.ts';
import type { StartedFleet } from './started-fleet.ts';
import { referenceFleet } from '../testing/reference-fleet.ts';

/** Pids of a robot's processes of one role, found the way an operator would: by their environment. */
function robotPids(robot: string, role: 'robot-host' | 'edge-agent'): number[] {
  const mine = processesWithEnv('FLEETDRILL_HARNESS_PID', String(process.pid));
  const ofRole = processesWithEnv('FLEETDRILL_ROLE', role);
  return processesWithEnv('FLEETDRILL_ROBOT_ID', robot).filter(
    (pid) => mine.includes(pid) && ofRole.includes(pid),
  );
}

function hostPid(robot: string): number {
  const pids = robotPids(robot, 'robot-host');
  expect(pids, `host process of ${robot}`).toHaveLength(1);
  return pids[0] as number;
}

test.describe('fleet on the embedded backend', () => {
  test.describe.configure({ timeout: 60_000 });
  let fleet: StartedFleet | undefined;
  test.afterEach(async () => {
    await fleet?.stop();
    fleet = undefined;
  });

  test('robot ids are padded to the fleet size', () => {
    expect(robotId(0, 3)).toBe('r01');
    expect(robotId(49, 50)).toBe('r50');
    expect(robotId(0, 100)).toBe('r001');
    expect(robotId(99, 100)).toBe('r100');
  });

  test('starts N robots on their own ports, each streaming /odom, and stops them all', async () => {
    const events = new EventBus();
    fleet = await referenceFleet({ robots: 3, seed: 1, events }).start();
    expect(fleet.roster.map((robot) => robot.id)).toEqual(['r01', 'r02', 'r03']);
    const urls = new Set(fleet.roster.map((robot) => robot.rosbridgeUrl));
    expect(urls.size).toBe(3);
    for (const robot of fleet.roster) {
      const pose = await robot.pose();
      expect(Number.isFinite(pose.x) && Number.isFinite(pose.y)).toBe(true);
      expect(existsSync(robot.logPath)).toBe(true);
    }
    expect(events.since(0).filter((event) => event.kind === 'robot-ready')).toHaveLength(3);
    const pids = fleet.roster.map((robot) => hostPid(robot.id));
    await fleet.stop();
    await fleet.stop(); // idempotent
    for (const pid of pids) expect(() => process.kill(pid, 0), `pid ${pid} still alive`).toThrow();
    fleet = undefined;
  });

  test('a power cut kills the robot at once; power-on brings it back on the same URL and the link recovers', async () => {
    fleet = await referenceFleet({ robots: 1, seed: 2 }).start();
    const robot = fleet.robot('r01');
    const url = robot.rosbridgeUrl;
    const pid = hostPid('r01');
    await expect
      .poll(() => robotPids('r01', 'edge-agent').length, { message: 'the edge agent runs' })
      .toBe(1);
    const probe = robot.probe(ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, {
      nominalHz: 20,
      stallMs: 500,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));

    await robot.powerCut();
    expect(() => process.kill(pid, 0)).toThrow();
    // The edge agent runs on the robot: it goes down with the power (a zombie has no environment).
    await expect.poll(() => robotPids('r01', 'edge-agent'), { timeout: 2_000 }).toEqual([]);
    expect(robot.powered).toBe(false);
    const countAtCut = probe.count;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(probe.count, 'no /odom while the power is off').toBeLessThanOrEqual(countAtCut + 1);

    await robot.powerOn();
    expect(robot.rosbridgeUrl).toBe(url);
    // The subscription made before the cut delivers again without being re-made.
    const before = probe.count;
    await expect.poll(() => probe.count, { timeout: 5_000 }).toBeGreaterThan(before + 10);
    const stats = probe.stats();
    probe.stop();
    expect(stats.stalls.length, 'the outage shows as a stall').toBeGreaterThanOrEqual(1);
    expect(fleet.deathsSince(0), 'a power cut is not a death').toEqual([]);
    expect(robot.logTail(50).join('\n')).toContain('power cut');
  });

  test('the robot is where it was after a power cut (physics outlives the process)', async () => {
    fleet = await referenceFleet({ robots: 1, seed: 3, rtf: 4 }).start();
    const robot = fleet.robot('r01');
    const drive = setInterval(() => robot.drive(0.8, 0.3), 50);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    clearInterval(drive);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const before = await robot.pose();
    await robot.powerCut();
    await robot.powerOn();
    const after = await robot.pose();
    expect(Math.hypot(after.x - before.x, after.y - before.y)).toBeLessThan(0.3);
  });

  test('a robot that dies unexpectedly is reported with its last log lines, and waits on it fail at once', async () => {
    fleet = await referenceFleet({ robots: 2, seed: 4 }).start();
    const robot = fleet.robot('r02');
    const waiting = robot.ros.waitForMessage(ROBOT_TOPICS.bumper.name, ROBOT_TOPICS.bumper.type, {
      timeoutMs: 30_000,
    });
    const started = Date.now();
    process.kill(hostPid('r02'), 'SIGKILL');
    const error = await waiting.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(RobotDiedError);
    expect((error as Error).message).toContain('robot r02 died unexpectedly (signal SIGKILL)');
    expect((error as Error).message).toContain('robot-host r02');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(fleet.deathsSince(started).map((death) => death.robotId)).toEqual(['r02']);
    // The other robot is unaffected.
    await fleet.robot('r01').pose();
  });

  test('a robot that cannot boot fails the start with its log, and nothing is left running', async () => {
    const attempt = referenceFleet({
      robots: 2,
      seed: 5,
      rtf: -1,
      readyTimeoutMs: 10_000,
    }).start();
    const error = await attempt.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(RobotUnreachableError);
    expect((error as Error).message).toMatch(/robot r0[12]: robot host exited during boot/);
    expect(processesWithEnv('FLEETDRILL_HARNESS_PID', String(process.pid))).toEqual([]);
  });

  test('a backend the registry does not know fails the start before anything is built', async () => {
    let provisioned = false;
    const error = await new Fleet({
      robots: 1,
      seed: 7,
      backend: 'vm' as BackendName,
      provision: () => {
        provisioned = true;
        return Promise.reject(new Error('provisioned a fleet whose backend does not exist'));
      },
    })
      .start()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe('backend must be one of embedded, docker, got "vm"');
    expect(provisioned).toBe(false);
  });

  test('an unknown robot id names the robots there are', async () => {
    fleet = await referenceFleet({ robots: 2, seed: 6 }).start();
    expect(() => fleet!.robot('r09')).toThrow("robot 'r09' is not in this fleet (robots: r01, r02)");
  });
});
