import createDebug from 'debug';
import type { BackendName } from '../core/config.ts';
import { ConfigError, type RobotDiedError, runAll, settleAll } from '../core/errors.ts';
import { EventBus } from '../core/events.ts';
import { deriveSeed } from '../core/seed.ts';
import { placePose, type Pose2D, type World } from '../../fixtures/worlds/world.ts';
import { resolveWorld, type ResolvedWorld } from './world.ts';
import type { RobotSpec, StartedRobotBackend, StartedRobotHost } from './backend.ts';
import { EmbeddedBackend } from './embedded/backend.ts';
import { Robot } from './robot.ts';
import { createRunDir, type RunDir } from './run-dir.ts';

const log = createDebug('fleetdrill:fleet');

/** What a fleet is made of. */
export interface FleetOptions {
  /** Number of robots (ids r01, r02, ...). */
  robots: number;
  /** The run's seed; each robot gets a seed derived from it and its id. */
  seed: number;
  /** World name (fixtures/worlds) or path to a world file. */
  world?: string;
  /** Simulation real-time factor. */
  rtf?: number;
  backend?: BackendName;
  /** How long one robot may take from power-on to ready. */
  readyTimeoutMs?: number;
  /** The run's event bus; a private one is made when not given. */
  events?: EventBus;
}

/** Robot ids are zero-padded to the fleet's width: r01..r50, r001..r100. */
export function robotId(index: number, count: number): string {
  const width = Math.max(2, String(count).length);
  return `r${String(index + 1).padStart(width, '0')}`;
}

/** A fleet as configured. `start()` brings it up and returns a {@link StartedFleet}. */
export class Fleet {
  constructor(private readonly options: FleetOptions) {}

  async start(): Promise<StartedFleet> {
    const options = this.options;
    if (!Number.isInteger(options.robots) || options.robots < 1) {
      throw new ConfigError('robots', `must be a whole number >= 1, got ${options.robots}`);
    }
    const world = resolveWorld(options.world ?? 'warehouse');
    const rtf = options.rtf ?? 1;
    const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
    const events = options.events ?? new EventBus();
    const backendName = options.backend ?? 'embedded';
    events.emit({
      kind: 'fleet-starting',
      robots: options.robots,
      backend: backendName,
      world: world.name,
      rtf,
    });
    const startedAt = performance.now();
    const runDir = await createRunDir();
    const hosts: StartedRobotHost[] = [];
    const robots: Robot[] = [];
    let backend: StartedRobotBackend | undefined;
    try {
      backend = await new EmbeddedBackend({ runDir: runDir.path, bootTimeoutMs: readyTimeoutMs }).start();
      const specs: RobotSpec[] = Array.from({ length: options.robots }, (_, index) => {
        const id = robotId(index, options.robots);
        return { id, index, seed: deriveSeed(options.seed, 'robot', id), worldPath: world.path, rtf };
      });
      const started = backend;
      // Every robot boots at once, as a fleet powered up together does; failures are gathered so
      // that everything that did start is torn down before the first error is rethrown.
      const results = await Promise.allSettled(
        specs.map(async (spec) => {
          const bootAt = performance.now();
          events.emit({ kind: 'robot-booting', robot: spec.id });
          const host = await started.startRobot(spec);
          hosts.push(host);
          const robot = await Robot.attach(spec, host, { events, readyTimeoutMs });
          robots.push(robot);
          events.emit({
            kind: 'robot-ready',
            robot: spec.id,
            rosbridge: host.endpoints.rosbridge,
            ms: Math.round(performance.now() - bootAt),
          });
        }),
      );
      const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failure) throw failure.reason;
      robots.sort((a, b) => a.spec.index - b.spec.index);
      const readyMs = Math.round(performance.now() - startedAt);
      events.emit({ kind: 'fleet-ready', robots: robots.length, ms: readyMs });
      log('fleet of %d ready in %d ms', robots.length, readyMs);
      return new StartedFleet(robots, hosts, backend, runDir, events, {
        seed: options.seed,
        world,
        rtf,
        readyMs,
      });
    } catch (error) {
      await runAll([
        ...robots.map((robot) => () => robot.detach()),
        ...hosts.map((host) => () => host.stop()),
        () => backend?.stop(),
        () => runDir.remove(),
      ]).catch((cleanupError: unknown) => log('cleanup after failed start: %O', cleanupError));
      throw error;
    }
  }
}

/** A running fleet. `stop()` (or `await using`) tears everything down in reverse order. */
export class StartedFleet {
  private stopped = false;
  private readonly deathLog: Array<{ robot: string; error: RobotDiedError; t: number }> = [];
  // When each robot was last handed to a drill, so the report attaches only the robots a test used.
  private readonly lastUsed = new Map<string, number>();

  constructor(
    /** Every robot, in id order, without counting as "used" by the current test. */
    readonly roster: readonly Robot[],
    private readonly hosts: readonly StartedRobotHost[],
    private readonly backend: StartedRobotBackend,
    private readonly runDir: RunDir,
    readonly events: EventBus,
    readonly info: { seed: number; world: ResolvedWorld; rtf: number; readyMs: number },
  ) {
    for (const robot of roster) {
      robot.onDeath((error) => this.deathLog.push({ robot: robot.id, error, t: Date.now() }));
    }
  }

  /** Every robot, in id order. */
  get robots(): readonly Robot[] {
    const now = Date.now();
    for (const robot of this.roster) this.lastUsed.set(robot.id, now);
    return this.roster;
  }

  /** Ids of the robots handed out (by `robot()` or `robots`) at or after `since`. */
  usedSince(since: number): string[] {
    return this.roster
      .filter((robot) => (this.lastUsed.get(robot.id) ?? -1) >= since)
      .map((robot) => robot.id);
  }

  get seed(): number {
    return this.info.seed;
  }

  get backendName(): string {
    return this.backend.name;
  }

  /** The robot with this id; throws naming the ids that exist. */
  robot(id: string): Robot {
    const robot = this.roster.find((candidate) => candidate.id === id);
    if (!robot) {
      throw new ConfigError(
        'robot',
        `'${id}' is not in this fleet (robots: ${this.roster.map((r) => r.id).join(', ')})`,
      );
    }
    this.lastUsed.set(id, Date.now());
    return robot;
  }

  /** The world the fleet runs in. */
  get world(): World {
    return this.info.world.world;
  }

  /** A named pose of the world (`dock`, `far-corner`, ...); throws naming the places it has. */
  place(name: string): Pose2D {
    try {
      return placePose(this.world, name);
    } catch (error) {
      throw new ConfigError('', (error as Error).message);
    }
  }

  /** Robots that died unexpectedly since `since` (ms since the epoch). */
  deathsSince(since: number): RobotDiedError[] {
    return this.deathLog.filter((death) => death.t >= since).map((death) => death.error);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const robots = [...this.roster].reverse();
    await runAll([
      ...robots.map((robot) => () => robot.detach()),
      // Shutdowns run together: a 50-robot fleet should not take 50 sequential grace periods.
      () => settleAll(this.hosts.map((host) => host.stop())),
      () => this.backend.stop(),
      () => this.runDir.remove(),
    ]);
    this.events.emit({ kind: 'fleet-stopped', robots: this.roster.length });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
