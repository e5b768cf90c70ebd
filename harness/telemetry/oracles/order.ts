import { TIERS } from '../../../protocol/telemetry.ts';
import { verdict, type TelemetryOracle } from './oracle.ts';

/**
 * Per boot and tier, records arrive in seq order and their capture times never go backwards:
 * a consumer reading the stream live sees each series in order.
 */
export const perSeriesOrder: TelemetryOracle = {
  name: 'per-series-order',
  check(evidence) {
    const problems: string[] = [];
    const last = new Map<string, { seq: number; capturedAt: number }>();
    for (const record of evidence.records) {
      const series = `${record.bootId}/${record.tier}`;
      const before = last.get(series);
      if (before && record.seq <= before.seq) {
        problems.push(`${series}: seq ${record.seq} arrived after seq ${before.seq}`);
      } else if (before && record.capturedAt < before.capturedAt) {
        problems.push(`${series}: seq ${record.seq} was captured before seq ${before.seq}`);
      }
      last.set(series, { seq: record.seq, capturedAt: record.capturedAt });
    }
    return verdict(
      this.name,
      evidence,
      problems.slice(0, 5),
      `${last.size} series in order (${TIERS.join(', ')})`,
      {
        series: last.size,
        outOfOrder: problems.length,
      },
    );
  },
};
