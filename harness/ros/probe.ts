import type { CallbackError, RosClient, Subscription } from './client.ts';
import { stampOf, stampSeconds } from './time.ts';

/** What a {@link TopicProbe} measured over its window. */
export interface TopicStats {
  topic: string;
  /** Messages received. */
  count: number;
  /** Wall-clock window in ms, from the probe's start (or reset) to now. */
  windowMs: number;
  /** Messages per wall-clock second over the window. */
  rateHz: number;
  /** Messages per second of stamp time, between the first and last stamped message. */
  stampRateHz: number | undefined;
  /** Longest wall-clock gap between two messages, or from the last message to now, in ms. */
  maxGapMs: number;
  /** Inter-arrival gaps longer than the probe's `gapFactor` × the nominal period. */
  gaps: number;
  /** Periods without any message longer than `stallMs`, in wall-clock ms since the epoch. */
  stalls: Array<{ from: number; to: number | undefined }>;
  /** Age of the newest message now: receive-time latency plus the time since it arrived, ms. */
  ageMs: number | undefined;
  /** Median and worst receive latency above the best one seen (a relative age), ms. */
  latencyP50Ms: number | undefined;
  latencyMaxMs: number | undefined;
}

/** Options of a {@link TopicProbe}. */
export interface TopicProbeOptions {
  /** Expected rate; gaps are counted against its period. */
  nominalHz?: number;
  /** A gap is an inter-arrival time above gapFactor × the nominal period (default 2). */
  gapFactor?: number;
  /** No message for this long counts as a stall (default 1000 ms). */
  stallMs?: number;
  /** The robot's real-time factor, used to turn stamp time into wall time (default 1). */
  rtf?: number;
  /**
   * Called with every message, after it is recorded. If it throws (a failed `expect`), the first
   * exception is rethrown by `stop()`, `stats()` and `count`: the drill fails, not roslib.
   */
  onMessage?: (message: unknown) => void;
}

/** What a stream must keep up over a probe's window: the drill's contract for one topic. */
export interface StreamLimits {
  /** Messages per wall-clock second over the window, at least. */
  minHz?: number;
  /** Longest wall-clock time without a message (from the window's start to its end), at most, ms. */
  maxStallMs?: number;
}

/**
 * Measures a topic from the receiving side: rate, gaps, stalls and age of data. This is what the
 * harness can see of a robot's stream over rosbridge, which cannot report QoS events itself.
 *
 * Age and latency compare receive time with `header.stamp`. The sim's clock has its own epoch, so
 * latencies are relative to the best one seen in the window: a stream that falls behind shows it.
 */
export class TopicProbe {
  private readonly options: Required<Omit<TopicProbeOptions, 'onMessage' | 'nominalHz'>> & TopicProbeOptions;
  private subscription: Subscription | undefined;
  private startedAt = 0;
  private arrivals: number[] = [];
  private offsets: number[] = [];
  private stamps: number[] = [];
  private stallsSeen: Array<{ from: number; to: number | undefined }> = [];
  private failure: CallbackError | undefined;

  constructor(
    private readonly client: RosClient,
    readonly topic: string,
    private readonly type: string,
    options: TopicProbeOptions = {},
  ) {
    this.options = { gapFactor: 2, stallMs: 1_000, rtf: 1, ...options };
  }

  /** Starts listening; returns this probe. */
  start(): this {
    this.reset();
    this.subscription = this.client.subscribe(this.topic, this.type, (message) => this.record(message));
    return this;
  }

  /** Clears what was measured and starts a new window. */
  reset(): void {
    this.startedAt = Date.now();
    this.arrivals = [];
    this.offsets = [];
    this.stamps = [];
    this.stallsSeen = [];
  }

  /**
   * Stops listening; the stats stay readable. Throws the first exception `onMessage` threw, every
   * time it is called, after it has stopped listening.
   */
  stop(): void {
    if (this.subscription) {
      this.subscription.unsubscribe();
      this.failure ??= this.subscription.failure();
      this.subscription = undefined;
    }
    this.rethrow();
  }

  /** Messages received so far in this window; throws if `onMessage` threw. */
  get count(): number {
    this.rethrow();
    return this.arrivals.length;
  }

