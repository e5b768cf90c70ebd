/*
 * The power-cut fuzz's oracles on real robot disks: written by the robot's own boot code into a
 * temp directory, then broken by hand the way a power cut (or a bug) would leave them, and read
 * back as the fuzz reads them. A sound disk passes each oracle; each broken one fires the oracle
 * that owns it, naming the robot and what is wrong. A robot that does not answer is "could not
 * tell", never "wrong".
 */
import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from '@playwright/test';
import {
  armTrial,
  boot,
  BootEnv,
  commit,
  installInitial,
  slotPaths,
  writeSlot,
} from '../../reference/robot-host/boot/index.ts';
import { formatCopy } from '../../reference/robot-host/boot/boot-env.ts';
import { flipByte, payloadOf, sha256, test } from '../../reference/robot-host/boot/test-disk.ts';
import { inspectDisk, inspectDiskOrUnbootable, type DiskState } from './disk.ts';
import {
  judgeConvergence,
  judgeDiskAfterCut,
  judgePowerOn,
  judgeRunning,
  type FuzzFinding,
} from './fuzz-oracles.ts';

const WHERE = 'r07 cut 3 of 8 (after 153 ms, good 1.0.0→1.0.1)';
const V0 = payloadOf('1.0.0');
const V1 = payloadOf('1.0.1');
/** What the fuzz installed or deployed: the factory image and the update. */
const INSTALLED = new Set([sha256(V0), sha256(V1)]);

/** A disk in service: 1.0.0 committed in slot A, both copies of the environment written. */
async function provision(disk: string): Promise<BootEnv> {
  const env = new BootEnv(disk);
  await installInitial(env, V0, { version: '1.0.0', sha256: sha256(V0) });
  return env;
}

/** 1.0.1 written into slot B and armed: the disk a cut at ArtifactReboot_Enter leaves. */
async function armed(disk: string): Promise<BootEnv> {
  const env = await provision(disk);
  await writeSlot(disk, 'B', V1, { version: '1.0.1', sha256: sha256(V1) });
  await armTrial(env, 'B');
  return env;
}

/** The update committed: 1.0.1 in slot B, active and committed, nothing pending. */
async function committedB(disk: string): Promise<BootEnv> {
  const env = await armed(disk);
  await boot(env, 'warm');
  await commit(env);
  return env;
}

/** Only the findings' outcome and oracle, for comparing; messages are checked apart. */
const kinds = (findings: readonly FuzzFinding[]) => findings.map((f) => `${f.outcome} ${f.oracle}`);

function expectNamed(finding: FuzzFinding | undefined, ...parts: string[]): void {
  expect(finding?.message).toContain('r07');
  for (const part of parts) expect(finding?.message).toContain(part);
}

