/**
 * Power-cut fuzzing of whole OTA updates: robots of a real embedded fleet update again and again
 * (mostly good images, some that fail their health checks or crash on boot) while their power is
 * cut at seeded-random moments: after a random time, after a random number of bytes downloaded
 * or written to the slot, or at a random state-script point. After every cut the robot's disk is
 * read as the next power-on will read it, the robot is powered on, and what it boots is checked;
 * after the last cut of each update, the update must converge.
 *
 * The oracles (fuzz-oracles.ts):
 *  - bricked: the next power-on has nothing to boot, or the robot dies instead of coming up;
 *  - unverified boot: the slot a power-on boots is not written or committed, does not hash to its
 *    metadata, or holds a payload that was never installed (factory) or deployed; or the robot
 *    runs another version than the bootloader's decision says;
 *  - invalid environment: neither copy of the boot environment is valid;
 *  - converged: the update ended committed on its version (success), or on the version before it,
 *    committed, with the failure reported.
 *
 * Each finding is `wrong` or `could not tell`. A robot that does not answer (a busy machine), or
 * that moved on while it was asked, is no evidence of a fault: its finding is "could not tell",
 * listed apart in `could_not_tell`, and the run ends `inconclusive` rather than passing or
 * failing. Waits for an answer start again each time the robot is up again, so the time a robot
 * spends booting never counts against it.
 *
 * What each robot does comes from the seed alone (fuzz-plan.ts): its own stream of draws and a
 * fixed share of the cuts, so a seed replays the same cuts on the same robots in the same order.
 */
import { RobotDiedError } from '../core/errors.ts';
import { EventBus } from '../core/events.ts';
import { Fleet, type StartedFleet } from '../fleet/index.ts';
import { FACTORY_VERSION, provisionRobots } from './provision.ts';
import type { Robot } from '../fleet/robot.ts';
import { askVersion } from './ask.ts';
import { inspectDisk, inspectDiskOrUnbootable } from './disk.ts';
import { nextPatch } from './drills.ts';
import {
  classifyCut,
  classifyUpdateEnd,
  cutPoint,
  UPDATE_END_POINT,
  type CutObservation,
  type CutOutcome,
  type CutOutcomeEntry,
} from './fuzz-cut-outcome.ts';
import {
  judgeConvergence,
  judgeDiskAfterCut,
  judgePowerOn,
  judgeRunning,
  type FuzzFinding,
} from './fuzz-oracles.ts';
import {
  cutShares,
  describePlannedCut,
  planOtaFuzz,
  type PlannedCut,
  type PlannedUpdate,
} from './fuzz-plan.ts';
import { buildRobotVariant, type RobotVariant } from './variants.ts';
import { buildClientArtifact, buildRootfsImage } from './real/artifacts.ts';
import type { OtaClientName } from '../../protocol/disk-layout.ts';

/** Said in every summary: what a power cut here keeps that a real one would not. */
export const POWER_LOSS_MODEL =
  "SIGKILL of the robot's processes: the kernel's page cache survives it, so writes never fsynced survive a cut here, which a real power loss would drop";

export interface OtaFuzzOptions {
  /** Power cuts in all, shared out among the robots up front. */
  cuts: number;
  seed: number;
  /** Robots fuzzed side by side. Default 2. */
  robots?: number;
  /** Whose updates are cut: fleetdrill's own OTA client (default), or mender, rauc, swupdate on a real disk. */
  otaClient?: OtaClientName;
  /** Hears one line per cut and per update. */
  onProgress?: (line: string) => void;
  /** Stops taking cuts (Ctrl-C): the updates under way finish, the fleet is torn down. */
  signal?: AbortSignal;
}

/**
 * What a fuzz run found. `problems` says what was wrong, `could_not_tell` what could not be
 * judged (no answer, or the robot moved on while asked), the first 50 of each. `verdict`: `fail`
 * when anything was wrong, else `inconclusive` when anything could not be told, else `pass`.
 */
