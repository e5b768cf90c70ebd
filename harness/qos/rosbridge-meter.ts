import { RobotUnreachableError } from '../core/errors.ts';
import {
  ROBOT_SERVICES,
  stampOf,
  stampSeconds,
  type RosClient,
  type SubscribeOptions,
  type Subscription,
  type TopicStatsReport,
  type TriggerResponse,
} from '../ros/index.ts';

/** The robot a meter listens to: its id (for messages) and its rosbridge client. */
export interface MeterTarget {
  readonly id: string;
  /** The link whose subscriptions are measured. */
  readonly ros: RosClient;
  /**
   * Where the robot's counts and clock are read (default `ros`): a link the measured traffic
   * does not back up, or a backed-up subscriber would also delay the reads that judge it.
   */
  readonly control?: RosClient;
}

/** One topic to meter. */
export interface MeteredTopic {
  name: string;
  type: string;
  /** Nominal rate in sim Hz: the published count when the robot cannot report its own. */
  nominalHz?: number;
  /** Longest wall-clock gap between samples before a deadline miss is counted, ms. */
  deadlineMs?: number;
  /** How to subscribe (throttle, queue length, qos): the subscriber whose view is measured. */
  subscribe?: SubscribeOptions;
}

/** Options of a {@link TopicMeter}. */
export interface TopicMeterOptions {
  /**
   * The robot's real-time factor, used only without /fleetdrill/topic_stats, to run the sim
   * clock on from the stamps seen (default 1).
   */
  rtf?: number;
  /** How long the window start waits for a first sample on every topic (default 3000 ms). */
  warmupMs?: number;
  /** After the window ends, how long samples stamped inside it may still arrive (default 500 ms). */
  graceMs?: number;
  /** How often the age of the newest sample is sampled, wall ms (default 20). */
  ageTickMs?: number;
  /** Timeout of each /fleetdrill/topic_stats call (default 5000 ms). */
  statsTimeoutMs?: number;
}

/** What one topic showed over the window, from the subscriber's side. */
export interface TopicMeterResult {
  topic: string;
  /** Samples stamped inside the window that arrived by its end (plus grace). */
  received: number;
  /** What the publisher sent in the window: its own count, or nominal rate × sim window. */
  published: number | undefined;
  /**
   * 'robot': counted by the robot (/fleetdrill/topic_stats); 'nominal-rate': estimated from the
   * topic's nominal rate, because the robot cannot report a count (the Gazebo image).
   */
  publishedSource: 'robot' | 'nominal-rate';
  /** received / published; undefined when published is unknown or zero. */
  deliveryRatio: number | undefined;
  /** Age of the newest sample (sim clock − its header.stamp), sampled every ageTickMs, sim ms. */
  ageP50Ms: number | undefined;
  ageP99Ms: number | undefined;
  ageMaxMs: number | undefined;
  /** Longest wall-clock time without a sample, the window's edges included, ms. */
  longestStallMs: number;
  /** Deadline periods that passed without a sample (as DDS counts deadline-missed events). */
  deadlineMisses: number | undefined;
  /** Why a figure could not be told (no stamps, the robot did not answer), if one could not. */
  couldNotTell?: string;
}

/** The meter's whole window. */
export interface TopicMeterReport {
  robot: string;
  /** Sim seconds the window covered. */
  simWindowS: number;
  /** Wall ms the window covered. */
  wallWindowMs: number;
  /** Where the sim clock came from: the robot's own report, or stamps run on at the rtf. */
  clockSource: 'robot' | 'stamps';
  topics: TopicMeterResult[];
}

interface Arrival {
  /** performance.now() ms. */
  at: number;
  /** Sim seconds of header.stamp, when the message has one. */
  stamp: number | undefined;
}

/** A point where the robot's sim clock was read: wall ms (performance.now()) and sim seconds. */
interface Anchor {
  wall: number;
  sim: number;
  published: Record<string, number>;
}

const TOPIC_STATS = ROBOT_SERVICES.topicStats;

/**
 * Measures topics from the client side, over rosbridge: delivery against the publisher's own
 * count, the age of the newest sample against the robot's sim time, the longest stall and
 * deadline misses. rosbridge cannot surface QoS events, so this is what can be seen of them.
 */
