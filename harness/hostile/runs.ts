import { ConfigError } from '../core/errors.ts';

// Kept apart from the fuzzers so that the CLI can name the nightly volume without loading them.

/** Environment variable with the number of inputs per target; the nightly sets NIGHTLY_FUZZ_RUNS. */
export const FUZZ_RUNS_ENV = 'FLEETDRILL_FUZZ_RUNS';
/** Inputs per target in `npm test`. */
export const DEFAULT_FUZZ_RUNS = 500;
/** Inputs per target in the nightly (`fleetdrill nightly`). */
export const NIGHTLY_FUZZ_RUNS = 10_000;

/** Inputs per target: FLEETDRILL_FUZZ_RUNS when set, else DEFAULT_FUZZ_RUNS. */
export function fuzzRuns(env: NodeJS.ProcessEnv = process.env): number {
  const given = env[FUZZ_RUNS_ENV]?.trim();
  if (given === undefined || given === '') return DEFAULT_FUZZ_RUNS;
  if (!/^\d{1,7}$/.test(given) || Number(given) < 1) {
    throw new ConfigError(FUZZ_RUNS_ENV, `must be a whole number from 1 to 9999999, got '${given}'`);
  }
  return Number(given);
}
