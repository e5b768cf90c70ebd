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
import type { InlineProfile, Robot, StartedFleet } from '../harness/index.ts';

test.use({ robots: 1 });

/** A slow radio: the ~1 MB image takes about ten seconds, so faults can land in the middle. */
const SLOW: InlineProfile = {
  name: 'slow-100KBps',
  toxics: [{ type: 'bandwidth', stream: 'downstream', attributes: { rate: 100 } }],
};

async function nextGoodImage(fleet: StartedFleet, robot: Robot) {
  const from = (await inspectDisk(robot.diskPath)).activeVersion;
  const version = nextPatch(from);
  const built = await buildRobotVariant({ variant: 'good', version });
  return { from, version, artifact: await fleet.ota.upload(built.path) };
}

test.describe('OTA over a bad radio', { tag: ['@ota', '@nightly', '@release', '@OTA-003'] }, () => {
  test('a dead zone in the middle of a download: it resumes, and moves at most 1.1 x the image', async ({
    fleet,
    claim,
  }) => {
    test.setTimeout(150_000);
    const robot = await claim.one();
    const { version, artifact } = await nextGoodImage(fleet, robot);
    await fleet.network.apply(robot.id, SLOW, { link: 'cloud' });
    const before = await fleet.network.linkBytes(robot.id, 'cloud');
    const deployment = await fleet.ota.deploy({ artifactId: artifact.id, robots: [robot.id] });

    // Into the dead zone once 40 % of the image has crossed the link; out of it 8 s later,
    // long past the client's 3 s stall timeout.
    await expect
      .poll(async () => (await fleet.network.linkBytes(robot.id, 'cloud')).toRobot - before.toRobot, {
        timeout: 60_000,
        intervals: [100],
      })
      .toBeGreaterThan(0.4 * artifact.size);
    await fleet.network.apply(robot.id, 'dead', { link: 'cloud', reason: 'dead zone mid-download' });
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    await fleet.network.apply(robot.id, SLOW, { link: 'cloud', reason: 'out of the dead zone' });

    const finished = await fleet.ota.waitUntilFinished(deployment.id, { timeoutMs: 90_000 });
    const after = await fleet.network.linkBytes(robot.id, 'cloud');
    await fleet.network.clear(robot.id, { link: 'cloud' });
    const entry = finished.robots[0]!;
    expect(entry.status, withDetail(`the deployment ended ${entry.status}`, entry.message)).toBe('success');
    const served = (await fleet.ota.downloads(artifact.id)).robots.find((r) => r.robotId === robot.id)!;
    expect(served.requests, 'the download was resumed in a new request').toBeGreaterThanOrEqual(2);
    // Everything the link carried to the robot in the drill: the image, polls, telemetry acks.
    const carried = after.toRobot - before.toRobot;
    expect(carried, `${carried} bytes to the robot for a ${artifact.size}-byte image`).toBeLessThanOrEqual(
      1.1 * artifact.size,
    );
    // Asked once the robot is up, a few times: a busy machine reads "could not tell (...)", never a wrong version.
    expect(describeVersionAnswer(await askVersion(robot)), `what ${robot.id} runs`).toBe(version);
    test.info().annotations.push({
      type: 'kpi',
      description: `image_bytes=${artifact.size} link_bytes_to_robot=${carried} ratio=${(carried / artifact.size).toFixed(3)} requests=${served.requests}`,
    });
  });

  test('an outage longer than the retry budget: a failure is reported after reconnection, then it polls again', async ({
    fleet,
    claim,
  }) => {
    test.setTimeout(150_000);
    const robot = await claim.one();
    const { from, artifact } = await nextGoodImage(fleet, robot);
    await fleet.network.apply(robot.id, SLOW, { link: 'cloud' });
    const deployment = await fleet.ota.deploy({ artifactId: artifact.id, robots: [robot.id] });
    await fleet.ota.waitFor(deployment.id, (d) => d.robots[0]!.state === 'Download', { what: 'no Download' });
    // The radio goes away: every attempt is refused, and the budget (5 retries, backoff up to
    // 2 s) is spent long before the link is back.
    await fleet.network.apply(robot.id, 'down', { link: 'cloud', reason: 'outage past the retry budget' });
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    expect(
      (await fleet.ota.deployment(deployment.id)).robots[0]!.status,
      'no report can arrive yet',
    ).toBeNull();
    await fleet.network.clear(robot.id, { link: 'cloud', reason: 'link back' });

    const failed = await fleet.ota.waitUntilFinished(deployment.id, { timeoutMs: 30_000 });
    const entry = failed.robots[0]!;
    expect(entry.status).toBe('failure');
    expect(entry.message).toContain('download failed');
    expect(entry.history.map((h) => h.state)).toEqual(['Download', 'ArtifactFailure']);
    expect((await inspectDisk(robot.diskPath)).activeVersion).toBe(from);

    // Back to polling, not hung: the next deployment is picked up and installed.
    const retry = await nextGoodImage(fleet, robot);
    const second = await fleet.ota.deploy({ artifactId: retry.artifact.id, robots: [robot.id] });
    const done = await fleet.ota.waitUntilFinished(second.id, { timeoutMs: 60_000 });
    expect(
      done.robots[0]!.status,
      withDetail(`the deployment ended ${done.robots[0]!.status}`, done.robots[0]!.message),
    ).toBe('success');
  });
});