export class TopicMeter {
  constructor(
    private readonly robot: MeterTarget,
    private readonly topics: readonly MeteredTopic[],
    private readonly options: TopicMeterOptions = {},
  ) {}

  /** Subscribes, waits for first samples, and reads the robot's counts: the window starts. */
  async start(): Promise<StartedTopicMeter> {
    const arrivals = new Map<string, Arrival[]>(this.topics.map((t) => [t.name, []]));
    const subs: Subscription[] = [];
    for (const topic of this.topics) {
      const list = arrivals.get(topic.name)!;
      subs.push(
        this.robot.ros.subscribe(
          topic.name,
          topic.type,
          (message: unknown) => {
            const stamp = stampOf(message);
            list.push({ at: performance.now(), stamp: stamp ? stampSeconds(stamp) : undefined });
          },
          topic.subscribe,
        ),
      );
    }
    try {
      const warmupUntil = performance.now() + (this.options.warmupMs ?? 3_000);
      while (performance.now() < warmupUntil && [...arrivals.values()].some((list) => list.length === 0))
        await sleep(20);
      const anchor = await readTopicStats(this.robot, this.options.statsTimeoutMs ?? 5_000);
      return new StartedTopicMeter(this.robot, this.topics, this.options, subs, arrivals, anchor);
    } catch (error) {
      for (const sub of subs) sub.unsubscribe();
      throw error;
    }
  }
}

/** A running meter; `stop()` ends the window and returns what it measured. */
export class StartedTopicMeter {
  private readonly startWall = performance.now();
  private stopping: Promise<TopicMeterReport> | undefined;

  /** @internal made by {@link TopicMeter.start}. */
  constructor(
    private readonly robot: MeterTarget,
    private readonly topics: readonly MeteredTopic[],
    private readonly options: TopicMeterOptions,
    private readonly subs: Subscription[],
    private readonly arrivals: Map<string, Arrival[]>,
    /** The robot's counts at the start; undefined when it cannot report them. */
    private readonly startAnchor: Anchor | undefined,
  ) {}

  /** Ends the window (idempotent) and returns the report. */
  stop(): Promise<TopicMeterReport> {
    return (this.stopping ??= this.finish());
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop().catch(() => {});
  }

  private async finish(): Promise<TopicMeterReport> {
    const endWall = performance.now();
    let endAnchor: Anchor | undefined;
    let anchorFailure: string | undefined;
    if (this.startAnchor) {
      try {
        endAnchor = await readTopicStats(this.robot, this.options.statsTimeoutMs ?? 5_000);
      } catch (error) {
        anchorFailure = (error as Error).message;
      }
    }
    await sleep(this.options.graceMs ?? 500);
    const graceEnd = performance.now();
    for (const sub of this.subs) sub.unsubscribe();
    for (const sub of this.subs) {
      const failure = sub.failure();
      if (failure) throw failure;
    }
    // Window edges in wall time: the end is the end anchor's request (see readTopicStats), or now.
    const windowEnd = endAnchor?.wall ?? endWall;
    const windowStart = this.startAnchor?.wall ?? this.startWall;
    const clock = this.simClock(endAnchor);
    const simStart = clock(windowStart);
    const simEnd = clock(windowEnd);
    const results = this.topics.map((topic) =>
      this.measure(topic, {
        windowStart,
        windowEnd,
        graceEnd,
        simStart,
        simEnd,
        clock,
        endAnchor,
        anchorFailure,
      }),
    );
    return {
      robot: this.robot.id,
      simWindowS: simEnd - simStart,
      wallWindowMs: windowEnd - windowStart,
      clockSource: this.startAnchor && endAnchor ? 'robot' : 'stamps',
      topics: results,
    };
  }

  /**
   * Sim seconds at a wall time. With two reports from the robot, the line through them: the
   * robot's own clock, whatever rtf it achieves. Without, the freshest stamp seen (the one that
   * arrived with the least delay) run on at the nominal rtf, so ages are relative to the best
   * delivery seen.
   */
  private simClock(endAnchor: Anchor | undefined): (wall: number) => number {
    const a = this.startAnchor;
    if (a && endAnchor && endAnchor.wall > a.wall) {
      const rate = (endAnchor.sim - a.sim) / (endAnchor.wall - a.wall);
      return (wall) => a.sim + (wall - a.wall) * rate;
    }
    const rate = (this.options.rtf ?? 1) / 1000;
    let offset = -Infinity;
    for (const list of this.arrivals.values())
      for (const arrival of list)
        if (arrival.stamp !== undefined) offset = Math.max(offset, arrival.stamp - arrival.at * rate);
    if (offset === -Infinity) offset = 0;
    return (wall) => offset + wall * rate;
  }

