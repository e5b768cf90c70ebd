import { readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../core/paths.ts';

/** Where allure-playwright writes the results of a run (playwright.config.ts says the same). */
export const ALLURE_RESULTS_DIR = process.env.FLEETDRILL_ALLURE_RESULTS
  ? resolve(REPO_ROOT, process.env.FLEETDRILL_ALLURE_RESULTS)
  : join(REPO_ROOT, 'reports', 'allure-results');

/**
 * Empties the Allure results of earlier runs, so a report shows this run's tests and nothing
 * else, but keeps `history`: the trend charts live there (the report step refills it from the
 * last report, `fleetdrill report`). Returns the names it removed.
 */
export async function clearAllureResults(dir = ALLURE_RESULTS_DIR): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const stale = names.filter((name) => name !== 'history');
  await Promise.all(stale.map((name) => rm(join(dir, name), { recursive: true, force: true })));
  return stale;
}

/**
 * Whether this Playwright run was started from inside a test of another run (a CLI test running
 * `fleetdrill run`): workers set TEST_WORKER_INDEX, and children inherit it. Such a run must leave
 * the outer run's results alone.
 */
export function isNestedRun(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.TEST_WORKER_INDEX !== undefined;
}
