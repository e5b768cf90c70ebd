import { createServer } from 'node:net';
import { expect, test } from '@playwright/test';
import { RobotUnreachableError, TimeoutError } from '../core/errors.ts';
import { referenceFleet } from '../testing/reference-fleet.ts';
import { CallbackError, RosClient } from './client.ts';
import { ROBOT_TOPICS } from './messages.ts';

// One reference robot, brought up by test support: the ROS client sits below the fleet, so this
// test names no fleet type of its own.
const startRobot = () => referenceFleet({ robots: 1, seed: 10 }).start();

test.describe('RosClient against a real robot', () => {
  test.describe.configure({ mode: 'serial', timeout: 30_000 });
  let fleet: Awaited<ReturnType<typeof startRobot>>;
  test.beforeAll(async () => {
    fleet = await startRobot();
  });
  test.afterAll(async () => {
    await fleet.stop();
  });

  test('waitForMessage with a predicate, and a timeout that names robot and topic', async () => {
    const robot = fleet.robot('r01');
    const odom = await robot.ros.waitForMessage<{ child_frame_id: string }>(
      ROBOT_TOPICS.odom.name,
      ROBOT_TOPICS.odom.type,
      {
        timeoutMs: 2_000,
        predicate: (message) => message.child_frame_id.length > 0,
      },
    );
    expect(odom.child_frame_id).toBeTruthy();
    const error = await robot.ros
      .waitForMessage('/does_not_exist', 'std_msgs/msg/String', { timeoutMs: 300 })
      .catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toBe('robot r01: no message on /does_not_exist within 300 ms');
  });

  test('a waitForMessage predicate that throws rejects the wait at once, naming robot and wait', async () => {
    const robot = fleet.robot('r01');
    const started = performance.now();
    const error = await robot.ros
      .waitForMessage<{ twist: { twist: { linear: { x: number } } } }>(
        ROBOT_TOPICS.odom.name,
        ROBOT_TOPICS.odom.type,
        {
          timeoutMs: 10_000,
          // A drill's typo: a field /odom does not have. roslib would swallow the TypeError and
          // the wait would end as a timeout that blames the robot.
          predicate: (odom) => (odom as unknown as { linear: { x: number } }).linear.x > 0.9,
          description: 'r01 at full speed',
        },
      )
      .catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(CallbackError);
    expect((error as Error).message).toMatch(
      /^robot r01: a callback on \/odom \(r01 at full speed\) threw: .*reading 'x'/,
    );
    expect((error as CallbackError).cause).toBeInstanceOf(TypeError);
    expect(performance.now() - started, 'rejected on the first message, not at the timeout').toBeLessThan(
      5_000,
    );
    expect(fleet.takeUnreportedCallbackErrors(), 'the rejection reported it').toEqual([]);
  });

  test('a subscribe callback that throws: kept once, messages go on, unreported until its owner takes it', async () => {
    const robot = fleet.robot('r01');
    let calls = 0;
    const sub = robot.ros.subscribe(ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, () => {
      calls++;
      throw new Error(`check ${calls} fails on purpose`);
    });
    await expect.poll(() => calls, { timeout: 5_000 }).toBeGreaterThan(3);
    sub.unsubscribe();
    // Not taken by anyone yet: the fleet (what the fixtures ask) has it, with the first message.
    expect(fleet.takeUnreportedCallbackErrors().map((error) => error.message)).toEqual([
      'robot r01: a callback on /odom threw: check 1 fails on purpose',
    ]);
    expect(fleet.takeUnreportedCallbackErrors(), 'taken once').toEqual([]);
    // The owner can still read it; taking it is idempotent.
    expect(sub.failure()?.message).toBe('robot r01: a callback on /odom threw: check 1 fails on purpose');
  });

  test('callService returns the response, and an unknown service fails with the service named', async () => {
    const robot = fleet.robot('r01');
    const version = await robot.ros.callService<{ version: string; robot_id: string }>(
      '/get_version',
      'fleetdrill_msgs/srv/GetVersion',
      {},
    );
    expect(version.robot_id).toBe('r01');
    await expect(robot.ros.callService('/no_such_service', 'std_srvs/srv/Trigger', {})).rejects.toThrow(
      /robot r01: service \/no_such_service failed/,
    );
  });

  test('publish while disconnected is dropped, not queued', async () => {
    const robot = fleet.robot('r01');
    const client = await RosClient.connect(robot.rosbridgeUrl, { name: 'probe', reconnect: false });
    expect(client.publish('/chatter', 'std_msgs/msg/String', { data: 'up' })).toBe(true);
    client.close();
    await expect.poll(() => client.connected).toBe(false);
    expect(client.publish('/chatter', 'std_msgs/msg/String', { data: 'down' })).toBe(false);
  });
});

test('connecting to a port where nothing answers rosbridge fails with RobotUnreachableError', async () => {
  // A port that accepts TCP but never speaks WebSocket, and one that refuses.
  const silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as { port: number }).port;
  try {
    const error = await RosClient.connect(`ws://127.0.0.1:${port}`, {
      name: 'r42',
      connectTimeoutMs: 500,
    }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(RobotUnreachableError);
    expect((error as Error).message).toBe(
      `robot r42: no rosbridge answer at ws://127.0.0.1:${port} within 500 ms`,
    );
  } finally {
    silent.close();
  }
  const refused = await RosClient.connect('ws://127.0.0.1:1', { name: 'r43', connectTimeoutMs: 500 }).catch(
    (failure: unknown) => failure,
  );
  expect(refused).toBeInstanceOf(RobotUnreachableError);
});
