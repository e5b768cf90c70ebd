import { expect, test } from '@playwright/test';
import { SeededRandom, deriveSeed, parseSeed, runSeed } from './seed.ts';

test.describe('seed', () => {
  test('runSeed takes FLEETDRILL_SEED, or picks one and writes it back for child processes', () => {
    expect(runSeed({ FLEETDRILL_SEED: '1234' })).toBe(1234);
    const env: NodeJS.ProcessEnv = {};
    const picked = runSeed(env);
    expect(env.FLEETDRILL_SEED).toBe(String(picked));
    expect(runSeed(env)).toBe(picked);
  });

  test('bad seeds are refused with the field named', () => {
    expect(() => parseSeed('abc', '--seed')).toThrow(
      "--seed must be an integer from 0 to 4294967295, got 'abc'",
    );
    expect(() => parseSeed('4294967296')).toThrow(/FLEETDRILL_SEED/);
    expect(() => parseSeed('-1')).toThrow();
  });

  test('derived seeds are stable per label and differ between labels', () => {
    expect(deriveSeed(7, 'robot', 'r01')).toBe(deriveSeed(7, 'robot', 'r01'));
    expect(deriveSeed(7, 'robot', 'r01')).not.toBe(deriveSeed(7, 'robot', 'r02'));
    expect(deriveSeed(7, 'robot', 'r01')).not.toBe(deriveSeed(8, 'robot', 'r01'));
  });

  test('SeededRandom replays the same sequence for the same seed', () => {
    const draw = (seed: number) => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 20 }, () => [random.int(0, 1000), random.next()]);
    };
    expect(draw(99)).toEqual(draw(99));
    expect(draw(99)).not.toEqual(draw(100));
    const random = new SeededRandom(1);
    for (let i = 0; i < 1000; i++) {
      const value = random.next();
      expect(value >= 0 && value < 1).toBe(true);
    }
    expect(() => random.pick([])).toThrow(RangeError);
  });
});
