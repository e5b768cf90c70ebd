import { existsSync, writeFileSync } from 'node:fs';
import { ROBOT_TOPICS, expect, test } from '../../index.ts';

// Driven by the hygiene tests through HYGIENE_MODE: how this drill ends.
const mode = process.env.HYGIENE_MODE ?? 'pass';

if (mode !== 'leftovers') {
  test(`hygiene drill (${mode})`, async ({ fleet, claim }) => {
    const ports = fleet.roster.map((robot) => Number(new URL(robot.rosbridgeUrl).port));
    // Tell the outer test where the robots listen, and that the drill is under way.
    writeFileSync(process.env.HYGIENE_MARKER as string, JSON.stringify({ ports, pid: process.pid }));
    // The outer test may look at the run meanwhile (what it has attached); it lets go with this file.
    const hold = process.env.HYGIENE_HOLD;
    if (hold) await expect.poll(() => existsSync(hold), { timeout: 30_000 }).toBe(true);
    const robot = await claim.one();
    const pose = await robot.pose();
    expect(Number.isFinite(pose.x)).toBe(true);
    if (mode === 'fail') expect(pose.x, 'this drill fails on purpose').toBe(-1);
    if (mode === 'probe-throws' || mode === 'callback-unreported') {
      // A check written inside a probe's callback, as drills used to: it must fail the drill.
      let seen = 0;
      const odom = robot.probe(ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, {
        onMessage: () => {
          seen++;
          expect(pose.x, 'this callback fails on purpose').toBe(-1);
        },
      });
      await expect.poll(() => seen).toBeGreaterThan(3);
      // 'callback-unreported' forgets the probe: the fixtures must still fail the drill.
      if (mode === 'probe-throws') odom.stop();
    }
    if (mode === 'timeout' || mode === 'hang') await new Promise(() => {});
  });
}

// 'leftovers': one drill leaves its robot faulted and fails; the next, on the same worker's fleet,
// must find none of it. The first is marked as failing on purpose, so the worker (and its fleet) goes on.
if (mode === 'leftovers') {
  test('a drill that leaves its robot faulted and throws', async ({ fleet, claim, faults }) => {
    test.fail();
    const robot = await claim.one();
    writeFileSync(
      process.env.HYGIENE_MARKER as string,
      JSON.stringify({
        ports: fleet.roster.map((r) => Number(new URL(r.rosbridgeUrl).port)),
        pid: process.pid,
      }),
    );
    faults.followWifi([robot]);
    // A step still to come when the drill ends: it must never land.
    faults.schedule([{ atMs: 3_000, robot: robot.id, profile: 'wifi-edge', forMs: 30_000 }]);
    await fleet.network.apply(robot.id, 'dead', { link: 'cloud' });
    await robot.freeze();
    if (robot.capabilities.has('disconnect')) await robot.disconnectNetwork();
    throw new Error('this drill fails on purpose, its faults left in place');
  });

  test('the next drill finds no fault of it, and its claim gets the robot back clean', async ({
    fleet,
    claim,
    events,
  }) => {
    const from = Date.now();
    expect(
      events.since(0).some((event) => event.kind === 'robot-frozen' && event.robot === 'r01'),
      'the same fleet as the drill before',
    ).toBe(true);
    for (const robot of fleet.roster) {
      for (const link of fleet.network.linksOf(robot.id)) {
        expect(link.profile, `${robot.id} ${link.name} once the drill before ended`).toBe('clear');
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    const late = events.since(from).filter((event) => event.kind === 'fault-applied');
    expect(late, "the drill before's schedule played on").toEqual([]);
    const robot = await claim.one();
    expect(robot.id).toBe('r01');
    const odom = robot.probe(ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, {
      nominalHz: ROBOT_TOPICS.odom.hz,
    });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(odom.violations({ minHz: 0.8 * ROBOT_TOPICS.odom.hz }), 'r01 runs again').toEqual([]);
    odom.stop();
  });
}
