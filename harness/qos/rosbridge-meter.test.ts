import { expect } from '@playwright/test';
import createDebug from 'debug';
import {
  RosbridgeServer,
  ServiceRegistry,
  TopicBus,
  newStats,
} from '../../reference/robot-sim/rosbridge/index.ts';
import { RosClient } from '../ros/client.ts';
import { ROBOT_TOPICS } from '../ros/messages.ts';
import { publishEvery, sleep, test, TEST_TOPIC, TEST_TYPE } from '../ros/test-helpers.ts';
import { checkTopicMeter, meterTopics, TopicMeter, type MeteredTopic } from './rosbridge-meter.ts';

const { odom, scan, imu } = ROBOT_TOPICS;
const topic = (t: { name: string; type: string; hz: number }, extra: Partial<MeteredTopic> = {}) => ({
  name: t.name,
  type: t.type,
  nominalHz: t.hz,
  ...extra,
});

test('on a loopback link every sample the robot counted arrives, fresh and without stalls', async ({
  ros,
}) => {
  const report = await meterTopics(
    { id: 'r07', ros: ros.robot },
    [topic(odom, { deadlineMs: 200 }), topic(scan, { deadlineMs: 300 }), topic(imu, { deadlineMs: 200 })],
    { durationMs: 2_000 },
  );
  test.info().annotations.push({ type: 'kpi', description: JSON.stringify(report) });
  expect(report.clockSource).toBe('robot');
  expect(report.simWindowS).toBeGreaterThan(1.5);
  for (const r of report.topics) {
    expect(r.publishedSource, r.topic).toBe('robot');
    expect(r.couldNotTell, r.topic).toBeUndefined();
    // Counted by the robot between two reports, received by stamp in the same sim interval.
    expect(r.received, r.topic).toBe(r.published);
    expect(r.published!, r.topic).toBeGreaterThan(10);
    // The sim sends in 50..100 ms ticks: the newest sample is at most a tick and a period old.
    expect(r.ageP99Ms!, r.topic).toBeLessThan(400);
    expect(r.longestStallMs, r.topic).toBeLessThan(600);
    expect(checkTopicMeter(report, r.topic, { deliveryMin: 1, ageP99MaxMs: 400 }).problems).toEqual([]);
  }
  // /odom at 20 Hz in 50..100 ms ticks never leaves 200 ms without a sample on loopback.
  expect(report.topics[0]!.deadlineMisses).toBe(0);
});

test('a paused publisher shows as a stall and as deadline misses; the check names robot, topic and figures', async ({
  ros,
}) => {
  const stream = publishEvery(ros.publisher, 50);
  try {
    const meter = await new TopicMeter({ id: 'r07', ros: ros.robot }, [
      { name: TEST_TOPIC, type: TEST_TYPE, deadlineMs: 200 },
    ]).start();
    await sleep(500);
    await stream.pause(1_200);
    await sleep(500);
    const report = await meter.stop();
    const r = report.topics[0]!;
    expect(r.longestStallMs).toBeGreaterThan(1_150);
    // 1.2 s without samples at a 200 ms deadline: 5 or 6 missed periods.
    expect(r.deadlineMisses).toBeGreaterThanOrEqual(5);
    expect(r.deadlineMisses).toBeLessThanOrEqual(7);
    // A client topic: the robot does not count it, and has no stamps: that is "could not tell".
    expect(r.couldNotTell).toMatch(/robot r07 does not count \/probe_test/);
    const verdict = checkTopicMeter(report, TEST_TOPIC, {
      stallMaxMs: 500,
      deadlineMissesMax: 0,
      deliveryMin: 1,
    });
    expect(verdict.problems).toEqual([
      expect.stringMatching(/^robot r07: \/probe_test stalled 1\d{3} ms, expected <= 500 ms over/),
      expect.stringMatching(/^robot r07: \/probe_test missed its deadline \d times, expected <= 0 over/),
    ]);
    expect(verdict.couldNotTell.join('\n')).toMatch(/delivery unknown/);
  } finally {
    stream.stop();
  }
});

test('the count check fires when messages are dropped (a throttled subscriber gets one /odom in four)', async ({
  ros,
}) => {
  const report = await meterTopics(
    { id: 'r07', ros: ros.robot },
    [topic(odom, { subscribe: { throttleRateMs: 200 } })],
    { durationMs: 2_000 },
  );
  const r = report.topics[0]!;
  expect(r.deliveryRatio!).toBeGreaterThan(0.15);
  expect(r.deliveryRatio!).toBeLessThan(0.35);
  const verdict = checkTopicMeter(report, odom.name, { deliveryMin: 0.99 });
  expect(verdict.problems).toEqual([
    expect.stringMatching(
      /^robot r07: \/odom delivered \d+ of \d+ \(\d+\.\d %, counted by robot\), expected >= 99\.0 % over \d\.\d sim s$/,
    ),
  ]);
});

test('a robot without /fleetdrill/topic_stats: delivery from the nominal rate, the clock from the stamps, and both said so', async ({
  ros,
}) => {
  // A real rosbridge that offers no services stands in for the Gazebo image's, which lacks the
  // count: the meter reads its counts there, and the topics from the real robot.
  const stats = newStats();
  const bare = await RosbridgeServer.start(
    { host: '127.0.0.1', port: 0, log: createDebug('fleetdrill:test:bare') },
    new TopicBus(stats),
    new ServiceRegistry(stats),
    stats,
  );
  const control = await RosClient.connect(`ws://127.0.0.1:${bare.port}`, { name: 'r07-bare' });
  try {
    const report = await meterTopics({ id: 'r07', ros: ros.robot, control }, [topic(odom), topic(scan)], {
      durationMs: 2_000,
    });
    expect(report.clockSource).toBe('stamps');
    for (const r of report.topics) {
      expect(r.publishedSource, r.topic).toBe('nominal-rate');
      expect(r.couldNotTell, r.topic).toBeUndefined();
      // The window's ends fall between two samples: one either way of the nominal count.
      expect(
        Math.abs(r.received - r.published!),
        `${r.topic} ${r.received} of ${r.published}`,
      ).toBeLessThanOrEqual(1);
      expect(r.ageP99Ms!, r.topic).toBeLessThan(400);
    }
  } finally {
    control.close();
    await bare.close();
  }
});
