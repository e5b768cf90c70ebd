import { FleetdrillError } from '../core/errors.ts';
import type { EventBus } from '../core/events.ts';
import type { StartedFleetNetwork } from '../net/network.ts';
import { ROBOT_TOPICS, type Odometry } from '../ros/messages.ts';
import { ROBOT_CAPABILITIES, type Robot, type RobotCapability } from './robot.ts';
import { robotConditions, type RobotCondition } from './robot-conditions.ts';
import { loadPerCore, readinessTotalMs } from './readiness.ts';

/**
 * The state a claim brings its robots to before the drill gets them.
 * - `reset` (the default, cheap): powered, thawed, on the network, every link clear, no power cut
 *   armed, at rest with no goal. The software keeps running: what it holds in memory stays.
 * - `fresh`: reset, then an orderly reboot (and its edge agent up), so the software starts clean.
 *   What a reboot keeps stays: pose and battery charge (the robot does not move while off), and
 *   its disk (the version it runs, the OTA slots, telemetry the agent had not sent).
 */
export type ClaimState = 'reset' | 'fresh';

/** What a drill asks of the robots it claims. */
export interface ClaimOptions {
  /** What every claimed robot must be able to do; the claim fails rather than hand out one that cannot. */
  needs?: readonly RobotCapability[];
  /** The state the robots are brought to; default `reset`. */
  state?: ClaimState;
}

/**
 * A claim the fleet cannot meet: too few robots, or too few with the capabilities asked for. The
 * report counts it with the harness failures: the drill could not run, the product was not judged.
 */
export class ClaimError extends FleetdrillError {}

/** What claims need of the fleet. */
export interface ClaimsFleet {
  readonly roster: readonly Robot[];
  readonly network: StartedFleetNetwork;
  readonly events: EventBus;
}

/**
 * The idle window of one robot's settling. Its power-on and reboot, and the wait for its agent,
 * follow progress with this window (readiness.ts); the steps that do not (rosbridge after a
 * reconnect, coming to rest) get the total bound: three windows for a lone robot on an idle
 * machine, more when several settle together or the machine is loaded.
 */
const SETTLE_WINDOW_MS = 10_000;

/**
 * One drill's robots. Each claim hands out robots no earlier claim of the drill holds, checked
 * for the capabilities asked for and brought to a known state, whatever the drills before left
 * on them. The `claim` fixture makes one per drill; the report attaches the robots it handed out.
 */
export class RobotClaims {
  private readonly held: Robot[] = [];

  constructor(private readonly fleet: ClaimsFleet) {}

  /** One robot. */
  async one(options: ClaimOptions = {}): Promise<Robot> {
    const [robot] = await this.take(1, options);
    return robot!;
  }

  /** `count` robots, in id order. */
  async some(count: number, options: ClaimOptions = {}): Promise<Robot[]> {
    return this.take(count, options);
  }

  /** Every robot of the fleet, for drills about the whole fleet. */
  async all(options: ClaimOptions = {}): Promise<Robot[]> {
    return this.take(this.fleet.roster.length, options);
  }

  /** Ids of the robots handed out so far, in id order. */
  get ids(): string[] {
    return this.fleet.roster.filter((robot) => this.held.includes(robot)).map((robot) => robot.id);
  }

