import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { FileSystemWriter, parseEnvInfo } from 'allure-js-commons/sdk/reporter';
import { ALLURE_ENVIRONMENT_FILE, writeAllureEnvironment } from './allure-environment.ts';

let dir: string;
test.beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetdrill-allure-env-'));
});
test.afterEach(() => rm(dir, { recursive: true, force: true }));

const readBack = async (resultsDir: string) =>
  parseEnvInfo(await readFile(join(resultsDir, ALLURE_ENVIRONMENT_FILE), 'utf8'));

test("the software under test joins the reporter's environment, which keeps its own entries", async () => {
  // Written as allure-playwright writes it at the end of a run.
  new FileSystemWriter({ resultsDir: dir }).writeEnvironmentInfo({
    seed: '42',
    os: 'Linux 6.1.0 (2 cores)',
    fleetdrill: '0.9.0',
  });
  const merged = await writeAllureEnvironment(dir, {
    'sut.robot': 'robot-sim 2.4.0 (sha256:9f86d081884c7d65)',
    'sut.cloud': 'fleet-cloud 2.4.0',
    fleetdrill: '0.9.1',
  });
  const expected = {
    seed: '42',
    os: 'Linux 6.1.0 (2 cores)',
    fleetdrill: '0.9.1',
    'sut.robot': 'robot-sim 2.4.0 (sha256:9f86d081884c7d65)',
    'sut.cloud': 'fleet-cloud 2.4.0',
  };
  expect(await readBack(dir)).toEqual(expected);
  expect(merged).toEqual(expected);
});

test('with no environment written yet, the entries make the file', async () => {
  const resultsDir = join(dir, 'not-yet');
  await writeAllureEnvironment(resultsDir, { 'sut.version': '2.4.0' });
  expect(await readBack(resultsDir)).toEqual({ 'sut.version': '2.4.0' });
});
