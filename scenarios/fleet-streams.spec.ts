import { ROBOT_TOPICS, expect, test } from '../harness/index.ts';

test.describe('fleet streams', { tag: ['@smoke', '@nightly'] }, () => {
  test('every robot streams /odom and /scan at their nominal rates', async ({ fleet, rtf }) => {
    const windowMs = 3_000;
    const probes = fleet.robots.flatMap((robot) => [
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
      const stats = probe.stats();
      probe.stop();
      const nominal =
        (probe.topic === ROBOT_TOPICS.odom.name ? ROBOT_TOPICS.odom.hz : ROBOT_TOPICS.scan.hz) * rtf;
      expect(
        stats.rateHz,
        `robot ${robot}: ${probe.topic} at ${stats.rateHz.toFixed(1)} Hz, nominal ${nominal} Hz`,
      ).toBeGreaterThanOrEqual(0.9 * nominal);
      expect(stats.rateHz, `robot ${robot}: ${probe.topic} faster than nominal`).toBeLessThanOrEqual(
        1.1 * nominal,
      );
      expect(stats.stalls, `robot ${robot}: ${probe.topic} stalled`).toEqual([]);
      expect(
        stats.stampRateHz,
        `robot ${robot}: ${probe.topic} stamps (sim time) at nominal rate`,
      ).toBeCloseTo(nominal / rtf, 0);
    }
  });
});
