import type { TopicContract } from './contract.ts';
import { incompatibilities, type Incompatibility } from './findings.ts';

/** A cell's or a topic's verdict. `could-not-tell` is the machine's or the harness's, never the product's. */
export type QosVerdict = 'pass' | 'fail' | 'could-not-tell';

/** What one cell (topic × link profile) measured, from either the DDS probe or the rosbridge meter. */
export interface CellMeasured {
  /** Samples the publisher wrote in the judged window (its own count, not a nominal rate). */
  published: number;
  /** Distinct samples of the window that arrived. */
  received: number;
  /** received / published. */
  deliveredRatio: number;
  /** Delivery latency of the samples that arrived, ms. */
  latencyMs: { p50: number; p99: number; max: number };
  /** Longest time with no new sample arriving, ms. */
  longestGapMs: number;
  /** p99 age of the newest sample the subscriber holds, ms; absent when not measured. */
  ageP99Ms?: number;
  /** Policies the stack reported as incompatible (`RELIABILITY`, …); empty or absent when none. */
  incompatible?: readonly string[];
  /** Whether publisher and subscriber ever matched. */
  matched: boolean;
  /** Retransmissions the writer made, where the stack reports them; null when it cannot. */
  retransmits?: number | null;
}

/** A verdict and why: fail reasons name topic, profile, limit and measured value. */
export interface CellJudgement {
  verdict: QosVerdict;
  reasons: string[];
}

/** One judged cell, as `summariseTopic` and the matrix plot take it. */
export interface JudgedCell {
  topic: string;
  profile: string;
  judgement: CellJudgement;
}

/**
 * Fewer samples than this and a ratio or a p99 says more about chance than about the link (at 19
 * samples one loss is already 5 %, and p99 is the maximum).
 */
export const MIN_SAMPLES = 20;

/** z for a two-sided 99 % interval: a cell fails on delivery only when chance explains it 1 time in 200. */
const Z99 = 2.576;

/**
 * Upper end of the Wilson score interval for a delivery ratio of `k` in `n`. Best-effort loss is
 * a coin per sample, so 150 of 200 against a 76 % minimum is not yet evidence of a fault; a single
 * loss on a topic that must deliver everything is (the upper end drops below 1 at once).
 */
export function wilsonUpper(k: number, n: number, z = Z99): number {
  if (n === 0) return 1;
  const p = k / n;
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return Math.min(1, (centre + spread) / (1 + z2 / n));
}

const fmt = (x: number): string => String(Number(x.toFixed(1)));
const pct = (x: number): string => `${Number((x * 100).toFixed(1))} %`;

/**
 * Judges one cell against the topic's contract for `profileName`. An incompatibility is always a
 * fail, named as such (a silent topic must never read as a timeout). Thin or inconsistent
 * evidence (too few samples, never matched with no incompatibility reported, a limit the
 * measurement cannot speak to) is `could-not-tell`, unless a limit was clearly broken anyway.
 */
