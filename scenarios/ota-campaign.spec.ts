import { buildRobotVariant, expect, inspectDisk, nextPatch, test } from '../harness/index.ts';

test.use({ robots: 20 });

test.describe('OTA: a phased campaign', { tag: ['@ota', '@nightly'] }, () => {
  test('a bad image halts the rollout at the 10 % canary; the other robots never download it', async ({
    fleet,
    claim,
  }) => {
    test.setTimeout(240_000);
    const robots = await claim.all();
    const from = (await inspectDisk(robots[0]!.diskPath)).activeVersion;
    const bad = await buildRobotVariant({ variant: 'fails-self-test', version: nextPatch(from) });
    const artifact = await fleet.ota.upload(bad.path);
    const deployment = await fleet.ota.deploy({
      name: 'bad image campaign',
      artifactId: artifact.id,
      robots: robots.map((robot) => robot.id),
      canaryPercent: 10,
      failureThreshold: 0.25,
    });
    expect(deployment.canaries).toHaveLength(2);
    const halted = await fleet.ota.waitFor(deployment.id, (d) => d.status === 'halted', {
      timeoutMs: 120_000,
      what: 'not halted',
    });
    await fleet.ota.waitUntilFinished(deployment.id, { robots: halted.canaries, timeoutMs: 60_000 });
    // Give the rest every chance to be offered it wrongly: several poll intervals.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const final = await fleet.ota.deployment(deployment.id);
    const downloads = await fleet.ota.downloads(artifact.id);

    expect(final.status).toBe('halted');
    for (const entry of final.robots) {
      if (entry.canary) {
        expect(entry.status, `canary ${entry.robotId}`).toBe('failure');
      } else {
        expect(entry.offeredAt, `${entry.robotId} was offered the halted deployment`).toBeNull();
        expect(entry.history, entry.robotId).toEqual([]);
      }
    }
    const downloaders = downloads.robots
      .filter((robot) => robot.bytesServed > 0)
      .map((robot) => robot.robotId);
    expect(downloaders.sort()).toEqual([...final.canaries].sort());
    // Every robot still runs the version it had, committed.
    for (const robot of robots) {
      const disk = await inspectDisk(robot.diskPath);
      expect(disk.activeVersion, robot.id).toBe(from);
      expect(disk.env.upgrade_available, robot.id).toBe(0);
    }
    test.info().annotations.push({
      type: 'kpi',
      description: `canaries=${final.canaries.join(',')} halted_after_ms=${
        (final.events.find((e) => e.status === 'halted')?.t ?? 0) - final.createdAt
      }`,
    });
  });
});
