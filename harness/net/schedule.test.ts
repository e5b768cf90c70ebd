import { expect, test } from '@playwright/test';
import { ConfigError } from '../core/errors.ts';
import { chaosSchedule } from './schedule.ts';

const robots = ['r01', 'r02', 'r03'];

test('a chaos schedule is a function of the seed', () => {
  const options = { robots, durationMs: 60_000 };
  const once = chaosSchedule(42, options);
  expect(chaosSchedule(42, options)).toEqual(once);
  expect(chaosSchedule(43, options)).not.toEqual(once);
  expect(once.length).toBeGreaterThan(10);
  expect(new Set(once.map((step) => step.robot))).toEqual(new Set(robots));
});

test("a robot's faults never overlap and stay inside the duration", () => {
  const steps = chaosSchedule(7, { robots, durationMs: 30_000, gapMs: [200, 1_000], faultMs: [100, 2_000] });
  for (const robot of robots) {
    const own = steps.filter((step) => step.robot === robot);
    for (let i = 1; i < own.length; i++) {
      expect(own[i]!.atMs).toBeGreaterThanOrEqual(own[i - 1]!.atMs + own[i - 1]!.forMs!);
    }
    for (const step of own) expect(step.atMs + step.forMs!).toBeLessThanOrEqual(30_000);
  }
  expect(steps.map((s) => s.atMs)).toEqual([...steps.map((s) => s.atMs)].sort((a, b) => a - b));
});

test("adding a robot does not change the others' schedules", () => {
  const three = chaosSchedule(9, { robots, durationMs: 20_000 });
  const four = chaosSchedule(9, { robots: [...robots, 'r04'], durationMs: 20_000 });
  expect(four.filter((step) => step.robot !== 'r04')).toEqual(three);
});

test('bad chaos options name the field', () => {
  expect(() => chaosSchedule(1, { robots, durationMs: 1_000, profiles: [] })).toThrow(ConfigError);
  expect(() => chaosSchedule(1, { robots, durationMs: 1_000, gapMs: [5, 1] })).toThrow(/chaos\.gapMs/);
  expect(() => chaosSchedule(1, { robots, durationMs: 1_000, faultMs: [0, 1] })).toThrow(/chaos\.faultMs/);
});