  private measure(
    topic: MeteredTopic,
    w: {
      windowStart: number;
      windowEnd: number;
      graceEnd: number;
      simStart: number;
      simEnd: number;
      clock: (wall: number) => number;
      endAnchor: Anchor | undefined;
      anchorFailure: string | undefined;
    },
  ): TopicMeterResult {
    const all = this.arrivals.get(topic.name)!;
    const stamped = all.every((a) => a.stamp !== undefined) && all.length > 0;
    const couldNotTell: string[] = [];

    // Delivery: the publisher's count between the two reports, against what arrived stamped in
    // the same sim interval (exactly the messages that count covers).
    let published: number | undefined;
    let publishedSource: TopicMeterResult['publishedSource'] = 'robot';
    const inWindow = (a: Arrival) =>
      a.at <= w.graceEnd &&
      (stamped
        ? a.stamp! > w.simStart + 1e-9 && a.stamp! <= w.simEnd + 1e-9
        : a.at > w.windowStart && a.at <= w.windowEnd);
    const received = all.filter(inWindow).length;
    if (this.startAnchor && w.endAnchor) {
      const before = this.startAnchor.published[topic.name];
      const after = w.endAnchor.published[topic.name];
      if (before === undefined || after === undefined)
        couldNotTell.push(`robot ${this.robot.id} does not count ${topic.name} in ${TOPIC_STATS.name}`);
      else published = after - before;
    } else if (this.startAnchor) {
      couldNotTell.push(`no count at the window's end: ${w.anchorFailure}`);
    } else {
      publishedSource = 'nominal-rate';
      if (topic.nominalHz) published = Math.round(topic.nominalHz * (w.simEnd - w.simStart));
      else couldNotTell.push(`robot ${this.robot.id} reports no count and ${topic.name} has no nominal rate`);
    }

    // Age of the newest sample, sampled on a wall-clock grid over the window.
    const ages: number[] = [];
    if (stamped) {
      const tick = this.options.ageTickMs ?? 20;
      let i = 0;
      let newest = -Infinity;
      for (let t = w.windowStart; t <= w.windowEnd; t += tick) {
        while (i < all.length && all[i]!.at <= t) newest = Math.max(newest, all[i++]!.stamp!);
        if (newest > -Infinity) ages.push(Math.max(0, (w.clock(t) - newest) * 1000));
      }
      if (ages.length === 0) couldNotTell.push(`no ${topic.name} sample arrived in the window`);
    } else {
      couldNotTell.push(`${topic.name} carries no header.stamp: no age`);
    }
    ages.sort((a, b) => a - b);

    // Stalls and deadline misses, in wall time, over the window and its edges.
    const times = [
      w.windowStart,
      ...all.map((a) => a.at).filter((t) => t > w.windowStart && t < w.windowEnd),
      w.windowEnd,
    ];
    let longestStallMs = 0;
    let deadlineMisses = topic.deadlineMs ? 0 : undefined;
    for (let k = 1; k < times.length; k++) {
      const gap = times[k]! - times[k - 1]!;
      longestStallMs = Math.max(longestStallMs, gap);
      if (deadlineMisses !== undefined) deadlineMisses += Math.floor(gap / topic.deadlineMs!);
    }

    return {
      topic: topic.name,
      received,
      published,
      publishedSource,
      deliveryRatio: published ? received / published : undefined,
      ageP50Ms: percentile(ages, 0.5),
      ageP99Ms: percentile(ages, 0.99),
      ageMaxMs: ages.at(-1),
      longestStallMs,
      deadlineMisses,
      ...(couldNotTell.length > 0 ? { couldNotTell: couldNotTell.join('; ') } : {}),
    };
  }
}

/** Meters `topics` for `durationMs` of wall time. */
export async function meterTopics(
  robot: MeterTarget,
  topics: readonly MeteredTopic[],
  options: TopicMeterOptions & { durationMs: number },
): Promise<TopicMeterReport> {
  const meter = await new TopicMeter(robot, topics, options).start();
  await sleep(options.durationMs);
  return meter.stop();
}

