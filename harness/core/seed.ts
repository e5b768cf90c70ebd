import { createHash, randomInt } from 'node:crypto';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { ConfigError } from './errors.ts';

/** Environment variable that carries the run's seed to every worker and replays a run. */
export const SEED_ENV = 'FLEETDRILL_SEED';

/** Parses a seed given by a user: a decimal integer in [0, 2^32). */
export function parseSeed(value: string, field = SEED_ENV): number {
  const trimmed = value.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) > 0xffffffff) {
    throw new ConfigError(field, `must be an integer from 0 to 4294967295, got '${value}'`);
  }
  return Number(trimmed);
}

/**
 * The run's seed: FLEETDRILL_SEED when set, otherwise a fresh one that is written back to the
 * environment so that child processes (Playwright workers, robots) share it.
 */
export function runSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env[SEED_ENV];
  if (given !== undefined && given !== '') return parseSeed(given);
  // This is the one unseeded random choice in a run: the seed itself.
  const fresh = randomInt(0, 0xffffffff);
  env[SEED_ENV] = String(fresh);
  return fresh;
}

/**
 * A child seed for one consumer (a robot, a fault schedule, ...), stable for the same run seed
 * and labels, so adding a robot does not change the noise of the others.
 */
export function deriveSeed(seed: number, ...labels: Array<string | number>): number {
  const digest = createHash('sha256')
    .update(`${seed}/${labels.join('/')}`)
    .digest();
  return digest.readUInt32LE(0);
}

/** A small seeded random source for harness-side choices (schedules, picks). */
export class SeededRandom {
  private readonly rng;

  constructor(readonly seed: number) {
    this.rng = xoroshiro128plus(seed);
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return uniformInt(this.rng, min, max);
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return uniformFloat64(this.rng);
  }

  /** Uniform pick from a non-empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(0, items.length - 1)] as T;
  }
}
