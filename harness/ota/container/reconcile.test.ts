/**
 * The updater's power-on reconcile for the phases a drill's power cut rarely lands in (the
 * commit and the rollback take a few ms): the state file says where the update stood, the
 * containers are as a cut leaves them (killed), and after power-on exactly one runs, the right
 * one, and the cloud hears the end. Real updater, real engine, real cloud.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { APP_LABELS, UPDATER_STATE_FILE, type UpdaterState } from '../../../protocol/container-update.ts';
import { judgeContainerOta } from './drills.ts';
import { ContainerOtaRig, containerOtaUnavailable } from './rig.ts';

const run = promisify(execFile);
const unavailable = await containerOtaUnavailable();
test.skip(unavailable !== undefined, unavailable ?? '');
test.describe.configure({ mode: 'serial', timeout: 180_000 });

let rig: ContainerOtaRig;
test.beforeAll(async () => {
  test.setTimeout(180_000);
  rig = await ContainerOtaRig.start({ seed: 11 });
});
test.afterAll(async () => {
  await rig?.stop();
});

/** What the one running software container answers its health check. */
function runningHealth() {
  const running = rig.containers().filter((c) => c.running);
  return running.length === 1 ? rig.softwareHealth(running[0]!.name) : undefined;
}

/** Cuts power with the update at `phase`: the new container made (and killed), the state file saying so. */
async function cutAt(phase: 'committing' | 'rolling-back', version: string) {
  const before = (await rig.updaterState())!;
  const oldImage = before.current.image;
  const newImage = await rig.push('good', version);
  await rig.powerCut();
  // Offered while the robot is off, so the updater meets it first in its state file.
  const deployment = await rig.deploy(newImage, `reconcile ${phase}`);
  const name = `${rig.device}-app-${phase === 'committing' ? 'c' : 'r'}${version.replaceAll('.', '')}`;
  const labels = Object.entries({
    ...rig.labels,
    [APP_LABELS.robot]: rig.device,
    [APP_LABELS.image]: newImage,
  }).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
  // Not spawnSync: the fault layer's proxy, which the pull goes through, runs in this process.
  await run('docker', ['pull', '--quiet', newImage]);
  const created = spawnSync('docker', [
    'create',
    '--network',
    'none',
    '--name',
    name,
    ...labels,
    newImage,
    '--id',
    rig.robotId,
  ]);
  expect(created.status, created.stderr?.toString()).toBe(0);
  const state: UpdaterState = {
    ...before,
    pending: { deploymentId: deployment.id, phase, next: { image: newImage, name }, resumes: 0 },
  };
  // The robot is off: nothing else writes the file now.
  writeFileSync(join(rig.dir, 'disk', UPDATER_STATE_FILE), JSON.stringify(state));
  await rig.powerOn();
  const afterPowerOn = rig.containers();
  const finished = await rig.ota.waitUntilFinished(deployment.id, { timeoutMs: 60_000 });
  return { oldImage, newImage, finished, afterPowerOn };
}

test('cut during the commit: the new software runs after power-on, checked healthy again, committed', async () => {
  const { oldImage, newImage, finished, afterPowerOn } = await cutAt('committing', '3.0.1');
  const result = judgeContainerOta(
    {
      name: 'commit cut',
      deploy: { variant: 'good' },
      expect: { status: 'success', ends: 'new', states: ['ArtifactCommit'] },
    },
    rig.robotId,
    {
      oldImage,
      newImage,
      deployment: finished,
      containers: rig.containers(),
      health: runningHealth(),
      state: await rig.updaterState(),
      samples: [],
      afterPowerOn,
      pullRetries: 0,
    },
  );
  expect(result.problems).toEqual([]);
});

test('cut during the rollback: the old software runs after power-on, failure reported', async () => {
  const { oldImage, newImage, finished, afterPowerOn } = await cutAt('rolling-back', '3.0.2');
  const result = judgeContainerOta(
    {
      name: 'rollback cut',
      deploy: { variant: 'good' },
      expect: {
        status: 'failure',
        ends: 'old',
        states: ['ArtifactFailure'],
        message: 'power cut during the rollback',
      },
    },
    rig.robotId,
    {
      oldImage,
      newImage,
      deployment: finished,
      containers: rig.containers(),
      health: runningHealth(),
      state: await rig.updaterState(),
      samples: [],
      afterPowerOn,
      pullRetries: 0,
    },
  );
  expect(result.problems).toEqual([]);
});
