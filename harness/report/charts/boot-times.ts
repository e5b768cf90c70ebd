/**
 * A fleet's bring-up as a histogram of its robots' boot times (power-on to ready, agent and
 * rosbridge included): a fleet that comes up together is one narrow peak; a long tail names the
 * robots a busy machine held back, and the slowest are labelled so the reader knows whom to look at.
 */
import { ChartDataError, noDataChart, renderVegaLite, requireFinite } from '../../core/vega.ts';
import { binCounts } from '../../hil/histogram.ts';

/** One robot's boot, as `robot-ready` events record it. */
export interface RobotBoot {
  robot: string;
  ms: number;
}

/** How many of the slowest robots the chart names. */
const SLOWEST_NAMED = 3;

/** The SVG of the boot-time histogram; no boots gives an explicit "no data" chart. */
export async function bootTimesChart(
  boots: readonly RobotBoot[],
  title = 'Fleet bring-up: boot time per robot',
): Promise<string> {
  boots.forEach((boot, i) => {
    if (!boot.robot) throw new ChartDataError(`boots[${i}].robot is empty`);
    requireFinite(boot.ms, `boots[${i}] (${boot.robot}).ms`);
    if (boot.ms < 0) throw new ChartDataError(`boots[${i}] (${boot.robot}).ms must be >= 0, got ${boot.ms}`);
  });
  if (boots.length === 0) return noDataChart(title, 'no robot booted');
  const bins = Math.max(1, Math.min(30, Math.ceil(Math.sqrt(boots.length))));
  const { edges, counts } = binCounts(
    boots.map((boot) => boot.ms),
    bins,
  );
  const bars = counts.map((count, i) => ({ lo: edges[i]!, hi: edges[i + 1]!, count }));
  const slowest = [...boots]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, SLOWEST_NAMED)
    .map((boot, row) => ({ ...boot, y: 10 + row * 14, text: `${boot.robot} ${boot.ms} ms` }));
  const x = {
    type: 'quantitative' as const,
    title: 'boot time (ms)',
    scale: { domain: [edges[0]!, edges.at(-1)!] },
  };
  return renderVegaLite({
    title,
    width: 420,
    height: 180,
    layer: [
      {
        name: 'boots',
        data: { values: bars },
        mark: { type: 'bar', color: '#1565c0', stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x: { ...x, field: 'lo' },
          x2: { field: 'hi' },
          y: { field: 'count', type: 'quantitative', title: 'robots', axis: { tickMinStep: 1 } },
          tooltip: [
            { field: 'lo', type: 'quantitative', title: 'from (ms)', format: '.0f' },
            { field: 'hi', type: 'quantitative', title: 'to (ms)', format: '.0f' },
            { field: 'count', type: 'quantitative', title: 'robots' },
          ],
        },
      },
      {
        name: 'slowest',
        data: { values: slowest },
        mark: { type: 'text', align: 'right', dx: -4, baseline: 'middle', color: '#c62828' },
        encoding: {
          x: { ...x, field: 'ms' },
          y: { field: 'y', type: 'quantitative', scale: null },
          text: { field: 'text' },
        },
      },
    ],
  });
}
