import { ROBOT_TOPICS, expect, test, type Odometry } from '../harness/index.ts';

test.describe('collision', { tag: ['@smoke', '@nightly'] }, () => {
  test('driving into a wall produces the collision event and a stop', async ({ fleet, claim }) => {
    const robot = await claim.one();
    const approach = fleet.place('wall-approach');
    expect((await robot.goTo(approach, { timeoutMs: 60_000 })).status).toBe('succeeded');

    const collision = await robot.driveUntilCollision(0.5);
    // The approach pose faces the partition between storage and the hall.
    expect(collision.obstacle).toBe('partition-south');
    expect(collision.speed).toBeGreaterThan(0.1);

    // The base keeps pressing on for as long as /cmd_vel says so; once the drill lets go, it rests.
    robot.drive(0, 0);
    await robot.ros.waitForMessage<Odometry>(ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, {
      timeoutMs: 2_000,
      predicate: (odom) => Math.abs(odom.twist.twist.linear.x) < 0.01,
      description: `${robot.id} stopped at the wall`,
    });
    const at = await robot.pose();
    // The approach pose faces the wall from 2 m; the robot must stop at the wall, not pass it.
    const travelled = Math.hypot(at.x - approach.x, at.y - approach.y);
    expect(travelled).toBeGreaterThan(1.0);
    expect(travelled).toBeLessThan(2.0);

    // Backing away still works after a collision.
    const backing = setInterval(() => robot.drive(-0.3, 0), 50);
    try {
      await robot.ros.waitForMessage<Odometry>(ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, {
        timeoutMs: 3_000,
        predicate: (odom) => odom.twist.twist.linear.x < -0.1,
        description: `${robot.id} backing away`,
      });
    } finally {
      clearInterval(backing);
    }
  });
});
