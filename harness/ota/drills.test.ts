/*
 * The drill-table runner's checks (judgeOtaDrill) on real robot disks and deployment records: a
 * row that held passes, and each way an outcome can be wrong fires its own check, naming the robot.
 */
import { join } from 'node:path';
import { expect } from '@playwright/test';
import type { DeploymentDetail } from '../../protocol/ota-cloud.ts';
import {
  armTrial,
  boot,
  BootEnv,
  commit,
  installInitial,
  slotPaths,
  writeSlot,
} from '../../reference/robot-host/boot/index.ts';
import { flipByte, payloadOf, sha256, test } from '../../reference/robot-host/boot/test-disk.ts';
import { inspectDisk, type DiskState } from './disk.ts';
import { judgeOtaDrill, previousVersion, type OtaDrill, type OtaDrillEvidence } from './drills.ts';

const ROBOT = 'r07';
const COMMITTED = ['Download', 'ArtifactInstall', 'ArtifactReboot', 'ArtifactCommit'];
const GOOD: OtaDrill = {
  name: 'good software is committed',
  artifact: { variant: 'good' },
  expect: { status: 'success', ends: 'new', states: COMMITTED },
};
const TAMPERED: OtaDrill = {
  name: 'a tampered payload is refused',
  artifact: { broken: 'tampered' },
  expect: { status: 'failure', ends: 'old', states: ['Download', 'ArtifactFailure'] },
};

const OLDER: OtaDrill = {
  name: 'an older artifact is refused on the offer',
  artifact: { older: true },
  expect: { status: 'failure', ends: 'old', states: ['ArtifactFailure'] },
};

/** A deployment of one robot that reported `states` and ended with `status`. */
function deployment(states: readonly string[], status: 'success' | 'failure' | null): DeploymentDetail {
  const history = states.map((state, i) => ({
    t: 1_000 + i,
    state: state as DeploymentDetail['robots'][number]['history'][number]['state'],
    status: i === states.length - 1 ? status : null,
    message: null,
  }));
  return {
    id: 'd1',
    name: 'drill',
    artifactId: 'a1',
    canaryPercent: 0,
    failureThreshold: 1,
    allowDowngrade: false,
    status: 'finished',
    createdAt: 1_000,
    counts: {
      robots: 1,
      canaries: 0,
      offered: 1,
      started: 1,
      finished: 1,
      success: status === 'success' ? 1 : 0,
      failure: status === 'failure' ? 1 : 0,
      alreadyInstalled: 0,
    },
    canaries: [],
    events: [{ t: 1_000, status: 'rolling', reason: 'created' }],
    robots: [
      {
        robotId: ROBOT,
        canary: false,
        offeredAt: 1_000,
        state: history.at(-1)?.state ?? null,
        status,
        message: status === 'failure' ? 'refused' : null,
        startedAt: 1_000,
        finishedAt: 2_000,
        bytesServed: 0,
        history,
      },
    ],
  };
}

/** Real disks: 1.0.0 in A (`old`), 1.0.1 committed in B (`updated`), 1.0.1 only armed (`armed`). */
async function disks(root: string): Promise<Record<'old' | 'updated' | 'armed', string>> {
  const v0 = payloadOf('1.0.0');
  const v1 = payloadOf('1.0.1');
  const made = { old: join(root, 'old'), updated: join(root, 'updated'), armed: join(root, 'armed') };
  for (const disk of Object.values(made)) {
    await installInitial(new BootEnv(disk), v0, { version: '1.0.0', sha256: sha256(v0) });
  }
  for (const disk of [made.updated, made.armed]) {
    await writeSlot(disk, 'B', v1, { version: '1.0.1', sha256: sha256(v1) });
    await armTrial(new BootEnv(disk), 'B');
  }
  await boot(new BootEnv(made.updated), 'warm');
  await commit(new BootEnv(made.updated));
  return made;
}

function evidence(
  before: DiskState,
  after: DiskState,
  more: Partial<OtaDrillEvidence> = {},
): OtaDrillEvidence {
  return {
    fromVersion: '1.0.0',
    deployedVersion: '1.0.1',
    before,
    after,
    runningVersion: { version: after.activeVersion },
    rebooted: true,
    bytesFetched: 0,
    ...more,
  };
}