export interface OtaFuzzResult {
  verdict: 'pass' | 'fail' | 'inconclusive';
  cuts: number;
  bricked: number;
  unverified_boots: number;
  invalid_envs: number;
  /** Updates that ended consistently, out of `updates`. */
  converged: number;
  updates: number;
  committed: number;
  failures_reported: number;
  /** Checks that could not tell right from wrong: no verdict, and no pass either. */
  inconclusive: number;
  cuts_by: { time: number; bytes: number; state: number };
  /**
   * The cuts each robot took, in order, as drawn from the seed (`update 2 good: time 153 ms`):
   * the same for the same seed and robots, whatever the timing.
   */
  sequences: Record<string, string[]>;
  /**
   * What came of each cut, one entry per cut taken, robot by robot in the order of `sequences`:
   * where it fell and whether the robot came back on the old or the new software, or the first
   * wrong finding, or could not tell; plus an `update end` entry for each update that did not
   * converge (or whose convergence could not be told).
   */
  cut_outcomes: CutOutcomeEntry[];
  /** The OTA client whose updates were cut. */
  ota_client: OtaClientName;
  /**
   * What a cut is here: SIGKILL of every process on the robot. The kernel's page cache survives
   * it, so writes that were never fsynced survive a cut, which a real power loss would drop.
   */
  power_loss: string;
  seed: number;
  robots: number;
  ms: number;
  cuts_per_min: number;
  problems: string[];
  could_not_tell: string[];
}

/** Longest wait for an armed cut before cutting by hand: the update went past its point. */
const ARMED_CUT_WAIT_MS = 10_000;
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
    provision: provisionRobots({
      software: { otaClient: options.otaClient ?? 'fleetdrill' },
      // Quick polls and a short health window: more updates, so more cuts land in them.
      agent: { metricsHz: 1, ota: { pollIntervalMs: 250, healthWindowMs: 1_500 } },
    }),
  }).start();
  const ids = fleet.roster.map((robot) => robot.id);
  const plan = planOtaFuzz(options.seed, ids, options.cuts);
  const shares = cutShares(options.cuts, ids);
  const run = new FuzzRun(fleet, options, robots);
  await Promise.all(
    fleet.roster.map((robot) => run.fuzzRobot(robot, plan.get(robot.id) ?? [], shares.get(robot.id) ?? 0)),
  );
  const result = run.result(Math.round(performance.now() - started));
  // A teardown that fails is reported with the result, not instead of it.
  await fleet.stop().catch((error: unknown) => {
    result.problems.push(`tearing the fleet down failed: ${(error as Error).message}`);
    result.verdict = 'fail';
  });
  return result;
}

interface Update {
  deploymentId: string;
  variant: RobotVariant;
  fromVersion: string;
  version: string;
}

class FuzzRun {
  private readonly totals = {
    cuts: 0,
    bricked: 0,
    unverified_boots: 0,
    invalid_envs: 0,
    converged: 0,
    updates: 0,
    committed: 0,
    failures_reported: 0,
    inconclusive: 0,
  };
  private readonly cutsBy = { time: 0, bytes: 0, state: 0 };
  private readonly problems: string[] = [];
  private readonly couldNotTell: string[] = [];
  private readonly sequences: Record<string, string[]> = {};
  /** Each robot's cut outcomes, in roster order whatever order the robots finish in. */
  private readonly cutOutcomes: Map<string, CutOutcomeEntry[]>;
  /** Why each robot that died did. */
  private readonly deaths = new Map<string, string>();

  constructor(
    private readonly fleet: StartedFleet,
    private readonly options: OtaFuzzOptions,
    private readonly robots: number,
  ) {
    this.cutOutcomes = new Map(fleet.roster.map((robot) => [robot.id, []]));
  }

  /**
   * One robot's loop. Whatever goes wrong in it becomes a problem in the summary rather than an
   * exception, so a run always ends with its summary; once stopping, what fails is the stop.
   */
  async fuzzRobot(robot: Robot, plan: readonly PlannedUpdate[], share: number): Promise<void> {
    this.sequences[robot.id] = [];
    try {
      await this.fuzzLoop(robot, plan, share);
    } catch (error) {
      const message = (error as Error).message;
      if (this.options.signal?.aborted) this.options.onProgress?.(`${robot.id}: stopped: ${message}`);
      else this.problem(`${robot.id}: the fuzz could not go on: ${message}`);
    }
  }

