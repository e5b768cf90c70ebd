import { checkTelemetry, expect, test } from '../harness/index.ts';

test.use({ robots: 2 });

// Tagged @docker too: on containers the power cut is a kill of the robot's container.
test.describe('telemetry across power cuts', { tag: ['@telemetry', '@nightly', '@docker'] }, () => {
  test('a power cut in the middle of a blackbox upload: resumed after power-on, stored once', async ({
    fleet,
  }) => {
    test.setTimeout(180_000);
    const robot = fleet.robot('r01');
    await robot.agent.waitUntilReady();
    await robot.waitForSimTime(11);
    // A thin uplink (16 KB/s up) makes the upload take long enough to cut it in the middle.
    await fleet.network.apply(
      robot.id,
      {
        name: 'thin-uplink',
        toxics: [{ type: 'bandwidth', stream: 'upstream', attributes: { rate: 16 } }],
      },
      { link: 'cloud' },
    );
    expect((await robot.agent.triggerBlackbox()).success).toBe(true);
    await expect
      .poll(
        async () => {
          const [box] = await fleet.cloud.api.blackboxes(robot.id);
          return box ? box.offset > 0 && box.offset < box.length : false;
        },
        { timeout: 60_000, intervals: [200], message: 'a blackbox upload under way' },
      )
      .toBe(true);
    const [partial] = await fleet.cloud.api.blackboxes(robot.id);
    await robot.powerCut();
    await robot.powerOn();
    await fleet.network.clear(robot.id, { link: 'cloud' });

    await expect
      .poll(async () => (await fleet.cloud.api.blackboxes(robot.id)).filter((box) => box.complete).length, {
        timeout: 90_000,
      })
      .toBe(1);
    const verdict = await checkTelemetry(fleet, [robot.id]);
    const [evidence] = verdict.evidence;
    expect(evidence!.agent.accounts.map((account) => account.bootId)).toEqual(['b1', 'b2']);
    const [box] = evidence!.blackboxes;
    expect(box!.info.key).toBe(partial!.key);
    // Stored once: the cloud holds exactly the file's bytes, and one manifest names it.
    expect(evidence!.summary.tiers.blackbox.bytesStored).toBe(box!.info.length);
    expect(evidence!.records.filter((record) => record.tier === 'blackbox')).toHaveLength(1);
    test.info().annotations.push({
      type: 'kpi',
      description: `cut_at_bytes=${partial!.offset} file_bytes=${box!.info.length} chunk_bytes_received=${box!.info.bytesReceived}`,
    });
  });

  test('a power cut during a dead zone: everything on the disk arrives after power-on, once', async ({
    fleet,
  }) => {
    test.setTimeout(120_000);
    const robot = fleet.robot('r02');
    await robot.agent.waitUntilReady();
    await fleet.network.apply(robot.id, 'dead');
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    await robot.powerCut();
    // The robot comes back still cut off from the cloud (the harness needs its rosbridge to see
    // it boot), then the link heals.
    await fleet.network.clear(robot.id, { link: 'rosbridge' });
    await robot.powerOn();
    await fleet.network.apply(robot.id, 'dead', { link: 'cloud' });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await fleet.network.clear(robot.id, { link: 'cloud' });

    const verdict = await checkTelemetry(fleet, [robot.id]);
    const [evidence] = verdict.evidence;
    const firstBoot = evidence!.agent.accounts.find((account) => account.bootId === 'b1')!;
    const held = evidence!.records.filter((record) => record.bootId === 'b1');
    // Samples taken in the dead zone before the cut were on the disk only, and all arrived.
    expect(held.length).toBe(firstBoot.lastSeq);
    expect(
      held.filter((record) => record.receivedAt > record.capturedAt + 5_000).length,
    ).toBeGreaterThanOrEqual(4);
  });
});
