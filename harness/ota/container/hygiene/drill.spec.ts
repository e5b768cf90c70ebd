/**
 * The drill the container-OTA hygiene test runs nested (HYGIENE_MODE): `pass` runs the good row,
 * `fail` runs it and then fails, `hang` waits to be interrupted. Each writes HYGIENE_MARKER once
 * the rig is up: this worker's pid, the registry's pid and the run id, for the test to check.
 */
import { writeFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { ContainerOtaRig } from '../rig.ts';
import { runContainerOtaDrill } from '../drills.ts';

test('container OTA hygiene drill', async () => {
  const rig = await ContainerOtaRig.start({ seed: 7 });
  try {
    writeFileSync(
      process.env.HYGIENE_MARKER!,
      JSON.stringify({ pid: process.pid, registryPid: rig.registry.pid, run: rig.run, dir: rig.dir }),
    );
    const mode = process.env.HYGIENE_MODE;
    if (mode === 'hang') await new Promise(() => undefined);
    const result = await runContainerOtaDrill(rig, {
      name: 'good',
      deploy: { variant: 'good' },
      expect: { status: 'success', ends: 'new', states: ['Download', 'ArtifactInstall', 'ArtifactCommit'] },
    });
    expect(result.problems).toEqual([]);
    expect(mode, 'this run fails on purpose').not.toBe('fail');
  } finally {
    await rig.stop();
  }
});
