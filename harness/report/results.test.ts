import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { clearAllureResults, isNestedRun } from './results.ts';

let dir: string;
test.beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetdrill-allure-'));
});
test.afterEach(() => rm(dir, { recursive: true, force: true }));

test("an earlier run's results and attachments go, its history stays", async () => {
  const results = join(dir, 'allure-results');
  await mkdir(join(results, 'history'), { recursive: true });
  await writeFile(join(results, 'old-result.json'), '{"name":"a drill of last week"}');
  await writeFile(join(results, 'old-attachment.txt'), 'robot r01 log');
  await writeFile(join(results, 'environment.properties'), 'seed=1');
  await writeFile(join(results, 'history', 'history-trend.json'), '[{"data":{"passed":41}}]');

  const removed = await clearAllureResults(results);
  expect(removed.sort()).toEqual(['environment.properties', 'old-attachment.txt', 'old-result.json']);
  expect(await readdir(results)).toEqual(['history']);
  expect(await readFile(join(results, 'history', 'history-trend.json'), 'utf8')).toContain('41');
});

test('a first run, with no results folder yet, has nothing to clear', async () => {
  expect(await clearAllureResults(join(dir, 'allure-results'))).toEqual([]);
});

test('a run started from inside a test leaves the outer run alone', () => {
  expect(isNestedRun({ TEST_WORKER_INDEX: '0' })).toBe(true);
  expect(isNestedRun({})).toBe(false);
});
