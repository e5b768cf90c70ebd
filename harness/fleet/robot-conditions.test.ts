import { expect, test } from '@playwright/test';
import type { FleetEvent, RecordedEvent } from '../core/events.ts';
import { robotConditions, unpluggedRobots } from './robot-conditions.ts';

/** Events as a run records them, one ms apart. */
function run(...events: FleetEvent[]): RecordedEvent[] {
  return events.map((event, t) => ({ t, ...event }));
}

test.describe('what drills left on robots, from the events', () => {
  test('a robot never named is absent; one named only by unrelated events is clean', () => {
    const conditions = robotConditions(
      run({ kind: 'robot-ready', robot: 'r01', rosbridge: 'ws://x', ms: 1 }),
    );
    expect(conditions.get('r02')).toBeUndefined();
    expect(conditions.get('r01')).toBeUndefined();
  });

  test('frozen until thawed, or until a power-on starts it afresh', () => {
    expect(robotConditions(run({ kind: 'robot-frozen', robot: 'r01' })).get('r01')?.frozen).toBe(true);
    const thawed = run({ kind: 'robot-frozen', robot: 'r01' }, { kind: 'robot-thawed', robot: 'r01' });
    expect(robotConditions(thawed).get('r01')?.frozen).toBe(false);
    const cycled = run(
      { kind: 'robot-frozen', robot: 'r01' },
      { kind: 'power-cut', robot: 'r01' },
      { kind: 'power-on', robot: 'r01' },
    );
    expect(robotConditions(cycled).get('r01')?.frozen).toBe(false);
    // Another robot's thaw is not this one's.
    const other = run({ kind: 'robot-frozen', robot: 'r01' }, { kind: 'robot-thawed', robot: 'r02' });
    expect(robotConditions(other).get('r01')?.frozen).toBe(true);
  });

  test('unplugged until put back', () => {
    const pulled = run({ kind: 'network-disconnected', robot: 'r02' });
    expect(unpluggedRobots(pulled)).toEqual(['r02']);
    expect(unpluggedRobots([...pulled, ...run({ kind: 'network-reconnected', robot: 'r02' })])).toEqual([]);
  });

  test('an armed cut stays armed across a cut from outside, and ends when it strikes or is disarmed', () => {
    const armed = run({ kind: 'power-cut-armed', robot: 'r01', at: 'Download', afterBytes: 100 });
    expect(robotConditions(armed).get('r01')?.armedPowerCut).toBe(true);
    const outside = [
      ...armed,
      ...run({ kind: 'power-cut', robot: 'r01' }, { kind: 'power-on', robot: 'r01' }),
    ];
    expect(robotConditions(outside).get('r01')?.armedPowerCut).toBe(true);
    const struck = [...armed, ...run({ kind: 'power-cut', robot: 'r01', injectedAt: 'Download' })];
    expect(robotConditions(struck).get('r01')?.armedPowerCut).toBe(false);
    const disarmed = [...armed, ...run({ kind: 'power-cuts-disarmed', robot: 'r01' })];
    expect(robotConditions(disarmed).get('r01')?.armedPowerCut).toBe(false);
  });
});
