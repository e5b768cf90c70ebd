/*
 * A fuzz run replays from its seed: a real run on a fleet of its own takes exactly the cuts the
 * seed's plan draws, on the same robots in the same order, however its timing went; the plan is
 * the same for the same seed every time (fuzz-plan.test.ts), so a second run takes them again.
 * One run, not two: the plan is the reference each run is held to.
 */
import { expect, test } from '@playwright/test';
import { cutPoint, UPDATE_END_POINT } from './fuzz-cut-outcome.ts';
import { describePlan, planOtaFuzz } from './fuzz-plan.ts';
import { runOtaFuzz } from './fuzz.ts';

const SEED = 2663921364;
const CUTS = 6;

test("a run of one seed takes the plan's cuts per robot, in the plan's order", async () => {
  test.setTimeout(240_000);
  const run = await runOtaFuzz({ cuts: CUTS, seed: SEED, robots: 2 });
  const plan = planOtaFuzz(SEED, ['r01', 'r02'], CUTS);
  const planned = Object.fromEntries([...plan].map(([id, updates]) => [id, describePlan(updates)]));
  expect(run.problems).toEqual([]);
  expect(run.cuts).toBe(CUTS);
  expect(run.sequences).toEqual(planned);
  // One outcome per cut, robot by robot, at the plan's points; a clean run's cuts came back on the
  // old or the new software, or could not be told (never more often than checks could not tell).
  const cutOutcomes = run.cut_outcomes.filter((entry) => entry.point !== UPDATE_END_POINT);
  expect(cutOutcomes.map((entry) => `${entry.robot} ${entry.point}`)).toEqual(
    [...plan].flatMap(([id, updates]) =>
      updates.flatMap((u) => u.cuts.map((cut) => `${id} ${cutPoint(cut)}`)),
    ),
  );
  const untold = run.cut_outcomes.filter((entry) => entry.outcome === 'could-not-tell').length;
  expect(untold).toBeLessThanOrEqual(run.inconclusive);
  expect(cutOutcomes.filter((entry) => !['old', 'new', 'could-not-tell'].includes(entry.outcome))).toEqual(
    [],
  );
  expect(run.updates).toBe([...plan.values()].reduce((sum, updates) => sum + updates.length, 0));
  const other = planOtaFuzz(SEED + 1, ['r01', 'r02'], CUTS);
  expect(Object.fromEntries([...other].map(([id, plan]) => [id, describePlan(plan)]))).not.toEqual(
    run.sequences,
  );
});
