import { expect, test } from '@playwright/test';
import { FUZZ_TARGETS } from './registry.ts';

test('every target is listed once, under the name its report carries', async () => {
  const names = FUZZ_TARGETS.map((target) => target.name);
  expect(new Set(names).size).toBe(names.length);
  // One input each is enough to prove the name and the target loaded agree.
  for (const target of FUZZ_TARGETS.filter((t) => t.name.endsWith('-file'))) {
    const report = await target.run({ runSeed: 1, runs: 1 });
    expect(report.target).toBe(target.name);
    expect(report.sent).toBe(1);
  }
});
