/*
 * The fleet fixture as a drill meets it, seen from outside: a nested Playwright run of the hygiene
 * drill. A check inside a probe's callback fails the drill, whether the drill stops the probe or
 * forgets it; roslib never gets to swallow it.
 */
import { rmSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { nestedRun, type NestedRun } from './testing/nested-run.ts';

test.describe('fleet fixture: a callback that throws fails the drill', () => {
  test.describe.configure({ mode: 'default', timeout: 120_000 });
  let run: NestedRun | undefined;
  test.afterEach(() => {
    if (run) rmSync(run.tmp, { recursive: true, force: true });
    run = undefined;
  });

  test("through the probe's stop()", async () => {
    run = await nestedRun('probe-throws');
    expect(run.exitCode, run.output).toBe(1);
    expect(run.output).toMatch(
      /robot r01: a callback on \/odom threw: [\s\S]*this callback fails on purpose/,
    );
    expect(run.output).toContain('1 failed');
  });

  test('through the fixture, when the drill never stops the probe', async () => {
    run = await nestedRun('callback-unreported');
    expect(run.exitCode, run.output).toBe(1);
    expect(run.output).toMatch(
      /robot r01: a callback on \/odom threw: [\s\S]*this callback fails on purpose/,
    );
    // The drill's own body passed: the failure came from the fixture's teardown.
    expect(run.output).toMatch(/CallbackError/);
    expect(run.output).toContain('1 failed');
  });
});

test.describe('fleet fixture: a drill owns its faults and its robots', () => {
  test.describe.configure({ mode: 'default', timeout: 180_000 });
  let run: NestedRun | undefined;
  test.afterEach(() => {
    if (run) rmSync(run.tmp, { recursive: true, force: true });
    run = undefined;
  });

  test("a drill that throws still has its fault session ended, and the next drill's claim gets its robot back clean", async () => {
    run = await nestedRun('leftovers');
    // The first drill fails as it is marked to; the second passes only if nothing of the first is left.
    expect(run.exitCode, run.output).toBe(0);
    expect(run.output).toContain('2 passed');
  });
});
