import { ROBOT_TOPICS, expect, test, withDetail } from '../harness/index.ts';
import type { GoalStatus } from '../harness/index.ts';

// Four times real time: the drive across the warehouse is 40 s of sim time, and what is checked
// (the planner reaches the goal and stops) does not depend on the wall clock. One robot is enough.
test.use({ robots: 1, rtf: 4 });

test.describe('navigation', { tag: ['@smoke', '@nightly', '@release', '@FLEET-003'] }, () => {
  test('a robot sent to a goal across the warehouse arrives', async ({ fleet, claim }) => {
    test.setTimeout(120_000);
    const robot = await claim.one();
    const goal = fleet.place('far-corner');
    const start = await robot.pose();
    const distance = Math.hypot(goal.x - start.x, goal.y - start.y);
    expect(distance, 'the goal should be across the warehouse').toBeGreaterThan(15);

    const status: GoalStatus = await robot.goTo(goal, { timeoutMs: 100_000 });
    expect(status.status, withDetail(`goal ended ${status.status}`, status.reason)).toBe('succeeded');

    const end = await robot.pose();
    expect(
      Math.hypot(end.x - goal.x, end.y - goal.y),
      `${robot.id} ended at (${end.x.toFixed(2)}, ${end.y.toFixed(2)})`,
    ).toBeLessThan(0.3);
    const odom = await robot.ros.waitForMessage<{ twist: { twist: { linear: { x: number } } } }>(
      ROBOT_TOPICS.odom.name,
      ROBOT_TOPICS.odom.type,
      { timeoutMs: 2_000 },
    );
    expect(Math.abs(odom.twist.twist.linear.x), `${robot.id} is at rest on arrival`).toBeLessThan(0.05);
  });
});
