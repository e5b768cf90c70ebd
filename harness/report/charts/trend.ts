/**
 * Key figures over the last runs and releases: one small line chart per figure (each has its own
 * unit and scale), points in run order, an invalid measurement drawn hollow so it is seen but
 * not read as a value.
 */
import { ChartDataError, noDataChart, renderVegaLite, requireFinite } from '../../core/vega.ts';

/** One figure's values over runs. */
export interface TrendSeries {
  /** The figure's id, `hil/perception-cnn/p99_ms`. */
  figure: string;
  unit: string;
  points: Array<{
    /** The release or run id the value belongs to. */
    label: string;
    /** ISO time of the run: the points' order. */
    startedAt: string;
    value: number;
    /** False when the measurement did not count (drawn hollow). */
    valid: boolean;
  }>;
}

const COLOUR = '#4a7bd0';

/** The SVG of the trend chart; no series or only empty ones gives an explicit "no data" chart. */
export async function trendChart(
  series: readonly TrendSeries[],
  title = 'Key figures over runs',
): Promise<string> {
  for (const [s, one] of series.entries()) {
    if (!one.figure) throw new ChartDataError(`series[${s}].figure is empty`);
    for (const [p, point] of one.points.entries()) {
      requireFinite(point.value, `series[${s}] (${one.figure}).points[${p}].value`);
      if (Number.isNaN(Date.parse(point.startedAt)))
        throw new ChartDataError(
          `series[${s}] (${one.figure}).points[${p}].startedAt is not a time: ${JSON.stringify(point.startedAt)}`,
        );
    }
  }
  const drawn = series.filter((one) => one.points.length > 0);
  if (drawn.length === 0) return noDataChart(title, 'no earlier run has these figures');
  return renderVegaLite({
    title,
    vconcat: drawn.map((one, index) => {
      const points = [...one.points]
        .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt))
        .map((point) => ({ ...point, validity: point.valid ? 'valid' : 'invalid (not counted)' }));
      const x = {
        field: 'label',
        type: 'ordinal' as const,
        sort: [...new Set(points.map((point) => point.label))],
        title: null,
        axis: { labelAngle: -30 },
      };
      const y = { field: 'value', type: 'quantitative' as const, title: one.unit, scale: { zero: false } };
      return {
        title: { text: `${one.figure} (${one.unit})`, fontSize: 12, anchor: 'start' as const },
        width: 520,
        height: 110,
        data: { values: points },
        layer: [
          {
            // Names must be unique across panels: vega-lite merges same-named layers' data.
            name: `line-${index}`,
            // Only valid values are joined: a line through an invalid one would read as a trend.
            transform: [{ filter: 'datum.valid' }],
            mark: { type: 'line' as const, color: COLOUR },
            encoding: { x, y },
          },
          {
            name: `points-${index}`,
            mark: { type: 'point' as const, size: 60, strokeWidth: 2, color: COLOUR, opacity: 1 },
            encoding: {
              x,
              y,
              fill: {
                field: 'validity',
                type: 'nominal' as const,
                scale: { domain: ['valid', 'invalid (not counted)'], range: [COLOUR, 'white'] },
                legend: { title: null, orient: 'right' as const },
              },
              tooltip: [
                { field: 'label' },
                { field: 'startedAt' },
                { field: 'value' },
                { field: 'validity' },
              ],
            },
          },
        ],
      };
    }),
  });
}
