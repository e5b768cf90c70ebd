/**
 * The power-cut fuzz's oracles as pure functions over what the fuzz saw: a robot's disk as the
 * next power-on reads it, what the robot answered, and how its update ended. Each returns
 * findings; none does I/O, so each can be shown to fire on a disk broken by hand.
 *
 * A finding is `wrong` when the evidence shows the product misbehaved, and `could-not-tell` when
 * the evidence is missing (the robot did not answer, or moved on while it was asked): a busy
 * machine is never a product failure, but it is no pass either, so a run with such findings ends
 * inconclusive.
 */
import type { VersionAnswer } from './ask.ts';
import { describeDisk, type DiskState, type UnbootableDisk } from './disk.ts';
import type { RobotVariant } from './variants.ts';

/** Which oracle a finding belongs to. */
export type FuzzOracle = 'bricked' | 'unverified-boot' | 'invalid-env' | 'converged';

/** What an oracle found; the message names the robot (through `where`) and what is wrong. */
export interface FuzzFinding {
  oracle: FuzzOracle;
  outcome: 'wrong' | 'could-not-tell';
  message: string;
}

const wrong = (oracle: FuzzOracle, message: string): FuzzFinding => ({ oracle, outcome: 'wrong', message });
const unknown = (oracle: FuzzOracle, message: string): FuzzFinding => ({
  oracle,
  outcome: 'could-not-tell',
  message,
});

/**
 * The disk after a cut, before power-on: a valid boot environment (invalid environment), something
 * to boot (bricked), and what the bootloader would boot is verified, committed unless it is a
 * trial, and holds a payload that was installed or deployed (`installed`: their SHA-256s).
 */
export function judgeDiskAfterCut(
  where: string,
  disk: DiskState | UnbootableDisk,
  installed: ReadonlySet<string>,
): FuzzFinding[] {
  // Every finding shows the disk as the next power-on reads it: what a replay has to reproduce.
  const state = describeDisk(disk);
  if ('unbootable' in disk) {
    return [
      wrong('invalid-env', `${where}: no valid copy of the boot environment: ${disk.unbootable} (${state})`),
      wrong('bricked', `${where}: bricked: ${disk.unbootable} (${state})`),
    ];
  }
  const findings: FuzzFinding[] = [];
  if (disk.envSource === 'fallback') {
    findings.push(
      wrong(
        'invalid-env',
        `${where}: no valid copy of the boot environment: ${disk.envProblems.join('; ')} (${state})`,
      ),
    );
  }
  if ('error' in disk.nextBoot) {
    findings.push(wrong('bricked', `${where}: bricked: ${disk.nextBoot.error} (${state})`));
    return findings;
  }
  const next = disk.slots[disk.nextBoot.slot];
  // Only a trial boots a slot that is not committed; everything else boots a known-good one.
  const mustBeCommitted = disk.nextBoot.event !== 'trial';
  const unverified = [
    mustBeCommitted &&
      next.meta.state !== 'committed' &&
      `a ${disk.nextBoot.event} boot of slot ${next.slot}, which is ${next.meta.state}, not committed`,
    !['written', 'committed'].includes(next.meta.state) && `slot ${next.slot} is ${next.meta.state}`,
    !next.bootable && `slot ${next.slot} does not verify: ${next.problem ?? '?'}`,
    !installed.has(next.contentSha256 ?? '') &&
      `slot ${next.slot} holds a payload never installed or deployed`,
  ].filter((problem): problem is string => typeof problem === 'string');
  if (unverified.length) {
    findings.push(
      wrong(
        'unverified-boot',
        `${where}: would boot an unverified slot: ${unverified.join('; ')} (${state})`,
      ),
    );
  }
  return findings;
}

/**
 * A power-on that did not bring the robot up: bricked when the robot died (its host gave up: no
 * slot to boot, or committed software failing boot after boot); when it is still powered and only
 * slow, nobody can tell yet, since its own watchdog ends a boot that truly hangs.
 */
