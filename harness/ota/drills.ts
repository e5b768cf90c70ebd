/**
 * OTA drills as rows of data, run by one runner, the way Mender's integration suite runs its
 * state-script cases: each row says what is deployed, where a power cut hits, and what must come
 * of it (the reported states in order, the terminal status, and the version the robot ends on).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StateScriptPoint } from '../../protocol/power-cut.ts';
import type { DeploymentDetail, TerminalStatus } from '../../protocol/ota-cloud.ts';
import { payloadRange } from '../../protocol/artifact.ts';
import type { StartedFleet } from '../fleet/index.ts';
import { askVersion, askWhileUp, describeVersionAnswer, type Unanswered, type VersionAnswer } from './ask.ts';
import { buildArtifact } from './build.ts';
import { describeDisk, inspectDisk, type DiskState } from './disk.ts';
import { reportedStates } from '../fleet/index.ts';
import { loadTestKeyPair } from './keys.ts';
import { buildRobotVariant, DRILL_SLOT_CAPACITY, type RobotVariant } from './variants.ts';
import { buildClientArtifact } from './real/artifacts.ts';
import { otherSlot, type SlotCheck } from '../../reference/robot-host/index.ts';
import type { OtaClientName, RealOtaClientName } from '../../protocol/disk-layout.ts';

/** What a drill deploys. */
export type DrillArtifact =
  /** The reference software in a variant, one version up from what the robot runs. */
  | { variant: RobotVariant }
  /** A good image spoiled: a payload byte changed after signing, signed with a key the robot does not trust, or built for another model. */
  | { broken: 'tampered' | 'bad-signature' | 'wrong-model' }
  /** The version the robot already runs. */
  | { reinstall: true }
  /** The good reference software one version below what the robot runs ({@link previousVersion}), correctly signed. */
  | { older: true };

/** One row of a drill table. */
export interface OtaDrill {
  name: string;
  artifact: DrillArtifact;
  /**
   * A power cut armed before the deployment, at a state-script point of the robot's OTA client;
   * for Download and ArtifactInstall, once `afterFraction` of the bytes are on the disk.
   */
  powerCut?: { at: StateScriptPoint; afterFraction?: number };
  /** The deployment's allowDowngrade; default the cloud's (false). */
  allowDowngrade?: boolean;
  expect: {
    status: TerminalStatus;
    /** The version the robot ends on: the one it had, or the one deployed. */
    ends: 'old' | 'new';
    /** The states the robot reported, in order, the terminal one included. */
    states: readonly string[];
  };
}

/** What a drill did, and what of it broke the row's expectations. */
export interface OtaDrillResult {
  drill: string;
  robot: string;
  fromVersion: string;
  deployedVersion: string;
  deploymentId: string;
  states: string[];
  status: TerminalStatus | null;
  message: string | null;
  /** Where the injected power cut hit, when the row has one. */
  powerCutAt?: string;
  before: DiskState;
  after: DiskState;
  /** The version the software reports over /get_version at the end; null when it gave no answer. */
  runningVersion: string | null;
  /** Whether the robot booted again; null when its agent gave no answer. */
  rebooted: boolean | null;
  /** Bytes of the artifact the cloud served to the robot during this deployment. */
  bytesFetched: number;
  ms: number;
  /** Empty when the row held. */
  problems: string[];
}

/** `1.0.3` → `1.0.4`: the next version a drill deploys. */
export function nextPatch(version: string): string {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!match) throw new Error(`cannot bump version "${version}": not major.minor.patch`);
  return `${match[1]}.${match[2]}.${Number(match[3]) + 1}`;
}

/**
 * A version older than `version` by SemVer precedence: its last non-zero part one lower, the
 * parts after it kept at zero (`1.0.3` → `1.0.2`, `1.2.0` → `1.1.0`, `1.0.0` → `0.0.0`).
 */
export function previousVersion(version: string): string {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!match) throw new Error(`cannot go below version "${version}": not major.minor.patch`);
  const parts = match.slice(1, 4).map(Number);
  const last = parts.findLastIndex((part) => part > 0);
  if (last < 0) throw new Error(`no version is older than ${version}`);
  parts[last]! -= 1;
  return parts.join('.');
}

