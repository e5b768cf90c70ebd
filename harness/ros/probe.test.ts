/*
 * TopicProbe against a real rosbridge (the reference robot's, in this process): its rate and
 * stall checks fire when the stream is broken on purpose, and an exception thrown by its
 * onMessage reaches the test instead of roslib.
 */
import { expect } from '@playwright/test';
import { CallbackError } from './client.ts';
import { ROBOT_TOPICS } from './messages.ts';
import { TopicProbe } from './probe.ts';
import { TEST_TOPIC as TOPIC, TEST_TYPE as TYPE, publishEvery, sleep, test } from './test-helpers.ts';

test.describe('TopicProbe checks', () => {
  test.describe.configure({ timeout: 30_000 });

  test('the rate check fires on a topic published too slowly, naming robot, topic, limit and rate', async ({
    ros,
  }) => {
    const slow = publishEvery(ros.publisher, 250);
    try {
      const probe = new TopicProbe(ros.robot, TOPIC, TYPE).start();
      // The robot's own /odom at 20 Hz is the control: the same check holds there.
      const odom = new TopicProbe(ros.robot, ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type).start();
      await sleep(500);
      probe.reset();
      odom.reset();
      await sleep(2_500);
      const found = probe.violations({ minHz: 9 });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/^robot r07: \/probe_test at [345]\.\d Hz, expected >= 9 Hz over 2\.\d s$/);
      // Half the nominal rate: a busy machine does not make the control fail.
      expect(odom.violations({ minHz: ROBOT_TOPICS.odom.hz / 2 })).toEqual([]);
      probe.stop();
      odom.stop();
    } finally {
      slow.stop();
    }
  });

  test('the stall check fires on a publisher that pauses, naming robot, topic, limit and gap', async ({
    ros,
  }) => {
    const stream = publishEvery(ros.publisher, 50);
    try {
      const probe = new TopicProbe(ros.robot, TOPIC, TYPE, { stallMs: 1_000 }).start();
      await expect.poll(() => probe.count, { timeout: 5_000 }).toBeGreaterThan(5);
      probe.reset();
      await sleep(1_000);
      // Before the pause the stream is whole: the check holds.
      expect(probe.violations({ maxStallMs: 600 })).toEqual([]);
      await stream.pause(1_500);
      await sleep(500);
      const found = probe.violations({ maxStallMs: 600 });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(
        /^robot r07: \/probe_test silent for 1\d{3} ms, expected no gap > 600 ms over 3\.\d s$/,
      );
      const gap = Number(/silent for (\d+) ms/.exec(found[0] as string)?.[1]);
      expect(gap).toBeGreaterThanOrEqual(1_400);
      // The pause is also on record as a stall, closed once messages came back.
      const stalls = probe.stats().stalls;
      expect(stalls).toHaveLength(1);
      expect((stalls[0]?.to as number) - (stalls[0]?.from as number)).toBeGreaterThanOrEqual(1_400);
      probe.stop();
    } finally {
      stream.stop();
    }
  });

  test('a topic that never publishes breaks both checks; a window too short to judge a rate throws', async ({
    ros,
  }) => {
    const probe = new TopicProbe(ros.robot, '/nobody_publishes', TYPE).start();
    expect(() => probe.violations({ minHz: 5 })).toThrow(
      /^robot r07: \/nobody_publishes: a \d+ ms window cannot tell >= 5 Hz; measure at least 400 ms$/,
    );
    await sleep(800);
    const found = probe.violations({ minHz: 5, maxStallMs: 500 });
    expect(found).toEqual([
      expect.stringMatching(/^robot r07: \/nobody_publishes at 0\.0 Hz, expected >= 5 Hz over 0\.\d s$/),
      expect.stringMatching(/^robot r07: \/nobody_publishes silent for \d+ ms, expected no gap > 500 ms/),
    ]);
    probe.stop();
  });
});

test.describe('TopicProbe: an exception in onMessage reaches the test', () => {
  test.describe.configure({ timeout: 30_000 });

  test('stop(), stats() and count rethrow the first one; the stream and other subscribers go on', async ({
    ros,
  }) => {
    let calls = 0;
    const broken = new TopicProbe(ros.robot, ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, {
      onMessage: () => {
        calls++;
        // What a drill's check looks like; roslib would have caught it and emitted 'error'.
        expect(calls, `check ${calls} fails on purpose`).toBe(0);
      },
    }).start();
    // Subscribed after the throwing one: roslib hands a message to the topic's subscribers in
    // turn, and one that throws would have kept this one from ever seeing any.
    const other = new TopicProbe(ros.robot, ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type).start();
    await sleep(1_000);
    expect(calls, 'onMessage keeps being called').toBeGreaterThan(5);
    expect(other.count, 'the other subscriber of /odom got its messages').toBeGreaterThan(5);

    const first = /^robot r07: a callback on \/odom threw: [\s\S]*check 1 fails on purpose/;
    expect(() => broken.stats()).toThrow(CallbackError);
    expect(() => broken.stats()).toThrow(first);
    expect(() => broken.count).toThrow(first);
    expect(() => broken.stop()).toThrow(first);
    // Stopping again, or resetting, does not make the failure go away.
    broken.reset();
    expect(() => broken.stop()).toThrow(first);
    expect(() => broken.stats()).toThrow(first);
    // The probe reported it, so the fixtures have nothing left to report.
    expect(ros.robot.takeUnreportedCallbackErrors()).toEqual([]);
    other.stop();
  });

  test('one never stopped or read stays on the client as unreported, for the fixtures', async ({ ros }) => {
    new TopicProbe(ros.robot, ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, {
      onMessage: () => {
        throw new RangeError('speed 0.7 m/s while e-stopped');
      },
    }).start();
    await expect
      .poll(() => ros.robot.takeUnreportedCallbackErrors().map((error) => error.message), { timeout: 5_000 })
      .toEqual(['robot r07: a callback on /odom threw: speed 0.7 m/s while e-stopped']);
  });
});
