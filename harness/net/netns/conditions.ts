import { ConfigError } from '../../core/errors.ts';
import type { ToxicInput } from '../udp/relay.ts';
import type { UdpLinkConditions } from '../udp-profiles.ts';

/** Which way a link carries traffic: through the harness's seeded UDP relay, or a bare veth. */
export type NetnsPath = 'relay' | 'direct';

/** What implemented a condition: the seeded relay, an nftables rule, a tbf qdisc, or netem. */
export type Mechanism = 'relay' | 'nft' | 'tbf' | 'netem';

/** How one `apply()` is carried out on a path. */
export interface ConditionPlan {
  /** Toxics for every relay, each for both streams (replies cross the same air). */
  toxics: ToxicInput[];
  /** False: the relay drops everything (`down`). */
  relayEnabled: boolean;
  /** nftables on the direct path: drop probability in parts per million, or all. */
  nft: { dropPpm: number; down: boolean };
  /** tbf rate on each namespace's egress, kbit/s. */
  tbfKbit?: number;
  /** netem on each namespace's egress where the kernel has it (direct path delay). */
  netem?: { delayMs: number; jitterMs: number; rateKbit?: number };
  mechanisms: Partial<Record<keyof UdpLinkConditions, Mechanism>>;
}

function check(value: unknown, field: string, min: number, max: number, minExclusive = false): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value > max ||
    (minExclusive ? value <= min : value < min)
  ) {
    const range = `${minExclusive ? '>' : '>='} ${min}${Number.isFinite(max) ? ` and <= ${max}` : ''}`;
    throw new ConfigError(`conditions.${field}`, `must be a number ${range}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Validates conditions once up front, naming the field at fault. */
export function validateConditions(conditions: UdpLinkConditions): UdpLinkConditions {
  const c = conditions;
  if (c.lossPct !== undefined) check(c.lossPct, 'lossPct', 0, 100);
  if (c.delayMs !== undefined) check(c.delayMs, 'delayMs', 0, Infinity);
  if (c.jitterMs !== undefined) check(c.jitterMs, 'jitterMs', 0, Infinity);
  if (c.duplicatePct !== undefined) check(c.duplicatePct, 'duplicatePct', 0, 100);
  if (c.reorderPct !== undefined) check(c.reorderPct, 'reorderPct', 0, 100);
  if (c.rateKbit !== undefined) check(c.rateKbit, 'rateKbit', 0, Infinity, true);
  if (c.down !== undefined && typeof c.down !== 'boolean')
    throw new ConfigError('conditions.down', `must be a boolean, got ${JSON.stringify(c.down)}`);
  if (c.burst !== undefined) {
    check(c.burst.pGoodToBad, 'burst.pGoodToBad', 0, 1);
    check(c.burst.pBadToGood, 'burst.pBadToGood', 0, 1);
    check(c.burst.lossInBadPct, 'burst.lossInBadPct', 0, 100);
    if (c.burst.lossInGoodPct !== undefined) check(c.burst.lossInGoodPct, 'burst.lossInGoodPct', 0, 100);
  }
  return c;
}

function relayOnly(field: string, why: string): ConfigError {
  return new ConfigError(`conditions.${field}`, `needs the relay path: ${why}`);
}

/**
 * Decides which mechanism carries each condition on `path`, or throws a ConfigError naming the
 * field the path cannot do. `netem` says whether this kernel has the netem qdisc.
 */
export function planConditions(
  conditions: UdpLinkConditions,
  path: NetnsPath,
  netem: boolean,
): ConditionPlan {
  const c = validateConditions(conditions);
  const plan: ConditionPlan = {
    toxics: [],
    relayEnabled: !c.down,
    nft: { dropPpm: 0, down: false },
    mechanisms: {},
  };
  const delayed = (c.delayMs ?? 0) > 0 || (c.jitterMs ?? 0) > 0;
  if (path === 'relay') {
    const add = (type: string, attributes: Record<string, number>): void => {
      for (const stream of ['upstream', 'downstream'] as const)
        plan.toxics.push({ name: `${type}_${stream}`, type, stream, attributes });
    };
    if (c.lossPct) {
      add('loss', { probability: c.lossPct / 100 });
      plan.mechanisms.lossPct = 'relay';
    }
    if (c.burst) {
      add('gilbert_elliott', {
        p_good_bad: c.burst.pGoodToBad,
        p_bad_good: c.burst.pBadToGood,
        loss_bad: c.burst.lossInBadPct / 100,
        loss_good: (c.burst.lossInGoodPct ?? 0) / 100,
      });
      plan.mechanisms.burst = 'relay';
    }
    if (c.duplicatePct) {
      add('duplicate', { probability: c.duplicatePct / 100 });
      plan.mechanisms.duplicatePct = 'relay';
    }
    if (c.reorderPct) {
      add('reorder', { probability: c.reorderPct / 100 });
      plan.mechanisms.reorderPct = 'relay';
    }
    if (delayed) {
      add('latency', { latency: c.delayMs ?? 0, jitter: c.jitterMs ?? 0 });
      if (c.delayMs) plan.mechanisms.delayMs = 'relay';
      if (c.jitterMs) plan.mechanisms.jitterMs = 'relay';
    }
    if (c.down) plan.mechanisms.down = 'relay';
    if (c.rateKbit) {
      plan.tbfKbit = c.rateKbit;
      plan.mechanisms.rateKbit = 'tbf';
    }
    return plan;
  }
  if (c.burst)
    throw relayOnly('burst', 'nftables keeps no state between packets, so no Gilbert–Elliott channel');
  if (c.duplicatePct) throw relayOnly('duplicatePct', 'the direct path duplicates nothing');
  if (c.reorderPct) throw relayOnly('reorderPct', 'the direct path reorders nothing');
  if (c.lossPct) {
    plan.nft.dropPpm = Math.round(c.lossPct * 10_000);
    plan.mechanisms.lossPct = 'nft';
  }
  if (c.down) {
    plan.nft.down = true;
    plan.mechanisms.down = 'nft';
  }
  if (delayed) {
    const field = c.delayMs ? 'delayMs' : 'jitterMs';
    if (!netem)
      throw new ConfigError(`conditions.${field}`, 'needs the relay path here: this kernel has no netem');
    plan.netem = { delayMs: c.delayMs ?? 0, jitterMs: c.jitterMs ?? 0 };
    if (c.delayMs) plan.mechanisms.delayMs = 'netem';
    if (c.jitterMs) plan.mechanisms.jitterMs = 'netem';
    // One root qdisc per device: with netem in place, netem's own rate limit stands in for tbf.
    if (c.rateKbit) {
      plan.netem.rateKbit = c.rateKbit;
      plan.mechanisms.rateKbit = 'netem';
    }
    return plan;
  }
  if (c.rateKbit) {
    plan.tbfKbit = c.rateKbit;
    plan.mechanisms.rateKbit = 'tbf';
  }
  return plan;
}
