import { TIERS } from '../../../protocol/telemetry.ts';
import { listSome, verdict, type TelemetryOracle } from './oracle.ts';

/**
 * What the cloud holds equals what the agent produced minus what it counted as evicted, per
 * boot and tier, down to the seq: a lost record and an uncounted eviction both fail. Records the
 * agent took while the evidence was gathered (after its account, by its second account) are
 * neither counted nor missed; anything past the second account was never taken.
 */
export const completeness: TelemetryOracle = {
  name: 'completeness',
  check(evidence) {
    const problems: string[] = [];
    let produced = 0;
    let evicted = 0;
    let held = 0;
    let late = 0;
    const bootsInCloud = new Set(evidence.records.map((record) => record.bootId));
    for (const account of evidence.agent.accounts) {
      bootsInCloud.delete(account.bootId);
      const takenBy =
        evidence.agentAfter?.accounts.find((after) => after.bootId === account.bootId)?.lastSeq ??
        account.lastSeq;
      const ofBoot = evidence.records.filter((record) => record.bootId === account.bootId);
      const inCloud = ofBoot.filter((record) => record.seq <= account.lastSeq);
      const cloudSeqs = new Set(inCloud.map((record) => record.seq));
      const evictedSeqs = new Set<number>();
      for (const tier of TIERS) {
        for (const [from, to] of account.evictedSeqs[tier])
          for (let seq = from; seq <= to; seq++) evictedSeqs.add(seq);
      }
      const missing: number[] = [];
      for (let seq = 1; seq <= account.lastSeq; seq++) {
        if (!evictedSeqs.has(seq) && !cloudSeqs.has(seq)) missing.push(seq);
      }
      const lateSeqs = ofBoot.filter((r) => r.seq > account.lastSeq && r.seq <= takenBy).map((r) => r.seq);
      late += new Set(lateSeqs).size;
      const unexpected = [...new Set(ofBoot.map((record) => record.seq))].filter(
        (seq) => seq > takenBy || evictedSeqs.has(seq),
      );
      if (missing.length)
        problems.push(`${missing.length} seqs of boot ${account.bootId} missing: ${listSome(missing)}`);
      if (unexpected.length) {
        problems.push(
          `${unexpected.length} seqs of boot ${account.bootId} stored though counted evicted or never taken: ${listSome(unexpected)}`,
        );
      }
      for (const tier of TIERS) {
        const stored = inCloud.filter((record) => record.tier === tier).length;
        const expected = account.produced[tier] - account.evicted[tier];
        if (stored !== expected) {
          problems.push(
            `${tier} of boot ${account.bootId}: cloud holds ${stored}, agent produced ${account.produced[tier]} and evicted ${account.evicted[tier]}`,
          );
        }
        produced += account.produced[tier];
        evicted += account.evicted[tier];
        held += stored;
      }
    }
    if (bootsInCloud.size)
      problems.push(`cloud holds boots the agent does not know: ${[...bootsInCloud].join(', ')}`);
    const rejected = TIERS.reduce((sum, tier) => sum + evidence.agent.uploader.rejected[tier], 0);
    if (rejected) problems.push(`${rejected} records were refused by the cloud and never stored`);
    return verdict(
      this.name,
      evidence,
      problems,
      `all ${held} records held: ${produced} produced − ${evicted} evicted`,
      {
        produced,
        evicted,
        held,
        boots: evidence.agent.accounts.length,
        late,
      },
    );
  },
};
