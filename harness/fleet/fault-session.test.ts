import { expect, test } from '@playwright/test';
import { ConfigError } from '../core/errors.ts';
import { EventBus } from '../core/events.ts';
import { referenceFleet } from '../testing/reference-fleet.ts';
import type { StartedFleet } from './started-fleet.ts';

test.describe('a fault session', () => {
  test.describe.configure({ mode: 'default', timeout: 90_000 });
  const events = new EventBus();
  let fleet: StartedFleet | undefined;
  test.beforeAll(async () => {
    test.setTimeout(120_000);
    fleet = await referenceFleet({
      robots: 2,
      seed: 21,
      world: 'warehouse',
      telemetry: false,
      events,
    }).start();
  });
  test.afterAll(async () => {
    await fleet?.stop();
  });

  test('closing it stops its followers and schedules, clears every link and puts pulled cables back', async () => {
    const r01 = fleet!.roster[0]!;
    const r02 = fleet!.roster[1]!;
    const session = fleet!.openFaultSession();
    const coverage = session.followWifi([r01]);
    await expect.poll(() => coverage.tierOf(r01.id), { message: 'the follower placed r01' }).toBeDefined();
    // A step still to come when the session closes: it must never land.
    const running = session.schedule([{ atMs: 1_500, robot: r02.id, profile: 'wifi-edge', forMs: 5_000 }]);
    await fleet!.network.apply(r02.id, 'down');
    const unplug = r01.capabilities.has('disconnect');
    if (unplug) await r01.disconnectNetwork();

    const closedAt = Date.now();
    await session.close();
    await session.close(); // idempotent

    expect(coverage.tierOf(r01.id), 'the follower let go of r01').toBeUndefined();
    for (const robot of fleet!.roster) {
      for (const link of fleet!.network.linksOf(robot.id))
        expect(link.profile, `${robot.id} ${link.name}`).toBe('clear');
    }
    await running.done;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const after = events.since(closedAt);
    expect(
      after.filter((event) => event.kind === 'fault-applied'),
      'faults applied after the close',
    ).toEqual([]);
    if (unplug) expect(after.map((event) => event.kind)).toContain('network-reconnected');
    await r01.ros.waitUntilConnected(10_000);
    await r02.ros.waitUntilConnected(10_000);
    expect(() => session.followWifi([r01]), 'a closed session plays no more faults').toThrow(ConfigError);
  });

  test('the fleet closes a session left open when it stops', async () => {
    const events = new EventBus();
    const own = await referenceFleet({
      robots: 1,
      seed: 22,
      telemetry: false,
      events,
    }).start();
    const session = own.openFaultSession();
    session.schedule([{ atMs: 60_000, robot: 'r01', profile: 'dead' }]);
    const coverage = session.followWifi(own.roster);
    await expect.poll(() => coverage.tierOf('r01')).toBeDefined();
    await own.stop();
    expect(coverage.tierOf('r01'), 'the follower stopped with the fleet').toBeUndefined();
    expect(() => session.schedule([]), 'the session is closed').toThrow(/fault session has ended/);
  });

  test('chaos and schedules name only robots of the fleet', () => {
    const session = fleet!.openFaultSession();
    expect(() => session.schedule([{ atMs: 0, robot: 'r09', profile: 'dead' }])).toThrow(
      "robot 'r09' is not in this fleet (robots: r01, r02)",
    );
    const plan = session.chaos(fleet!.roster, { durationMs: 60_000 });
    expect(plan, 'same seed, same plan').toEqual(session.chaos(fleet!.roster, { durationMs: 60_000 }));
    expect(new Set(plan.map((step) => step.robot))).toEqual(new Set(['r01', 'r02']));
    return session.close();
  });
});