test('rows that held pass: a good update committed, a tampered one refused', async ({ disk }) => {
  const made = await disks(disk);
  const old = await inspectDisk(made.old);
  const updated = await inspectDisk(made.updated);
  expect(
    judgeOtaDrill(GOOD, ROBOT, deployment(COMMITTED, 'success'), evidence(old, updated)).problems,
  ).toEqual([]);
  const refused = judgeOtaDrill(
    TAMPERED,
    ROBOT,
    deployment(TAMPERED.expect.states, 'failure'),
    evidence(old, old, { rebooted: false }),
  );
  expect(refused.problems).toEqual([]);
  const older = judgeOtaDrill(
    OLDER,
    ROBOT,
    deployment(OLDER.expect.states, 'failure'),
    evidence(old, old, { rebooted: false }),
  );
  expect(older.problems).toEqual([]);
});

test('each wrong outcome fires its own check, naming the robot', async ({ disk }) => {
  const made = await disks(disk);
  const old = await inspectDisk(made.old);
  const updated = await inspectDisk(made.updated);
  const armed = await inspectDisk(made.armed);
  // B holding 1.0.0 and active: the old version, on the other slot.
  const v0 = payloadOf('1.0.0');
  const moved = join(disk, 'moved');
  await installInitial(new BootEnv(moved), v0, { version: '1.0.0', sha256: sha256(v0) });
  await writeSlot(moved, 'B', v0, { version: '1.0.0', sha256: sha256(v0) });
  await armTrial(new BootEnv(moved), 'B');
  await boot(new BootEnv(moved), 'warm');
  await commit(new BootEnv(moved));
  const onOtherSlot = await inspectDisk(moved);
  // B written while A still runs: what a refusal must never leave behind.
  const touched = join(disk, 'touched');
  await installInitial(new BootEnv(touched), v0, { version: '1.0.0', sha256: sha256(v0) });
  await writeSlot(touched, 'B', payloadOf('1.0.1'), { version: '1.0.1', sha256: sha256(payloadOf('1.0.1')) });
  const standbyWritten = await inspectDisk(touched);
  // B corrupted after its commit: the next power-on falls back to A; with A corrupted too, nothing boots.
  flipByte(slotPaths(made.updated, 'B').payload, 10);
  const fallsBack = await inspectDisk(made.updated);
  flipByte(slotPaths(made.updated, 'A').payload, 10);
  const bricked = await inspectDisk(made.updated);
  const good = deployment(COMMITTED, 'success');

  const cases: Array<{ check: string; row: OtaDrill; record: DeploymentDetail; seen: OtaDrillEvidence }> = [
    {
      check: 'deployment d1 does not list r07',
      row: GOOD,
      record: { ...good, robots: [] },
      seen: evidence(old, updated),
    },
    {
      check: 'status failure, expected success',
      row: GOOD,
      record: deployment(COMMITTED, 'failure'),
      seen: evidence(old, updated),
    },
    {
      check:
        'states [Download, ArtifactInstall, ArtifactReboot], expected [Download, ArtifactInstall, ArtifactReboot, ArtifactCommit]',
      row: GOOD,
      record: deployment(COMMITTED.slice(0, 3), 'success'),
      seen: evidence(old, updated),
    },
    {
      check: 'the robot rebooted, though the update was refused before it',
      row: TAMPERED,
      record: deployment(TAMPERED.expect.states, 'failure'),
      seen: evidence(old, old, { rebooted: true }),
    },
    {
      check: 'fetched 4096 bytes of the artifact, though the offer was refused',
      row: OLDER,
      record: deployment(OLDER.expect.states, 'failure'),
      seen: evidence(old, old, { rebooted: false, bytesFetched: 4096 }),
    },
    {
      check: 'the robot never rebooted',
      row: GOOD,
      record: good,
      seen: evidence(old, updated, { rebooted: false }),
    },
    {
      check: 'ends on 1.0.0, expected 1.0.1 (new)',
      row: GOOD,
      record: good,
      seen: evidence(old, old, { runningVersion: { version: '1.0.1' } }),
    },
    {
      check: 'the software reports 1.0.0, expected 1.0.1',
      row: GOOD,
      record: good,
      seen: evidence(old, updated, { runningVersion: { version: '1.0.0' } }),
    },
    {
      check: 'active slot B, expected the old slot A',
      row: TAMPERED,
      record: deployment(TAMPERED.expect.states, 'failure'),
      seen: evidence(old, onOtherSlot, { rebooted: false }),
    },
    {
      check: 'the refused update changed standby slot B: empty (no version) 0 bytes',
      row: TAMPERED,
      record: deployment(TAMPERED.expect.states, 'failure'),
      seen: evidence(old, standbyWritten, { rebooted: false }),
    },
    {
      check: 'the active slot is written, not committed',
      row: GOOD,
      record: good,
      seen: evidence(old, armed),
    },
    {
      check: 'an upgrade is still pending',
      row: GOOD,
      record: good,
      seen: evidence(old, armed),
    },
    {
      check: 'the next power-on boots 1.0.0, expected 1.0.1',
      row: GOOD,
      record: good,
      seen: evidence(old, fallsBack),
    },
    {
      check: 'bricked: the next power-on would fail',
      row: GOOD,
      record: good,
      seen: evidence(old, bricked),
    },
  ];
  for (const { check, row, record, seen } of cases) {
    const { problems } = judgeOtaDrill(row, ROBOT, record, seen);
    expect(
      problems.some((problem) => problem.startsWith(`robot ${ROBOT}: ${check}`)),
      `${check}: got ${JSON.stringify(problems)}`,
    ).toBe(true);
  }
});

