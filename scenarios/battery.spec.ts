import { ROBOT_TOPICS, expect, test, type BatteryState, type Robot } from '../harness/index.ts';

async function battery(robot: Robot): Promise<BatteryState> {
  return robot.ros.waitForMessage<BatteryState>(ROBOT_TOPICS.battery.name, ROBOT_TOPICS.battery.type, {
    timeoutMs: 3_000,
  });
}

test.describe('battery', { tag: ['@smoke', '@nightly'] }, () => {
  test('the battery drains while driving, faster than at rest', async ({ fleet, claim }) => {
    const robot = await claim.one();
    // Forth and back below stays within 3 m ahead of where it starts. An earlier drill may have
    // left the robot against a wall: then it goes to the open lane first.
    if (!(await robot.hasRoomToDrive(3.5, 0.5))) {
      expect((await robot.goTo(fleet.place('east-lane'), { timeoutMs: 60_000 })).status).toBe('succeeded');
    }

    const restStart = await battery(robot);
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const restEnd = await battery(robot);
    const restDrain = restStart.percentage - restEnd.percentage;

    // Forth and back at full speed, turning round every 3 s: traction power without going far
    // (a reversal at 1 m/s² takes 2 s, so the robot spends a third of the time at full speed).
    let forward = true;
    const turn = setInterval(() => (forward = !forward), 3_000);
    const drive = setInterval(() => robot.drive(forward ? 1.0 : -1.0, 0), 50);
    let driveStart: BatteryState;
    let driveEnd: BatteryState;
    try {
      driveStart = await battery(robot);
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      driveEnd = await battery(robot);
    } finally {
      clearInterval(drive);
      clearInterval(turn);
    }
    const driveDrain = driveStart.percentage - driveEnd.percentage;
    expect(driveEnd.power_supply_status, 'discharging while driving').toBe(2);
    expect(driveDrain, `drain while driving ${driveDrain}, at rest ${restDrain}`).toBeGreaterThan(0);
    expect(driveDrain).toBeGreaterThan(2 * Math.max(restDrain, 0));
    expect(driveEnd.current, 'current flows out of the battery while driving').toBeLessThan(0);
  });
});
