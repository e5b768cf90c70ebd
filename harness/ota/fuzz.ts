/**
 * Power-cut fuzzing of whole OTA updates: robots of a real embedded fleet update again and again
 * (mostly good images, some that fail their health checks or crash on boot) while their power is
 * cut at seeded-random moments: after a random time, after a random number of bytes downloaded
 * or written to the slot, or at a random state-script point. After every cut the robot's disk is
 * read as the next power-on will read it, the robot is powered on, and what it boots is checked;
 * after the last cut of each update, the update must converge.
 *
 * The oracles:
 *  - bricked: the next power-on has nothing to boot, or the robot does not come up;
 *  - unverified boot: the slot a power-on boots is not written or committed, does not hash to its
 *    metadata, or holds a payload that was never installed (factory) or deployed; or the robot
 *    runs another version than the bootloader's decision says;
 *  - invalid environment: neither copy of the boot environment is valid;
 *  - converged: the update ended committed on its version (success), or on the version before it,
 *    committed, with the failure reported.
 */
import type { StateScriptPoint } from '../../fixtures/edge-agent/ota/client.ts';
import { EventBus } from '../core/events.ts';
import { deriveSeed, SeededRandom } from '../core/seed.ts';
import { FACTORY_VERSION, Fleet, type StartedFleet } from '../fleet/fleet.ts';
import type { Robot } from '../fleet/robot.ts';
import { describeDisk, inspectDisk, type DiskState } from './disk.ts';
import { nextPatch } from './drills.ts';
import { buildRobotVariant, type RobotVariant } from './variants.ts';

export interface OtaFuzzOptions {
  /** Power cuts in all, across the robots. */
  cuts: number;
  seed: number;
  /** Robots fuzzed side by side. Default 2. */
  robots?: number;
  /** Hears one line per cut and per update. */
  onProgress?: (line: string) => void;
  /** Stops taking cuts (Ctrl-C): the updates under way finish, the fleet is torn down. */
  signal?: AbortSignal;
}

/** What a fuzz run found; `problems` says what broke, the first 50 of them. */
export interface OtaFuzzResult {
  cuts: number;
  bricked: number;
  unverified_boots: number;
  invalid_envs: number;
  /** Updates that ended consistently, out of `updates`. */
  converged: number;
  updates: number;
  committed: number;
  failures_reported: number;
  cuts_by: { time: number; bytes: number; state: number };
  seed: number;
  robots: number;
  ms: number;
  cuts_per_min: number;
  problems: string[];
}

const VARIANTS: ReadonlyArray<{ variant: RobotVariant; weight: number }> = [
  { variant: 'good', weight: 7 },
  { variant: 'fails-self-test', weight: 2 },
  { variant: 'crashes-on-boot', weight: 1 },
];
const BYTE_POINTS: readonly StateScriptPoint[] = ['Download', 'ArtifactInstall'];
const STATE_POINTS: readonly StateScriptPoint[] = [
  'ArtifactInstall_Enter',
  'ArtifactReboot_Enter',
  'ArtifactCommit_Enter',
  'ArtifactCommit_Leave',
];
/** Longest wait for an armed cut before cutting by hand: the update went past its point. */
const ARMED_CUT_WAIT_MS = 10_000;
const MAX_TIME_CUT_MS = 6_000;
const MAX_CUTS_PER_UPDATE = 3;
const UPDATE_TIMEOUT_MS = 120_000;
const READY_TIMEOUT_MS = 30_000;
const MAX_PROBLEMS = 50;

/** Runs the fuzz on a fleet of its own and tears it down, also on failure. */
export async function runOtaFuzz(options: OtaFuzzOptions): Promise<OtaFuzzResult> {
  if (!Number.isInteger(options.cuts) || options.cuts < 1)
    throw new Error(`cuts must be >= 1, got ${options.cuts}`);
  const robots = options.robots ?? 2;
  const started = performance.now();
  const fleet = await new Fleet({
    robots,
    seed: options.seed,
    world: 'empty',
    events: new EventBus(),
    // Quick polls and a short health window: more updates, so more cuts land in them.
    agent: { metricsHz: 1, ota: { pollIntervalMs: 250, healthWindowMs: 1_500 } },
  }).start();
  const run = new FuzzRun(fleet, options, robots);
  await Promise.all(fleet.roster.map((robot) => run.fuzzRobot(robot)));
  const result = run.result(Math.round(performance.now() - started));
  // A teardown that fails is reported with the result, not instead of it.
  await fleet.stop().catch((error: unknown) => {
    result.problems.push(`tearing the fleet down failed: ${(error as Error).message}`);
  });
  return result;
}

interface Update {
  deploymentId: string;
  variant: RobotVariant;
  fromVersion: string;
  version: string;
  cutsLeft: number;
}

