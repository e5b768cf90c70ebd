import { expect, test } from '@playwright/test';
import type { MatrixCell } from '../../qos/matrix-plot.ts';
import { assertWellFormedSvg, markItems, svgTexts } from '../../testing/svg.ts';
import { qosMatrixChart } from './qos-matrix.ts';

const cell = (
  topic: string,
  profile: string,
  deliveredRatio: number,
  verdict: MatrixCell['judgement']['verdict'],
): MatrixCell => ({
  topic,
  reliability: 'reliable',
  history: { kind: 'keep_last', depth: 10 },
  profile,
  measured: { deliveredRatio, received: 200, latencyMs: { p50: 3, p99: 12, max: 20 } },
  judgement: { verdict, reasons: verdict === 'fail' ? [`${topic} on ${profile}: delivered too little`] : [] },
});

test('a cell per topic and profile, coloured by verdict, with the delivered % as text', async () => {
  const svg = await qosMatrixChart([
    cell('/cmd_vel', 'clean', 1, 'pass'),
    cell('/cmd_vel', 'wifi-edge', 0.8, 'fail'),
    cell('/scan', 'clean', 0.995, 'could-not-tell'),
  ]);
  assertWellFormedSvg(svg);
  const cells = markItems(svg, 'cells');
  // Four: /scan on wifi-edge was not run, and says so.
  expect(cells).toHaveLength(4);
  expect(cells.filter((c) => c.includes('fill="#e53935"'))).toHaveLength(1);
  expect(cells.filter((c) => c.includes('fill="#f5f5f5"'))).toHaveLength(1);
  expect(svgTexts(svg)).toEqual(expect.arrayContaining(['100 %', '80 %', '99.5 %', 'not run', 'wifi-edge']));
});

test('a ratio that is NaN or out of 0..1 names the cell; no cells says "no data"', async () => {
  await expect(qosMatrixChart([cell('/cmd_vel', 'clean', Number.NaN, 'pass')])).rejects.toThrow(
    'cells[0] (/cmd_vel on clean).measured.deliveredRatio must be a finite number, got NaN',
  );
  await expect(qosMatrixChart([cell('/cmd_vel', 'clean', 1.5, 'pass')])).rejects.toThrow(
    'must be within 0..1, got 1.5',
  );
  expect(svgTexts(await qosMatrixChart([]))).toContain('no data: the QoS matrix did not run');
});
