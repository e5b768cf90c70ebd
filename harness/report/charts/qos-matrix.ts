/**
 * The QoS matrix as a heatmap: one row per topic · reliability · history, one column per link
 * profile, each cell coloured by its verdict and labelled with the delivered ratio. A cell that
 * was not run stays blank with "not run", so a gap never passes for a pass.
 */
import { ChartDataError, noDataChart, renderVegaLite, requireFinite } from '../../core/vega.ts';
import type { MatrixCell } from '../../qos/matrix-plot.ts';

const VERDICTS = ['pass', 'fail', 'could-not-tell', 'not run'];
const VERDICT_COLOURS = ['#43a047', '#e53935', '#bdbdbd', '#f5f5f5'];

const rowLabel = (c: MatrixCell): string =>
  `${c.topic} · ${c.reliability} · ${c.history.kind === 'keep_all' ? 'keep_all' : `depth ${c.history.depth}`}`;

/** The SVG of the QoS matrix; no cells gives an explicit "no data" chart. */
export async function qosMatrixChart(
  cells: readonly MatrixCell[],
  title = 'QoS matrix: verdict and delivered % per topic and link profile',
): Promise<string> {
  if (cells.length === 0) return noDataChart(title, 'the QoS matrix did not run');
  cells.forEach((cell, i) => {
    const ratio = requireFinite(
      cell.measured.deliveredRatio,
      `cells[${i}] (${cell.topic} on ${cell.profile}).measured.deliveredRatio`,
    );
    if (ratio < 0 || ratio > 1)
      throw new ChartDataError(
        `cells[${i}] (${cell.topic} on ${cell.profile}).measured.deliveredRatio must be within 0..1, got ${ratio}`,
      );
  });
  const rows = [...new Set(cells.map(rowLabel))];
  const columns = [...new Set(cells.map((c) => c.profile))];
  const byKey = new Map(cells.map((c) => [`${rowLabel(c)}\u0000${c.profile}`, c]));
  const values = rows.flatMap((row) =>
    columns.map((profile) => {
      const cell = byKey.get(`${row}\u0000${profile}`);
      if (!cell) return { row, profile, verdict: 'not run', text: 'not run', reasons: '' };
      return {
        row,
        profile,
        verdict: cell.judgement.verdict,
        text: `${Number((cell.measured.deliveredRatio * 100).toFixed(1))} %`,
        reasons: cell.judgement.reasons.join('; '),
      };
    }),
  );
  const x = {
    field: 'profile',
    type: 'nominal' as const,
    sort: columns,
    title: 'link profile',
    axis: { orient: 'top' as const, labelAngle: 0 },
  };
  const y = { field: 'row', type: 'nominal' as const, sort: rows, title: null };
  return renderVegaLite({
    title,
    data: { values },
    width: { step: 110 },
    height: { step: 34 },
    layer: [
      {
        name: 'cells',
        mark: { type: 'rect', stroke: 'white', strokeWidth: 2 },
        encoding: {
          x,
          y,
          color: {
            field: 'verdict',
            type: 'nominal',
            scale: { domain: VERDICTS, range: VERDICT_COLOURS },
            legend: { title: 'verdict', orient: 'bottom' },
          },
          tooltip: [
            { field: 'row' },
            { field: 'profile' },
            { field: 'verdict' },
            { field: 'text', title: 'delivered' },
            { field: 'reasons' },
          ],
        },
      },
      {
        name: 'delivered',
        mark: { type: 'text', fontWeight: 'bold' },
        encoding: { x, y, text: { field: 'text' }, color: { value: '#212121' } },
      },
    ],
  });
}