test.describe('after a cut, before power-on: bricked, invalid environment, unverified boot', () => {
  test('a sound disk passes, before and after arming a trial', async ({ disk }) => {
    const env = await provision(disk);
    expect(judgeDiskAfterCut(WHERE, await inspectDisk(disk), INSTALLED)).toEqual([]);
    await writeSlot(disk, 'B', V1, { version: '1.0.1', sha256: sha256(V1) });
    await armTrial(env, 'B');
    expect(judgeDiskAfterCut(WHERE, await inspectDisk(disk), INSTALLED)).toEqual([]);
  });

  test('both copies of the environment torn: invalid environment, not bricked (slot A is known-good)', async ({
    disk,
  }) => {
    const env = await provision(disk);
    // A cut in the middle of each write: one copy cut short, the other with a byte gone wrong.
    await truncate(env.copyPath(0), 20);
    flipByte(env.copyPath(1), -3);
    const findings = judgeDiskAfterCut(WHERE, await inspectDisk(disk), INSTALLED);
    expect(kinds(findings)).toEqual(['wrong invalid-env']);
    expectNamed(findings[0], 'no valid copy of the boot environment', 'env.0', 'env.1');
    // The disk as the next power-on reads it, as every other finding shows it.
    expectNamed(findings[0], '(A committed 1.0.0 (active), B ', 'env from fallback (generation 0))');
  });

  test('the active slot corrupted and nothing committed beside it: bricked', async ({ disk }) => {
    await provision(disk);
    flipByte(slotPaths(disk, 'A').payload, 100);
    const findings = judgeDiskAfterCut(WHERE, await inspectDisk(disk), INSTALLED);
    expect(kinds(findings)).toEqual(['wrong bricked']);
    expectNamed(findings[0], 'bricked', 'slot A payload hashes to');
    expectNamed(findings[0], '(A committed 1.0.0 unbootable (active), B ', 'env from env.');
  });

  test('no environment and no committed slot: bricked and invalid environment, not an error', async ({
    disk,
  }) => {
    const env = await provision(disk);
    await rm(env.copyPath(0));
    await rm(env.copyPath(1));
    const meta = JSON.parse(await readFile(slotPaths(disk, 'A').meta, 'utf8')) as Record<string, unknown>;
    await writeFile(slotPaths(disk, 'A').meta, JSON.stringify({ ...meta, state: 'writing' }));
    const seen = await inspectDiskOrUnbootable(disk);
    expect('unbootable' in seen).toBe(true);
    const findings = judgeDiskAfterCut(WHERE, seen, INSTALLED);
    expect(kinds(findings)).toEqual(['wrong invalid-env', 'wrong bricked']);
    expectNamed(findings[0], 'env.0 missing', 'env.1 missing');
    expectNamed(findings[1], 'bricked', 'no committed slot');
    // No environment to read, but the slots all the same: what the cut left in them.
    for (const finding of findings) {
      expectNamed(finding, '(A writing 1.0.0 unbootable, B ', '; no valid environment)');
    }
  });

  test('a trial of a payload never installed or deployed: unverified boot', async ({ disk }) => {
    const env = await provision(disk);
    const foreign = payloadOf('someone else');
    await writeSlot(disk, 'B', foreign, { version: '1.0.1', sha256: sha256(foreign) });
    await armTrial(env, 'B');
    const findings = judgeDiskAfterCut(WHERE, await inspectDisk(disk), INSTALLED);
    expect(kinds(findings)).toEqual(['wrong unverified-boot']);
    expectNamed(findings[0], 'slot B holds a payload never installed or deployed');
  });

  test('an environment that boots a slot only written, with no trial pending: unverified boot', async ({
    disk,
  }) => {
    const env = await provision(disk);
    await writeSlot(disk, 'B', V1, { version: '1.0.1', sha256: sha256(V1) });
    // The newest copy switches to B without arming a trial: what a commit that wrote the
    // environment before marking the slot committed would leave after a cut between the two.
    const { generation } = await env.read();
    await writeFile(
      env.copyPath(0),
      formatCopy(generation + 1, { active: 'B', upgrade_available: 0, bootcount: 0, bootlimit: 1 }),
    );
    const findings = judgeDiskAfterCut(WHERE, await inspectDisk(disk), INSTALLED);
    expect(kinds(findings)).toEqual(['wrong unverified-boot']);
    expectNamed(findings[0], 'boot of slot B, which is written, not committed');
  });

  test('a bootloader that would boot a torn slot: unverified boot', async ({ disk }) => {
    await armed(disk);
    // A cut in the middle of writing B again: slot.json says writing, the payload is cut short.
    const meta = JSON.parse(await readFile(slotPaths(disk, 'B').meta, 'utf8')) as Record<string, unknown>;
    await writeFile(slotPaths(disk, 'B').meta, JSON.stringify({ ...meta, state: 'writing' }));
    await truncate(slotPaths(disk, 'B').payload, 1000);
    const seen = await inspectDisk(disk);
    // The real bootloader falls back to A here; a broken one would boot B: judge that decision.
    expect(seen.nextBoot).toMatchObject({ slot: 'A', event: 'fallback' });
    const buggy: DiskState = { ...seen, nextBoot: { slot: 'B', event: 'trial', version: '1.0.1' } };
    const findings = judgeDiskAfterCut(WHERE, buggy, INSTALLED);
    expect(kinds(findings)).toEqual(['wrong unverified-boot']);
    expectNamed(findings[0], 'slot B is writing', 'slot B does not verify', 'never installed or deployed');
  });
});

test.describe('power-on', () => {
  test('a robot that died instead of coming up is bricked; one still booting is could-not-tell', () => {
    const died = judgePowerOn(WHERE, { died: true, message: 'robot r07 died unexpectedly (exit code 3)' });
    expect(kinds([died])).toEqual(['wrong bricked']);
    expectNamed(died, 'did not come up', 'exit code 3');
    const slow = judgePowerOn(WHERE, {
      died: false,
      message: 'robot r07: /odom not at rate within 30000 ms',
    });
    expect(kinds([slow])).toEqual(['could-not-tell bricked']);
    expectNamed(slow, 'could not tell', '/odom not at rate');
  });
});

