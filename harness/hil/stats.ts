import type { LatencyStats } from './types.ts';

/**
 * The p-th percentile of ascending `sorted` values as trtexec defines it
 * (samples/common/sampleReporting.cpp): `sorted[max(n - 1 - floor((1 - p/100) * n), 0)]`. No
 * interpolation: the value is always one that was measured.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no values');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const n = sorted.length;
  // (100 - p) * n / 100, not (1 - p/100) * n: in binary floating point 1 - 0.9 is just below 0.1,
  // and the floor would drop one sample whenever n is a multiple of 10. The epsilon absorbs the
  // same kind of error for fractional p (99.9).
  const index = Math.max(n - 1 - Math.floor(((100 - p) * n) / 100 + 1e-9), 0);
  return sorted[index]!;
}

/** min, max, mean and the p50/p90/p95/p99 (trtexec's definition) of latencies in ms. */
export function latencyStats(values: readonly number[]): LatencyStats {
  if (values.length === 0) throw new RangeError('latency statistics of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean: sum / sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
  };
}
