/**
 * The power-cut fuzz's per-cut outcomes as the fuzz outcomes chart draws them: attached to the
 * fuzz drill as an image, and plotted in the qualification report from a shard's raw result.
 */
import type { TestInfo } from '@playwright/test';
import { ChartDataError } from '../core/vega.ts';
import { cutPointRank } from '../ota/fuzz-cut-outcome.ts';
import type { OtaFuzzResult } from '../ota/fuzz.ts';
import { fuzzOutcomesChart, type FuzzCut } from './charts/fuzz-outcomes.ts';

/** What the chart needs of a fuzz result: whose client was cut, and what came of each cut. */
export type FuzzOutcomesSource = Pick<OtaFuzzResult, 'ota_client' | 'cut_outcomes'>;

/**
 * The chart's cuts of one fuzz run, their points in the order an update passes them (the chart
 * draws points in the order it first meets them). A result without `cut_outcomes` (written
 * before they were recorded) is an error naming the field: an empty chart would claim no cut
 * was taken.
 */
export function fuzzCuts(result: FuzzOutcomesSource): FuzzCut[] {
  if (!Array.isArray(result.cut_outcomes))
    throw new ChartDataError(`the ota fuzz result of ${result.ota_client} has no cut_outcomes`);
  return result.cut_outcomes
    .map((entry) => ({ client: result.ota_client, point: entry.point, outcome: entry.outcome }))
    .sort((a, b) => cutPointRank(a.point) - cutPointRank(b.point));
}

/** Attaches the outcome of each cut, by cut point, as an SVG image to the running test. */
export async function attachFuzzOutcomes(testInfo: TestInfo, result: FuzzOutcomesSource): Promise<void> {
  await testInfo.attach('fuzz outcomes', {
    body: await fuzzOutcomesChart(
      fuzzCuts(result),
      `OTA power-cut fuzz (${result.ota_client}): outcome of each cut`,
    ),
    contentType: 'image/svg+xml',
  });
}
