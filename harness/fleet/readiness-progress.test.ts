import { setTimeout as sleep } from 'node:timers/promises';
import { expect, test } from '@playwright/test';
import { BringUpProgress, describeBringUp, type BringUpCounts } from './readiness-progress.ts';

test('a bring-up reports its counts while they change, and once more when it ends', async () => {
  const reports: BringUpCounts[] = [];
  let now = 0;
  const progress = new BringUpProgress(
    3,
    (counts) => reports.push(counts),
    () => now,
    20,
  );
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const boot = progress.track(async (id: string) => {
    if (id === 'r03') throw new Error('robot r03: stuck');
    if (id === 'r02') await held;
    return id;
  });
  const boots = ['r01', 'r02', 'r03'].map((id) => boot(id).catch(() => 'failed'));
  now = 1_500;
  await sleep(60);
  // Nothing changed since: no second report of the same counts.
  await sleep(60);
  expect(reports).toEqual([{ robots: 3, ready: 1, booting: 1, failed: 1, ms: 1_500 }]);
  release();
  expect(await Promise.all(boots)).toEqual(['r01', 'r02', 'failed']);
  now = 2_000;
  progress.finish();
  expect(reports.at(-1)).toEqual({ robots: 3, ready: 2, booting: 0, failed: 1, ms: 2_000 });
  expect(describeBringUp(reports[0]!)).toBe('1/3 ready, 1 booting, 1 failed (1.5 s)');
  expect(describeBringUp(reports.at(-1)!)).toBe('2/3 ready, 0 booting, 1 failed (2.0 s)');
  await sleep(60);
  expect(reports).toHaveLength(2);
});
