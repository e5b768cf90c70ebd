import { checkTelemetry, expect, test } from '../harness/index.ts';

test.use({ robots: 2 });

// Tagged @docker too: on containers the power cut is a kill of the robot's container.
test.describe(
  'telemetry across power cuts',
  { tag: ['@telemetry', '@nightly', '@docker', '@release', '@TEL-003'] },
  () => {
    test('a power cut in the middle of a blackbox upload: resumed after power-on, stored once', async ({
      fleet,
      claim,
    }) => {
      test.setTimeout(180_000);
      const robot = await claim.one({ needs: ['power-cut'] });
      await robot.agent.waitUntilReady();
      // Some seconds of sensor data make a file big enough to cut in the middle of its upload. How
      // many depends on how fast the robot booted; the oracle's window contract allows for that.
      await robot.waitForSimTime(11);
      // Earlier drills of this worker may have left blackboxes and reboots: judge only this one's.
      const before = new Set((await fleet.cloud.api.blackboxes(robot.id)).map((box) => box.key));
      const storedBefore = (await fleet.cloud.api.summary(robot.id)).tiers.blackbox.bytesStored;
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
            const box = (await fleet.cloud.api.blackboxes(robot.id)).find((info) => !before.has(info.key));
            return box ? box.offset > 0 && box.offset < box.length : false;
          },
          { timeout: 60_000, intervals: [200], message: 'a blackbox upload under way' },
        )
        .toBe(true);
      const partial = (await fleet.cloud.api.blackboxes(robot.id)).find((info) => !before.has(info.key));
      const bootBefore = (await robot.agent.status()).boot_id;
      await robot.powerCut();
      await robot.powerOn();
      await fleet.network.clear(robot.id, { link: 'cloud' });

      const fresh = async () =>
        (await fleet.cloud.api.blackboxes(robot.id)).filter((box) => box.complete && !before.has(box.key));
      await expect.poll(async () => (await fresh()).length, { timeout: 90_000 }).toBe(1);
      const verdict = await checkTelemetry(fleet, [robot.id]);
      const [evidence] = verdict.evidence;
      // The robot booted again: a new boot, and the one cut short is still accounted for.
      expect(evidence!.agent.boot_id).not.toBe(bootBefore);
      expect(evidence!.agent.accounts.map((account) => account.bootId)).toContain(bootBefore);
      const box = evidence!.blackboxes.find((candidate) => !before.has(candidate.info.key));
      expect(box!.info.key).toBe(partial!.key);
      expect(box!.info.bootId).toBe(bootBefore);
      // Stored once: the cloud holds exactly the file's bytes more, and one manifest names it.
      expect(evidence!.summary.tiers.blackbox.bytesStored - storedBefore).toBe(box!.info.length);
      expect(
        evidence!.records.filter((record) => record.tier === 'blackbox' && record.data.key === box!.info.key),
      ).toHaveLength(1);
      test.info().annotations.push({
        type: 'kpi',
        description: `cut_at_bytes=${partial!.offset} file_bytes=${box!.info.length} chunk_bytes_received=${box!.info.bytesReceived}`,
      });
    });

    test('a power cut during a dead zone: everything on the disk arrives after power-on, once', async ({
      fleet,
      claim,
    }) => {
      test.setTimeout(120_000);
      const robot = await claim.one({ needs: ['power-cut'] });
      await robot.agent.waitUntilReady();
      // The boot the cut ends, whichever it is: earlier drills of this worker may have rebooted the robot.
      const bootBefore = (await robot.agent.status()).boot_id;
      const started = Date.now();
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
      expect(evidence!.agent.boot_id).not.toBe(bootBefore);
      const cutBoot = evidence!.agent.accounts.find((account) => account.bootId === bootBefore)!;
      const held = evidence!.records.filter((record) => record.bootId === bootBefore);
      const evicted = Object.values(cutBoot.evicted).reduce((sum, count) => sum + count, 0);
      // Samples taken in the dead zone before the cut were on the disk only, and all arrived.
      expect(held.length + evicted).toBe(cutBoot.lastSeq);
      expect(
        held.filter((record) => record.capturedAt >= started && record.receivedAt > record.capturedAt + 5_000)
          .length,
      ).toBeGreaterThanOrEqual(4);
    });
  },
);
