/**
 * Runs after every other project of the run, passed or failed: the planted secret must not be
 * anywhere in what the run has written so far (Allure results and attachments, test output,
 * report files). The JSON report, written after this, is searched by the reporter beside this file.
 */
import { expect, test } from '@playwright/test';
import { REPO_ROOT } from '../../core/paths.ts';
import { PLANTED_SECRET_ENV, plantedSecret } from '../../core/secrets.ts';
import { describeOccurrences, scanForSecret } from '../../report/secret-scan.ts';
import { reportRoots } from './projects.ts';

test('no planted secret in the reports @security', async ({}, testInfo) => {
  const roots = [...reportRoots(), testInfo.project.outputDir];
  const found = await scanForSecret(roots, plantedSecret(), REPO_ROOT);
  // Names where, never the secret itself.
  expect(found, `${PLANTED_SECRET_ENV} leaked into:\n${describeOccurrences(found)}`).toEqual([]);
});
