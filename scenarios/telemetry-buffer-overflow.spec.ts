import { checkTelemetry, expect, test } from '../harness/index.ts';

// A metrics buffer of 8 KiB holds about ten samples: a 20 s outage overflows it many times over.
test.use({ robots: 1, agent: { budgets: { metrics: 8 * 1024 } } });

test.describe('telemetry buffer overflow', { tag: ['@telemetry', '@nightly'] }, () => {
  test('an outage longer than the buffer loses exactly the counted evictions and no event', async ({
    fleet,
    claim,
  }) => {
    test.setTimeout(120_000);
    const robot = await claim.one();
    await robot.agent.waitUntilReady();
    // Each e-stop triggers a blackbox; give the first one its full 10 s of history.
    await robot.waitForSimTime(11);
    // Counters run since boot, and earlier drills of this worker share the boot: count from here.
    const start = await robot.agent.status();
    const startSeq = start.accounts.find((entry) => entry.bootId === start.boot_id)?.lastSeq ?? 0;
    // Only the cloud link goes dark: the harness keeps the robot's rosbridge to cause events.
    await fleet.network.apply(robot.id, 'dead', { link: 'cloud' });
    const outageStarted = Date.now();
    let estops = 0;
    while (Date.now() - outageStarted < 20_000) {
      expect((await robot.trigger('estop')).success).toBe(true);
      estops++;
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect((await robot.trigger('resetEstop')).success).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 2_500));
    }
    const during = await robot.agent.status();
    expect(during.boot_id, 'the robot did not reboot during the drill').toBe(start.boot_id);
    expect(
      during.buffers.metrics.dropped - start.buffers.metrics.dropped,
      'metrics were evicted while the cloud was out of reach',
    ).toBeGreaterThan(0);
    expect(during.buffers.events.pending, 'events wait on the robot').toBeGreaterThan(0);
    await fleet.network.clear(robot.id, { link: 'cloud' });

    const verdict = await checkTelemetry(fleet, [robot.id], { drainTimeoutMs: 60_000 });

    const [evidence] = verdict.evidence;
    const account = evidence!.agent.accounts.find((entry) => entry.bootId === evidence!.agent.boot_id)!;
    expect(account.evicted.events, 'events are never evicted').toBe(0);
    // The agent went on sampling while the evidence was read: judge what its account covers.
    const taken = evidence!.records.filter(
      (record) => record.bootId === account.bootId && record.seq <= account.lastSeq,
    );
    const events = taken.filter((record) => record.tier === 'events');
    expect(events).toHaveLength(account.produced.events);
    // Every e-stop the drill caused is in the cloud, with its release.
    const ours = events.filter((record) => record.seq > startSeq);
    expect(ours.filter((record) => record.name === 'estop')).toHaveLength(estops);
    expect(ours.filter((record) => record.name === 'estop-released')).toHaveLength(estops);
    const metricsHeld = taken.filter((record) => record.tier === 'metrics').length;
    expect(metricsHeld + account.evicted.metrics).toBe(account.produced.metrics);
    test.info().annotations.push({
      type: 'kpi',
      description: `metrics_produced=${account.produced.metrics} metrics_evicted=${account.evicted.metrics} events=${events.length}`,
    });
  });
});
