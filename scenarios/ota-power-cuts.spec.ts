import {
  askVersion,
  attachOtaDrill,
  buildRobotVariant,
  describeVersionAnswer,
  expect,
  inspectDisk,
  nextPatch,
  runOtaDrill,
  test,
  withDetail,
} from '../harness/index.ts';
import { POWER_CUT_DRILLS } from './ota-tables.ts';

test.use({ robots: 1 });

test.describe('OTA: a power cut at each state', { tag: ['@ota', '@nightly', '@release', '@OTA-002'] }, () => {
  for (const drill of POWER_CUT_DRILLS) {
    // The first two run on containers as well: the cut that kills a robot container mid-update.
    const onDocker = drill.powerCut?.at === 'Download' || drill.powerCut?.at === 'ArtifactInstall';
    test(drill.name, { tag: onDocker ? ['@docker'] : [] }, async ({ fleet, claim }) => {
      test.setTimeout(120_000);
      const robot = await claim.one(drill.powerCut ? { needs: ['power-cut'] } : {});
      const result = await runOtaDrill(fleet, robot.id, drill);
      await attachOtaDrill(test.info(), 'ota drill', drill, result);
      expect(result.powerCutAt, withDetail('the armed power cut hit', result.powerCutAt)).toBeDefined();
      expect(result.problems, withDetail(drill.name, result.message)).toEqual([]);
    });
  }
});

test.describe(
  'OTA: the harness pulls the plug',
  { tag: ['@ota', '@nightly', '@docker', '@release', '@OTA-002'] },
  () => {
    // Not the agent's own injected cut: the power goes from outside, as a user's bench supply
    // does. On the docker backend that is a kill of the robot's container, started again after.
    test('a power cut from outside in the middle of a download: resumed after power-on, committed', async ({
      fleet,
      claim,
    }) => {
      test.setTimeout(120_000);
      const robot = await claim.one({ needs: ['power-cut'] });
      const from = (await inspectDisk(robot.diskPath)).activeVersion;
      const version = nextPatch(from);
      // An artifact of its own name: an earlier drill on this robot may have left the plain
      // next version downloaded on the disk, and a download that is already there cannot be cut.
      const built = await buildRobotVariant({ variant: 'good', version, name: 'robot-sim-plug-pull' });
      const artifact = await fleet.ota.upload(built.path);
      // A slow radio, so that the cut lands mid-download: the ~1 MB image takes about ten seconds.
      await fleet.network.apply(
        robot.id,
        {
          name: 'slow-100KBps',
          toxics: [{ type: 'bandwidth', stream: 'downstream', attributes: { rate: 100 } }],
        },
        { link: 'cloud' },
      );
      const before = await fleet.network.linkBytes(robot.id, 'cloud');
      const deployment = await fleet.ota.deploy({ artifactId: artifact.id, robots: [robot.id] });
      await expect
        .poll(async () => (await fleet.network.linkBytes(robot.id, 'cloud')).toRobot - before.toRobot, {
          timeout: 60_000,
          intervals: [100],
        })
        .toBeGreaterThan(0.4 * artifact.size);
      await robot.powerCut();
      expect((await inspectDisk(robot.diskPath)).activeVersion, 'still the old software after the cut').toBe(
        from,
      );
      await robot.powerOn();

      const finished = await fleet.ota.waitUntilFinished(deployment.id, { timeoutMs: 90_000 });
      const entry = finished.robots[0]!;
      expect(entry.status, withDetail(`the deployment ended ${entry.status}`, entry.message)).toBe('success');
      const served = (await fleet.ota.downloads(artifact.id)).robots.find((r) => r.robotId === robot.id)!;
      expect(served.requests, 'the download was resumed in a new request').toBeGreaterThanOrEqual(2);
      // Asked once the robot is up, a few times: a busy machine reads "could not tell (...)", never a wrong version.
      expect(describeVersionAnswer(await askVersion(robot)), `what ${robot.id} runs`).toBe(version);
    });
  },
);
