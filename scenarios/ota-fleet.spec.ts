import {
  askVersion,
  buildRobotVariant,
  describeVersionAnswer,
  expect,
  inspectDisk,
  nextPatch,
  test,
  withDetail,
} from '../harness/index.ts';

test.use({ robots: 5 });

test.describe('OTA: a fleet update', { tag: ['@ota', '@nightly'] }, () => {
  test('every robot of a fleet of five ends on the new version, committed', async ({ fleet, claim }) => {
    test.setTimeout(180_000);
    const robots = await claim.all();
    const from = (await inspectDisk(robots[0]!.diskPath)).activeVersion;
    const version = nextPatch(from);
    const artifact = await fleet.ota.upload((await buildRobotVariant({ variant: 'good', version })).path);
    const deployment = await fleet.ota.deploy({ artifactId: artifact.id, robots: robots.map((r) => r.id) });
    const finished = await fleet.ota.waitUntilFinished(deployment.id, { timeoutMs: 150_000 });

    expect(finished.status).toBe('finished');
    for (const entry of finished.robots) {
      expect(
        entry.status,
        withDetail(`${entry.robotId}: the deployment ended ${entry.status}`, entry.message),
      ).toBe('success');
      expect(entry.history.map((h) => h.state)).toEqual([
        'Download',
        'ArtifactInstall',
        'ArtifactReboot',
        'ArtifactCommit',
      ]);
    }
    for (const robot of robots) {
      // Asked once the robot is up, a few times: a busy machine reads "could not tell (...)", never a wrong version.
      const running = describeVersionAnswer(await askVersion(robot));
      const disk = await inspectDisk(robot.diskPath);
      expect(disk.activeVersion, robot.id).toBe(version);
      expect(disk.slots[disk.env.active].meta.state, robot.id).toBe('committed');
      expect(disk.env.upgrade_available, robot.id).toBe(0);
      expect(running, `what ${robot.id} runs`).toBe(version);
    }
  });
});