class FuzzRun {
  private cutsTaken = 0;
  private readonly totals = {
    cuts: 0,
    bricked: 0,
    unverified_boots: 0,
    invalid_envs: 0,
    converged: 0,
    updates: 0,
    committed: 0,
    failures_reported: 0,
  };
  private readonly cutsBy = { time: 0, bytes: 0, state: 0 };
  private readonly problems: string[] = [];

  constructor(
    private readonly fleet: StartedFleet,
    private readonly options: OtaFuzzOptions,
    private readonly robots: number,
  ) {}

  /**
   * One robot's loop. Whatever goes wrong in it becomes a problem in the summary rather than an
   * exception, so a run always ends with its summary; once stopping, what fails is the stop.
   */
  async fuzzRobot(robot: Robot): Promise<void> {
    try {
      await this.fuzzLoop(robot);
    } catch (error) {
      const message = (error as Error).message;
      if (this.options.signal?.aborted) this.options.onProgress?.(`${robot.id}: stopped: ${message}`);
      else this.problem(`${robot.id}: the fuzz could not go on: ${message}`);
    }
  }

  /** Updates, each cut 1-3 times, until the run's cuts are taken. */
  private async fuzzLoop(robot: Robot): Promise<void> {
    // Each robot draws from its own stream, so one robot's pace does not change another's draws.
    const rng = new SeededRandom(deriveSeed(this.options.seed, 'ota-fuzz', robot.id));
    const factory = await buildRobotVariant({ variant: 'good', version: FACTORY_VERSION });
    const installed = new Set<string>([factory.sha256]);
    let update: Update | undefined;
    let died: string | undefined;
    robot.onDeath((error) => (died = error.message));
    while (this.takeCut()) {
      try {
        update ??= await this.startUpdate(robot, rng, installed);
      } catch (error) {
        // A Ctrl-C in a terminal reaches the whole foreground group, the artifact builder's
        // esbuild service too: once stopping, an update that cannot start is simply not started.
        if (this.options.signal?.aborted) return;
        throw error;
      }
      const how = await this.cut(robot, rng, update);
      const where = `${robot.id} cut ${this.totals.cuts} (${how}, ${update.variant} ${update.fromVersion}→${update.version})`;
      if (!(await this.checkAfterCut(robot, installed, where))) return;
      if (died) {
        this.problem(`${where}: the robot died: ${died}`);
        this.totals.bricked++;
        return;
      }
      if (--update.cutsLeft === 0) {
        await this.finish(robot, update);
        update = undefined;
      }
    }
    if (update) await this.finish(robot, update);
  }

  result(ms: number): OtaFuzzResult {
    return {
      ...this.totals,
      cuts_by: { ...this.cutsBy },
      seed: this.options.seed,
      robots: this.robots,
      ms,
      cuts_per_min: Math.round((this.totals.cuts / (ms / 60_000)) * 10) / 10,
      problems: this.problems.slice(0, MAX_PROBLEMS),
    };
  }

  private takeCut(): boolean {
    if (this.cutsTaken >= this.options.cuts || this.options.signal?.aborted) return false;
    this.cutsTaken++;
    return true;
  }

  private async startUpdate(robot: Robot, rng: SeededRandom, installed: Set<string>): Promise<Update> {
    const fromVersion = (await inspectDisk(robot.diskPath)).activeVersion;
    const version = nextPatch(fromVersion);
    const variant = pickVariant(rng);
    const built = await buildRobotVariant({ variant, version });
    installed.add(built.sha256);
    const artifact = await this.fleet.ota.upload(built.path);
    const deployment = await this.fleet.ota.deploy({
      name: `fuzz ${robot.id} ${version} ${variant}`,
      artifactId: artifact.id,
      robots: [robot.id],
    });
    this.totals.updates++;
    return {
      deploymentId: deployment.id,
      variant,
      fromVersion,
      version,
      cutsLeft: rng.int(1, MAX_CUTS_PER_UPDATE),
    };
  }

  /** Cuts the robot's power one of three ways; says how. */
  private async cut(robot: Robot, rng: SeededRandom, update: Update): Promise<string> {
    const mode = rng.int(0, 2);
    if (mode === 0) {
      const ms = rng.int(0, MAX_TIME_CUT_MS);
      await sleep(ms);
      await robot.powerCut();
      this.cutsBy.time++;
      this.totals.cuts++;
      return `after ${ms} ms`;
    }
    let at: StateScriptPoint;
    let afterBytes: number | undefined;
    if (mode === 1) {
      at = rng.pick(BYTE_POINTS);
      // Up to the size of the image (~1 MB): a draw past what the point sees never fires, and
      // the cut then comes by hand once the update has moved on.
      afterBytes = rng.int(0, 1_100_000);
      this.cutsBy.bytes++;
    } else {
      at = rng.pick(STATE_POINTS);
      this.cutsBy.state++;
    }
    const fired = robot.waitForInjectedPowerCut(ARMED_CUT_WAIT_MS).catch(() => undefined);
    try {
      await robot.armPowerCut({ at, afterBytes });
    } catch {
      // The agent is not up yet (the robot is booting): cut by hand.
    }
    // An update that ends before its point (refused, or failed by an earlier cut) never fires it.
    const ended = this.fleet.ota
      .waitUntilFinished(update.deploymentId, { timeoutMs: ARMED_CUT_WAIT_MS })
      .then(
        () => undefined,
        () => undefined,
      );
    const where = await Promise.race([fired, ended]);
    this.totals.cuts++;
    if (where !== undefined) return `armed at ${where}`;
    await robot.disarmPowerCuts().catch(() => undefined);
    await robot.powerCut();
    return `armed at ${at}${afterBytes === undefined ? '' : ` after ${afterBytes} bytes`}, never reached: by hand (${update.variant})`;
  }

