/**
 * The planted-secret check as Playwright projects around every other project of a config: a
 * setup project that plants the run's secret where secrets flow, and its teardown, which searches
 * what the run wrote for it. Playwright runs the teardown after every project that depends on the
 * setup, whether they passed or failed, and reports it as a test: a leak is a failed test in the
 * runner's own results, which is what CI counts. docs/security.md says why this shape.
 */
import { dirname, join } from 'node:path';
import type { PlaywrightTestConfig } from '@playwright/test';
import type { FleetWorkerOptions } from '../../fixtures.ts';
import { REPO_ROOT } from '../../core/paths.ts';

/** The project that plants the secret; every other project depends on it. */
export const PLANT_PROJECT = 'secrets-plant';
/** Its teardown: searches the run's reports for the secret, after everything else. */
export const SCAN_PROJECT = 'secrets-scan';

const HERE = 'harness/testing/planted-secret';

/** A project of fleetdrill's Playwright config. */
export type FleetProject = NonNullable<PlaywrightTestConfig<object, FleetWorkerOptions>['projects']>[number];

/**
 * `projects` with the plant project in front, each of them depending on it, and the scan last.
 * A project's CLI filters (`--grep`, files) do not reach its dependencies, so the check runs
 * whatever a run selects.
 */
export function withPlantedSecretScan(projects: FleetProject[]): FleetProject[] {
  return [
    { name: PLANT_PROJECT, testDir: HERE, testMatch: /plant\.setup\.ts$/, teardown: SCAN_PROJECT },
    { name: SCAN_PROJECT, testDir: HERE, testMatch: /scan\.teardown\.ts$/ },
    ...projects.map((project) => ({
      ...project,
      dependencies: [...(project.dependencies ?? []), PLANT_PROJECT],
    })),
  ];
}

/**
 * Where a run writes its reports: reports/ and the places the environment moves them to
 * (`fleetdrill qualify` gives each shard its own). The JSON report itself is written after the
 * last test; the reporter in this folder searches it then.
 */
export function reportRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const roots = [join(REPO_ROOT, 'reports')];
  if (env.FLEETDRILL_ALLURE_RESULTS) roots.push(env.FLEETDRILL_ALLURE_RESULTS);
  if (env.FLEETDRILL_BLOB_DIR) roots.push(env.FLEETDRILL_BLOB_DIR);
  if (env.FLEETDRILL_RESULTS_JSON) roots.push(dirname(env.FLEETDRILL_RESULTS_JSON));
  return roots;
}
