/** One sample as the subscriber saw it; times are CLOCK_MONOTONIC ns, shared by every namespace. */
export interface ReceivedSample {
  seq: number;
  sentNs: bigint;
  recvNs: bigint;
}

/** One write as the publisher made it. */
export interface WrittenSample {
  seq: number;
  sentNs: bigint;
}

/** The stretch of a run that is judged: samples written in [startNs, endNs). */
export interface MeasureWindow {
  startNs: bigint;
  endNs: bigint;
}

/** What one cell of the matrix measured, from the receiving side, over its window. */
export interface CellMeasurement {
  /** Samples the publisher wrote inside the window. */
  published: number;
  /** Distinct samples of the window that arrived (duplicates are counted once). */
  received: number;
  /** received / published; 0 when nothing was published. */
  deliveredRatio: number;
  /** Delivery latency (receive − write) of the window's samples, ms. */
  latencyMs: { p50: number; p99: number; max: number };
  /** The longest time with no new sample arriving, between the window's first write and its end, ms. */
  longestGapMs: number;
  /** p99 of the age of the newest sample the subscriber holds, sampled every 10 ms over the window, ms. */
  ageP99Ms: number;
  /** Samples of the window that arrived more than once. */
  duplicates: number;
}

const NS_PER_MS = 1_000_000;

/** The q-quantile (0..1) of sorted values, nearest rank; 0 for none. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * Judges delivery against what the publisher itself wrote, not against a nominal rate: a
 * publisher slowed by a busy machine writes fewer samples, and that must not read as loss.
 */
export function measureCell(
  written: readonly WrittenSample[],
  received: readonly ReceivedSample[],
  window: MeasureWindow,
): CellMeasurement {
  const inWindow = (sentNs: bigint) => sentNs >= window.startNs && sentNs < window.endNs;
  const wanted = new Set(written.filter((w) => inWindow(w.sentNs)).map((w) => w.seq));
  const firstArrival = new Map<number, ReceivedSample>();
  let duplicates = 0;
  for (const sample of received) {
    if (!wanted.has(sample.seq)) continue;
    const seen = firstArrival.get(sample.seq);
    if (!seen) firstArrival.set(sample.seq, sample);
    else {
      duplicates++;
      if (sample.recvNs < seen.recvNs) firstArrival.set(sample.seq, sample);
    }
  }
  const arrivals = [...firstArrival.values()].sort((a, b) => Number(a.recvNs - b.recvNs));
  const latencies = arrivals.map((s) => Number(s.recvNs - s.sentNs) / NS_PER_MS).sort((a, b) => a - b);
  return {
    published: wanted.size,
    received: arrivals.length,
    deliveredRatio: wanted.size === 0 ? 0 : arrivals.length / wanted.size,
    latencyMs: {
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      max: latencies.at(-1) ?? 0,
    },
    longestGapMs: longestGap(written, arrivals, window),
    ageP99Ms: ageP99(arrivals, window),
    duplicates,
  };
}

/**
 * Gaps between arrivals, counted from the window's first write (nothing can arrive before it)
 * to the window's end, so a subscriber that goes silent for the rest of the window shows it.
 */
function longestGap(
  written: readonly WrittenSample[],
  arrivals: readonly ReceivedSample[],
  window: MeasureWindow,
): number {
  const firstWrite = written.find((w) => w.sentNs >= window.startNs)?.sentNs ?? window.startNs;
  let previous = firstWrite;
  let longest = 0n;
  for (const sample of arrivals) {
    if (sample.recvNs - previous > longest) longest = sample.recvNs - previous;
    if (sample.recvNs > previous) previous = sample.recvNs;
  }
  if (window.endNs - previous > longest) longest = window.endNs - previous;
  return Number(longest) / NS_PER_MS;
}

/**
 * The age of the newest sample held, at 10 ms ticks: what a consumer acting on "the latest scan"
 * actually acts on. Before the first arrival, the age counts from the window's start.
 */
function ageP99(arrivals: readonly ReceivedSample[], window: MeasureWindow): number {
  const tick = 10n * BigInt(NS_PER_MS);
  const ages: number[] = [];
  let next = 0;
  let newestSent: bigint | undefined;
  for (let t = window.startNs; t < window.endNs; t += tick) {
    while (next < arrivals.length && arrivals[next]!.recvNs <= t) {
      const sent = arrivals[next]!.sentNs;
      if (newestSent === undefined || sent > newestSent) newestSent = sent;
      next++;
    }
    ages.push(Number(t - (newestSent ?? window.startNs)) / NS_PER_MS);
  }
  return quantile(
    ages.sort((a, b) => a - b),
    0.99,
  );
}
