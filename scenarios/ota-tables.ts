/**
 * The OTA drill tables: one row per drill, run by `runOtaDrill`. Expectations follow the
 * reference (shared/reference/ota.md) and Mender's integration suite: the exact states reported,
 * the terminal status, and the version the robot ends on.
 */
import type { OtaDrill } from '../harness/index.ts';

const UPDATE = ['Download', 'ArtifactInstall', 'ArtifactReboot'] as const;
const COMMITTED = [...UPDATE, 'ArtifactCommit'];
/** The health checks failed: the client rolls back itself and says so before the second reboot. */
const ROLLED_BACK = [...UPDATE, 'ArtifactRollback', 'ArtifactRollbackReboot', 'ArtifactFailure'];
/** The bootloader rolled back (or the rollback reports had no network): only the failure arrives. */
const FAILED_AFTER_REBOOT = [...UPDATE, 'ArtifactFailure'];
/** Refused before anything was written or rebooted. */
const REFUSED = ['Download', 'ArtifactFailure'];

/** Each software variant, deployed to a robot running good software. */
export const VARIANT_DRILLS: readonly OtaDrill[] = [
  {
    name: 'good software is committed',
    artifact: { variant: 'good' },
    expect: { status: 'success', ends: 'new', states: COMMITTED },
  },
  {
    name: 'software failing its self-test is rolled back',
    artifact: { variant: 'fails-self-test' },
    expect: { status: 'failure', ends: 'old', states: ROLLED_BACK },
  },
  {
    // Its rollback reports cannot leave a robot whose network it broke; the failure does, after.
    name: 'software that cannot reach the cloud is rolled back',
    artifact: { variant: 'no-cloud' },
    expect: { status: 'failure', ends: 'old', states: FAILED_AFTER_REBOOT },
  },
  {
    name: 'software crashing on boot is rolled back by the bootloader',
    artifact: { variant: 'crashes-on-boot' },
    expect: { status: 'failure', ends: 'old', states: FAILED_AFTER_REBOOT },
  },
  {
    name: 'software booting past the watchdog deadline is rolled back by the bootloader',
    artifact: { variant: 'slow-boot' },
    expect: { status: 'failure', ends: 'old', states: FAILED_AFTER_REBOOT },
  },
  {
    name: 'an image too large for the slot is refused without a reboot',
    artifact: { variant: 'too-large' },
    expect: { status: 'failure', ends: 'old', states: REFUSED },
  },
];

/** Artifacts the robot must refuse before it writes a byte or reboots. */
export const REFUSED_DRILLS: readonly OtaDrill[] = [
  {
    name: 'a tampered payload is refused',
    artifact: { broken: 'tampered' },
    expect: { status: 'failure', ends: 'old', states: REFUSED },
  },
  {
    name: 'an artifact signed with an untrusted key is refused',
    artifact: { broken: 'bad-signature' },
    expect: { status: 'failure', ends: 'old', states: REFUSED },
  },
  {
    name: 'an artifact for another robot model is refused',
    artifact: { broken: 'wrong-model' },
    expect: { status: 'failure', ends: 'old', states: REFUSED },
  },
  {
    name: 'the version already running is a no-op',
    artifact: { reinstall: true },
    expect: { status: 'already-installed', ends: 'old', states: ['already-installed'] },
  },
];

/** A power cut at each state of a good update. */
export const POWER_CUT_DRILLS: readonly OtaDrill[] = [
  {
    // The next boot resumes the download from the bytes already on the disk.
    name: 'a power cut in the middle of Download: resumed, committed',
    artifact: { variant: 'good' },
    powerCut: { at: 'Download', afterFraction: 0.5 },
    expect: { status: 'success', ends: 'new', states: ['Download', ...COMMITTED] },
  },
  {
    name: 'a power cut in the middle of ArtifactInstall: stays on the old slot',
    artifact: { variant: 'good' },
    powerCut: { at: 'ArtifactInstall', afterFraction: 0.5 },
    expect: { status: 'failure', ends: 'old', states: ['Download', 'ArtifactInstall', 'ArtifactFailure'] },
  },
  {
    // A power-on reset restarts the boot count: the trial boots, passes and is committed.
    name: 'a power cut instead of the reboot: the trial still boots and is committed',
    artifact: { variant: 'good' },
    powerCut: { at: 'ArtifactReboot_Enter' },
    expect: { status: 'success', ends: 'new', states: COMMITTED },
  },
  {
    name: 'a power cut entering ArtifactCommit: a second reboot rolls back',
    artifact: { variant: 'good' },
    powerCut: { at: 'ArtifactCommit_Enter' },
    expect: { status: 'failure', ends: 'old', states: ROLLED_BACK },
  },
  {
    // A power-on restarts the boot count, so the failed trial boots again: it must not be
    // committed for it (a real client's commit acts on what runs); another reboot rolls back.
    name: 'a power cut instead of the rollback reboot: the failed trial is still rolled back',
    artifact: { variant: 'fails-self-test' },
    powerCut: { at: 'ArtifactRollbackReboot_Enter' },
    expect: { status: 'failure', ends: 'old', states: ROLLED_BACK },
  },
  {
    name: 'a power cut leaving ArtifactCommit: ends on the new slot',
    artifact: { variant: 'good' },
    powerCut: { at: 'ArtifactCommit_Leave' },
    expect: { status: 'success', ends: 'new', states: COMMITTED },
  },
];

/** A real client refuses inside its install: the agent reported ArtifactInstall before it ran. */
const REFUSED_BY_CLIENT = ['Download', 'ArtifactInstall', 'ArtifactFailure'];

/**
 * The drill table a real client (Mender, RAUC, SWUpdate) must pass, over the same runner and
 * oracles: each variant, and the artifacts it must refuse, checked by the client itself.
 */
export const REAL_CLIENT_DRILLS: readonly OtaDrill[] = [
  VARIANT_DRILLS[0]!,
  VARIANT_DRILLS[1]!,
  VARIANT_DRILLS[3]!,
  {
    // Mender streams the image into the inactive partition and checks the checksum after:
    // the partition is overwritten, the environment is not. The old slot must still boot.
    name: 'a tampered image is refused and the old slot still boots',
    artifact: { broken: 'tampered' },
    expect: { status: 'failure', ends: 'old', states: REFUSED_BY_CLIENT },
  },
  {
    name: 'an artifact signed with an untrusted key is refused',
    artifact: { broken: 'bad-signature' },
    expect: { status: 'failure', ends: 'old', states: REFUSED_BY_CLIENT },
  },
  {
    name: 'an artifact for another device type is refused',
    artifact: { broken: 'wrong-model' },
    expect: { status: 'failure', ends: 'old', states: REFUSED_BY_CLIENT },
  },
];

/** Power cuts at the real clients' own state points, the ones Mender's scripts run. */
export const REAL_CLIENT_POWER_CUT_DRILLS: readonly OtaDrill[] = POWER_CUT_DRILLS.filter((drill) =>
  [
    'ArtifactInstall',
    'ArtifactCommit_Enter',
    'ArtifactCommit_Leave',
    'ArtifactRollbackReboot_Enter',
  ].includes(drill.powerCut?.at ?? ''),
);
