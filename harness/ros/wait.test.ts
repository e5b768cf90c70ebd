/* forTopic, the readiness check on a stream's rate: it fires on a stream that is too slow or absent. */
import { expect } from '@playwright/test';
import { TimeoutError } from '../core/errors.ts';
import { ROBOT_TOPICS } from './messages.ts';
import { TEST_TOPIC, TEST_TYPE, publishEvery, test } from './test-helpers.ts';
import { forAll, forTopic } from './wait.ts';

test.describe('forTopic', () => {
  test.describe.configure({ timeout: 30_000 });

  test('a stream at its rate is ready; one published too slowly times out naming topic, limit and best rate', async ({
    ros,
  }) => {
    // The robot's /odom at 20 Hz is the control; half of it as the limit keeps a busy machine out.
    await forTopic(ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, { minHz: 10 }).waitUntilReady(
      ros.robot,
      5_000,
    );
    const slow = publishEvery(ros.publisher, 250);
    try {
      const error = await forTopic(TEST_TOPIC, TEST_TYPE, { minHz: 9 })
        .waitUntilReady(ros.robot, 2_000)
        .catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(TimeoutError);
      expect((error as Error).message).toMatch(
        /^\/probe_test: best [345]\.\d Hz, expected >= 9 Hz within 2000 ms$/,
      );
    } finally {
      slow.stop();
    }
  });

  test('a topic nobody publishes says so; forAll fails when one of its checks does', async ({ ros }) => {
    const error = await forAll([
      forTopic(ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, { minHz: 10 }),
      forTopic('/nobody_publishes', TEST_TYPE, { minHz: 1 }),
    ])
      .waitUntilReady(ros.robot, 1_000)
      .catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toBe('/nobody_publishes: no message, expected >= 1 Hz within 1000 ms');
  });
});
