import { expect, test } from '@playwright/test';
import { assertWellFormedSvg, markItems, svgTexts } from '../testing/svg.ts';
import { latencyHistogram } from './histogram.ts';

/** The y of each percentile or budget label, from the translate vega gives each text. */
function labelRows(svg: string): number[] {
  return [...markItems(svg, 'marker-labels-left'), ...markItems(svg, 'marker-labels-right')].map((tag) =>
    Number(/translate\([^,]+,([^)]+)\)/.exec(tag)![1]),
  );
}

test('percentile labels of close values sit on rows of their own, and the budget is labelled', async () => {
  // p50, p90 and p99 within 0.2 ms of each other: side by side, their labels would collide.
  const values = [...Array.from({ length: 990 }, (_, i) => 5 + (i % 10) / 50), 9, 9, 9, 9, 9, 9, 9, 9, 9, 9];
  const svg = await latencyHistogram({
    perQueryMs: values,
    budgetP99Ms: 8,
    title: 'perception-cnn on local',
    bins: 20,
  });
  assertWellFormedSvg(svg);
  expect(markItems(svg, 'bins')).toHaveLength(20);
  expect(markItems(svg, 'markers')).toHaveLength(4);
  expect(svgTexts(svg)).toContain('budget p99 ≤ 8 ms');
  const rows = labelRows(svg);
  expect(rows).toHaveLength(4);
  expect(new Set(rows).size).toBe(4);
  const sorted = [...rows].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThanOrEqual(12);
});

test('a NaN latency is named; no queries gives an explicit "no data" chart', async () => {
  await expect(latencyHistogram({ perQueryMs: [1, Number.NaN], title: 't' })).rejects.toThrow(
    'perQueryMs[1] must be a finite number, got NaN',
  );
  await expect(latencyHistogram({ perQueryMs: [1], budgetP99Ms: Infinity, title: 't' })).rejects.toThrow(
    'budgetP99Ms must be a finite number, got Infinity',
  );
  const empty = await latencyHistogram({ perQueryMs: [], title: 'perception-cnn on local' });
  assertWellFormedSvg(empty);
  expect(svgTexts(empty)).toContain('no data: no query was measured');
});
