import { writeFileSync } from 'node:fs';
import { ROBOT_TOPICS, expect, test } from '../../index.ts';

// Driven by the hygiene tests through HYGIENE_MODE: how this drill ends.
const mode = process.env.HYGIENE_MODE ?? 'pass';

test(`hygiene drill (${mode})`, async ({ fleet }) => {
  const ports = fleet.robots.map((robot) => Number(new URL(robot.rosbridgeUrl).port));
  // Tell the outer test where the robots listen, and that the drill is under way.
  writeFileSync(process.env.HYGIENE_MARKER as string, JSON.stringify({ ports, pid: process.pid }));
  const pose = await fleet.robot('r01').pose();
  expect(Number.isFinite(pose.x)).toBe(true);
  if (mode === 'fail') expect(pose.x, 'this drill fails on purpose').toBe(-1);
  if (mode === 'probe-throws' || mode === 'callback-unreported') {
    // A check written inside a probe's callback, as drills used to: it must fail the drill.
    let seen = 0;
    const odom = fleet.robot('r01').probe(ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, {
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
