import { expect, test } from '@playwright/test';
import { budgetFor, evaluateBudget, stageKind, throttled } from './budget.ts';
import { binCounts, latencyHistogramSvg } from './histogram.ts';
import { assertWellFormedSvg, markItems } from '../testing/svg.ts';
import { latencyStats } from './stats.ts';
import type { DeviceSample, HilResult } from './types.ts';

function result(perQueryMs: number[], overrides: Partial<HilResult> = {}): HilResult {
  return {
    stage: 'local',
    model: { name: 'perception-cnn', sha256: 'ab'.repeat(32) },
    valid: true,
    invalidReasons: [],
    discipline: { warmupQueries: 0, minQueries: 1, minDurationMs: 0 },
    queries: perQueryMs.length,
    durationMs: perQueryMs.reduce((a, b) => a + b, 0),
    latencyMs: latencyStats(perQueryMs),
    throughputQps: 100,
    perQueryMs,
    device: [],
    clocks: { details: {} },
    environment: {},
    logs: {},
    ...overrides,
  };
}

function sample(tempC: number | null, gpu?: { loadPct: number; mhz: number }): DeviceSample {
  return { cpus: [], temperaturesC: { gpu: tempC, cpu: 40 }, powerMw: {}, ...(gpu && { gpu }) };
}

const TEN = [5, 5, 5, 5, 5, 5, 5, 5, 5, 30];

test('every limit becomes a check with its measured value, and a breach fails the gate', () => {
  const verdict = evaluateBudget(result(TEN), { p99Ms: 20, p90Ms: 10, minThroughputQps: 50 });
  expect(verdict.checks.map((check) => [check.name, check.measured, check.passed])).toEqual([
    ['p99 latency', 30, false],
    ['p90 latency', 5, true],
    ['throughput', 100, true],
  ]);
  expect(verdict.passed).toBe(false);
  expect(verdict.failures).toEqual(['p99 latency: 30 ms, limit <= 20 ms']);
});

test('a budget met is a pass with no failures', () => {
  const verdict = evaluateBudget(result(TEN), { p99Ms: 30, minThroughputQps: 100 });
  expect(verdict).toMatchObject({ passed: true, failures: [], valid: true });
});

test('an invalid run fails the gate whatever it measured', () => {
  const verdict = evaluateBudget(
    result(TEN, { valid: false, invalidReasons: ['minQueries not met: 10 queries, expected >= 500'] }),
    { p99Ms: 1000 },
  );
  expect(verdict.passed).toBe(false);
  expect(verdict.failures[0]).toBe('the run is invalid: minQueries not met: 10 queries, expected >= 500');
});

test('temperature and throttling limits fail when the stage cannot measure them', () => {
  const verdict = evaluateBudget(result(TEN), { maxTemperatureC: 85, noThrottling: true });
  expect(verdict.passed).toBe(false);
  expect(verdict.failures).toEqual([
    'max temperature: not measured, limit <= 85 °C (no device temperatures from this stage)',
    'no thermal throttling: not measured, limit none (no device telemetry from this stage)',
  ]);
});

test('a sensor that is off (-256C, null) is not the hottest; a hot one fails the limit', () => {
  const device = [sample(null), sample(61.5), sample(88)];
  const verdict = evaluateBudget(result(TEN, { device }), { maxTemperatureC: 85 });
  expect(verdict.checks[0]).toMatchObject({ measured: 88, passed: false });
});

test('throttling: a throttle temperature, or the GPU clock falling under load', () => {
  expect(throttled([])).toBeUndefined();
  expect(throttled([sample(50, { loadPct: 90, mhz: 1300 }), sample(51, { loadPct: 95, mhz: 1300 })])).toBe(
    false,
  );
  expect(throttled([sample(50, { loadPct: 90, mhz: 1300 }), sample(60, { loadPct: 99, mhz: 900 })])).toBe(
    true,
  );
  // An idle GPU clocking down is not throttling.
  expect(throttled([sample(50, { loadPct: 90, mhz: 1300 }), sample(50, { loadPct: 2, mhz: 300 })])).toBe(
    false,
  );
  expect(throttled([sample(96)])).toBe(true);
});

test('budgets are looked up by model and stage kind, and a missing one names both', () => {
  const budgets = { 'perception-cnn': { local: { p99Ms: 50 } } };
  expect(stageKind('ssh://nvidia@jetson')).toBe('ssh');
  expect(budgetFor(budgets, 'perception-cnn', 'local')).toEqual({ p99Ms: 50 });
  expect(() => budgetFor(budgets, 'perception-cnn', 'ssh://nvidia@jetson')).toThrow(
    'hil.budgets.perception-cnn.ssh is not set: no latency budget for model perception-cnn on a ssh stage',
  );
  expect(() => budgetFor(budgets, 'yolo', 'local')).toThrow('(models with budgets: perception-cnn)');
});

test('the histogram counts every query once and marks the percentiles', async () => {
  const values = Array.from({ length: 1000 }, (_, i) => 5 + (i % 97) / 10);
  const { counts, edges } = binCounts(values, 20);
  expect(counts.reduce((a, b) => a + b, 0)).toBe(1000);
  expect(edges[0]).toBe(5);
  expect(edges[20]).toBeCloseTo(14.6, 9);
  const svg = await latencyHistogramSvg(values, 'perception-cnn on local');
  assertWellFormedSvg(svg);
  expect(svg).toContain(`p99 ${latencyStats(values).p99.toFixed(2)} ms`);
  expect(markItems(svg, 'bins')).toHaveLength(40);
});
