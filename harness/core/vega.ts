/**
 * Renders a vega-lite spec to a standalone SVG string in Node, with no browser and no canvas.
 *
 * It lives in core, not in report, because plots are drawn by more than one layer: the HIL layer
 * attaches its latency histogram to test results itself, and hil may not import report. Only the
 * rendering is shared here; each chart's spec stays with the layer that owns its data.
 */
import type { TopLevelSpec } from 'vega-lite';

/** A chart's data cannot be drawn honestly (NaN, infinite, missing); the message names the field. */
export class ChartDataError extends Error {
  override name = 'ChartDataError';
}

/** Font used by every chart, so the report reads as one document. */
const FONT = 'sans-serif';

/** The SVG of `spec`, as vega-lite compiles it and vega renders it headless. */
export async function renderVegaLite(spec: TopLevelSpec): Promise<string> {
  // Labels are names a reader looks for (a topic, a fault, a cut point): never cut them short.
  const config = { font: FONT, axis: { labelLimit: 400 }, legend: { labelLimit: 300 } };
  const withFont = { config, ...spec } as TopLevelSpec;
  // Loaded on the first chart: vega and vega-lite are a few hundred modules, and every drill
  // worker imports this file whether or not it draws (about 0.5 s of each worker's start).
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vl.compile(withFont).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Throws a ChartDataError naming `where` (`perQueryMs[3]`) when `value` is not a finite number:
 * vega would quietly drop such a datum, and a plot missing a point claims more than it knows.
 */
export function requireFinite(value: number, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ChartDataError(`${where} must be a finite number, got ${String(value)}`);
  }
  return value;
}

/**
 * An explicit "no data" chart: a report missing a plot must say so and why, never show an empty
 * frame that reads as "nothing happened".
 */
export function noDataChart(title: string, reason: string): Promise<string> {
  return renderVegaLite({
    title,
    name: 'no-data',
    width: 480,
    height: 60,
    data: { values: [{ text: `no data: ${reason}` }] },
    mark: { type: 'text', fontSize: 14, fill: '#777777' },
    encoding: { text: { field: 'text', type: 'nominal' } },
  });
}