  private async take(count: number, options: ClaimOptions): Promise<Robot[]> {
    const needs = options.needs ?? [];
    const state = options.state ?? 'reset';
    const asked = describeAsk(count, needs, state);
    if (!Number.isInteger(count) || count < 1) {
      throw new ClaimError(`${asked}: the count must be a whole number >= 1`);
    }
    const unknown = needs.filter((need) => !(ROBOT_CAPABILITIES as readonly string[]).includes(need));
    if (unknown.length) {
      throw new ClaimError(
        `${asked}: unknown capability ${unknown.map((u) => `'${u}'`).join(', ')} (known: ${ROBOT_CAPABILITIES.join(', ')})`,
      );
    }
    if (state !== 'reset' && state !== 'fresh') {
      throw new ClaimError(`${asked}: state must be 'reset' or 'fresh'`);
    }
    const free = this.fleet.roster.filter((robot) => !this.held.includes(robot));
    const able = free.filter((robot) => needs.every((need) => robot.capabilities.has(need)));
    if (able.length < count) throw new ClaimError(`${asked}: ${this.describeShortfall(free, able, needs)}`);
    const robots = able.slice(0, count);
    this.held.push(...robots);
    const conditions = robotConditions(this.fleet.events.since(0));
    const clean = { frozen: false, unplugged: false, armedPowerCut: false };
    const together = robots.length;
    const timeoutMs = readinessTotalMs({ idleMs: SETTLE_WINDOW_MS, fleetSize: together }, loadPerCore());
    await Promise.all(
      robots.map((robot) =>
        this.settle(robot, conditions.get(robot.id) ?? clean, state, { together, timeoutMs }),
      ),
    );
    return robots;
  }

  /** Undoes what earlier drills may have left on the robot, then brings it to `state`. */
  private async settle(
    robot: Robot,
    condition: RobotCondition,
    state: ClaimState,
    { together, timeoutMs }: { together: number; timeoutMs: number },
  ): Promise<void> {
    if (condition.frozen) await robot.thaw();
    if (condition.unplugged) await robot.reconnectNetwork();
    await this.fleet.network.clear(robot.id, { reason: 'claimed' });
    const progressing = { readyTimeoutMs: SETTLE_WINDOW_MS, together };
    if (!robot.powered) await robot.powerOn(progressing);
    if (state === 'fresh') await robot.reboot(progressing);
    await robot.ros.waitUntilConnected(timeoutMs);
    // The agent serves the disarm, and a fresh robot is not fresh until all its software is up.
    if (robot.spec.agent && (state === 'fresh' || condition.armedPowerCut)) {
      await robot.agent.waitUntilReady(SETTLE_WINDOW_MS, { together });
    }
    // An armed cut survives reboots until it fires: it would strike this drill's first update.
    if (condition.armedPowerCut) await robot.disarmPowerCuts();
    await bringToRest(robot, timeoutMs);
  }

  private describeShortfall(
    free: readonly Robot[],
    able: readonly Robot[],
    needs: readonly RobotCapability[],
  ) {
    const roster = this.fleet.roster;
    const parts = [`the fleet has ${roster.length} robot(s) (${roster.map((r) => r.id).join(', ')})`];
    if (this.held.length)
      parts.push(`${this.held.length} held by an earlier claim of this drill (${this.ids.join(', ')})`);
    if (needs.length) {
      const lacking = free
        .filter((robot) => !able.includes(robot))
        .map((robot) => `${robot.id}: ${[...robot.capabilities].join(', ') || 'none'}`);
      parts.push(
        `${able.length} of the ${free.length} free have ${needs.join(' and ')}${lacking.length ? ` (${lacking.join('; ')})` : ''}`,
      );
    }
    return parts.join('; ');
  }
}

function describeAsk(count: number, needs: readonly string[], state: ClaimState): string {
  const what = `claim of ${count} robot${count === 1 ? '' : 's'}`;
  return `${what}${needs.length ? ` needing ${needs.join(' and ')}` : ''} (${state})`;
}

/**
 * Stops the robot: a zero /cmd_vel ends any goal it was driving to, and the next /odom at rest
 * says the brakes are done. An e-stopped robot is at rest already.
 */
async function bringToRest(robot: Robot, timeoutMs: number): Promise<void> {
  robot.drive(0, 0);
  await robot.ros.waitForMessage<Odometry>(ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, {
    timeoutMs,
    predicate: (odom) =>
      Math.abs(odom.twist.twist.linear.x) < 0.01 && Math.abs(odom.twist.twist.angular.z) < 0.01,
    description: `${robot.id} at rest for its claim`,
  });
}
