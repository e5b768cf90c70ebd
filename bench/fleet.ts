import { Fleet, type StartedFleet } from '../harness/fleet/index.ts';
import { provisionRobots } from '../harness/ota/index.ts';
import { ROBOT_TOPICS } from '../harness/ros/index.ts';
import type { TopicProbe } from '../harness/ros/index.ts';
import { median } from './stats.ts';

const PUBLISHED = [
  ROBOT_TOPICS.odom,
  ROBOT_TOPICS.scan,
  ROBOT_TOPICS.imu,
  ROBOT_TOPICS.battery,
  ROBOT_TOPICS.diagnostics,
];

/** How long a fleet took to come up. */
export interface FleetUp {
  /** `start()` to a started fleet: what a drill waits for. */
  readyMs: number;
  /** `start()` to every robot's edge agent answering (agents start just after their robot); telemetry only. */
  agentsMs?: number;
}

/** Starts a fleet (by default with its cloud and agents, as drills get it), times it, stops it. */
export async function fleetUp(robots: number, seed: number, telemetry = true): Promise<FleetUp> {
  const startedAt = performance.now();
  const fleet = await new Fleet({
    robots,
    seed,
    world: 'empty',
    telemetry,
    provision: provisionRobots(),
  }).start();
  try {
    if (!telemetry) return { readyMs: fleet.info.readyMs };
    await Promise.all(fleet.roster.map((robot) => robot.agent.waitUntilReady(60_000)));
    return { readyMs: fleet.info.readyMs, agentsMs: Math.round(performance.now() - startedAt) };
  } finally {
    await fleet.stop();
  }
}

/** What one load point measured: the worst robot's achieved rtf and worst topic rate ratio. */
export interface LoadPoint {
  robots: number;
  rtf: number;
  /** Every robot's edge agent and the cloud ran beside the robots, and answered before the window. */
  agents: boolean;
  /** Lowest achieved real-time factor over all robots (sim seconds per wall second). */
  minAchievedRtf: number;
  /** Highest achieved real-time factor: above the target means a robot caught up after falling behind. */
  maxAchievedRtf: number;
  /** Lowest received rate / nominal rate over every topic of every robot. */
  minRateRatio: number;
  /** Highest received rate / nominal rate: a burst of catch-up messages. */
  maxRateRatio: number;
  /** The robot and topic furthest from its nominal rate. */
  worst: string;
}

/**
 * Holds a fleet at a real-time factor and subscribes to every published topic of every robot
 * (the receiving side is this process), then measures over `windowMs` of wall time. Without
 * `agents` it measures the robot simulator alone; with them, every robot's edge agent and the
 * cloud share the CPU, and the window opens only once every agent answers, so a fleet whose
 * agents are still starting is not judged on the quiet before they load it.
 */
export async function measureLoad(
  robots: number,
  rtf: number,
  seed: number,
  { windowMs = 5_000, agents = false }: { windowMs?: number; agents?: boolean } = {},
): Promise<LoadPoint> {
  const fleet: StartedFleet = await new Fleet({
    robots,
    seed,
    rtf,
    world: 'empty',
    readyTimeoutMs: 60_000,
    telemetry: agents,
    provision: provisionRobots(),
  }).start();
  try {
    if (agents) {
      // An idle window: agents that progress may take longer, up to a bound that grows with `together`.
      await Promise.all(
        fleet.roster.map((robot) => robot.agent.waitUntilReady(60_000, { together: robots })),
      );
    }
    const probes: Array<{ robot: string; nominalHz: number; probe: TopicProbe; arrivals: Arrivals }> = [];
    let measuring = false;
    for (const robot of fleet.roster) {
      for (const topic of PUBLISHED) {
        const arrivals: Arrivals = { count: 0, first: 0, last: 0 };
        const onMessage = (): void => {
          if (!measuring) return;
          const now = performance.now();
          if (arrivals.count++ === 0) arrivals.first = now;
          arrivals.last = now;
        };
        probes.push({
          robot: robot.id,
          nominalHz: topic.hz * rtf,
          probe: robot.probe(topic.name, topic.type, { onMessage }),
          arrivals,
        });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    for (const { probe } of probes) probe.reset();
    measuring = true;
    const windowStart = performance.now();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const windowEnd = performance.now();
    let minAchievedRtf = Infinity;
    let maxAchievedRtf = 0;
    let minRateRatio = Infinity;
    let maxRateRatio = 0;
    let worstDeviation = -1;
    let worst = '';
    for (const { robot, nominalHz, probe, arrivals } of probes) {
      const stats = probe.stats();
      probe.stop();
      const rateHz = arrivalRate(arrivals, nominalHz, windowStart, windowEnd);
      const ratio = rateHz / nominalHz;
      minRateRatio = Math.min(minRateRatio, ratio);
      maxRateRatio = Math.max(maxRateRatio, ratio);
      if (Math.abs(ratio - 1) > worstDeviation) {
        worstDeviation = Math.abs(ratio - 1);
        worst = `${robot} ${probe.topic} ${rateHz.toFixed(1)} Hz of ${nominalHz} Hz`;
      }
      // Sim seconds per wall second, from the fastest topic's stamps.
      if (probe.topic === ROBOT_TOPICS.imu.name && stats.stampRateHz) {
        const achieved = stats.rateHz / stats.stampRateHz;
        minAchievedRtf = Math.min(minAchievedRtf, achieved);
        maxAchievedRtf = Math.max(maxAchievedRtf, achieved);
      }
    }
    return { robots, rtf, agents, minAchievedRtf, maxAchievedRtf, minRateRatio, maxRateRatio, worst };
  } finally {
    await fleet.stop();
  }
}

interface Arrivals {
  count: number;
  first: number;
  last: number;
}

/**
 * Rate from the spacing of arrivals, (n - 1) / (last - first): a 1 Hz topic seen 4 or 5 times
 * in a 5 s window is still 1 Hz. A topic that went quiet before the window ended counts as slow:
 * the quiet time is added to its span.
 */
function arrivalRate(arrivals: Arrivals, nominalHz: number, windowStart: number, windowEnd: number): number {
  if (arrivals.count < 2) return arrivals.count / ((windowEnd - windowStart) / 1000);
  const period = 1000 / nominalHz;
  const quietAtEnd = Math.max(0, windowEnd - arrivals.last - 2 * period);
  return ((arrivals.count - 1) * 1000) / (arrivals.last - arrivals.first + quietAtEnd);
}

/**
 * A load point passes when every robot runs within 5 % of its rtf and every topic within 5 % of its
 * rate. Too fast counts as much as too slow: it is a robot catching up in bursts after falling behind.
 */
export function holds(point: LoadPoint): boolean {
  const within = (value: number, target: number) => value >= 0.95 * target && value <= 1.05 * target;
  return (
    within(point.minAchievedRtf, point.rtf) &&
    within(point.maxAchievedRtf, point.rtf) &&
    within(point.minRateRatio, 1) &&
    within(point.maxRateRatio, 1)
  );
}

export { median };
