import type { World } from '../../protocol/world.ts';
import { ConfigError, runAll } from '../core/errors.ts';
import type { EventBus } from '../core/events.ts';
import type { StartedFleetNetwork } from '../net/network.ts';
import {
  chaosSchedule,
  runSchedule,
  type ChaosOptions,
  type FaultStep,
  type RunningSchedule,
} from '../net/schedule.ts';
import { WifiCoverage, type WifiCoverageOptions } from '../net/wifi-coverage.ts';
import type { Robot } from './robot.ts';
import { unpluggedRobots } from './robot-conditions.ts';

/** What a fault session needs of the fleet it plays faults on. */
export interface FaultSessionFleet {
  readonly roster: readonly Robot[];
  readonly network: StartedFleetNetwork;
  readonly events: EventBus;
  readonly world: World;
  readonly seed: number;
}

/**
 * The faults one drill plays on timers and on the map: Wi-Fi following, fault schedules, chaos.
 * The `faults` fixture opens one per drill and closes it when the drill ends, pass or fail, so
 * the next drill finds no follower, no timer and no profile of this one's.
 */
export class FaultSession {
  private readonly coverages = new Set<WifiCoverage>();
  private readonly schedules = new Set<RunningSchedule>();
  private closed = false;

  constructor(
    private readonly fleet: FaultSessionFleet,
    private readonly onClose: () => void = () => {},
  ) {}

  /**
   * Follows the robots around the world's Wi-Fi map and puts each robot's link in the profile its
   * position gets; dead zones black-hole the link. Stop it, or let the drill end.
   */
  followWifi(robots: readonly Robot[], options: WifiCoverageOptions = {}): WifiCoverage {
    this.assertOpen('followWifi');
    const { world, network, events } = this.fleet;
    if (world.accessPoints.length === 0) {
      throw new ConfigError('', `world ${world.name} has no accessPoints: nothing to follow`);
    }
    // Every robot checked before any is followed: a refusal leaves no follower running.
    for (const robot of robots) network.refuseTunnelled(robot.id);
    const coverage = new WifiCoverage(world, network, { events, ...options });
    for (const robot of robots) {
      this.assertInFleet(robot.id);
      coverage.follow(robot.id, (listener) => robot.onTruePose(listener));
    }
    this.coverages.add(coverage);
    return coverage;
  }

  /** Runs fault steps ("at 5 s give r02 wifi-edge for 10 s") on timers. */
  schedule(steps: readonly FaultStep[]): RunningSchedule {
    this.assertOpen('schedule');
    for (const step of steps) {
      this.assertInFleet(step.robot);
      if (step.link === undefined) this.fleet.network.refuseTunnelled(step.robot);
    }
    const running = runSchedule(this.fleet.network, steps);
    this.schedules.add(running);
    return running;
  }

  /** A random fault schedule for these robots, drawn from the run's seed (same seed, same schedule). */
  chaos(robots: readonly Robot[], options: Omit<ChaosOptions, 'robots'>): FaultStep[] {
    for (const robot of robots) this.assertInFleet(robot.id);
    return chaosSchedule(this.fleet.seed, { ...options, robots: robots.map((robot) => robot.id) });
  }

  /**
   * Ends what the drill started: Wi-Fi followers and schedules stop, every link is cleared, and a
   * robot taken off the network during the session is put back. Idempotent; keeps going after a
   * failure and rethrows the first.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    const { network, events, roster } = this.fleet;
    // The whole run's history: a cable a drill pulled without a session is put back too.
    const unplugged = new Set(unpluggedRobots(events.since(0)));
    await runAll([
      ...[...this.coverages].map((coverage) => () => coverage.stop()),
      ...[...this.schedules].map((running) => () => running.stop()),
      () => network.clearAll(),
      ...roster.filter((robot) => unplugged.has(robot.id)).map((robot) => () => robot.reconnectNetwork()),
    ]);
    this.coverages.clear();
    this.schedules.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new ConfigError('faults', `${what}: this drill's fault session has ended`);
  }

  private assertInFleet(id: string): void {
    if (!this.fleet.roster.some((robot) => robot.id === id)) {
      throw new ConfigError(
        'robot',
        `'${id}' is not in this fleet (robots: ${this.fleet.roster.map((r) => r.id).join(', ')})`,
      );
    }
  }
}
