import { checkTelemetry, expect, test } from '../harness/index.ts';

test.use({ robots: 3 });

test.describe('fleet cloud restart', { tag: ['@telemetry', '@nightly'] }, () => {
  test('the cloud killed and restarted mid-run loses nothing', async ({ fleet, claim }) => {
    test.setTimeout(120_000);
    const robots = await claim.all();
    const ids = robots.map((robot) => robot.id);
    await Promise.all(robots.map((robot) => robot.agent.waitUntilReady()));
    // What the cloud held before: earlier drills of this worker count for nothing here.
    const storedBefore = new Map(
      await Promise.all(
        ids.map(async (id) => [id, (await fleet.cloud.api.summary(id)).tiers.metrics.stored] as const),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await fleet.cloud.restart({ crash: true });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // And an orderly restart, while agents keep sending.
    await fleet.cloud.restart();
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const verdict = await checkTelemetry(fleet, ids);
    for (const evidence of verdict.evidence) {
      const stored = evidence.summary.tiers.metrics.stored - storedBefore.get(evidence.robotId)!;
      expect(stored, `${evidence.robotId} metrics stored during the drill`).toBeGreaterThan(5);
    }
    expect((await fleet.cloud.api.health()).ok).toBe(true);
  });
});
