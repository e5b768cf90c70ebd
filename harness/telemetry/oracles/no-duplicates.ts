import { verdict, type TelemetryOracle } from './oracle.ts';

/** The cloud stores each `(bootId, seq)` once, however often the agent had to send it. */
export const noDuplicates: TelemetryOracle = {
  name: 'no-duplicates',
  check(evidence) {
    const seen = new Set<string>();
    const twice: string[] = [];
    for (const record of evidence.records) {
      const key = `${record.bootId}/${record.seq}`;
      if (seen.has(key)) twice.push(key);
      seen.add(key);
    }
    const suppressed = Object.values(evidence.summary.tiers).reduce((sum, tier) => sum + tier.duplicates, 0);
    const problems = twice.length
      ? [`${twice.length} records stored twice: ${twice.slice(0, 8).join(', ')}`]
      : [];
    return verdict(
      this.name,
      evidence,
      problems,
      `${seen.size} distinct records, ${suppressed} resent copies suppressed`,
      {
        distinct: seen.size,
        suppressed,
      },
    );
  },
};