test.describe('what runs is what the bootloader booted', () => {
  test('the version booted passes; another one, with no boot since, is wrong', async ({ disk }) => {
    const env = await provision(disk);
    await writeSlot(disk, 'B', V1, { version: '1.0.1', sha256: sha256(V1) });
    const decided = await inspectDisk(disk);
    await boot(env, 'power-on');
    const now = await inspectDisk(disk);
    expect(now.envGeneration).toBe(decided.envGeneration + 1);
    expect(judgeRunning(WHERE, decided, { version: '1.0.0' }, now)).toEqual([]);
    // B was written but never armed: software from it runs only if the boot took the wrong slot.
    const findings = judgeRunning(WHERE, decided, { version: '1.0.1' }, now);
    expect(kinds(findings)).toEqual(['wrong unverified-boot']);
    expectNamed(findings[0], 'runs 1.0.1, but the bootloader booted 1.0.0');
  });

  test('no answer while the robot moved on to its update (issue 12, seed 2663921364): could not tell, not wrong', async ({
    disk,
  }) => {
    const env = await provision(disk);
    const decided = await inspectDisk(disk);
    // Power-on boots A; the update goes on while the harness asks: B written, armed, booted, committed.
    await boot(env, 'power-on');
    await writeSlot(disk, 'B', V1, { version: '1.0.1', sha256: sha256(V1) });
    await armTrial(env, 'B');
    await boot(env, 'warm');
    await commit(env);
    const now = await inspectDisk(disk);
    const answer = { unanswered: '1 tries: robot r07: no response from /get_version within 5000 ms' };
    const findings = judgeRunning(WHERE, decided, answer, now);
    expect(kinds(findings)).toEqual(['could-not-tell unverified-boot']);
    expectNamed(findings[0], 'could not tell what runs', 'no response from /get_version', 'booted 1.0.0');
    // Once it answers, the new boot's version is what its disk says is active: a pass.
    expect(judgeRunning(WHERE, decided, { version: '1.0.1' }, now)).toEqual([]);
  });

  test('an answer from a boot that is over by the time the disk is read: could not tell', async ({
    disk,
  }) => {
    const env = await provision(disk);
    const decided = await inspectDisk(disk);
    await boot(env, 'power-on');
    await writeSlot(disk, 'B', V1, { version: '1.0.1', sha256: sha256(V1) });
    await armTrial(env, 'B');
    await boot(env, 'warm');
    // The trial answered as 1.0.1, then failed its health checks and the client rolled back.
    const { vars } = await env.read();
    await env.write({ ...vars, active: 'A', upgrade_available: 0, bootcount: 0 });
    const now = await inspectDisk(disk);
    const findings = judgeRunning(WHERE, decided, { version: '1.0.1' }, now);
    expect(kinds(findings)).toEqual(['could-not-tell unverified-boot']);
    expectNamed(findings[0], 'moved on while asked', `generation ${decided.envGeneration} →`);
  });
});

test.describe('every update converges', () => {
  const good = { variant: 'good', fromVersion: '1.0.0', version: '1.0.1' } as const;
  const failing = { variant: 'fails-self-test', fromVersion: '1.0.0', version: '1.0.1' } as const;
  const WHAT = 'r07 update 1.0.0→1.0.1';

  test('a committed success and a reported failure on the old slot converge', async ({ disk }) => {
    await committedB(disk);
    const onB = await inspectDisk(disk);
    expect(judgeConvergence(WHAT, { ...good, status: 'success' }, onB, { version: '1.0.1' })).toEqual([]);
    await provision(join(disk, 'old'));
    const onA = await inspectDisk(join(disk, 'old'));
    expect(judgeConvergence(WHAT, { ...failing, status: 'failure' }, onA, { version: '1.0.0' })).toEqual([]);
  });

  test('each way of not converging fires, naming the robot and what is wrong', async ({ disk }) => {
    await committedB(disk);
    const onB = await inspectDisk(disk);
    const cases: Array<[Parameters<typeof judgeConvergence>[1], DiskState, string, string]> = [
      [{ ...good, status: null }, onB, '1.0.1', 'status none'],
      [{ ...good, status: undefined }, onB, '1.0.1', 'status none'],
      [{ ...failing, status: 'success' }, onB, '1.0.1', 'a fails-self-test image was committed'],
      [{ ...good, status: 'failure' }, onB, '1.0.1', 'ends on 1.0.1, expected 1.0.0'],
      [{ ...good, status: 'success' }, onB, '1.0.0', 'runs 1.0.0, expected 1.0.1'],
    ];
    for (const [update, seen, running, part] of cases) {
      const findings = judgeConvergence(WHAT, update, seen, { version: running });
      expect(kinds(findings), part).toEqual(['wrong converged']);
      expectNamed(findings[0], 'did not converge', part);
    }
  });

  test('a trial still pending at the end does not converge', async ({ disk }) => {
    await armed(disk);
    const findings = judgeConvergence(WHAT, { ...good, status: 'success' }, await inspectDisk(disk), {
      version: '1.0.1',
    });
    expect(kinds(findings)).toEqual(['wrong converged']);
    expectNamed(findings[0], 'an upgrade is still pending', 'the active slot is not committed');
  });

  test('no answer at the end, on a disk that converged: could not tell', async ({ disk }) => {
    await committedB(disk);
    const findings = judgeConvergence(WHAT, { ...good, status: 'success' }, await inspectDisk(disk), {
      unanswered: '3 tries: robot r07: no response from /get_version within 5000 ms',
    });
    expect(kinds(findings)).toEqual(['could-not-tell converged']);
    expectNamed(findings[0], 'could not tell what runs at the end', 'ends on 1.0.1');
  });
});
