/*
 * The health window's /odom rate is judged on the robot's own clock: a simulator that a busy
 * machine slows publishes fewer messages per wall second, which must not roll back good software
 * (seen in CI: 4.6 Hz over 1.1 s of wall time on a starved machine). Software that really
 * publishes too slowly, or not at all, still fails.
 */
import { expect, test } from '@playwright/test';
import { odomRateProblem } from './health.ts';

test('a robot slowed by a busy machine is healthy: 5 messages in 1.1 s of wall time, 20 Hz on its clock', () => {
  expect(
    odomRateProblem({ count: 5, firstStampS: 10.0, lastStampS: 10.2, wallSeconds: 1.1 }, 5),
  ).toBeUndefined();
});

test('software that publishes too slowly on its own clock fails, naming the rate', () => {
  expect(odomRateProblem({ count: 3, firstStampS: 10.0, lastStampS: 11.0, wallSeconds: 1.0 }, 5)).toBe(
    "/odom at 2.0 Hz of the robot's clock (3 messages over 1.0 s), below 5 Hz",
  );
});

test('without two stamps to compare, the rate is per wall second: a silent robot fails', () => {
  expect(odomRateProblem({ count: 0, wallSeconds: 1.2 }, 5)).toBe('/odom at 0.0 Hz over 1.2 s, below 5 Hz');
  expect(odomRateProblem({ count: 1, firstStampS: 3, lastStampS: 3, wallSeconds: 1 }, 5)).toBe(
    '/odom at 1.0 Hz over 1.0 s, below 5 Hz',
  );
  expect(odomRateProblem({ count: 6, wallSeconds: 1 }, 5)).toBeUndefined();
});