/** The version a row deploys to a robot that runs `running`. */
function versionFor(artifact: DrillArtifact, running: string): string {
  if ('reinstall' in artifact) return running;
  if ('older' in artifact) return previousVersion(running);
  return nextPatch(running);
}

/** Runs one row on one robot of the fleet, to the end, and judges it. */
export async function runOtaDrill(
  fleet: StartedFleet,
  robotId: string,
  drill: OtaDrill,
  options: { timeoutMs?: number } = {},
): Promise<OtaDrillResult> {
  const started = performance.now();
  const robot = fleet.robot(robotId);
  const before = await inspectDisk(robot.diskPath);
  const bootBefore = (await robot.agent.waitUntilReady()).boot_id;
  const fromVersion = before.activeVersion;
  const deployedVersion = versionFor(drill.artifact, fromVersion);
  const artifact = await drillArtifact(drill.artifact, deployedVersion, fleet.info.otaClient);
  const info = await fleet.ota.upload(artifact);

  let cut: Promise<string> | undefined;
  if (drill.powerCut) {
    const { at, afterFraction } = drill.powerCut;
    const size =
      at === 'Download' ? info.size : at === 'ArtifactInstall' ? info.manifest.payload.size : undefined;
    const afterBytes =
      afterFraction === undefined || size === undefined ? undefined : Math.floor(size * afterFraction);
    await robot.armPowerCut({ at, afterBytes });
    cut = robot.waitForInjectedPowerCut(options.timeoutMs ?? 120_000);
  }
  // The cloud counts an artifact's bytes per robot over every deployment of it (a drill before this
  // one may have sent the same build): what this deployment fetched is the difference.
  const servedBefore = await bytesServedTo(fleet, info.id, robotId);
  const deployment = await fleet.ota.deploy({
    name: `${drill.name} on ${robotId}`,
    artifactId: info.id,
    robots: [robotId],
    ...(drill.allowDowngrade === undefined ? {} : { allowDowngrade: drill.allowDowngrade }),
  });
  let powerCutAt: string | undefined;
  if (cut) {
    powerCutAt = await cut;
    await robot.powerOn();
  }
  const finished = await fleet.ota.waitUntilFinished(deployment.id, {
    timeoutMs: options.timeoutMs ?? 120_000,
  });
  // Each ask waits for the robot to be up again and tries a few times (ask.ts): on a busy
  // machine the drill ends "could not tell", never on a version the robot does not run.
  const runningVersion = await askVersion(robot);
  // The agent starts a moment after its robot: each try polls it for longer than a single call.
  const bootAfter = await askWhileUp(
    robot,
    '/edge_agent/status',
    async (timeoutMs) => (await robot.agent.waitUntilReady(timeoutMs)).boot_id,
    { askTimeoutMs: 15_000 },
  );
  const after = await inspectDisk(robot.diskPath);
  const result = judgeOtaDrill(drill, robotId, finished, {
    fromVersion,
    deployedVersion,
    before,
    after,
    bytesFetched: (await bytesServedTo(fleet, info.id, robotId)) - servedBefore,
    runningVersion,
    rebooted: 'told' in bootAfter ? bootAfter.told !== bootBefore : bootAfter,
  });
  return { ...result, powerCutAt, ms: Math.round(performance.now() - started) };
}

/** Bytes of artifact `artifactId` the cloud has served to `robotId`, over all deployments. */
async function bytesServedTo(fleet: StartedFleet, artifactId: string, robotId: string): Promise<number> {
  const downloads = await fleet.ota.downloads(artifactId);
  return downloads.robots.find((entry) => entry.robotId === robotId)?.bytesServed ?? 0;
}

/** What a drill saw of the robot, for {@link judgeOtaDrill}. */
export interface OtaDrillEvidence {
  fromVersion: string;
  deployedVersion: string;
  /** The robot's disk before the deployment and after it finished. */
  before: DiskState;
  after: DiskState;
  /** Bytes of the artifact the cloud served to the robot during this deployment. */
  bytesFetched: number;
  /** What /get_version said at the end, or why it said nothing. */
  runningVersion: VersionAnswer;
  /** Whether the robot booted again (its agent's boot id changed), or why its agent said nothing. */
  rebooted: boolean | Unanswered;
}