  /** The robot's planned updates, each cut as planned, until its share is taken or the run stops. */
  private async fuzzLoop(robot: Robot, plan: readonly PlannedUpdate[], share: number): Promise<void> {
    const installed = new Set<string>([await this.factorySha256()]);
    robot.onDeath((error) => this.deaths.set(robot.id, error.message));
    let taken = 0;
    for (const [index, planned] of plan.entries()) {
      if (this.options.signal?.aborted) return;
      let update: Update;
      try {
        update = await this.startUpdate(robot, planned.variant, installed);
      } catch (error) {
        // A Ctrl-C in a terminal reaches the whole foreground group, the artifact builder's
        // esbuild service too: once stopping, an update that cannot start is simply not started.
        if (this.options.signal?.aborted) return;
        throw error;
      }
      for (const planCut of planned.cuts) {
        if (this.options.signal?.aborted) break;
        taken++;
        this.sequences[robot.id]!.push(
          `update ${index + 1} ${planned.variant}: ${describePlannedCut(planCut)}`,
        );
        const how = await this.cut(robot, planCut, update);
        const where = `${robot.id} cut ${taken} of ${share} (${how}, ${update.variant} ${update.fromVersion}→${update.version})`;
        if (!(await this.judgeCut(robot, planCut, update, installed, where))) return;
      }
      const end = await this.finish(robot, update);
      if (end)
        this.cutOutcomes.get(robot.id)!.push({ robot: robot.id, point: UPDATE_END_POINT, outcome: end });
    }
  }

  result(ms: number): OtaFuzzResult {
    // Every wrong finding is a problem; every update ends converged, in a problem, or untold.
    const wrong = this.problems.length > 0;
    return {
      verdict: wrong ? 'fail' : this.totals.inconclusive > 0 ? 'inconclusive' : 'pass',
      ...this.totals,
      cuts_by: { ...this.cutsBy },
      sequences: structuredClone(this.sequences),
      cut_outcomes: [...this.cutOutcomes.values()].flat(),
      ota_client: this.client,
      power_loss: POWER_LOSS_MODEL,
      seed: this.options.seed,
      robots: this.robots,
      ms,
      cuts_per_min: Math.round((this.totals.cuts / (ms / 60_000)) * 10) / 10,
      problems: this.problems.slice(0, MAX_PROBLEMS),
      could_not_tell: this.couldNotTell.slice(0, MAX_PROBLEMS),
    };
  }

  private async startUpdate(robot: Robot, variant: RobotVariant, installed: Set<string>): Promise<Update> {
    const fromVersion = (await inspectDisk(robot.diskPath)).activeVersion;
    const version = nextPatch(fromVersion);
    const built = await this.build(variant, version);
    installed.add(built.softwareSha256);
    const artifact = await this.fleet.ota.upload(built.path);
    const deployment = await this.fleet.ota.deploy({
      name: `fuzz ${robot.id} ${version} ${variant}`,
      artifactId: artifact.id,
      robots: [robot.id],
    });
    this.totals.updates++;
    return { deploymentId: deployment.id, variant, fromVersion, version };
  }

  private get client(): OtaClientName {
    return this.options.otaClient ?? 'fleetdrill';
  }

  /** What the factory image's slot holds: the payload every robot starts from. */
  private async factorySha256(): Promise<string> {
    if (this.client === 'fleetdrill')
      return (await buildRobotVariant({ variant: 'good', version: FACTORY_VERSION })).sha256;
    return (await buildRootfsImage('good', FACTORY_VERSION)).meta.sha256;
  }

  /** An update's artifact for the fleet's client, and the software its slot will hold. */
  private async build(
    variant: RobotVariant,
    version: string,
  ): Promise<{ path: string; softwareSha256: string }> {
    const client = this.client;
    if (client === 'fleetdrill') {
      const built = await buildRobotVariant({ variant, version });
      return { path: built.path, softwareSha256: built.sha256 };
    }
    return buildClientArtifact({ client, variant, version });
  }

