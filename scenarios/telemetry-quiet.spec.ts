import { checkTelemetry, expect, test } from '../harness/index.ts';

// Ten minutes of sim time in 30 s: the robot runs at 20× real time.
test.use({ robots: 1, rtf: 20 });

test.describe('blackbox only on trigger', { tag: ['@telemetry', '@nightly', '@release', '@TEL-002'] }, () => {
  test('ten minutes of sim time with no trigger send no blackbox bytes', async ({ fleet, claim }) => {
    test.setTimeout(150_000);
    const robot = await claim.one();
    const before = await robot.agent.waitUntilReady();
    // Earlier drills of this worker may have triggered blackboxes: this one counts from here.
    const summaryBefore = await fleet.cloud.api.summary(robot.id);
    const boxesBefore = (await fleet.cloud.api.blackboxes(robot.id)).length;
    const started = await robot.waitForSimTime(0);
    // Some driving, planned around every obstacle, so nothing hits anything.
    const drives = robot.goTo(fleet.place('east-lane'), { timeoutMs: 60_000 });
    await robot.waitForSimTime(started + 600, 90_000);
    expect((await drives).status).toBe('succeeded');

    const verdict = await checkTelemetry(fleet, [robot.id], {
      // Metrics at 1 Hz are well under 2 KB/s; the blackbox tier gets nothing at all.
      bandwidth: {
        durationS: 30,
        budgetBytesPerS: { metrics: 2_000, events: 500, blackbox: 0 },
        baseline: { bootId: before.boot_id, bytesSent: before.bytes_sent },
      },
    });
    const [evidence] = verdict.evidence;
    expect(evidence!.agent.boot_id, 'the robot did not reboot during the drill').toBe(before.boot_id);
    expect(evidence!.blackboxes).toHaveLength(boxesBefore);
    expect(evidence!.agent.bytes_sent.blackbox - before.bytes_sent.blackbox).toBe(0);
    expect(evidence!.summary.tiers.blackbox.bytesReceived - summaryBefore.tiers.blackbox.bytesReceived).toBe(
      0,
    );
    // The link was in use all along: the quiet tier is a policy, not a dead agent.
    expect(evidence!.summary.tiers.metrics.stored - summaryBefore.tiers.metrics.stored).toBeGreaterThan(20);
  });
});
