/* The fuzz's plan comes from the seed alone: per robot, the same cuts in the same order for the same seed, others for another seed, a fixed share each, and every kind of cut for a robot with three cuts or more. */
import { expect, test } from '@playwright/test';
import { CUT_KINDS, cutShares, describePlan, planOtaFuzz } from './fuzz-plan.ts';

const ROBOTS = ['r01', 'r02'];
const sequences = (seed: number, robots = ROBOTS, cuts = 16) =>
  Object.fromEntries([...planOtaFuzz(seed, robots, cuts)].map(([id, plan]) => [id, describePlan(plan)]));

test('a seed gives each robot the same cuts, in the same order, every time', () => {
  const first = sequences(2663921364);
  expect(sequences(2663921364)).toEqual(first);
  expect(first.r01).toHaveLength(8);
  expect(first.r02).toHaveLength(8);
  expect(first.r01).not.toEqual(first.r02);
});

test('another seed gives other cuts', () => {
  expect(sequences(2663921365)).not.toEqual(sequences(2663921364));
});

test("a robot's cuts do not depend on the other robots", () => {
  // Each robot draws from its own stream: adding a robot changes only the shares, not the draws.
  expect(sequences(7, ['r01', 'r02', 'r03'], 12).r01).toEqual(sequences(7, ['r01', 'r02'], 8).r01);
});

test('the cuts are shared out up front, the first robots taking the remainder', () => {
  expect([...cutShares(16, ROBOTS).values()]).toEqual([8, 8]);
  expect([...cutShares(7, ['r01', 'r02', 'r03']).values()]).toEqual([3, 2, 2]);
  expect([...cutShares(1, ROBOTS).values()]).toEqual([1, 0]);
  const plan = planOtaFuzz(5, ['r01', 'r02', 'r03'], 7);
  expect([...plan.values()].map((updates) => updates.flatMap((u) => u.cuts).length)).toEqual([3, 2, 2]);
  expect(plan.get('r01')!.every((u) => u.cuts.length >= 1 && u.cuts.length <= 3)).toBe(true);
});

test('every robot with three cuts or more takes every kind of cut, for any seed', () => {
  const robots = ['r01', 'r02', 'r03'];
  const wrong: string[] = [];
  // Plain checks in the loop, one expect at the end: thousands of expect calls take minutes.
  for (let seed = 0; seed < 500; seed++) {
    // 3, 3 and 2 cuts at 8; 6, 5, 5 at 16; 34, 33, 33 at 100.
    for (const cuts of [8, 16, 100]) {
      const plan = planOtaFuzz(seed, robots, cuts);
      const again = planOtaFuzz(seed, robots, cuts);
      for (const [id, updates] of plan) {
        const kinds = updates.flatMap((update) => update.cuts.map((cut) => cut.by));
        const where = `seed ${seed}, ${cuts} cuts, ${id}: ${kinds.join(' ')}`;
        if (JSON.stringify(again.get(id)) !== JSON.stringify(updates)) wrong.push(`${where}: not replayed`);
        if (kinds.length < 3) continue;
        if (!CUT_KINDS.every((kind) => kinds.includes(kind))) wrong.push(`${where}: a kind missing`);
        // The bag is refilled only when empty: no kind comes twice before the others have come.
        for (let bag = 0; bag + 3 <= kinds.length; bag += 3) {
          if (new Set(kinds.slice(bag, bag + 3)).size !== 3) wrong.push(`${where}: bag ${bag / 3} repeats`);
        }
      }
    }
  }
  expect(wrong).toEqual([]);
});

test('the kinds of cut are spread over the run, not always in one order', () => {
  const firsts = new Set<string>();
  for (let seed = 0; seed < 50; seed++) {
    const first = planOtaFuzz(seed, ['r01'], 3)
      .get('r01')!
      .flatMap((u) => u.cuts.map((cut) => cut.by));
    firsts.add(first.join(' '));
  }
  // Six orders of three kinds; fifty seeds that all drew one order would be no shuffle.
  expect(firsts.size).toBeGreaterThan(3);
});
