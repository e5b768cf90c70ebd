import { TimeoutError } from '../core/errors.ts';
import type { RosClient } from './client.ts';
import { TopicProbe } from './probe.ts';

/** A readiness check: resolves when the thing is ready, rejects with a specific error otherwise. */
export interface WaitStrategy {
  /** What is awaited, for messages ("/odom at >= 16 Hz"). */
  readonly description: string;
  waitUntilReady(client: RosClient, timeoutMs: number): Promise<void>;
}

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
    async waitUntilReady(client, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let arrivals: number[] = [];
      let best = 0;
      const probe = new TopicProbe(client, topic, type, {
        onMessage: () => {
          arrivals.push(Date.now());
          if (arrivals.length > samples) arrivals = arrivals.slice(-samples);
        },
      }).start();
      try {
        for (;;) {
          if (arrivals.length === samples) {
            const first = arrivals[0] as number;
            const last = arrivals[samples - 1] as number;
            const hz = ((samples - 1) * 1000) / Math.max(last - first, 1);
            best = Math.max(best, hz);
            if (hz >= options.minHz) return;
          }
          if (Date.now() > deadline) {
            const seen =
              probe.count === 0 ? 'no message' : `best ${best.toFixed(1)} Hz over ${samples} messages`;
            throw new TimeoutError(
              `${topic}: ${seen}, expected >= ${options.minHz} Hz within ${timeoutMs} ms`,
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
    async waitUntilReady(client, timeoutMs) {
      await Promise.all(strategies.map((strategy) => strategy.waitUntilReady(client, timeoutMs)));
    },
  };
}