export function judgeCell(topic: TopicContract, profileName: string, measured: CellMeasured): CellJudgement {
  const where = `${topic.name} on ${profileName}`;
  const reported = measured.incompatible ?? [];
  if (reported.length > 0) {
    // Say what each side asked for where the contract shows it: that is the fix.
    const sides = new Map<string, Incompatibility>(
      incompatibilities(topic.publisher, topic.subscriber).map((i) => [i.policy, i]),
    );
    return {
      verdict: 'fail',
      reasons: reported.map((policy) => {
        const name = policy.toUpperCase();
        const side = sides.get(name);
        const detail = side
          ? ` (publisher offers ${side.offered}, subscriber requests ${side.requested})`
          : '';
        return `${where}: incompatible QoS: ${name}${detail}`;
      }),
    };
  }
  const limits = topic.expect[profileName];
  if (!limits) {
    return {
      verdict: 'could-not-tell',
      reasons: [`${where}: the contract sets no expectation for ${profileName}`],
    };
  }
  if (!measured.matched) {
    return {
      verdict: 'could-not-tell',
      reasons: [
        `${where}: publisher and subscriber never matched and no incompatibility was reported: discovery did not finish (the machine or the harness, not the product)`,
      ],
    };
  }
  if (measured.published < MIN_SAMPLES) {
    return {
      verdict: 'could-not-tell',
      reasons: [
        `${where}: only ${measured.published} samples published, fewer than the ${MIN_SAMPLES} a verdict needs`,
      ],
    };
  }
  const ratio = measured.received / measured.published;
  if (measured.received > measured.published || Math.abs(ratio - measured.deliveredRatio) > 1e-6) {
    return {
      verdict: 'could-not-tell',
      reasons: [
        `${where}: inconsistent measurement (received ${measured.received} of ${measured.published} published, deliveredRatio ${measured.deliveredRatio})`,
      ],
    };
  }

  const failures: string[] = [];
  const unknowns: string[] = [];
  if (limits.deliveryMin !== undefined && ratio < limits.deliveryMin) {
    const upper = wilsonUpper(measured.received, measured.published);
    const delivered = `delivered ${pct(ratio)} (${measured.received} of ${measured.published})`;
    if (upper < limits.deliveryMin) {
      failures.push(`${where}: ${delivered}, contract wants >= ${pct(limits.deliveryMin)}`);
    } else {
      unknowns.push(
        `${where}: ${delivered}, below the ${pct(limits.deliveryMin)} wanted but within chance at ${measured.published} samples (99 % interval up to ${pct(upper)}): more samples needed`,
      );
    }
  }
  if (limits.latencyP99MaxMs !== undefined) {
    if (measured.received === 0) {
      unknowns.push(
        `${where}: no sample arrived, so latency p99 (limit ${limits.latencyP99MaxMs} ms) cannot be told`,
      );
    } else if (measured.latencyMs.p99 > limits.latencyP99MaxMs) {
      failures.push(
        `${where}: latency p99 ${fmt(measured.latencyMs.p99)} ms, contract allows <= ${limits.latencyP99MaxMs} ms`,
      );
    }
  }
  if (limits.stallMaxMs !== undefined && measured.longestGapMs > limits.stallMaxMs) {
    failures.push(
      `${where}: longest stall ${fmt(measured.longestGapMs)} ms, contract allows <= ${limits.stallMaxMs} ms`,
    );
  }
  if (limits.ageP99MaxMs !== undefined) {
    if (measured.ageP99Ms === undefined) {
      unknowns.push(
        `${where}: the newest sample's age was not measured (limit p99 <= ${limits.ageP99MaxMs} ms)`,
      );
    } else if (measured.ageP99Ms > limits.ageP99MaxMs) {
      failures.push(
        `${where}: newest sample's age p99 ${fmt(measured.ageP99Ms)} ms, contract allows <= ${limits.ageP99MaxMs} ms`,
      );
    }
  }
  if (failures.length > 0) return { verdict: 'fail', reasons: failures };
  if (unknowns.length > 0) return { verdict: 'could-not-tell', reasons: unknowns };
  return { verdict: 'pass', reasons: [] };
}

/** A topic's verdict over its cells. */
export interface TopicSummary {
  topic: string;
  verdict: QosVerdict;
  /** Cells per verdict. */
  counts: Record<QosVerdict, number>;
  /** The reasons of every cell that did not pass. */
  reasons: string[];
}

/**
 * One verdict per topic: fail if any cell failed; else could-not-tell if any cell could not tell
 * (a pass over part of the profiles is not a pass) or there are no cells; else pass.
 */
export function summariseTopic(cells: readonly JudgedCell[]): TopicSummary {
  const topics = [...new Set(cells.map((c) => c.topic))];
  if (topics.length > 1) throw new Error(`summariseTopic takes one topic's cells, got ${topics.join(', ')}`);
  const counts: Record<QosVerdict, number> = { pass: 0, fail: 0, 'could-not-tell': 0 };
  for (const cell of cells) counts[cell.judgement.verdict]++;
  const topic = topics[0] ?? '(none)';
  const verdict: QosVerdict =
    counts.fail > 0 ? 'fail' : counts['could-not-tell'] > 0 || cells.length === 0 ? 'could-not-tell' : 'pass';
  const reasons = cells.filter((c) => c.judgement.verdict !== 'pass').flatMap((c) => c.judgement.reasons);
  if (cells.length === 0) reasons.push('no cells were judged');
  return { topic, verdict, counts, reasons };
}

/** `summariseTopic` for each topic of a matrix, in first-seen order. */
export function summariseTopics(cells: readonly JudgedCell[]): TopicSummary[] {
  const byTopic = new Map<string, JudgedCell[]>();
  for (const cell of cells) byTopic.set(cell.topic, [...(byTopic.get(cell.topic) ?? []), cell]);
  return [...byTopic.values()].map(summariseTopic);
}
