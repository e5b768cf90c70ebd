import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import type { FullResult } from '@playwright/test/reporter';
import { REPO_ROOT } from '../../core/paths.ts';
import { PLANTED_SECRET_ENV, plantedSecret } from '../../core/secrets.ts';
import { PLANT_PROJECT, reportRoots, SCAN_PROJECT, withPlantedSecretScan } from './projects.ts';
import PlantedSecretReporter from './reporter.ts';

test('every project depends on the plant, whose teardown is the scan', () => {
  const projects = withPlantedSecretScan([
    { name: 'unit', testDir: '.' },
    { name: 'docker', testDir: 'scenarios', dependencies: ['build'] },
  ]);
  expect(projects.map((p) => [p.name, p.dependencies ?? [], p.teardown])).toEqual([
    [PLANT_PROJECT, [], SCAN_PROJECT],
    [SCAN_PROJECT, [], undefined],
    ['unit', [PLANT_PROJECT], undefined],
    ['docker', ['build', PLANT_PROJECT], undefined],
  ]);
});

test('the report roots are reports/ and wherever the environment moves the reports', () => {
  expect(reportRoots({})).toEqual([join(REPO_ROOT, 'reports')]);
  expect(
    reportRoots({
      FLEETDRILL_ALLURE_RESULTS: '/out/allure-results/embedded',
      FLEETDRILL_BLOB_DIR: '/out/blob/embedded',
      FLEETDRILL_RESULTS_JSON: '/out/results-embedded.json',
    }),
  ).toEqual([join(REPO_ROOT, 'reports'), '/out/allure-results/embedded', '/out/blob/embedded', '/out']);
});

test('the last reporter fails a passing run whose reports hold the secret, and says where', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'planted-secret-reporter-'));
  const errors: string[] = [];
  const error = console.error;
  console.error = (text: string) => errors.push(text);
  try {
    const env = { [PLANTED_SECRET_ENV]: plantedSecret({}) };
    const reporter = new PlantedSecretReporter({ env, roots: [dir] });
    const passed = { status: 'passed' } as FullResult;
    expect(await reporter.onEnd(passed)).toBeUndefined();
    await writeFile(join(dir, 'results.json'), `{\n  "stdout": "${env[PLANTED_SECRET_ENV]}"\n}\n`);
    expect(await reporter.onEnd(passed)).toEqual({ status: 'failed' });
    expect(errors.join('\n')).toContain(`${join(dir, 'results.json')}:2 (plain)`);
    expect(errors.join('\n')).not.toContain(env[PLANTED_SECRET_ENV]);
  } finally {
    console.error = error;
    await rm(dir, { recursive: true, force: true });
  }
});
