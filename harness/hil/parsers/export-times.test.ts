import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { HilError } from '../types.ts';
import { EXPORT_TIME_FIELDS, parseExportTimes } from './export-times.ts';
import { parseTrtexecLog } from './trtexec.ts';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../reference/hil/${name}`, import.meta.url), 'utf8');

/** An export-times file whose queries took `latencies` (compute a fixed 0.1 ms less). */
function exportOf(latencies: number[]): string {
  let t = 0;
  const queries = latencies.map((latencyMs) => {
    const computeMs = latencyMs - 0.1;
    const q = {
      startEnqMs: t,
      endEnqMs: t + 0.02,
      startH2dMs: t + 0.01,
      endH2dMs: t + 0.06,
      startComputeMs: t + 0.06,
      endComputeMs: t + 0.06 + computeMs,
      startD2hMs: t + 0.06 + computeMs,
      endD2hMs: t + latencyMs,
      h2dMs: 0.05,
      computeMs,
      d2hMs: 0.05,
      latencyMs,
    };
    t += latencyMs + 0.01;
    return q;
  });
  return JSON.stringify(queries);
}

// Hand-sorted: 1.4 2.2 2.7 3.1 4.8 5.0 6.6 7.3 8.1 9.9 (mean 5.11).
const TEN = [3.1, 1.4, 2.7, 9.9, 5.0, 2.2, 7.3, 4.8, 6.6, 8.1];
// 1.000, 1.001, ... 1.199 in a scrambled order; sorted[k] = 1 + k/1000.
const TWO_HUNDRED = Array.from({ length: 200 }, (_, i) => 1 + ((i * 73) % 200) / 1000);

test('n=10: p50, p95 and p99 are measured values, not interpolations', () => {
  const { perQueryMs, latency } = parseExportTimes(exportOf(TEN));
  expect(perQueryMs).toEqual(TEN);
  expect(latency.min).toBe(1.4);
  expect(latency.max).toBe(9.9);
  expect(latency.mean).toBeCloseTo(5.11, 12);
  // sorted[10-1-floor(0.5*10)] = sorted[4]; a linear interpolation would say 4.9.
  expect(latency.p50).toBe(4.8);
  // sorted[10-1-floor(0.05*10)] = sorted[9]; interpolation would say 9.09.
  expect(latency.p95).toBe(9.9);
  // sorted[10-1-floor(0.01*10)] = sorted[9]; interpolation would say 9.738.
  expect(latency.p99).toBe(9.9);
});

test('n=200: p50, p95 and p99 by the trtexec definition', () => {
  const { latency, computeMs } = parseExportTimes(exportOf(TWO_HUNDRED));
  expect(latency.p50).toBe(1 + 99 / 1000); // sorted[199 - 100]; interpolation: 1.0995
  expect(latency.p95).toBe(1 + 189 / 1000); // sorted[199 - 10]; interpolation: 1.18905
  expect(latency.p99).toBe(1 + 197 / 1000); // sorted[199 - 2]; interpolation: 1.19701
  expect(computeMs.p99).toBe(1 + 197 / 1000 - 0.1);
});

// In doubles (1 - 90/100) is 0.09999999999999998: computed that way, floor((1 - p/100) * n) loses
// one whenever 0.1 * n is a whole number and p90 comes out one sample too high (sorted[9] = 9.9 for
// n=10). stats.ts computes (100 - p) * n / 100 instead; this catches a regression.
test('p90 is sorted[n - 1 - floor(0.1 * n)] (n=10 and n=200)', () => {
  expect(parseExportTimes(exportOf(TEN)).latency.p90).toBe(8.1); // interpolation: 8.28
  expect(parseExportTimes(exportOf(TWO_HUNDRED)).latency.p90).toBe(1 + 179 / 1000); // interpolation: 1.1791
});

test('the fixture: warm-up queries left out as trtexec does, the rest agree with its log', () => {
  const json = fixture('export-times.json');
  const all = JSON.parse(json) as Array<Record<string, number>>;
  expect(all.length).toBe(399);
  expect(parseExportTimes(json).perQueryMs).toHaveLength(399);

  const { perQueryMs, latency, computeMs } = parseExportTimes(json, { warmupMs: 200 });
  const firstMeasured = all.findIndex((q) => q.startComputeMs! >= 200);
  expect(firstMeasured).toBe(99);
  expect(perQueryMs).toEqual(all.slice(99).map((q) => q.latencyMs));

  const summary = parseTrtexecLog(fixture('trtexec-10.5-passed.log')).summaries;
  const printed = summary['Latency']!;
  expect([latency.min, latency.max, latency.p95]).toEqual([
    printed.min,
    printed.max,
    printed.percentiles['95'],
  ]);
  expect(latency.mean).toBeCloseTo(printed.mean, 4);
  const gpu = summary['GPU Compute Time']!;
  expect([computeMs.min, computeMs.max, computeMs.p95]).toEqual([gpu.min, gpu.max, gpu.percentiles['95']]);
  expect(computeMs.mean).toBeCloseTo(gpu.mean, 4);
});

test('truncated JSON is an HilError', () => {
  const json = fixture('export-times.json');
  const cut = json.slice(0, Math.floor(json.length / 2));
  expect(() => parseExportTimes(cut)).toThrow(HilError);
  expect(() => parseExportTimes(cut)).toThrow(/^trtexec export times: not valid JSON \(truncated\?\)/);
  expect(() => parseExportTimes('')).toThrow(/not valid JSON/);
});

test('a malformed entry names its index and field', () => {
  const queries = JSON.parse(exportOf(TEN)) as Array<Record<string, unknown>>;
  const broken = (index: number, field: string, value: unknown): string => {
    const copy = structuredClone(queries);
    if (value === undefined) delete copy[index]![field];
    else copy[index]![field] = value;
    return JSON.stringify(copy);
  };
  expect(() => parseExportTimes(broken(5, 'computeMs', 'fast'))).toThrow(
    'trtexec export times [5].computeMs: expected a number, got "fast"',
  );
  expect(() => parseExportTimes(broken(7, 'd2hMs', undefined))).toThrow(
    'trtexec export times [7].d2hMs: expected a number, got undefined',
  );
  expect(() => parseExportTimes(broken(0, 'startEnqMs', null))).toThrow(
    'trtexec export times [0].startEnqMs: expected a number, got null',
  );
  expect(() => parseExportTimes(broken(3, 'latencyMs', -0.5))).toThrow(
    'trtexec export times [3].latencyMs: negative duration -0.5',
  );
  expect(() => parseExportTimes('[{"startEnqMs": 1}, 7]')).toThrow('[0].endEnqMs: expected a number');
  expect(() => parseExportTimes(`[${JSON.stringify(queries[0])}, 7]`)).toThrow(
    'trtexec export times [1]: expected an object, got 7',
  );
  expect(() => parseExportTimes('{}')).toThrow('trtexec export times: expected an array of queries');
  expect(() => parseExportTimes('[]')).toThrow('trtexec export times: no queries');
  expect(() => parseExportTimes(exportOf(TEN), { warmupMs: 1e6 })).toThrow(
    'trtexec export times: all 10 queries are within the 1000000 ms warm-up',
  );
  expect(EXPORT_TIME_FIELDS).toHaveLength(12);
});
