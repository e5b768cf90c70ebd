import type { FullConfig } from '@playwright/test';
import { runSeed, SEED_ENV } from '../core/seed.ts';
import { sweepStaleRunDirs } from '../fleet/run-dir.ts';
import { clearAllureResults, isNestedRun } from './results.ts';

/**
 * Runs once per `playwright test`: prints the seed so any run can be replayed, removes what
 * crashed runs left in the temp dir, and clears the Allure results of earlier runs (keeping
 * their history for trends) so nothing from them leaks into this run's report.
 */
export default async function globalSetup(_config: FullConfig): Promise<void> {
  const seed = runSeed();
  // stderr: stdout may be a machine-readable report (`--reporter=json`).
  console.error(`fleetdrill: seed ${seed} (replay with ${SEED_ENV}=${seed})`);
  await sweepStaleRunDirs();
  if (!isNestedRun()) await clearAllureResults();
}