  /**
   * Judges the window so far against `limits`. Returns one line per broken limit, naming robot,
   * topic, limit and measured value, or [] when every limit holds: `expect(...).toEqual([])`.
   * Throws if the window is too short to tell whether `minHz` holds (a drill's mistake, not the
   * robot's).
   */
  violations(limits: StreamLimits, now = Date.now()): string[] {
    const stats = this.stats(now);
    const over = `over ${(stats.windowMs / 1000).toFixed(1)} s`;
    const who = `robot ${this.client.name}: ${this.topic}`;
    const found: string[] = [];
    if (limits.minHz !== undefined) {
      // Fewer than two periods of the limit: one message more or less swings the rate by half.
      const shortest = 2_000 / limits.minHz;
      if (stats.windowMs < shortest) {
        throw new Error(
          `${who}: a ${stats.windowMs} ms window cannot tell >= ${limits.minHz} Hz; measure at least ${Math.ceil(shortest)} ms`,
        );
      }
      if (stats.rateHz < limits.minHz) {
        found.push(`${who} at ${stats.rateHz.toFixed(1)} Hz, expected >= ${limits.minHz} Hz ${over}`);
      }
    }
    if (limits.maxStallMs !== undefined && stats.maxGapMs > limits.maxStallMs) {
      found.push(
        `${who} silent for ${Math.round(stats.maxGapMs)} ms, expected no gap > ${limits.maxStallMs} ms ${over}`,
      );
    }
    return found;
  }

  /** The stats of the window so far; throws if `onMessage` threw. */
  stats(now = Date.now()): TopicStats {
    this.rethrow();
    const count = this.arrivals.length;
    const windowMs = Math.max(now - this.startedAt, 1);
    const period = this.options.nominalHz ? 1000 / this.options.nominalHz : undefined;
    let maxGapMs = 0;
    let gaps = 0;
    let previous = this.startedAt;
    for (const arrival of this.arrivals) {
      const gap = arrival - previous;
      if (previous !== this.startedAt && period && gap > this.options.gapFactor * period) gaps++;
      maxGapMs = Math.max(maxGapMs, gap);
      previous = arrival;
    }
    maxGapMs = Math.max(maxGapMs, now - previous);
    const stalls = this.stallsSeen.map((stall) => ({ ...stall }));
    if (now - previous > this.options.stallMs) stalls.push({ from: previous, to: undefined });
    const firstStamp = this.stamps[0];
    const lastStamp = this.stamps[this.stamps.length - 1];
    const stampRateHz =
      this.stamps.length > 1 && firstStamp !== undefined && lastStamp !== undefined && lastStamp > firstStamp
        ? (this.stamps.length - 1) / (lastStamp - firstStamp)
        : undefined;
    const best = this.offsets.length ? Math.min(...this.offsets) : undefined;
    const latencies =
      best === undefined ? [] : this.offsets.map((offset) => offset - best).sort((a, b) => a - b);
    const lastOffset = this.offsets[this.offsets.length - 1];
    const lastArrival = this.arrivals[this.arrivals.length - 1];
    return {
      topic: this.topic,
      count,
      windowMs,
      rateHz: (count * 1000) / windowMs,
      stampRateHz,
      maxGapMs,
      gaps,
      stalls,
      ageMs:
        best === undefined || lastOffset === undefined || lastArrival === undefined
          ? undefined
          : lastOffset - best + (now - lastArrival),
      latencyP50Ms: latencies.length ? latencies[Math.floor((latencies.length - 1) / 2)] : undefined,
      latencyMaxMs: latencies.length ? latencies[latencies.length - 1] : undefined,
    };
  }

  // The client keeps what the callback threw; taking it here makes this probe its reporter.
  private rethrow(): void {
    this.failure ??= this.subscription?.failure();
    if (this.failure) throw this.failure;
  }

  private record(message: unknown): void {
    const now = Date.now();
    const previous = this.arrivals[this.arrivals.length - 1] ?? this.startedAt;
    if (now - previous > this.options.stallMs) this.stallsSeen.push({ from: previous, to: now });
    this.arrivals.push(now);
    const stamp = stampOf(message);
    if (stamp) {
      const seconds = stampSeconds(stamp);
      this.stamps.push(seconds);
      this.offsets.push(now - (seconds * 1000) / this.options.rtf);
    }
    this.options.onMessage?.(message);
  }
}
