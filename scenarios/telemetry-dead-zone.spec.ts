import {
  checkTelemetry,
  expect,
  phase,
  recordFigure,
  test,
  withDetail,
  type RecordedEvent,
} from '../harness/index.ts';

// A corridor with an access point at each end and a 74 m radio shadow between two fire doors:
// at 1 m/s a robot driving through is out of reach for over a minute of sim time. Metrics at
// 4 Hz wall are one per sim second at rtf 4, fine enough to measure how long the outage was.
test.use({ world: 'corridor', robots: 1, rtf: 4, agent: { metricsHz: 4 } });

test.describe(
  'telemetry across a dead zone',
  { tag: ['@telemetry', '@nightly', '@docker', '@release', '@TEL-001'] },
  () => {
    test('a robot crossing 60 s of dead zone loses nothing and duplicates nothing', async ({
      fleet,
      events,
      claim,
      faults,
    }) => {
      test.setTimeout(240_000);
      const robot = await claim.one();
      const evictedBefore = await phase(
        'set-up',
        { robot: robot.id, world: 'corridor', rtf: 4, 'metrics Hz': 4 },
        async () => {
          await robot.agent.waitUntilReady();
          // A robot an earlier drill left past the west fire door goes back first, so
          // its route east crosses the whole radio shadow again; no Wi-Fi is followed on the way back.
          const door = fleet.world.attenuators.find((attenuator) => attenuator.name === 'fire-door-west')!;
          if ((await robot.pose()).x > door.min[0]) {
            const back = await robot.goTo(fleet.place('west-end'), { timeoutMs: 100_000 });
            expect(
              back.status,
              withDetail(`back to the west end: goal ended ${back.status}`, back.reason),
            ).toBe('succeeded');
          }
          // Evictions counted since the robot started belong to earlier drills.
          return (await robot.agent.status()).accounts.reduce(
            (sum, account) => sum + account.evicted.metrics,
            0,
          );
        },
      );
      const started = Date.now();

      await phase(
        'fault',
        { route: 'west-end to east-end', 'dead zone': '74 m radio shadow', 'Wi-Fi': 'followed' },
        async () => {
          const coverage = faults.followWifi([robot]);
          const status = await robot.goTo(fleet.place('east-end'), { timeoutMs: 100_000 });
          expect(status.status, withDetail(`goal ended ${status.status}`, status.reason)).toBe('succeeded');
          coverage.stop();
        },
      );

      const { entered, left } = await phase('observe', { robot: robot.id }, () => {
        const mine = events
          .since(started)
          .filter((event: RecordedEvent) => 'robot' in event && event.robot === robot.id);
        const entered = mine.find((event) => event.kind === 'dead-zone-entered');
        const left = mine.find((event) => event.kind === 'dead-zone-left');
        expect(entered, 'the robot entered the dead zone').toBeDefined();
        expect(left, 'the robot left the dead zone').toBeDefined();
        return { entered: entered!, left: left! };
      });

      await phase(
        'verdict',
        { 'drain timeout ms': 60_000, 'dead zone at least (sim s)': 60, 'evicted at most': 0 },
        async () => {
          const verdict = await checkTelemetry(fleet, [robot.id], { drainTimeoutMs: 60_000 });

          // The outage was real and long: samples taken inside it reached the cloud only afterwards.
          const [evidence] = verdict.evidence;
          const inside = evidence!.records.filter(
            (record) =>
              record.tier === 'metrics' && record.capturedAt > entered.t && record.capturedAt < left.t,
          );
          const simTimes = inside.map((record) => record.simTime ?? 0);
          const deadSimS = Math.max(...simTimes) - Math.min(...simTimes);
          expect(
            deadSimS,
            withDetail('sim seconds spent in the dead zone', deadSimS.toFixed(1)),
          ).toBeGreaterThanOrEqual(60);
          expect(
            inside.every((record) => record.receivedAt >= left.t - 200),
            'nothing got through the dead zone',
          ).toBe(true);
          const evicted =
            evidence!.agent.accounts.reduce((sum, account) => sum + account.evicted.metrics, 0) -
            evictedBefore;
          expect(
            evicted,
            withDetail('records evicted (the default buffer holds a minute of metrics)', evicted),
          ).toBe(0);
          await recordFigure(test.info(), {
            id: 'telemetry/dead-zone-60s/evicted_records',
            value: evicted,
            unit: 'records',
            better: 'lower',
            valid: true,
            note: `${inside.length} samples buffered over ${deadSimS.toFixed(1)} sim s`,
          });
          test.info().annotations.push({
            type: 'kpi',
            description: `dead_zone_sim_s=${deadSimS.toFixed(1)} samples_buffered=${inside.length} duplicates_suppressed=${evidence!.summary.tiers.metrics.duplicates}`,
          });
        },
      );
    });
  },
);
