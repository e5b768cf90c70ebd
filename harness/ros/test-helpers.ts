/* Helpers for this folder's tests: a reference robot's rosbridge and a stream the test controls. Not part of the public surface. */
import { test as base } from '@playwright/test';
import { labFixtures, type LabFixtures } from '../../reference/robot-sim/test-helpers.ts';
import { RosClient } from './client.ts';

/** A topic only the tests publish on, through the robot's real rosbridge. */
export const TEST_TOPIC = '/probe_test';
export const TEST_TYPE = 'std_msgs/msg/String';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `ros.robot`: a client to a reference robot `r07` (in this process), the link under test.
 * `ros.publisher`: a second client to the same rosbridge, for streams the test shapes.
 */
export const test = base.extend<LabFixtures & { ros: { robot: RosClient; publisher: RosClient } }>({
  ...labFixtures,
  ros: async ({ lab }, use) => {
    const sim = await lab.sim({ id: 'r07' });
    const robot = await RosClient.connect(sim.url, { name: 'r07' });
    const publisher = await RosClient.connect(sim.url, { name: 'publisher' });
    try {
      await use({ robot, publisher });
    } finally {
      robot.close();
      publisher.close();
    }
  },
});

/**
 * Publishes on TEST_TOPIC every `periodMs`; `pause(ms)` stops it for a while, as a publisher that
 * hangs would. `stop()` it at the end.
 */
export function publishEvery(client: RosClient, periodMs: number) {
  let paused = false;
  let seq = 0;
  const timer = setInterval(() => {
    if (!paused) client.publish(TEST_TOPIC, TEST_TYPE, { data: `m${seq++}` });
  }, periodMs);
  return {
    async pause(ms: number): Promise<void> {
      paused = true;
      await sleep(ms);
      paused = false;
    },
    stop: (): void => clearInterval(timer),
  };
}