test('no answer is "could not tell", never a wrong version, and hides no wrong outcome', async ({ disk }) => {
  const made = await disks(disk);
  const old = await inspectDisk(made.old);
  const updated = await inspectDisk(made.updated);
  const good = deployment(COMMITTED, 'success');
  const busy = {
    unanswered: `no answer from ${ROBOT} /get_version after 3 tries while the robot was up: robot ${ROBOT}: no response from /get_version within 5000 ms`,
  };

  // Everything else held: the one problem says it could not tell, and the drill still fails on it.
  const untold = judgeOtaDrill(GOOD, ROBOT, good, evidence(old, updated, { runningVersion: busy }));
  expect(untold.problems).toHaveLength(1);
  expect(untold.problems[0]).toContain(
    `robot ${ROBOT}: could not tell (no answer from ${ROBOT} /get_version after 3 tries while the robot was up`,
  );
  expect(untold.problems.join('\n')).not.toContain('the software reports');
  expect(untold.runningVersion).toBeNull();

  // A disk that is wrong is still wrong when the robot does not answer.
  const wrongDisk = judgeOtaDrill(GOOD, ROBOT, good, evidence(old, old, { runningVersion: busy }));
  expect(wrongDisk.problems.some((p) => p.startsWith(`robot ${ROBOT}: ends on 1.0.0, expected 1.0.1`))).toBe(
    true,
  );
  expect(wrongDisk.problems.some((p) => p.startsWith(`robot ${ROBOT}: could not tell (no answer`))).toBe(
    true,
  );

  // No answer from the agent: whether it rebooted is untold, not "never rebooted".
  const agentBusy = {
    unanswered: `no answer from ${ROBOT} /edge_agent/status after 3 tries while the robot was up`,
  };
  const noBoot = judgeOtaDrill(GOOD, ROBOT, good, evidence(old, updated, { rebooted: agentBusy }));
  expect(noBoot.problems).toEqual([
    `robot ${ROBOT}: could not tell whether the robot rebooted (${agentBusy.unanswered})`,
  ]);
  expect(noBoot.rebooted).toBeNull();

  // A robot that died while asked is evidence: no "could not tell" about it.
  const died = {
    unanswered: `${ROBOT} died before it answered /get_version: robot ${ROBOT} died unexpectedly (exit 1)`,
    died: true,
  };
  const dead = judgeOtaDrill(GOOD, ROBOT, good, evidence(old, updated, { runningVersion: died }));
  expect(dead.problems).toEqual([`robot ${ROBOT}: ${died.unanswered}`]);
});

test('previousVersion goes one below the last non-zero part, and says when nothing is older', () => {
  expect(previousVersion('1.0.3')).toBe('1.0.2');
  expect(previousVersion('1.2.0')).toBe('1.1.0');
  expect(previousVersion('1.0.0')).toBe('0.0.0');
  expect(() => previousVersion('0.0.0')).toThrow('no version is older than 0.0.0');
  expect(() => previousVersion('1.0')).toThrow(/"1\.0": not major\.minor\.patch/);
});
