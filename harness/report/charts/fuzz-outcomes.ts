/**
 * OTA power-cut fuzz outcomes by cut point, as stacked bars: how many cuts at each point booted
 * the old or the new version, and how many ended in one of the fuzz oracles' findings (the words
 * are fuzz-oracles.ts's own), or could not be told.
 */
import { ChartDataError, noDataChart, renderVegaLite } from '../../core/vega.ts';
import type { CutOutcome } from '../../ota/fuzz-cut-outcome.ts';

/** How one cut ended: the fuzz's own words (harness/ota/fuzz-cut-outcome.ts). */
export type FuzzCutOutcome = CutOutcome;

/** One power cut. */
export interface FuzzCut {
  /** The OTA client under fuzz: fleetdrill, mender, rauc, swupdate. */
  client: string;
  /** Where the cut fell: a state point (`ArtifactInstall_Enter`), or `time`/`bytes`. */
  point: string;
  outcome: FuzzCutOutcome;
}

/** Every outcome in stacking order, good ones first; the colours say good, wrong and unknown. */
export const FUZZ_CUT_OUTCOMES: readonly FuzzCutOutcome[] = [
  'old',
  'new',
  'bricked',
  'unverified-boot',
  'invalid-env',
  'not-converged',
  'could-not-tell',
];
const COLOURS = ['#81c784', '#2e7d32', '#000000', '#c62828', '#ef6c00', '#8e24aa', '#bdbdbd'];

/** The SVG of the fuzz outcomes; no cuts gives an explicit "no data" chart. */
export async function fuzzOutcomesChart(
  cuts: readonly FuzzCut[],
  title = 'OTA power-cut fuzz: outcome of each cut by cut point',
): Promise<string> {
  cuts.forEach((cut, i) => {
    if (!FUZZ_CUT_OUTCOMES.includes(cut.outcome))
      throw new ChartDataError(
        `cuts[${i}].outcome must be one of ${FUZZ_CUT_OUTCOMES.join(', ')}, got ${JSON.stringify(cut.outcome)}`,
      );
    if (!cut.point) throw new ChartDataError(`cuts[${i}].point is empty`);
    if (!cut.client) throw new ChartDataError(`cuts[${i}].client is empty`);
  });
  if (cuts.length === 0) return noDataChart(title, 'no power cut was taken');
  // Counted here, not by vega: one bar segment per (client, point, outcome) is what tests and
  // readers count, and the tooltip can say the number.
  const counts = new Map<string, { client: string; point: string; outcome: FuzzCutOutcome; cuts: number }>();
  for (const cut of cuts) {
    const key = `${cut.client}\u0000${cut.point}\u0000${cut.outcome}`;
    const entry = counts.get(key) ?? { client: cut.client, point: cut.point, outcome: cut.outcome, cuts: 0 };
    entry.cuts++;
    counts.set(key, entry);
  }
  const values = [...counts.values()].map((entry) => ({
    ...entry,
    order: FUZZ_CUT_OUTCOMES.indexOf(entry.outcome),
  }));
  const clients = [...new Set(cuts.map((cut) => cut.client))];
  const points = [...new Set(cuts.map((cut) => cut.point))];
  return renderVegaLite({
    title,
    data: { values },
    name: 'cuts',
    mark: { type: 'bar', stroke: 'white', strokeWidth: 0.5 },
    width: { step: 22 },
    height: 160,
    encoding: {
      x: {
        field: 'point',
        type: 'nominal',
        sort: points,
        title: 'cut point',
        axis: { labelAngle: -40, labelLimit: 220 },
      },
      y: { field: 'cuts', type: 'quantitative', stack: 'zero', title: 'cuts', axis: { tickMinStep: 1 } },
      color: {
        field: 'outcome',
        type: 'nominal',
        scale: { domain: [...FUZZ_CUT_OUTCOMES], range: COLOURS },
        legend: { title: 'outcome' },
      },
      order: { field: 'order', type: 'quantitative' },
      ...(clients.length > 1 ? { row: { field: 'client', type: 'nominal' as const, title: 'client' } } : {}),
      tooltip: [{ field: 'client' }, { field: 'point' }, { field: 'outcome' }, { field: 'cuts' }],
    },
  });
}
