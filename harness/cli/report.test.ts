import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { clearAllureResults } from '../report/results.ts';
import { generateReport } from './report.ts';

let dir: string;
test.beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetdrill-allure-'));
});
test.afterEach(() => rm(dir, { recursive: true, force: true }));

test('after a clear, the report step still carries the last report’s history into the results', async () => {
  // The report step itself needs Java for `allure generate`; what it does before that is the
  // history hand-over, and a missing Java makes it fail only after.
  const results = join(dir, 'allure-results');
  const report = join(dir, 'allure-report');
  await mkdir(join(report, 'history'), { recursive: true });
  await writeFile(join(report, 'history', 'history-trend.json'), '[{"data":{"passed":42}}]');
  await mkdir(results, { recursive: true });
  await writeFile(join(results, 'stale-result.json'), '{}');
  await clearAllureResults(results);
  await writeFile(join(results, 'new-result.json'), '{}');
  await generateReport({ resultsDir: results, reportDir: report }).catch(() => undefined);
  expect(await readFile(join(results, 'history', 'history-trend.json'), 'utf8')).toContain('42');
  expect((await readdir(results)).sort()).toEqual(['history', 'new-result.json']);
});
