import { ConfigError } from '../core/errors.ts';
import { deriveSeed, SeededRandom } from '../core/seed.ts';
import type { StartedFleetNetwork } from './network.ts';

/** "At t = atMs give `robot` `profile` for forMs" (for ever when forMs is omitted). */
export interface FaultStep {
  atMs: number;
  robot: string;
  profile: string | readonly string[];
  forMs?: number;
  /** Which of the robot's links; default all of them (the robot's radio). */
  link?: string;
}

/** One thing the schedule did, with when it was planned and when it took effect. */
export interface TimelineEntry {
  robot: string;
  link: string;
  action: 'apply' | 'clear';
  profile: string;
  plannedMs: number;
  /** Ms since the schedule started when the change was active on the proxy. */
  appliedMs: number;
}

/** What chaos mode may do. */
export interface ChaosOptions {
  robots: readonly string[];
  durationMs: number;
  /** Profiles to draw from. */
  profiles?: readonly string[];
  /** Quiet time between one robot's faults, drawn uniformly from this range (ms). */
  gapMs?: readonly [number, number];
  /** How long each fault lasts, drawn uniformly from this range (ms). */
  faultMs?: readonly [number, number];
}

const CHAOS_PROFILES = ['wifi-congested', 'wifi-edge', 'roaming-handover', 'dead', 'lte'] as const;

/**
 * A random schedule drawn from the run's seed: each robot gets its own stream, alternating quiet
 * gaps and faults until `durationMs`. The same seed and options give the same schedule.
 */
export function chaosSchedule(seed: number, options: ChaosOptions): FaultStep[] {
  const profiles = options.profiles ?? CHAOS_PROFILES;
  const [gapMin, gapMax] = options.gapMs ?? [1_000, 5_000];
  const [faultMin, faultMax] = options.faultMs ?? [500, 4_000];
  if (profiles.length === 0) throw new ConfigError('chaos.profiles', 'must name at least one profile');
  if (!(gapMin >= 0 && gapMax >= gapMin))
    throw new ConfigError('chaos.gapMs', 'must be [min, max] with 0 <= min <= max');
  if (!(faultMin > 0 && faultMax >= faultMin)) {
    throw new ConfigError('chaos.faultMs', 'must be [min, max] with 0 < min <= max');
  }
  const steps: FaultStep[] = [];
  for (const robot of options.robots) {
    const random = new SeededRandom(deriveSeed(seed, 'chaos', robot));
    let at = random.int(gapMin, gapMax);
    while (at < options.durationMs) {
      const forMs = Math.min(random.int(faultMin, faultMax), options.durationMs - at);
      steps.push({ atMs: at, robot, profile: random.pick(profiles), forMs });
      at += forMs + random.int(gapMin, gapMax);
    }
  }
  return steps.sort((a, b) => a.atMs - b.atMs || a.robot.localeCompare(b.robot));
}

/** A schedule as it runs. */
export interface RunningSchedule {
  /** Every change made so far, in the order it took effect. */
  readonly timeline: readonly TimelineEntry[];
  /** Resolves when the last step has ended (or the schedule was stopped). */
  readonly done: Promise<void>;
  /** Cancels what has not happened yet and clears the links it touched. */
  stop(): Promise<void>;
}

/** Runs fault steps against the fleet's links on wall-clock timers. */
export function runSchedule(network: StartedFleetNetwork, steps: readonly FaultStep[]): RunningSchedule {
  const started = performance.now();
  const timeline: TimelineEntry[] = [];
  // Each pending timer with the function that settles its change, so stop() can settle it too.
  const timers = new Map<NodeJS.Timeout, () => void>();
  const touched = new Set<string>();
  let stopped = false;
  let failure: Error | undefined;
  const changes: Promise<void>[] = [];

  const at = (ms: number, change: () => Promise<void>): void => {
    let settle!: () => void;
    changes.push(new Promise<void>((resolve) => (settle = resolve)));
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        if (stopped) return settle();
        change()
          .catch(
            (error: unknown) =>
              (failure ??=
                error instanceof Error ? error : new Error(`schedule step failed: ${JSON.stringify(error)}`)),
          )
          .finally(settle);
      },
      Math.max(0, ms - (performance.now() - started)),
    );
    timers.set(timer, settle);
  };

  for (const step of steps) {
    const link = step.link;
    const shown = link ?? 'all';
    const profile = typeof step.profile === 'string' ? step.profile : step.profile.join('+');
    // Validate up front: a typo must fail the drill before the first fault, not halfway.
    network.resolve(step.profile);
    if (link) network.link(step.robot, link);
    else network.linksOf(step.robot);
    at(step.atMs, async () => {
      touched.add(`${step.robot}\u0000${link ?? ''}`);
      await network.apply(step.robot, step.profile, { link, reason: 'schedule' });
      timeline.push({
        robot: step.robot,
        link: shown,
        action: 'apply',
        profile,
        plannedMs: step.atMs,
        appliedMs: performance.now() - started,
      });
    });
    if (step.forMs !== undefined) {
      const end = step.atMs + step.forMs;
      at(end, async () => {
        await network.clear(step.robot, { link, reason: 'schedule' });
        timeline.push({
          robot: step.robot,
          link: shown,
          action: 'clear',
          profile,
          plannedMs: end,
          appliedMs: performance.now() - started,
        });
      });
    }
  }

  const done = Promise.all(changes).then(() => {
    if (failure) throw failure;
  });
  // An unobserved failure is reported through `done`; do not crash the worker meanwhile.
  done.catch(() => undefined);

  return {
    timeline,
    done,
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const [timer, settle] of timers) {
        clearTimeout(timer);
        settle();
      }
      timers.clear();
      await Promise.all(
        [...touched].map((key) => {
          const [robot = '', link] = key.split('\u0000');
          return network.clear(robot, { link: link || undefined, reason: 'schedule stopped' });
        }),
      );
    },
  };
}
