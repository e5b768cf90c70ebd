import { expect, test } from '@playwright/test';
import { assertWellFormedSvg, markItems, svgTexts } from '../../testing/svg.ts';
import { trendChart, type TrendSeries } from './trend.ts';

const series: TrendSeries[] = [
  {
    figure: 'hil/perception-cnn/p99_ms',
    unit: 'ms',
    points: [
      { label: '2.3.0', startedAt: '2026-01-02T00:00:00Z', value: 7.1, valid: true },
      { label: 'run-17', startedAt: '2026-01-03T00:00:00Z', value: 9.9, valid: false },
      { label: '2.4.0', startedAt: '2026-01-04T00:00:00Z', value: 7.4, valid: true },
    ],
  },
  {
    figure: 'qos/wifi-edge/cmd_vel/delivery',
    unit: 'ratio',
    points: [{ label: '2.4.0', startedAt: '2026-01-04T00:00:00Z', value: 0.99, valid: true }],
  },
];

test('one panel per figure, a point per run, invalid points hollow', async () => {
  const svg = await trendChart(series);
  assertWellFormedSvg(svg);
  const points = [...markItems(svg, 'points-0'), ...markItems(svg, 'points-1')];
  expect(points).toHaveLength(4);
  expect(points.filter((p) => p.includes('fill="white"'))).toHaveLength(1);
  expect(svgTexts(svg)).toEqual(
    expect.arrayContaining(['hil/perception-cnn/p99_ms (ms)', 'invalid (not counted)']),
  );
});

test('a NaN value or a bad time names the point; no points at all says "no data"', async () => {
  const broken = structuredClone(series);
  broken[0]!.points[1]!.value = Number.NaN;
  await expect(trendChart(broken)).rejects.toThrow(
    'series[0] (hil/perception-cnn/p99_ms).points[1].value must be a finite number, got NaN',
  );
  const badTime = structuredClone(series);
  badTime[1]!.points[0]!.startedAt = 'yesterday';
  await expect(trendChart(badTime)).rejects.toThrow('points[0].startedAt is not a time: "yesterday"');
  const empty = await trendChart([{ figure: 'hil/x/p99_ms', unit: 'ms', points: [] }]);
  assertWellFormedSvg(empty);
  expect(svgTexts(empty)).toContain('no data: no earlier run has these figures');
});