  /** The oracles after a cut, then power-on and what it booted. False when the robot is bricked. */
  private async checkAfterCut(robot: Robot, installed: ReadonlySet<string>, where: string): Promise<boolean> {
    const disk = await inspectDisk(robot.diskPath);
    if (disk.envSource === 'fallback') {
      this.totals.invalid_envs++;
      this.problem(`${where}: no valid copy of the boot environment: ${disk.envProblems.join('; ')}`);
    }
    if ('error' in disk.nextBoot) {
      this.totals.bricked++;
      this.problem(`${where}: bricked: ${disk.nextBoot.error}`);
      return false;
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
      this.totals.unverified_boots++;
      this.problem(
        `${where}: would boot an unverified slot: ${unverified.join('; ')} (${describeDisk(disk)})`,
      );
    }
    try {
      await robot.powerOn({ readyTimeoutMs: READY_TIMEOUT_MS });
    } catch (error) {
      this.totals.bricked++;
      this.problem(`${where}: did not come up after power-on: ${(error as Error).message}`);
      return false;
    }
    await this.checkRunning(robot, disk, where);
    this.options.onProgress?.(`${where}: booted ${disk.nextBoot.version} (${disk.nextBoot.event})`);
    return true;
  }

  /** The software running is what the bootloader's decision booted. */
  private async checkRunning(robot: Robot, before: DiskState, where: string): Promise<void> {
    if ('error' in before.nextBoot) return;
    const running = await robot
      .version()
      .catch((error: unknown) => ({ version: `? (${(error as Error).message})` }));
    // The software may already have moved on (crashed and been rolled back by the watchdog):
    // then the disk says so, and what runs must match the disk's active slot.
    const now = await inspectDisk(robot.diskPath);
    if (running.version !== before.nextBoot.version && running.version !== now.activeVersion) {
      this.totals.unverified_boots++;
      this.problem(
        `${where}: runs ${running.version}, but the bootloader booted ${before.nextBoot.version} (${describeDisk(now)})`,
      );
    }
  }

  /** Lets the update run to its end, uncut, and checks that it converged. */
  private async finish(robot: Robot, update: Update): Promise<void> {
    const what = `${robot.id} update ${update.fromVersion}→${update.version} (${update.variant})`;
    try {
      const done = await this.fleet.ota.waitUntilFinished(update.deploymentId, {
        timeoutMs: UPDATE_TIMEOUT_MS,
      });
      const entry = done.robots.find((r) => r.robotId === robot.id);
      await robot.waitUntilReady(READY_TIMEOUT_MS);
      const disk = await inspectDisk(robot.diskPath);
      const running = (await robot.version()).version;
      const ends = entry?.status === 'success' ? update.version : update.fromVersion;
      const problems = [
        entry?.status !== 'success' && entry?.status !== 'failure' && `status ${entry?.status ?? 'none'}`,
        entry?.status === 'success' && update.variant !== 'good' && `a ${update.variant} image was committed`,
        disk.activeVersion !== ends && `ends on ${disk.activeVersion}, expected ${ends}`,
        running !== ends && `runs ${running}, expected ${ends}`,
        disk.env.upgrade_available !== 0 && 'an upgrade is still pending',
        disk.slots[disk.env.active].meta.state !== 'committed' && 'the active slot is not committed',
      ].filter((problem): problem is string => typeof problem === 'string');
      if (problems.length) {
        this.problem(`${what}: did not converge: ${problems.join('; ')} (${describeDisk(disk)})`);
        return;
      }
      this.totals.converged++;
      if (entry?.status === 'success') this.totals.committed++;
      else this.totals.failures_reported++;
      this.options.onProgress?.(`${what}: ${entry?.status} (${entry?.message ?? ''})`);
    } catch (error) {
      this.problem(`${what}: did not converge: ${(error as Error).message}`);
    }
  }

  private problem(text: string): void {
    this.problems.push(text);
    this.options.onProgress?.(`PROBLEM ${text}`);
  }
}

function pickVariant(rng: SeededRandom): RobotVariant {
  const total = VARIANTS.reduce((sum, entry) => sum + entry.weight, 0);
  let draw = rng.int(1, total);
  for (const entry of VARIANTS) {
    draw -= entry.weight;
    if (draw <= 0) return entry.variant;
  }
  return 'good';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
