/*
 * QoS over rosbridge, seen as an operator station sees it: a latched /goal_status survives a link
 * outage, each topic keeps the freshness, delivery and stalls of the robot model's QoS contract,
 * and under a bandwidth cap a throttled best-effort subscriber stays fresh while an unthrottled
 * one falls behind.
 */
import {
  ROBOT_TOPICS,
  RosClient,
  checkTopicMeter,
  contractForModel,
  expect,
  meterTopics,
  phase,
  test,
  withDetail,
  type GoalStatus,
  type MeteredTopic,
  type Robot,
  type TopicMeterLimits,
  type TopicMeterReport,
} from '../harness/index.ts';

/** The contract of the reference robot's model, fd-amr-1 (what its version endpoint reports). */
const CONTRACT = contractForModel('fd-amr-1');

/**
 * The reference robot sends what it publishes in 50–100 ms ticks over rosbridge (a DDS publisher
 * writes each sample at once), so the newest sample seen over rosbridge is up to one tick older
 * than the contract's DDS figure. This is that allowance, no more.
 */
const ROSBRIDGE_TICK_MS = 100;

/** A second operator station on the robot's faulted link, closed by the caller. */
function station(robot: Robot, name: string): Promise<RosClient> {
  return RosClient.connect(robot.rosbridgeUrl, { name: `${robot.id}-${name}` });
}

async function attachReport(name: string, report: TopicMeterReport): Promise<void> {
  await test.info().attach(name, { body: JSON.stringify(report, null, 2), contentType: 'application/json' });
}

