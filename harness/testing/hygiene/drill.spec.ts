import { writeFileSync } from 'node:fs';
import { expect, test } from '../../index.ts';

// Driven by the hygiene tests through HYGIENE_MODE: how this drill ends.
const mode = process.env.HYGIENE_MODE ?? 'pass';

test(`hygiene drill (${mode})`, async ({ fleet }) => {
  const ports = fleet.robots.map((robot) => Number(new URL(robot.rosbridgeUrl).port));
  // Tell the outer test where the robots listen, and that the drill is under way.
  writeFileSync(process.env.HYGIENE_MARKER as string, JSON.stringify({ ports, pid: process.pid }));
  const pose = await fleet.robot('r01').pose();
  expect(Number.isFinite(pose.x)).toBe(true);
  if (mode === 'fail') expect(pose.x, 'this drill fails on purpose').toBe(-1);
  if (mode === 'timeout' || mode === 'hang') await new Promise(() => {});
});
