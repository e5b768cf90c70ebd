/* The fuzz's plan comes from the seed alone: per robot, the same cuts in the same order for the same seed, others for another seed, and a fixed share each. */
import { expect, test } from '@playwright/test';
import { cutShares, describePlan, planOtaFuzz } from './fuzz-plan.ts';

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
