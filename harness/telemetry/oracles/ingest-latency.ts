import { TIERS, type Tier } from '../../../fixtures/fleet-cloud/protocol.ts';
import { verdict, type TelemetryOracle } from './oracle.ts';

/** Capture time to queryable in the cloud, per tier, against an optional p99 ceiling. */
export const ingestLatency: TelemetryOracle<{ p99MaxMs?: Partial<Record<Tier, number>> }> = {
  name: 'ingest-latency',
  check(evidence, params) {
    const problems: string[] = [];
    const measured: Record<string, number> = {};
    for (const tier of TIERS) {
      const latency = evidence.summary.tiers[tier].ingestLatencyMs;
      if (latency.p99 === null) continue;
      measured[`${tier}_p50_ms`] = latency.p50 ?? 0;
      measured[`${tier}_p99_ms`] = latency.p99;
      measured[`${tier}_max_ms`] = latency.max ?? 0;
      const ceiling = params.p99MaxMs?.[tier];
      if (ceiling !== undefined && latency.p99 > ceiling) {
        problems.push(`${tier} ingest latency p99 ${latency.p99} ms, expected <= ${ceiling} ms`);
      }
    }
    const shown = Object.entries(measured)
      .map(([key, value]) => `${key}=${Math.round(value)}`)
      .join(' ');
    return verdict(this.name, evidence, problems, `ingest latency ${shown || 'n/a'}`, measured);
  },
};
