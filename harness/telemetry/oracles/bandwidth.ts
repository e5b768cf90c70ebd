import { TIERS, type Tier } from '../../../protocol/telemetry.ts';
import { verdict, type TelemetryOracle } from './oracle.ts';

/**
 * Bytes each tier put on the robot's link (the agent's count, retries included) over the drill,
 * against a budget in bytes per second. The agent counts since its boot, so a drill sharing the
 * boot with earlier ones gives the count it read at its start as `baseline`; a boot in between
 * makes the two counts incomparable, and that fails rather than guesses.
 */
export const bandwidth: TelemetryOracle<{
  durationS: number;
  budgetBytesPerS: Partial<Record<Tier, number>>;
  baseline?: { bootId: string; bytesSent: Record<Tier, number> };
}> = {
  name: 'bandwidth',
  check(evidence, params) {
    const problems: string[] = [];
    const measured: Record<string, number> = {};
    const baseline = params.baseline;
    if (baseline && baseline.bootId !== evidence.agent.boot_id) {
      return verdict(
        this.name,
        evidence,
        [
          `cannot measure: the agent rebooted (boot ${baseline.bootId} → ${evidence.agent.boot_id}) during the ${params.durationS.toFixed(0)} s measured`,
        ],
        '',
        {},
      );
    }
    for (const tier of TIERS) {
      const sent = evidence.agent.bytes_sent[tier] - (baseline?.bytesSent[tier] ?? 0);
      const rate = sent / Math.max(params.durationS, 1e-3);
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