/**
 * Judges one row against what happened: the terminal status, the states reported in order, a
 * reboot only where the row allows one, and the robot ending on the row's version, running it,
 * committed, with nothing pending and a next power-on that boots it. Each problem names the robot.
 * A question the robot did not answer is a problem that says "could not tell", never a wrong
 * outcome: the drill fails (a gate passes only on evidence), but it does not blame the product.
 * Pure, so that each check can be shown to fire on an outcome that is wrong.
 */
export function judgeOtaDrill(
  drill: OtaDrill,
  robotId: string,
  deployment: DeploymentDetail,
  seen: OtaDrillEvidence,
): Omit<OtaDrillResult, 'ms' | 'powerCutAt'> {
  const robot = deployment.robots.find((entry) => entry.robotId === robotId);
  const states = robot ? reportedStates(robot) : [];
  const problems: string[] = [];
  const { after, before } = seen;
  if (!robot) problems.push(`deployment ${deployment.id} does not list ${robotId}`);
  if (robot?.status !== drill.expect.status) {
    problems.push(
      `status ${robot?.status ?? 'none'}, expected ${drill.expect.status} (${robot?.message ?? 'no message'})`,
    );
  }
  if (states.join(' ') !== drill.expect.states.join(' ')) {
    problems.push(`states [${states.join(', ')}], expected [${drill.expect.states.join(', ')}]`);
  }
  // A refusal must come before any reboot; a power cut is a reboot of its own.
  const mayReboot = drill.expect.states.includes('ArtifactReboot') || drill.powerCut !== undefined;
  if (typeof seen.rebooted !== 'boolean') {
    problems.push(untold('whether the robot rebooted', seen.rebooted));
  } else if (seen.rebooted && !mayReboot) {
    problems.push('the robot rebooted, though the update was refused before it');
  } else if (!seen.rebooted && mayReboot) problems.push('the robot never rebooted');
  const endVersion = drill.expect.ends === 'new' ? seen.deployedVersion : seen.fromVersion;
  if (after.activeVersion !== endVersion) {
    problems.push(
      `ends on ${after.activeVersion}, expected ${endVersion} (${drill.expect.ends}): ${describeDisk(after)}`,
    );
  }
  const running = seen.runningVersion;
  if ('unanswered' in running) {
    problems.push(
      running.died
        ? running.unanswered
        : `${describeVersionAnswer(running)}: no verdict on what the software runs (expected ${endVersion})`,
    );
  } else if (running.version !== endVersion) {
    problems.push(`the software reports ${running.version}, expected ${endVersion}`);
  }
  if (drill.expect.ends === 'old' && after.env.active !== before.env.active) {
    problems.push(`active slot ${after.env.active}, expected the old slot ${before.env.active}`);
  }
  // Refused on the offer (no Download state): not a byte of the artifact may have been fetched.
  if (!drill.expect.states.includes('Download') && drill.powerCut === undefined && seen.bytesFetched > 0) {
    problems.push(`fetched ${seen.bytesFetched} bytes of the artifact, though the offer was refused`);
  }
  // Refused before ArtifactInstall: not a byte may have reached the standby slot.
  if (!drill.expect.states.includes('ArtifactInstall') && drill.powerCut === undefined) {
    const standby = otherSlot(before.env.active);
    const [was, is] = [slotSummary(before.slots[standby]), slotSummary(after.slots[standby])];
    if (was !== is) problems.push(`the refused update changed standby slot ${standby}: ${was} → ${is}`);
  }
  if (after.slots[after.env.active].meta.state !== 'committed') {
    problems.push(`the active slot is ${after.slots[after.env.active].meta.state}, not committed`);
  }
  if (after.env.upgrade_available !== 0) problems.push(`an upgrade is still pending: ${describeDisk(after)}`);
  if ('error' in after.nextBoot)
    problems.push(`bricked: the next power-on would fail: ${after.nextBoot.error}`);
  else if (after.nextBoot.version !== endVersion) {
    problems.push(`the next power-on boots ${after.nextBoot.version}, expected ${endVersion}`);
  }
  return {
    drill: drill.name,
    robot: robotId,
    fromVersion: seen.fromVersion,
    deployedVersion: seen.deployedVersion,
    deploymentId: deployment.id,
    states,
    status: robot?.status ?? null,
    message: robot?.message ?? null,
    before,
    after,
    runningVersion: 'version' in running ? running.version : null,
    rebooted: typeof seen.rebooted === 'boolean' ? seen.rebooted : null,
    bytesFetched: seen.bytesFetched,
    problems: problems.map((problem) => `robot ${robotId}: ${problem}`),
  };
}

