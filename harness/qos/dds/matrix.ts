import { ConfigError } from '../../core/errors.ts';
import { deriveSeed } from '../../core/seed.ts';
import { NetnsLink, netnsPrivileges, parseUdpProfile, type NetnsPath } from '../../net/index.ts';
import { ddsProbeAvailability } from './build.ts';
import type { QosContract, TopicContract } from '../contract.ts';
import { findingsFor, type QosFinding } from '../findings.ts';
import {
  MIN_SAMPLES,
  judgeCell,
  summariseTopics,
  type CellJudgement,
  type QosVerdict,
  type TopicSummary,
} from '../judge.ts';
import type { MatrixCell } from '../matrix-plot.ts';
import type { History, Reliability, TopicQos } from '../policy.ts';
import { matrixRelayPorts, runDdsCell, type DdsCellResult } from './cell.ts';

/** The link profiles of the full sweep: loss from 0 to 20 %, bursts, and a 2 s dead zone. */
export const FULL_MATRIX_PROFILES = [
  'clear',
  'loss-1',
  'loss-5',
  'loss-10',
  'loss-20',
  'burst',
  'dead-zone-2s',
];
/** The reduced matrix `npm test` runs: enough to show loss, repair and a dead zone. */
export const REDUCED_MATRIX_PROFILES = ['clear', 'loss-20', 'dead-zone-2s'];
/** History depths the sweep tries on top of each topic's own. */
const SWEEP_HISTORIES: History[] = [
  { kind: 'keep_last', depth: 1 },
  { kind: 'keep_last', depth: 10 },
  { kind: 'keep_all' },
];
const SWEEP_RELIABILITIES: Reliability[] = ['reliable', 'best_effort'];

/** What to sweep. */
export interface QosMatrixOptions {
  contract: QosContract;
  /** Link profile names; default FULL_MATRIX_PROFILES. */
  profiles?: readonly string[];
  /** Contract topics to run; default all. */
  topics?: readonly string[];
  /**
   * Topics that also get the reliability × depth sweep (both ends set alike), judged against
   * their contract as "what if it were configured so"; default none.
   */
  sweepTopics?: readonly string[];
  /** The run's seed: each cell's link drops from a seed derived from it and the cell. */
  seed: number;
  path?: NetnsPath;
  /** Cells run at once, each on its own pair of namespaces (default 2). */
  lanes?: number;
  /** Judged window per steady cell, ms (default 4000). */
  measureMs?: number;
  /** Called as each cell finishes, for progress output. */
  onCell?: (cell: JudgedDdsCell, done: number, total: number) => void;
  /** Stops handing out cells; those under way finish. */
  signal?: AbortSignal;
}

/** A cell with its judgement. `variant` is `contract` for the topic's own QoS, else `sweep`. */
export interface JudgedDdsCell extends DdsCellResult {
  variant: 'contract' | 'sweep';
  judgement: CellJudgement;
  /** The seed of this cell's link: replaying it replays the drops. */
  seed: number;
}

/** The whole sweep: every cell, a verdict per topic (contract cells only), the findings. */
export interface QosMatrixResult {
  model: string;
  seed: number;
  path: NetnsPath;
  profiles: string[];
  cells: JudgedDdsCell[];
  topics: TopicSummary[];
  findings: QosFinding[];
  /** fail if a topic failed or an error finding stands; could-not-tell if a topic could not tell; else pass. */
  verdict: QosVerdict;
  wallMs: number;
  /** Cells not run because the run was stopped. */
  skipped: number;
}

interface PlannedCell {
  topic: TopicContract;
  variant: 'contract' | 'sweep';
  publisher: TopicQos;
  subscriber: TopicQos;
  profile: string;
}

