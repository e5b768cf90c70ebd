import { expect, test } from '@playwright/test';
import { EventBus } from '../core/events.ts';
import { referenceFleet } from '../testing/reference-fleet.ts';
import { ROBOT_TOPICS, type BatteryState, type Odometry } from '../ros/messages.ts';
import { ClaimError, RobotClaims } from './claims.ts';
import type { StartedFleet } from './started-fleet.ts';
import type { Robot, RobotCapability } from './robot.ts';
import { robotConditions } from './robot-conditions.ts';

async function speed(robot: Robot): Promise<number> {
  const odom = await robot.ros.waitForMessage<Odometry>(ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, {
    timeoutMs: 5_000,
  });
  return Math.abs(odom.twist.twist.linear.x);
}

async function charge(robot: Robot): Promise<number> {
  const battery = await robot.ros.waitForMessage<BatteryState>(
    ROBOT_TOPICS.battery.name,
    ROBOT_TOPICS.battery.type,
    { timeoutMs: 5_000 },
  );
  return battery.percentage;
}

test.describe('claims: which robots a drill gets', () => {
  test.describe.configure({ mode: 'default', timeout: 60_000 });
  let fleet: StartedFleet | undefined;
  test.beforeAll(async () => {
    test.setTimeout(120_000);
    fleet = await referenceFleet({ robots: 2, seed: 31, telemetry: false }).start();
  });
  test.afterAll(async () => {
    await fleet?.stop();
  });

  test("a second claim does not get the first claim's robots; the next drill's claims start afresh", async () => {
    const claims = new RobotClaims(fleet!);
    const first = await claims.one();
    const second = await claims.one();
    expect(second.id).not.toBe(first.id);
    expect(claims.ids).toEqual(['r01', 'r02']);
    await expect(claims.one()).rejects.toThrow(
      'claim of 1 robot (reset): the fleet has 2 robot(s) (r01, r02); 2 held by an earlier claim of this drill (r01, r02)',
    );
    const next = new RobotClaims(fleet!);
    expect((await next.all()).map((robot) => robot.id)).toEqual(['r01', 'r02']);
  });

  test('a claim for more robots than the fleet has fails naming both counts', async () => {
    const claims = new RobotClaims(fleet!);
    const asked = claims.some(3, { needs: ['freeze'] });
    await expect(asked).rejects.toThrow(ClaimError);
    await expect(asked).rejects.toThrow(
      'claim of 3 robots needing freeze (reset): the fleet has 2 robot(s) (r01, r02); 2 of the 2 free have freeze',
    );
    expect(claims.ids, 'a failed claim holds nothing').toEqual([]);
    await expect(claims.some(0)).rejects.toThrow(
      'claim of 0 robots (reset): the count must be a whole number >= 1',
    );
  });

  test('an unknown capability fails, naming the ones there are', async () => {
    const claims = new RobotClaims(fleet!);
    await expect(claims.one({ needs: ['teleport' as RobotCapability] })).rejects.toThrow(
      "claim of 1 robot needing teleport (reset): unknown capability 'teleport' (known: power-cut, freeze, disconnect)",
    );
  });
});

test.describe('claims: a robot comes back clean, whatever the drill before left on it', () => {
  test.describe.configure({ mode: 'default', timeout: 120_000 });
  const events = new EventBus();
  let fleet: StartedFleet | undefined;
  test.beforeAll(async () => {
    test.setTimeout(120_000);
    // With edge agents: an armed power cut is the agent's to disarm.
    fleet = await referenceFleet({ robots: 1, seed: 32, events }).start();
  });
  test.afterAll(async () => {
    await fleet?.stop();
  });

  test('frozen, unplugged, faulted, mid-goal and with a cut armed: the next claim gets it back reset', async () => {
    const robot = await new RobotClaims(fleet!).one();
    // The drill before: it armed a cut, sent a goal across the warehouse, froze the robot mid-drive,
    // pulled its cable (where it has one) and faulted its links, then ended without undoing any of it.
    await robot.agent.waitUntilReady();
    await robot.armPowerCut({ at: 'Download' });
    void robot.goTo(fleet!.place('far-corner'), { timeoutMs: 60_000 }).catch(() => {});
    await expect.poll(() => speed(robot), { message: 'driving to its goal' }).toBeGreaterThan(0.1);
    await robot.freeze();
    const unplug = robot.capabilities.has('disconnect');
    if (unplug) await robot.disconnectNetwork();
    await fleet!.network.apply(robot.id, 'wifi-edge');
    await fleet!.network.apply(robot.id, 'dead', { link: 'cloud' });
    const left = robotConditions(events.since(0)).get(robot.id);
    expect(left).toEqual({ frozen: true, unplugged: unplug, armedPowerCut: true });

    const claimedAt = Date.now();
    const again = await new RobotClaims(fleet!).one();
    test.info().annotations.push({ type: 'reset ms', description: String(Date.now() - claimedAt) });

    expect(again).toBe(robot);
    expect(robotConditions(events.since(0)).get(robot.id)).toEqual({
      frozen: false,
      unplugged: false,
      armedPowerCut: false,
    });
    for (const link of fleet!.network.linksOf(robot.id)) expect(link.profile, link.name).toBe('clear');
    expect(robot.ros.connected).toBe(true);
    expect(await speed(robot), 'at rest, its goal ended').toBeLessThan(0.01);
    const odom = robot.probe(ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, {
      nominalHz: ROBOT_TOPICS.odom.hz,
    });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(odom.violations({ minHz: 0.8 * ROBOT_TOPICS.odom.hz }), '/odom at its rate again').toEqual([]);
    odom.stop();
    expect(fleet!.deathsSince(0)).toEqual([]);
  });

  test("'reset' keeps what the software holds in memory; 'fresh' reboots it, and pose, charge and version stay", async () => {
    const robot = await new RobotClaims(fleet!).one();
    expect((await robot.trigger('estop')).success).toBe(true);
    // Reset: the e-stop is the running software's, and it is still latched.
    await new RobotClaims(fleet!).one();
    robot.drive(0.5, 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await speed(robot), 'still e-stopped after a reset claim').toBeLessThan(0.01);

    const pose = await robot.pose();
    const battery = await charge(robot);
    const version = (await robot.version()).version;
    const bootBefore = (await robot.agent.status()).boot_id;
    const claimedAt = Date.now();
    await new RobotClaims(fleet!).one({ state: 'fresh' });
    const freshMs = Date.now() - claimedAt;
    test.info().annotations.push({ type: 'fresh ms', description: String(freshMs) });

    expect((await robot.agent.status()).boot_id, 'a new boot').not.toBe(bootBefore);
    const after = await robot.pose();
    expect(Math.hypot(after.x - pose.x, after.y - pose.y), 'where it stood').toBeLessThan(0.3);
    expect(Math.abs((await charge(robot)) - battery), 'charge kept across the reboot').toBeLessThan(1);
    expect((await robot.version()).version, 'the version on its disk').toBe(version);
    const drive = setInterval(() => robot.drive(0.5, 0), 50);
    try {
      await expect
        .poll(() => speed(robot), { message: 'the e-stop went with the reboot' })
        .toBeGreaterThan(0.1);
    } finally {
      clearInterval(drive);
    }
  });
});