/** What a slot holds, as one comparable line. */
function slotSummary(check: SlotCheck): string {
  const { state, version, size, sha256 } = check.meta;
  return `${state} ${version || '(no version)'} ${size} bytes, meta sha256 ${sha256 || 'none'}, content ${check.contentSha256 ?? 'none'}`;
}

/** A question the robot left unanswered: "could not tell", unless the robot died, which is evidence. */
function untold(what: string, answer: Unanswered): string {
  return answer.died ? answer.unanswered : `could not tell ${what} (${answer.unanswered})`;
}

/** The artifact file's bytes for a row, for the fleet's OTA client. */
async function drillArtifact(
  artifact: DrillArtifact,
  version: string,
  client: OtaClientName,
): Promise<Uint8Array> {
  if (client !== 'fleetdrill') return realClientArtifact(artifact, version, client);
  const capacity = DRILL_SLOT_CAPACITY;
  if ('variant' in artifact) {
    return readFile(
      (await buildRobotVariant({ variant: artifact.variant, version, slotCapacityBytes: capacity })).path,
    );
  }
  if ('reinstall' in artifact || 'older' in artifact) {
    return readFile(
      (await buildRobotVariant({ variant: 'good', version, slotCapacityBytes: capacity })).path,
    );
  }
  switch (artifact.broken) {
    case 'wrong-model': {
      const built = await buildRobotVariant({ variant: 'good', version, compatibleModels: ['fd-other-9'] });
      return readFile(built.path);
    }
    case 'tampered': {
      const built = await buildRobotVariant({ variant: 'good', version });
      const bytes = await readFile(built.path);
      const { offset, length } = await payloadRange(built.path);
      // One bit of the payload, after signing: the manifest's hash no longer matches.
      const at = offset + Math.floor(length / 2);
      bytes[at] = bytes[at]! ^ 0x01;
      return bytes;
    }
    case 'bad-signature': {
      const built = await buildRobotVariant({ variant: 'good', version });
      const { offset, length } = await payloadRange(built.path);
      const payload = (await readFile(built.path)).subarray(offset, offset + length);
      const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-ota-'));
      try {
        const out = join(dir, 'untrusted.fdart');
        await buildArtifact({
          name: built.manifest.name,
          version,
          compatibleModels: built.manifest.compatibleModels,
          payload,
          privateKey: loadTestKeyPair('untrusted-ota').privateKey,
          out,
        });
        return await readFile(out);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  }
}

/** A row's artifact for a real client, built with its own tool and keys. */
async function realClientArtifact(
  artifact: DrillArtifact,
  version: string,
  client: RealOtaClientName,
): Promise<Uint8Array> {
  const options =
    'variant' in artifact
      ? { variant: artifact.variant }
      : 'reinstall' in artifact || 'older' in artifact
        ? { variant: 'good' as const }
        : artifact.broken === 'tampered'
          ? { variant: 'good' as const, tampered: true }
          : artifact.broken === 'bad-signature'
            ? { variant: 'good' as const, key: 'untrusted' as const }
            : { variant: 'good' as const, deviceType: 'fd-other-9' };
  if (options.variant === 'too-large') {
    throw new Error(
      `the too-large drill is fleetdrill's client's own (a real client's partition size is the disk's)`,
    );
  }
  const built = await buildClientArtifact({ client, version, ...options });
  return readFile(built.path);
}