test.describe('QoS over rosbridge', { tag: ['@qos', '@nightly', '@docker', '@release', '@QOS-001'] }, () => {
  test('a latched /goal_status published while the link is down is seen once it comes back', async ({
    fleet,
    claim,
  }) => {
    test.setTimeout(30_000);
    const robot = await claim.one();
    const { name, type } = ROBOT_TOPICS.goalStatus;
    const seen: GoalStatus[] = [];
    const latched = robot.ros.subscribe<GoalStatus>(name, type, (s) => seen.push(s), {
      qos: { durability: 'transient_local', reliability: 'reliable', depth: 1 },
    });
    // Another operator, on a link of its own that stays up, commands the robot during the outage.
    const operator = await RosClient.connect(robot.directRosbridgeUrl, { name: `${robot.id}-operator` });
    try {
      await fleet.network.apply(robot.id, 'down');
      await expect.poll(() => robot.ros.connected, { message: 'the link dropped' }).toBe(false);
      const final = operator.waitForMessage<GoalStatus>(name, type, {
        timeoutMs: 10_000,
        predicate: (s) => s.status !== 'active',
        description: 'the goal ending during the outage',
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      // A goal half a metre ahead, then a stop: the goal ends canceled (or aborted if blocked).
      const here = await operator.waitForMessage<{ pose: { pose: { position: { x: number; y: number } } } }>(
        ROBOT_TOPICS.odom.name,
        ROBOT_TOPICS.odom.type,
        { timeoutMs: 5_000 },
      );
      const { x, y } = here.pose.pose.position;
      operator.publish(ROBOT_TOPICS.goalPose.name, ROBOT_TOPICS.goalPose.type, {
        header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'map' },
        pose: { position: { x: x + 0.5, y, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      operator.publish(ROBOT_TOPICS.cmdVel.name, ROBOT_TOPICS.cmdVel.type, {
        linear: { x: 0, y: 0, z: 0 },
        angular: { x: 0, y: 0, z: 0 },
      });
      const during = await final;
      expect(
        seen.find((s) => s.goal_id === during.goal_id),
        'nothing passed while down',
      ).toBeUndefined();
      await fleet.network.clear(robot.id);
      await robot.ros.waitUntilConnected(10_000);
      await expect
        .poll(() => seen.find((s) => s.goal_id === during.goal_id)?.status, {
          timeout: 5_000,
          message: `${robot.id}: /goal_status of goal ${during.goal_id} (${during.status}), published during the outage`,
        })
        .toBe(during.status);
    } finally {
      latched.unsubscribe();
      operator.close();
      await fleet.network.clear(robot.id);
    }
    expect(latched.failure()).toBeUndefined();
  });

  for (const profile of ['clear', 'wifi-good'] as const) {
    test(`on ${profile}, each topic keeps the contract's delivery, freshness and stalls`, async ({
      fleet,
      claim,
    }) => {
      test.setTimeout(30_000);
      const robot = await claim.one();
      const topics: Array<MeteredTopic & { limits: TopicMeterLimits }> = [];
      await phase('set-up', { robot: robot.id, model: 'fd-amr-1', profile }, () => {
        for (const key of ['odom', 'scan', 'imu', 'battery', 'diagnostics'] as const) {
          const t = ROBOT_TOPICS[key];
          const contract = CONTRACT.topics.find((c) => c.name === t.name);
          const expected = contract?.expect[profile];
          expect(expected, `${CONTRACT.source}: ${t.name} has a '${profile}' expectation`).toBeDefined();
          topics.push({
            name: t.name,
            type: t.type,
            nominalHz: t.hz,
            limits: {
              ...(expected!.deliveryMin !== undefined ? { deliveryMin: expected!.deliveryMin } : {}),
              ...(expected!.ageP99MaxMs !== undefined
                ? { ageP99MaxMs: expected!.ageP99MaxMs + ROSBRIDGE_TICK_MS }
                : {}),
              ...(expected!.stallMaxMs !== undefined ? { stallMaxMs: expected!.stallMaxMs } : {}),
            },
          });
        }
      });
      try {
        await phase('fault', { robot: robot.id, link: 'rosbridge', profile }, async () => {
          if (profile !== 'clear') await fleet.network.apply(robot.id, profile);
        });
        const report = await phase(
          'observe',
          { topics: topics.map((t) => t.name).join(' '), 'window ms': 3_000 },
          async () => {
            const measured = await meterTopics(robot, topics, { durationMs: 3_000 });
            await attachReport(`meter on ${profile}`, measured);
            return measured;
          },
        );
        await phase('verdict', { limits: `fd-amr-1's contract on ${profile}` }, () => {
          const verdicts = topics.map((t) => checkTopicMeter(report, t.name, t.limits));
          const unknown = verdicts.flatMap((v) => v.couldNotTell);
          expect(unknown, withDetail('figures that could not be measured', unknown.length)).toEqual([]);
          const problems = verdicts.flatMap((v) => v.problems);
          expect(problems, withDetail('figures off the contract', problems.length)).toEqual([]);
          for (const r of report.topics) {
            expect(r.publishedSource, withDetail(`${r.topic} published by`, r.publishedSource)).toBe('robot');
          }
        });
      } finally {
        await fleet.network.clear(robot.id);
      }
    });
  }

  test('under a bandwidth cap a throttled best-effort subscriber stays fresh; an unthrottled one falls behind', async ({
    fleet,
    claim,
  }) => {
    test.setTimeout(45_000);
    const robot = await claim.one();
    const { name, type, hz } = ROBOT_TOPICS.scan;
    // /scan is about 2.3 KB at 10 Hz, 23 KB/s of JSON: a 10 KB/s cap is well under it, and one
    // scan in 400 ms (about 6 KB/s) fits.
    const CAP_KBPS = 10;
    const fresh = await station(robot, 'throttled');
    const flooded = await station(robot, 'unthrottled');
    try {
      await fleet.network.apply(robot.id, {
        name: `bandwidth-${CAP_KBPS}`,
        toxics: [{ type: 'bandwidth', stream: 'downstream', attributes: { rate: CAP_KBPS } }],
      });
      const meter = (ros: RosClient, subscribe: MeteredTopic['subscribe']) =>
        meterTopics(
          // The counts are read over the robot's own client, which this traffic does not back up.
          { id: robot.id, ros, control: robot.ros },
          [{ name, type, nominalHz: hz, ...(subscribe ? { subscribe } : {}) }],
          { durationMs: 8_000, graceMs: 300 },
        );
      const [throttled, unthrottled] = await Promise.all([
        meter(fresh, { throttleRateMs: 400, queueLength: 1, qos: { reliability: 'best_effort', depth: 1 } }),
        meter(flooded, undefined),
      ]);
      await attachReport('throttled, queue_length 1', throttled);
      await attachReport('unthrottled', unthrottled);
      const t = throttled.topics[0]!;
      const u = unthrottled.topics[0]!;
      test.info().annotations.push({
        type: 'kpi',
        description: `cap_KBps=${CAP_KBPS} throttled_age_p99_ms=${t.ageP99Ms?.toFixed(0)} unthrottled_age_p99_ms=${u.ageP99Ms?.toFixed(0)} unthrottled_delivery=${u.deliveryRatio?.toFixed(2)}`,
      });
      // Throttled: one scan in 400 ms, sent within about 300 ms of its stamp.
      expect(checkTopicMeter(throttled, name, { ageP99MaxMs: 1_200, stallMaxMs: 1_500 })).toMatchObject({
        problems: [],
        couldNotTell: [],
      });
      // Unthrottled: the backlog grows for the whole window, and so does the age.
      const behind = checkTopicMeter(unthrottled, name, { ageP99MaxMs: 2_500, deliveryMin: 0.7 });
      expect(behind.couldNotTell).toEqual([]);
      expect(behind.problems, 'the unthrottled subscriber falls behind').toEqual([
        expect.stringMatching(new RegExp(`^robot ${robot.id}: /scan delivered .* expected >= 70\\.0 %`)),
        expect.stringMatching(
          new RegExp(`^robot ${robot.id}: /scan newest-sample age p99 \\d+ ms, expected <= 2500 ms`),
        ),
      ]);
    } finally {
      fresh.close();
      flooded.close();
      await fleet.network.clear(robot.id);
    }
  });
});