function sameQos(a: TopicQos, b: TopicQos): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The cells of a sweep, in a stable order (the order decides nothing but progress output). */
export function planMatrix(options: Omit<QosMatrixOptions, 'seed'>): PlannedCell[] {
  const profiles = options.profiles ?? FULL_MATRIX_PROFILES;
  for (const profile of profiles) parseUdpProfile(profile);
  const known = new Map(options.contract.topics.map((topic) => [topic.name, topic]));
  const pick = (names: readonly string[] | undefined, field: string): TopicContract[] =>
    (names ?? []).map((name) => {
      const topic = known.get(name);
      if (!topic) {
        throw new ConfigError(
          field,
          `'${name}' is not a topic of ${options.contract.source} (topics: ${[...known.keys()].join(', ')})`,
        );
      }
      return topic;
    });
  const topics = options.topics ? pick(options.topics, '--topics') : options.contract.topics;
  const cells: PlannedCell[] = [];
  for (const topic of topics) {
    for (const profile of profiles) {
      cells.push({
        topic,
        variant: 'contract',
        publisher: topic.publisher,
        subscriber: topic.subscriber,
        profile,
      });
    }
  }
  for (const topic of pick(options.sweepTopics, '--sweep')) {
    for (const reliability of SWEEP_RELIABILITIES) {
      for (const history of SWEEP_HISTORIES) {
        const qos: TopicQos = { ...topic.publisher, reliability, history };
        const subscriber: TopicQos = { ...topic.subscriber, reliability, history };
        if (sameQos(qos, topic.publisher) && sameQos(subscriber, topic.subscriber)) continue;
        for (const profile of profiles) {
          cells.push({ topic, variant: 'sweep', publisher: qos, subscriber, profile });
        }
      }
    }
  }
  return cells;
}

/**
 * Samples a cell's window should hold. A slow topic (a 1 Hz map) gets a window long enough for a
 * verdict: too few samples would only read "could not tell". Best effort is judged as a ratio
 * against chance, so it gets 100 (its floor then sits about 2.5 standard deviations below what
 * the link lets through); reliable delivery is all-or-nothing and needs fewer.
 */
const WINDOW_SAMPLES = { best_effort: 100, reliable: MIN_SAMPLES + 5 } as const;

function windowFor(cell: PlannedCell, measureMs: number): number {
  const samples = WINDOW_SAMPLES[cell.publisher.reliability];
  return Math.max(measureMs, Math.ceil((samples * 1000) / cell.topic.sample.rateHz));
}

function historyKey(history: History): string {
  return history.kind === 'keep_all' ? 'keep_all' : `keep_last ${history.depth}`;
}

/**
 * Runs a QoS matrix over real DDS: every cell on a fresh pair of namespaces, so a cell's drops
 * follow from its own seed whatever ran before it or beside it.
 */
