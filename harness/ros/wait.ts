import { TimeoutError } from '../core/errors.ts';
import type { RosClient } from './client.ts';
import { TopicProbe } from './probe.ts';

/** A readiness check: resolves when the thing is ready, rejects with a specific error otherwise. */
export interface WaitStrategy {
  /** What is awaited, for messages ("/odom at >= 16 Hz"). */
  readonly description: string;
  /**
   * Resolves once ready; rejects after `timeoutMs`, or when `signal` aborts (a deadline that follows
   * the robot's progress): with a TimeoutError that adds what was seen to the reason, or with the
   * reason itself when it is not a timeout (the robot died).
   */
  waitUntilReady(client: RosClient, timeoutMs: number, signal?: AbortSignal): Promise<void>;
}

/** The shortest stretch of wall time a rate is measured over (ms). */
const MIN_WINDOW_MS = 150;

/**
 * Ready when `samples` consecutive messages on `topic` arrive at `minHz` or faster, measured on
 * the wall clock between the first and the last of them.
 */
export function forTopic(
  topic: string,
  type: string,
  options: { minHz: number; samples?: number },
): WaitStrategy {
  const samples = options.samples ?? 5;
  return {
    description: `${topic} at >= ${options.minHz} Hz`,
    async waitUntilReady(client, timeoutMs, signal) {
      const deadline = Date.now() + timeoutMs;
      const arrivals: number[] = [];
      let best = 0;
      const probe = new TopicProbe(client, topic, type, {
        onMessage: () => {
          const now = performance.now();
          arrivals.push(now);
          // Keep the newest `samples` messages, and more while they span less than the window.
          while (arrivals.length > samples && now - (arrivals[1] as number) >= MIN_WINDOW_MS)
            arrivals.shift();
        },
      }).start();
      try {
        for (;;) {
          // At high real-time factors messages leave in per-tick bursts: measure over at least
          // a few ticks, or a burst reads as an absurd rate and a gap between bursts as a slow one.
          const first = arrivals[0] as number;
          const last = arrivals[arrivals.length - 1] as number;
          if (arrivals.length >= samples && last - first >= MIN_WINDOW_MS) {
            const hz = ((arrivals.length - 1) * 1000) / (last - first);
            best = Math.max(best, hz);
            if (hz >= options.minHz) return;
          }
          const seen = () => (probe.count === 0 ? 'no message' : `best ${best.toFixed(1)} Hz`);
          if (signal?.aborted) {
            const reason: unknown = signal.reason;
            if (!(reason instanceof TimeoutError)) throw reason;
            throw new TimeoutError(`${topic}: ${seen()}, expected >= ${options.minHz} Hz; ${reason.message}`);
          }
          if (Date.now() > deadline) {
            throw new TimeoutError(
              `${topic}: ${seen()}, expected >= ${options.minHz} Hz within ${timeoutMs} ms`,
            );
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } finally {
        probe.stop();
      }
    },
  };
}

/** Ready when every strategy is, checked in parallel. */
export function forAll(strategies: readonly WaitStrategy[]): WaitStrategy {
  return {
    description: strategies.map((strategy) => strategy.description).join(', '),
    async waitUntilReady(client, timeoutMs, signal) {
      await Promise.all(strategies.map((strategy) => strategy.waitUntilReady(client, timeoutMs, signal)));
    },
  };
}
