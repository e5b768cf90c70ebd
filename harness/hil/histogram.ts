/**
 * The latency histogram of a HIL run, drawn by vega-lite: the per-query times in equal bins,
 * the p50, p90 and p99 as rules, and the latency budget when there is one. Each rule's label has
 * a row of its own, so labels of close percentiles never overlap.
 *
 * It stays in hil (not report/charts) because hil attaches it to test results itself and may not
 * import report; report/charts re-exports it. The rendering is core's `renderVegaLite`.
 */
import { ChartDataError, noDataChart, renderVegaLite, requireFinite } from '../core/vega.ts';
import { latencyStats } from './stats.ts';

/** Counts of `values` in `bins` equal bins from min to max. */
export function binCounts(values: readonly number[], bins: number): { edges: number[]; counts: number[] } {
  if (values.length === 0) return { edges: [], counts: [] };
  const min = Math.min(...values);
  const max = Math.max(...values);
  const width = max > min ? (max - min) / bins : 1;
  const counts = new Array<number>(bins).fill(0);
  for (const value of values) {
    counts[Math.min(bins - 1, Math.floor((value - min) / width))]! += 1;
  }
  const edges = Array.from({ length: bins + 1 }, (_, i) => min + i * width);
  return { edges, counts };
}

/** What the histogram draws. */
export interface LatencyHistogramInput {
  /** Every measured query's latency, ms. */
  perQueryMs: readonly number[];
  /** The p99 budget, ms: drawn as a rule labelled `budget p99 ≤ X ms`. */
  budgetP99Ms?: number;
  title: string;
  /** Equal bins from min to max. Default 40. */
  bins?: number;
}

const COLOURS = { p50: '#2a9d3a', p90: '#d08a1a', p99: '#c0392b', budget: '#6a1b9a' } as const;
const LABEL_ROW_PX = 14;

/** The SVG of the latency histogram. No queries gives an explicit "no data" chart. */
export async function latencyHistogram(input: LatencyHistogramInput): Promise<string> {
  const { perQueryMs, budgetP99Ms, title } = input;
  const bins = input.bins ?? 40;
  if (!Number.isInteger(bins) || bins < 1)
    throw new ChartDataError(`bins must be an integer >= 1, got ${bins}`);
  perQueryMs.forEach((ms, i) => requireFinite(ms, `perQueryMs[${i}]`));
  if (budgetP99Ms !== undefined) requireFinite(budgetP99Ms, 'budgetP99Ms');
  if (perQueryMs.length === 0) return noDataChart(title, 'no query was measured');

  const { edges, counts } = binCounts(perQueryMs, bins);
  const bars = counts.map((count, i) => ({ lo: edges[i]!, hi: edges[i + 1]!, count }));
  const stats = latencyStats(perQueryMs);
  const markers = [
    { key: 'p50', value: stats.p50, text: `p50 ${stats.p50.toFixed(2)} ms` },
    { key: 'p90', value: stats.p90, text: `p90 ${stats.p90.toFixed(2)} ms` },
    { key: 'p99', value: stats.p99, text: `p99 ${stats.p99.toFixed(2)} ms` },
    ...(budgetP99Ms === undefined
      ? []
      : [{ key: 'budget', value: budgetP99Ms, text: `budget p99 ≤ ${budgetP99Ms} ms` }]),
  ].map((marker, row) => ({ ...marker, y: 10 + row * LABEL_ROW_PX }));
  const lo = Math.min(edges[0]!, ...markers.map((m) => m.value));
  const hi = Math.max(edges[edges.length - 1]!, ...markers.map((m) => m.value));
  const mid = (lo + hi) / 2;
  // Labels right of the middle hang to the left of their rule, so none runs off the plot.
  const leftOf = markers.filter((m) => m.value > mid);
  const rightOf = markers.filter((m) => m.value <= mid);
  const top = Math.max(...counts);
  const x = { field: 'value', type: 'quantitative' as const, scale: { domain: [lo, hi] } };
  const colour = {
    field: 'key',
    type: 'nominal' as const,
    scale: { domain: Object.keys(COLOURS), range: Object.values(COLOURS) },
    legend: null,
  };
  const label = (name: string, values: typeof markers, align: 'left' | 'right') => ({
    name,
    data: { values },
    mark: { type: 'text' as const, align, dx: align === 'left' ? 4 : -4, baseline: 'middle' as const },
    encoding: {
      x,
      y: { field: 'y', type: 'quantitative' as const, scale: null },
      text: { field: 'text' },
      color: colour,
    },
  });
  return renderVegaLite({
    title,
    width: 600,
    height: 220,
    layer: [
      {
        name: 'bins',
        data: { values: bars },
        mark: { type: 'rect', fill: '#4a7bd0', stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x: {
            field: 'lo',
            type: 'quantitative',
            scale: { domain: [lo, hi], nice: false },
            title: `latency per query, ms (${perQueryMs.length} queries)`,
          },
          x2: { field: 'hi' },
          // Headroom above the tallest bar keeps the label rows clear of the bars.
          y: {
            field: 'count',
            type: 'quantitative',
            title: 'queries',
            scale: { domain: [0, Math.ceil(top * 1.25 + 1 + (markers.length * LABEL_ROW_PX * top) / 200)] },
          },
          tooltip: [{ field: 'lo', format: '.3f' }, { field: 'hi', format: '.3f' }, { field: 'count' }],
        },
      },
      {
        name: 'markers',
        data: { values: markers },
        mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1.5 },
        encoding: { x, color: colour },
      },
      label('marker-labels-right', rightOf, 'left'),
      label('marker-labels-left', leftOf, 'right'),
    ],
    resolve: { scale: { x: 'shared', y: 'independent' } },
  });
}

/** The histogram of `perQueryMs`, titled (the name HIL evidence and older callers use). */
export function latencyHistogramSvg(
  perQueryMs: readonly number[],
  title: string,
  bins = 40,
  budgetP99Ms?: number,
): Promise<string> {
  return latencyHistogram({ perQueryMs, title, bins, budgetP99Ms });
}
