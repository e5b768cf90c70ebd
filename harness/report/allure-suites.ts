import type { LifecycleListener } from 'allure-js-commons/sdk/reporter';

/** The Playwright project that holds the harness's own unit tests (playwright.config.ts). */
export const UNIT_PROJECT = 'unit';

/** Allure parent suites: the release evidence (drills) apart from the harness's own tests. */
export const PARENT_SUITES = { unit: 'harness unit tests', drills: 'drills' } as const;

/** The parent suite of a test of this Playwright project. */
export function parentSuiteOf(project: string | undefined): string {
  return project === UNIT_PROJECT ? PARENT_SUITES.unit : PARENT_SUITES.drills;
}

/**
 * Puts every result under "harness unit tests" or "drills" before allure-playwright writes it.
 * A reporter hook rather than a label set in a fixture: most unit tests use Playwright's plain
 * `test` and run no fleetdrill fixture. allure-playwright would otherwise use the project name as
 * the parent suite; the project stays visible as the result's "Project" parameter.
 */
export const separateUnitTestsFromDrills: LifecycleListener = {
  beforeTestResultWrite(result) {
    const project = result.parameters.find((parameter) => parameter.name === 'Project')?.value;
    result.labels = result.labels.filter((label) => label.name !== 'parentSuite');
    result.labels.push({ name: 'parentSuite', value: parentSuiteOf(project) });
  },
};
