/*
 * A fuzz run replays from its seed: two real runs on fleets of their own, same seed, take the same
 * cuts on the same robots in the same order, the ones the plan draws, however the two runs' timing
 * differs; and each run's verdict says what it found.
 */
import { expect, test } from '@playwright/test';
import { describePlan, planOtaFuzz } from './fuzz-plan.ts';
import { runOtaFuzz } from './fuzz.ts';

const SEED = 2663921364;
const CUTS = 6;

test('two runs of one seed take the same cuts per robot, in the same order', async () => {
  test.setTimeout(240_000);
  const first = await runOtaFuzz({ cuts: CUTS, seed: SEED, robots: 2 });
  const second = await runOtaFuzz({ cuts: CUTS, seed: SEED, robots: 2 });
  const planned = Object.fromEntries(
    [...planOtaFuzz(SEED, ['r01', 'r02'], CUTS)].map(([id, plan]) => [id, describePlan(plan)]),
  );
  for (const run of [first, second]) {
    expect(run.problems).toEqual([]);
    expect(run.cuts).toBe(CUTS);
    expect(run.sequences).toEqual(planned);
  }
  expect(second.sequences).toEqual(first.sequences);
  expect(second.updates).toBe(first.updates);
  expect(second.cuts_by).toEqual(first.cuts_by);
  const other = planOtaFuzz(SEED + 1, ['r01', 'r02'], CUTS);
  expect(Object.fromEntries([...other].map(([id, plan]) => [id, describePlan(plan)]))).not.toEqual(
    first.sequences,
  );
});
