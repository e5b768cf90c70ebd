import { expect, test } from '@playwright/test';
import type { HilResult } from '../../hil/types.ts';
import { hilFigures } from './source-figures.ts';

const RESULT = {
  stage: 'local',
  model: { name: 'perception-cnn.onnx', sha256: 'x' },
  valid: true,
  invalidReasons: [],
  queries: 500,
  latencyMs: { min: 1, max: 9, mean: 3, p50: 3, p90: 5, p95: 6, p99: 8.1234 },
  throughputQps: 300.04,
} as unknown as HilResult;

test('HIL KPIs become hil/<model>/… figures; an invalid run keeps its numbers but cannot be judged', () => {
  const figures = hilFigures(RESULT);
  expect(figures.map((f) => [f.id, f.value, f.better, f.valid])).toEqual([
    ['hil/perception-cnn/p50_ms', 3, 'lower', true],
    ['hil/perception-cnn/p90_ms', 5, 'lower', true],
    ['hil/perception-cnn/p99_ms', 8.123, 'lower', true],
    ['hil/perception-cnn/max_ms', 9, 'lower', true],
    ['hil/perception-cnn/throughput_qps', 300, 'higher', true],
  ]);
  const invalid = hilFigures({ ...RESULT, valid: false, invalidReasons: ['only 40 queries'] });
  expect(invalid.every((f) => !f.valid && f.note === 'invalid run: only 40 queries')).toBe(true);
});
