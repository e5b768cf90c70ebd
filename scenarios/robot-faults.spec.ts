import { checkTelemetry, expect, ROBOT_TOPICS, test } from '../harness/index.ts';

test.use({ robots: 1 });

test.describe(
  'robot faults beyond the radio',
  { tag: ['@faults', '@nightly', '@docker', '@release', '@FAULT-003'] },
  () => {
    test('a frozen robot goes silent and carries on when thawed', async ({ fleet, claim }) => {
      test.setTimeout(60_000);
      const robot = await claim.one({ needs: ['freeze'] });
      const odom = robot.probe(ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, {
        nominalHz: ROBOT_TOPICS.odom.hz,
        stallMs: 1_000,
      });
      await expect.poll(() => odom.count, { timeout: 10_000 }).toBeGreaterThan(10);
      await robot.freeze();
      // Whatever was in flight may still arrive; after that, nothing.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const frozenAt = odom.count;
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(odom.count, 'no /odom from a frozen robot').toBe(frozenAt);
      expect(odom.stats().stalls.length, 'the freeze shows as a stall').toBeGreaterThanOrEqual(1);
      await robot.thaw();
      // It goes on from where it stopped: its sim clock stood still too, so stamps now trail the
      // wall clock by the freeze; what counts is that /odom flows at its rate again.
      odom.reset();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(
        odom.violations({ minHz: 0.8 * ROBOT_TOPICS.odom.hz }),
        '/odom at its rate after the thaw',
      ).toEqual([]);
      odom.stop();
      expect(fleet.deathsSince(0), 'a frozen robot is not a dead one').toEqual([]);
    });

    // Also in npm test's telemetry project, on the embedded backend: there the fault layer pulls
    // the cable, as the docker backend pulls the container's network.
    test(
      'a robot taken off the network buffers its telemetry and delivers all of it once back',
      {
        tag: '@telemetry',
      },
      async ({ fleet, claim }) => {
        test.setTimeout(90_000);
        const robot = await claim.one({ needs: ['disconnect'] });
        await robot.agent.waitUntilReady();
        await robot.disconnectNetwork();
        await new Promise((resolve) => setTimeout(resolve, 8_000));
        await robot.reconnectNetwork();
        // The agent itself says what it held while away; the oracles compare that with the cloud.
        const verdict = await checkTelemetry(fleet, [robot.id]);
        const stored = verdict.evidence[0]!.summary.tiers.metrics.stored;
        expect(stored, 'metrics from before, during and after the disconnect').toBeGreaterThan(8);
      },
    );
  },
);
