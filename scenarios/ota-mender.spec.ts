import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, runOtaDrill, test } from '../harness/index.ts';
import { realClientDrills, skipUnlessRealClientsRun } from './ota-real-clients.ts';
import { REAL_CLIENT_DRILLS, REAL_CLIENT_POWER_CUT_DRILLS } from './ota-tables.ts';

// One robot with Mender on a real disk (loop-device partitions, a U-Boot environment) takes every update in turn.
// A 2 s health window instead of 5 s: the verdict is the same, each update is 3 s quicker.
test.use({ robots: 1, otaClient: 'mender', agent: { ota: { healthWindowMs: 2_000 } } });

realClientDrills('mender', [...REAL_CLIENT_DRILLS, ...REAL_CLIENT_POWER_CUT_DRILLS]);

// What Mender is known to do, each shown on the robot and recorded as a finding of the run.
test.describe('Mender, as it behaves', { tag: ['@ota', '@nightly', '@ota-real'] }, () => {
  skipUnlessRealClientsRun();

  test('a tampered payload: Mender has overwritten the standby partition when it refuses, and the old slot still boots', async ({
    fleet,
    claim,
  }) => {
    const robot = await claim.one();
    const result = await runOtaDrill(fleet, robot.id, {
      name: 'tampered, looked at closely',
      artifact: { broken: 'tampered' },
      expect: { status: 'failure', ends: 'old', states: ['Download', 'ArtifactInstall', 'ArtifactFailure'] },
    });
    expect(result.problems).toEqual([]);
    expect(result.message).toMatch(/checksum/i);
    const standby = result.after.env.active === 'A' ? 'B' : 'A';
    // The checksum is checked after streaming: the image there is torn, the environment untouched.
    expect(result.after.slots[standby].meta.state, 'the standby partition after the refusal').toBe('writing');
    expect(result.after.env).toEqual(result.before.env);
    test.info().annotations.push({
      type: 'finding',
      description: `mender overwrote slot ${standby} before refusing the tampered payload (${result.message}); the old slot booted`,
    });
  });

  test('after the bootloader rolled a trial back, mender commit returns 1 and runs its rollback and failure scripts', async ({
    fleet,
    claim,
  }) => {
    const robot = await claim.one();
    const result = await runOtaDrill(fleet, robot.id, {
      name: 'crashes on boot, looked at closely',
      artifact: { variant: 'crashes-on-boot' },
      expect: {
        status: 'failure',
        ends: 'old',
        states: ['Download', 'ArtifactInstall', 'ArtifactReboot', 'ArtifactFailure'],
      },
    });
    expect(result.problems).toEqual([]);
    expect(result.message).toContain('mender commit exited 1');
    const states = (await readFile(join(robot.diskPath, 'ota', 'client-states.log'), 'utf8'))
      .trim()
      .split('\n');
    expect(states).toEqual(
      expect.arrayContaining(['ArtifactCommit_Enter', 'ArtifactRollback_Enter', 'ArtifactFailure_Enter']),
    );
    expect(states.indexOf('ArtifactRollback_Enter')).toBeLessThan(states.indexOf('ArtifactFailure_Enter'));
  });
});