export function judgePowerOn(where: string, failure: { died: boolean; message: string }): FuzzFinding {
  return failure.died
    ? wrong('bricked', `${where}: did not come up after power-on: ${failure.message}`)
    : unknown('bricked', `${where}: could not tell whether it came up: ${failure.message}`);
}

/**
 * The software running is what the bootloader's decision (`decided`, the disk read before power-on)
 * booted, or, when the robot has moved on since (its update went on and rebooted it, or the
 * watchdog rolled a crash back), what its disk says is active now (`now`, read after the answer).
 * Every boot, and every OTA step that changes what boots, writes the environment, so a generation
 * more than one past the decided one (the power-on boot's own write) says the robot moved on while
 * it was asked; an answer that fits neither is then no evidence either way.
 */
export function judgeRunning(
  where: string,
  decided: DiskState,
  answer: VersionAnswer,
  now: DiskState,
): FuzzFinding[] {
  if ('error' in decided.nextBoot) return [];
  const booted = decided.nextBoot.version;
  if ('unanswered' in answer) {
    return [
      unknown(
        'unverified-boot',
        `${where}: could not tell what runs (${answer.unanswered}); the bootloader booted ${booted} (${describeDisk(now)})`,
      ),
    ];
  }
  if (answer.version === booted || answer.version === now.activeVersion) return [];
  // Not "greater than": a real disk's generation is U-Boot's flag byte, which wraps at 256.
  const movedOn =
    now.envGeneration !== decided.envGeneration && now.envGeneration !== decided.envGeneration + 1;
  if (movedOn) {
    return [
      unknown(
        'unverified-boot',
        `${where}: could not tell what the power-on booted: it runs ${answer.version}, the bootloader booted ${booted}, ` +
          `and the robot moved on while asked (environment generation ${decided.envGeneration} → ${now.envGeneration}; ${describeDisk(now)})`,
      ),
    ];
  }
  return [
    wrong(
      'unverified-boot',
      `${where}: runs ${answer.version}, but the bootloader booted ${booted} (${describeDisk(now)})`,
    ),
  ];
}

/** An update the fuzz let run to its end. */
export interface FinishedUpdate {
  variant: RobotVariant;
  fromVersion: string;
  version: string;
  /** The robot's entry in the deployment: its terminal status, or none when it is not listed. */
  status: string | null | undefined;
}

/**
 * The update converged: a terminal status, never success for a bad image, and the robot ends on
 * the version the status says (the new one on success, the one before it on failure), runs it,
 * committed, with nothing pending.
 */
export function judgeConvergence(
  what: string,
  update: FinishedUpdate,
  disk: DiskState,
  running: VersionAnswer,
): FuzzFinding[] {
  const { status } = update;
  const ends = status === 'success' ? update.version : update.fromVersion;
  const problems = [
    status !== 'success' && status !== 'failure' && `status ${status ?? 'none'}`,
    status === 'success' && update.variant !== 'good' && `a ${update.variant} image was committed`,
    disk.activeVersion !== ends && `ends on ${disk.activeVersion}, expected ${ends}`,
    'version' in running && running.version !== ends && `runs ${running.version}, expected ${ends}`,
    disk.env.upgrade_available !== 0 && 'an upgrade is still pending',
    disk.slots[disk.env.active].meta.state !== 'committed' && 'the active slot is not committed',
  ].filter((problem): problem is string => typeof problem === 'string');
  if (problems.length) {
    return [wrong('converged', `${what}: did not converge: ${problems.join('; ')} (${describeDisk(disk)})`)];
  }
  if ('unanswered' in running) {
    return [
      unknown(
        'converged',
        `${what}: could not tell what runs at the end (${running.unanswered}); the disk ends on ${ends} (${describeDisk(disk)})`,
      ),
    ];
  }
  return [];
}