  /** Cuts the robot's power the way the plan says; says how it went. */
  private async cut(robot: Robot, planned: PlannedCut, update: Update): Promise<string> {
    if (planned.by === 'time') {
      await sleep(planned.ms);
      await robot.powerCut();
      this.cutsBy.time++;
      this.totals.cuts++;
      return `after ${planned.ms} ms`;
    }
    const at = planned.at;
    const afterBytes = planned.by === 'bytes' ? planned.afterBytes : undefined;
    this.cutsBy[planned.by]++;
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

  /**
   * Checks a cut that was taken and records its outcome, exactly one per cut. False when the
   * robot cannot go on.
   */
  private async judgeCut(
    robot: Robot,
    planned: PlannedCut,
    update: Update,
    installed: ReadonlySet<string>,
    where: string,
  ): Promise<boolean> {
    const outcomes = this.cutOutcomes.get(robot.id)!;
    const point = cutPoint(planned);
    let seen: CutObservation & { goesOn: boolean };
    try {
      seen = await this.checkAfterCut(robot, installed, where);
    } catch (error) {
      // The cut was taken and nothing was told of it: an entry all the same, never a silent gap.
      outcomes.push({ robot: robot.id, point, outcome: 'could-not-tell' });
      throw error;
    }
    const died = seen.goesOn ? this.deaths.get(robot.id) : undefined;
    if (died) {
      const finding: FuzzFinding = {
        oracle: 'bricked',
        outcome: 'wrong',
        message: `${where}: the robot died: ${died}`,
      };
      this.record([finding]);
      seen.findings = [...seen.findings, finding];
    }
    outcomes.push({ robot: robot.id, point, outcome: classifyCut(seen, update) });
    return seen.goesOn && !died;
  }

  /**
   * The oracles after a cut, then power-on and what it booted: what was seen, and whether the
   * robot can go on.
   */
  private async checkAfterCut(
    robot: Robot,
    installed: ReadonlySet<string>,
    where: string,
  ): Promise<{ findings: FuzzFinding[]; booted?: string; goesOn: boolean }> {
    const disk = await inspectDiskOrUnbootable(robot.diskPath);
    const findings = judgeDiskAfterCut(where, disk, installed);
    this.record(findings);
    if ('unbootable' in disk || findings.some((finding) => finding.oracle === 'bricked'))
      return { findings, goesOn: false };
    try {
      await robot.powerOn({ readyTimeoutMs: READY_TIMEOUT_MS });
    } catch (error) {
      const message = (error as Error).message;
      const died = error instanceof RobotDiedError || this.deaths.has(robot.id) || !robot.powered;
      const poweredOn = judgePowerOn(where, { died, message });
      this.record([poweredOn]);
      return { findings: [...findings, poweredOn], goesOn: false };
    }
    // Each ask waits for the robot to be up (ask.ts): a robot busy booting is no wrong answer.
    const answer = await askVersion(robot, { readyTimeoutMs: READY_TIMEOUT_MS });
    // Read after the answer: what the robot may have moved on to while it was asked.
    const now = await inspectDisk(robot.diskPath);
    const running = judgeRunning(where, disk, answer, now);
    this.record(running);
    if (!('error' in disk.nextBoot)) {
      this.options.onProgress?.(`${where}: booted ${disk.nextBoot.version} (${disk.nextBoot.event})`);
    }
    const booted = 'version' in answer && !('error' in disk.nextBoot) ? disk.nextBoot.version : undefined;
    return { findings: [...findings, ...running], ...(booted !== undefined && { booted }), goesOn: true };
  }

  /**
   * Lets the update run to its end, uncut, and checks that it converged; returns the outcome to
   * plot at the update's end when it did not converge or could not be told.
   */
  private async finish(robot: Robot, update: Update): Promise<CutOutcome | undefined> {
    const what = `${robot.id} update ${update.fromVersion}→${update.version} (${update.variant})`;
    try {
      const done = await this.fleet.ota.waitUntilFinished(update.deploymentId, {
        timeoutMs: UPDATE_TIMEOUT_MS,
      });
      const entry = done.robots.find((r) => r.robotId === robot.id);
      // Not a bare readiness wait first: a robot slow to come up is "could not tell", not a failure.
      const running = await askVersion(robot, { readyTimeoutMs: READY_TIMEOUT_MS });
      const disk = await inspectDisk(robot.diskPath);
      const findings = judgeConvergence(what, { ...update, status: entry?.status }, disk, running);
      this.record(findings);
      if (findings.length) return classifyUpdateEnd(findings);
      this.totals.converged++;
      if (entry?.status === 'success') this.totals.committed++;
      else this.totals.failures_reported++;
      this.options.onProgress?.(`${what}: ${entry?.status} (${entry?.message ?? ''})`);
    } catch (error) {
      this.problem(`${what}: did not converge: ${(error as Error).message}`);
      return 'not-converged';
    }
    return undefined;
  }

  /** Counts findings under their oracle; "could not tell" goes apart from what is wrong. */
  private record(findings: readonly FuzzFinding[]): void {
    for (const finding of findings) {
      if (finding.outcome === 'could-not-tell') {
        this.totals.inconclusive++;
        this.couldNotTell.push(finding.message);
        this.options.onProgress?.(`COULD NOT TELL ${finding.message}`);
        continue;
      }
      if (finding.oracle === 'bricked') this.totals.bricked++;
      else if (finding.oracle === 'unverified-boot') this.totals.unverified_boots++;
      else if (finding.oracle === 'invalid-env') this.totals.invalid_envs++;
      this.problem(finding.message);
    }
  }

  private problem(text: string): void {
    this.problems.push(text);
    this.options.onProgress?.(`PROBLEM ${text}`);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
