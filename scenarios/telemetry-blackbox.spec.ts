import { checkTelemetry, expect, test, type Robot, type StartedFleet } from '../harness/index.ts';

test.use({ robots: 1 });

/**
 * Waits until the agent of the robot's current boot holds `seconds` of sensor history. Its
 * metrics carry the sim time of the /odom it has seen, so the boot's first metrics record in the
 * cloud bounds where its data starts, however late the agent came up after the robot did.
 */
async function waitForAgentHistory(fleet: StartedFleet, robot: Robot, seconds: number): Promise<void> {
  const boot = (await robot.agent.status()).boot_id;
  let since: number | undefined;
  await expect
    .poll(
      async () => {
        const metrics = await fleet.cloud.api.records(robot.id, { tier: 'metrics', boot });
        since = metrics.find((record) => record.simTime !== undefined)?.simTime;
        return since;
      },
      { timeout: 30_000, message: `robot ${robot.id}: a metrics record of boot ${boot} with a sim time` },
    )
    .toBeDefined();
  // Half a second more: the other sensor topics start a moment after /odom.
  await robot.waitForSimTime(since! + seconds + 0.5);
}

test.describe('blackbox on trigger', { tag: ['@telemetry', '@nightly', '@release', '@TEL-002'] }, () => {
  test('a collision uploads a blackbox that opens and covers [trigger − 10 s, trigger + 5 s]', async ({
    fleet,
    claim,
  }) => {
    test.setTimeout(150_000);
    const robot = await claim.one();
    await robot.agent.waitUntilReady();
    // Earlier drills of this worker may have left blackboxes: this one judges its own.
    const before = new Set((await fleet.cloud.api.blackboxes(robot.id)).map((box) => box.key));
    const approach = fleet.place('wall-approach');
    expect((await robot.goTo(approach, { timeoutMs: 60_000 })).status).toBe('succeeded');
    // Ten seconds of history before the hit, so the window can be covered in full.
    await waitForAgentHistory(fleet, robot, 10);
    const boot = (await robot.agent.status()).boot_id;

    const collision = await robot.driveUntilCollision(0.5);
    const triggerS = collision.header.stamp.sec + collision.header.stamp.nanosec / 1e9;

    // The file is written once the 5 s after the hit are in, then uploaded.
    await expect
      .poll(
        async () =>
          (await fleet.cloud.api.blackboxes(robot.id)).filter((box) => box.complete && !before.has(box.key))
            .length,
        { timeout: 60_000, message: 'a finished blackbox in the cloud' },
      )
      .toBe(1);
    const verdict = await checkTelemetry(fleet, [robot.id]);

    const [evidence] = verdict.evidence;
    const box = evidence!.blackboxes.find((candidate) => !before.has(candidate.info.key));
    expect(box?.info.bootId, 'the blackbox belongs to the boot the collision happened in').toBe(boot);
    // A record is (boot, seq): seqs start again at every boot, so seq alone can name another boot's event.
    const trigger = evidence!.records.find(
      (record) =>
        record.tier === 'events' && record.bootId === box!.info.bootId && record.seq === box!.info.triggerSeq,
    );
    expect(trigger?.name).toBe('collision');
    expect(trigger?.data.obstacle).toBe(collision.obstacle);
    const odom = box!.contents!.channels.find((channel) => channel.topic === '/odom')!;
    expect(Number(odom.firstNs) / 1e9).toBeLessThanOrEqual(triggerS - 10 + 0.1);
    expect(Number(odom.lastNs) / 1e9).toBeGreaterThanOrEqual(triggerS + 5 - 0.1);
    // 20 Hz odometry over 15 s of sim time.
    expect(odom.messages).toBeGreaterThanOrEqual(290);
    await test.info().attach(`blackbox ${box!.info.key}`, {
      body: Buffer.from(await fleet.cloud.api.blackbox(box!.info.key)),
      contentType: 'application/octet-stream',
    });
    test.info().annotations.push({
      type: 'kpi',
      description: `blackbox_bytes=${box!.info.length} messages=${box!.contents!.messageCount} from_s=${(Number(box!.contents!.startNs) / 1e9).toFixed(2)} to_s=${(Number(box!.contents!.endNs) / 1e9).toFixed(2)} trigger_s=${triggerS.toFixed(2)}`,
    });
  });

  test('the manual trigger service records a blackbox too', async ({ fleet, claim }) => {
    const robot = await claim.one();
    await robot.agent.waitUntilReady();
    await robot.waitForSimTime(11);
    const before = new Set((await fleet.cloud.api.blackboxes(robot.id)).map((box) => box.key));
    const answer = await robot.agent.triggerBlackbox();
    expect(answer.success, answer.message).toBe(true);
    await expect
      .poll(
        async () =>
          (await fleet.cloud.api.blackboxes(robot.id)).filter((box) => box.complete && !before.has(box.key))
            .length,
        { timeout: 60_000 },
      )
      .toBe(1);
    const verdict = await checkTelemetry(fleet, [robot.id]);
    const [evidence] = verdict.evidence;
    const box = evidence!.blackboxes.find((candidate) => !before.has(candidate.info.key))!;
    const trigger = evidence!.records.find(
      (record) =>
        record.tier === 'events' && record.bootId === box.info.bootId && record.seq === box.info.triggerSeq,
    );
    expect(trigger?.name).toBe('manual');
  });
});