export async function runQosMatrix(options: QosMatrixOptions): Promise<QosMatrixResult> {
  const started = performance.now();
  const path = options.path ?? 'relay';
  const plan = planMatrix(options);
  const profiles = [...(options.profiles ?? FULL_MATRIX_PROFILES)];
  const measureMs = options.measureMs ?? 4_000;
  const cells: JudgedDdsCell[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < plan.length && !options.signal?.aborted) {
      const index = next++;
      const cell = plan[index]!;
      const key = [
        cell.topic.name,
        cell.publisher.reliability,
        historyKey(cell.publisher.history),
        cell.profile,
      ];
      const seed = deriveSeed(options.seed, 'qos-matrix', ...key);
      const link = await NetnsLink.start({
        seed,
        path,
        relayPorts: matrixRelayPorts(),
        label: key.join(' '),
      });
      try {
        const result = await runDdsCell(link, {
          topic: cell.topic.name,
          publisher: cell.publisher,
          subscriber: cell.subscriber,
          sample: cell.topic.sample,
          profile: parseUdpProfile(cell.profile),
          measureMs: windowFor(cell, measureMs),
          index,
        });
        const judgement = judgeCell(cell.topic, cell.profile, {
          ...(result.measurement ?? {
            published: 0,
            received: 0,
            deliveredRatio: 0,
            latencyMs: { p50: 0, p99: 0, max: 0 },
            longestGapMs: 0,
          }),
          matched: result.matched,
          incompatible: result.incompatible,
          retransmits: result.retransmitBytes,
        });
        if (result.couldNotTell && judgement.verdict !== 'fail') {
          judgement.verdict = 'could-not-tell';
          judgement.reasons.unshift(`${cell.topic.name} on ${cell.profile}: ${result.couldNotTell}`);
        }
        const judged: JudgedDdsCell = { ...result, variant: cell.variant, judgement, seed };
        cells.push(judged);
        options.onCell?.(judged, cells.length, plan.length);
      } finally {
        await link.stop();
      }
    }
  };
  const lanes = Math.max(1, Math.min(options.lanes ?? 2, plan.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  // Cells finish out of order when lanes run side by side; report them in plan order.
  const order = new Map(
    plan.map((cell, i) => [
      `${cell.variant} ${cell.topic.name} ${cell.publisher.reliability} ${historyKey(cell.publisher.history)} ${cell.profile}`,
      i,
    ]),
  );
  const keyOf = (c: JudgedDdsCell) => `${c.variant} ${c.topic} ${c.reliability} ${c.history} ${c.profile}`;
  cells.sort((a, b) => (order.get(keyOf(a)) ?? 0) - (order.get(keyOf(b)) ?? 0));
  const topics = summariseTopics(
    cells
      .filter((c) => c.variant === 'contract')
      .map((c) => ({ topic: c.topic, profile: c.profile, judgement: c.judgement })),
  );
  const selected = new Set(plan.map((cell) => cell.topic.name));
  const findings = findingsFor(options.contract, profiles).filter((f) => selected.has(f.topic));
  const skipped = plan.length - cells.length;
  const verdict: QosVerdict =
    topics.some((t) => t.verdict === 'fail') || findings.some((f) => f.severity === 'error')
      ? 'fail'
      : topics.some((t) => t.verdict === 'could-not-tell') || skipped > 0
        ? 'could-not-tell'
        : 'pass';
  return {
    model: options.contract.model,
    seed: options.seed,
    path,
    profiles,
    cells,
    topics,
    findings,
    verdict,
    wallMs: Math.round(performance.now() - started),
    skipped,
  };
}

/** The cells as the matrix plot draws them. */
export function plotCells(result: QosMatrixResult): MatrixCell[] {
  return result.cells.map((cell) => ({
    topic: cell.topic,
    reliability: cell.reliability,
    history:
      cell.history === 'keep_all'
        ? { kind: 'keep_all' }
        : { kind: 'keep_last', depth: Number(cell.history.replace('keep_last ', '')) },
    profile: cell.profile,
    measured: cell.measurement ?? { deliveredRatio: 0, received: 0, latencyMs: { p50: 0, p99: 0, max: 0 } },
    judgement: cell.judgement,
  }));
}

/** One topic's traffic over a fresh link with one profile: what a drill asks of real DDS. */
export interface DdsLinkTrial {
  /** Seed of the link's drops. */
  seed: number;
  profile: string;
  /** Names the trial (and its DDS topic). */
  topic: string;
  publisher: TopicQos;
  /** Default: what the publisher offers. */
  subscriber?: TopicQos;
  sample: { bytes: number; rateHz: number };
  measureMs?: number;
  path?: NetnsPath;
}

let trialIndex = 0;

/** Runs one trial on its own pair of namespaces, removed afterwards. */
export async function measureDdsLink(trial: DdsLinkTrial): Promise<DdsCellResult> {
  const link = await NetnsLink.start({
    seed: trial.seed,
    path: trial.path ?? 'relay',
    relayPorts: matrixRelayPorts(),
    label: `${trial.topic} ${trial.profile}`,
  });
  try {
    return await runDdsCell(link, {
      topic: trial.topic,
      publisher: trial.publisher,
      subscriber: trial.subscriber ?? trial.publisher,
      sample: trial.sample,
      profile: parseUdpProfile(trial.profile),
      measureMs: trial.measureMs ?? 4_000,
      index: trialIndex++,
    });
  } finally {
    await link.stop();
  }
}

/** What the DDS drills need from this machine, or why they cannot run here. */
export async function ddsDrillsAvailability(): Promise<{ ok: true } | { ok: false; missing: string }> {
  const netns = netnsPrivileges();
  const probe = await ddsProbeAvailability();
  const missing = [netns, probe].flatMap((check) => (check.ok ? [] : [check.missing]));
  return missing.length === 0 ? { ok: true } : { ok: false, missing: missing.join('; ') };
}