/** Limits one topic must keep over a meter's window; absent limits are not checked. */
export interface TopicMeterLimits {
  /** Delivery ratio at least (0..1). */
  deliveryMin?: number;
  /** p99 age of the newest sample at most, sim ms. */
  ageP99MaxMs?: number;
  /** Longest stall at most, wall ms. */
  stallMaxMs?: number;
  /** Deadline misses at most. */
  deadlineMissesMax?: number;
}

/** A meter's verdict on one topic: problems (wrong) apart from what it could not tell. */
export interface TopicMeterVerdict {
  topic: string;
  problems: string[];
  couldNotTell: string[];
}

/**
 * Checks a topic's result against limits. A figure the meter could not measure is "could not
 * tell", never a failure of the robot.
 */
export function checkTopicMeter(
  report: TopicMeterReport,
  topic: string,
  limits: TopicMeterLimits,
): TopicMeterVerdict {
  const r = report.topics.find((t) => t.topic === topic);
  const where = `robot ${report.robot}: ${topic}`;
  if (!r) return { topic, problems: [], couldNotTell: [`${where} was not metered`] };
  const problems: string[] = [];
  const unknown: string[] = r.couldNotTell ? [`${where}: ${r.couldNotTell}`] : [];
  const over = `over ${report.simWindowS.toFixed(1)} sim s`;
  if (limits.deliveryMin !== undefined) {
    if (r.deliveryRatio === undefined) unknown.push(`${where}: delivery unknown`);
    else if (r.deliveryRatio < limits.deliveryMin)
      problems.push(
        `${where} delivered ${r.received} of ${r.published} (${pct(r.deliveryRatio)}, counted by ${r.publishedSource}), expected >= ${pct(limits.deliveryMin)} ${over}`,
      );
  }
  if (limits.ageP99MaxMs !== undefined) {
    if (r.ageP99Ms === undefined) unknown.push(`${where}: age unknown`);
    else if (r.ageP99Ms > limits.ageP99MaxMs)
      problems.push(
        `${where} newest-sample age p99 ${r.ageP99Ms.toFixed(0)} ms, expected <= ${limits.ageP99MaxMs} ms ${over}`,
      );
  }
  if (limits.stallMaxMs !== undefined && r.longestStallMs > limits.stallMaxMs)
    problems.push(
      `${where} stalled ${r.longestStallMs.toFixed(0)} ms, expected <= ${limits.stallMaxMs} ms ${over}`,
    );
  if (limits.deadlineMissesMax !== undefined) {
    if (r.deadlineMisses === undefined) unknown.push(`${where}: no deadline given, misses unknown`);
    else if (r.deadlineMisses > limits.deadlineMissesMax)
      problems.push(
        `${where} missed its deadline ${r.deadlineMisses} times, expected <= ${limits.deadlineMissesMax} ${over}`,
      );
  }
  return { topic, problems, couldNotTell: unknown };
}

/**
 * Reads /fleetdrill/topic_stats. Undefined when the robot does not offer it (rosbridge answers
 * at once that the service does not exist); a robot that does not answer at all is unreachable.
 * `wall` is when the request left: requests go upstream, which the drills' caps leave alone,
 * so the robot read its clock then, not when a congested downstream delivered the answer.
 */
async function readTopicStats(robot: MeterTarget, timeoutMs: number): Promise<Anchor | undefined> {
  const wall = performance.now();
  let response: TriggerResponse;
  try {
    response = await (robot.control ?? robot.ros).callService<TriggerResponse>(
      TOPIC_STATS.name,
      TOPIC_STATS.type,
      {},
      { timeoutMs },
    );
  } catch (error) {
    if (
      error instanceof RobotUnreachableError &&
      /does not exist|not advertised|unknown service/i.test(error.message)
    )
      return undefined;
    throw error;
  }
  let report: TopicStatsReport;
  try {
    report = JSON.parse(response.message) as TopicStatsReport;
  } catch {
    throw new RobotUnreachableError(
      robot.id,
      `${TOPIC_STATS.name} answered no JSON: ${response.message.slice(0, 80)}`,
    );
  }
  return { wall, sim: stampSeconds(report.stamp), published: report.published };
}

function percentile(sorted: number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

const pct = (ratio: number): string => `${(ratio * 100).toFixed(1)} %`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
