import { TIERS, type Tier } from '../../../fixtures/fleet-cloud/protocol.ts';
import { verdict, type TelemetryOracle } from './oracle.ts';

/**
 * Bytes each tier put on the robot's link (the agent's count, retries included) over the drill,
 * against a budget in bytes per second.
 */
export const bandwidth: TelemetryOracle<{
  durationS: number;
  budgetBytesPerS: Partial<Record<Tier, number>>;
}> = {
  name: 'bandwidth',
  check(evidence, params) {
    const problems: string[] = [];
    const measured: Record<string, number> = {};
    for (const tier of TIERS) {
      const rate = evidence.agent.bytes_sent[tier] / Math.max(params.durationS, 1e-3);
      measured[`${tier}_bytes_per_s`] = Math.round(rate);
      const budget = params.budgetBytesPerS[tier];
      if (budget !== undefined && rate > budget) {
        problems.push(
          `${tier} used ${Math.round(rate)} B/s over ${params.durationS.toFixed(0)} s, budget ${budget} B/s`,
        );
      }
    }
    const shown = TIERS.map((tier) => `${tier} ${measured[`${tier}_bytes_per_s`]} B/s`).join(', ');
    return verdict(this.name, evidence, problems, shown, measured);
  },
};
