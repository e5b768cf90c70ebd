import { ROBOT_TOPICS, expect, test } from '../harness/index.ts';

test.describe('fleet streams', { tag: ['@smoke', '@nightly', '@release', '@FLEET-001'] }, () => {
  test('every robot streams /odom and /scan at their nominal rates', async ({ claim, rtf }) => {
    const windowMs = 3_000;
    const probes = (await claim.all()).flatMap((robot) => [
      {
        robot: robot.id,
        probe: robot.probe(ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, {
          nominalHz: ROBOT_TOPICS.odom.hz * rtf,
        }),
      },
      {
        robot: robot.id,
        probe: robot.probe(ROBOT_TOPICS.scan.name, ROBOT_TOPICS.scan.type, {
          nominalHz: ROBOT_TOPICS.scan.hz * rtf,
        }),
      },
    ]);
    // Let the subscriptions settle, then measure a clean window.
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const { probe } of probes) probe.reset();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    for (const { robot, probe } of probes) {
      const now = Date.now();
      const stats = probe.stats(now);
      const nominal =
        (probe.topic === ROBOT_TOPICS.odom.name ? ROBOT_TOPICS.odom.hz : ROBOT_TOPICS.scan.hz) * rtf;
      // At least 90 % of nominal, and no silence of a second (the probe's default stall).
      expect(probe.violations({ minHz: 0.9 * nominal, maxStallMs: 1_000 }, now)).toEqual([]);
      probe.stop();
      expect(stats.rateHz, `robot ${robot}: ${probe.topic} faster than nominal`).toBeLessThanOrEqual(
        1.1 * nominal,
      );
      expect(
        stats.stampRateHz,
        `robot ${robot}: ${probe.topic} stamps (sim time) at nominal rate`,
      ).toBeCloseTo(nominal / rtf, 0);
    }
  });
});
