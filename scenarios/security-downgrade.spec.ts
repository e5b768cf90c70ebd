/*
 * Downgrades (issue 18): a correctly signed artifact older than what the robot runs is refused,
 * unless the deployment explicitly allows downgrades. An attacker (or a mistaken operator) who can
 * only replay old, genuinely signed releases must not be able to put a robot back on software
 * with known holes.
 */
import {
  attachOtaDrill,
  expect,
  phase,
  runOtaDrill,
  test,
  withDetail,
  type OtaDrill,
} from '../harness/index.ts';

// One robot, as the other single-robot OTA drills, so the worker's fleet serves them all.
test.use({ robots: 1 });

const REFUSED: OtaDrill = {
  name: 'an older, correctly signed artifact is refused',
  artifact: { older: true },
  // Refused on the offer, before Download: no byte fetched, none written, no reboot.
  expect: { status: 'failure', ends: 'old', states: ['ArtifactFailure'] },
};

const ALLOWED: OtaDrill = {
  name: 'an older artifact is installed when the deployment allows downgrades',
  artifact: { older: true },
  allowDowngrade: true,
  expect: {
    status: 'success',
    ends: 'new',
    states: ['Download', 'ArtifactInstall', 'ArtifactReboot', 'ArtifactCommit'],
  },
};

test.describe('Security: downgrades', { tag: ['@security', '@ota', '@nightly'] }, () => {
  test(REFUSED.name, async ({ fleet, claim }) => {
    test.setTimeout(60_000);
    const robot = await claim.one();
    const result = await phase('fault', { robot: robot.id, deployed: 'one version older' }, () =>
      runOtaDrill(fleet, robot.id, REFUSED),
    );
    await attachOtaDrill(test.info(), 'downgrade refused', REFUSED, result);
    await phase(
      'verdict',
      { status: result.status ?? 'none', runs: result.runningVersion ?? 'no answer' },
      async () => {
        // The runner checks the states, the version the robot runs and boots, and that the standby slot is as it was.
        expect(result.problems, withDetail(REFUSED.name, result.message)).toEqual([]);
        expect(result.message, 'the cloud records why, naming both versions').toBe(
          `downgrade refused: artifact ${result.deployedVersion} is older than running ${result.fromVersion} (the deployment does not set allowDowngrade)`,
        );
        const deployment = await fleet.ota.deployment(result.deploymentId);
        expect(deployment.allowDowngrade).toBe(false);
        expect(deployment.counts).toMatchObject({ finished: 1, failure: 1 });
        // The cloud's count covers every deployment of this build; the runner measured this one's.
        expect(result.bytesFetched, 'refused before a byte of the artifact was fetched').toBe(0);
      },
    );
  });

  test(ALLOWED.name, async ({ fleet, claim }) => {
    test.setTimeout(90_000);
    const robot = await claim.one();
    const result = await phase('fault', { robot: robot.id, deployed: 'one version older, allowed' }, () =>
      runOtaDrill(fleet, robot.id, ALLOWED),
    );
    await attachOtaDrill(test.info(), 'downgrade allowed', ALLOWED, result);
    await phase(
      'verdict',
      { status: result.status ?? 'none', runs: result.runningVersion ?? 'no answer' },
      () => {
        // Ends on the older version: committed, running, and what the next power-on boots.
        expect(result.problems, withDetail(ALLOWED.name, result.message)).toEqual([]);
        expect(result.runningVersion).toBe(result.deployedVersion);
        expect(result.after.env.active, 'installed into the other slot').not.toBe(result.before.env.active);
      },
    );
  });
});
