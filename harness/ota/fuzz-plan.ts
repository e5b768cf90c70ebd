/**
 * What a power-cut fuzz run will do, drawn from its seed before anything runs: for each robot, its
 * updates (which software variant) and the cuts in each (after a time, after bytes at a point, or
 * at a state-script point). Each robot draws from a stream of its own, seeded from the run's seed
 * and its id, and takes a fixed share of the cuts, so that how fast one robot gets through its
 * updates cannot change what another robot does, or in what order: a seed replays the same cuts.
 * A robot's kinds of cut come out of a shuffled bag, refilled when empty, so every robot with three
 * cuts or more takes each kind, which independent draws would leave to luck.
 */
import type { StateScriptPoint } from '../../protocol/power-cut.ts';
import { deriveSeed, SeededRandom } from '../core/seed.ts';
import type { RobotVariant } from './variants.ts';

/** One power cut, as drawn. */
export type PlannedCut =
  /** After `ms` from the moment the cut is due (the update's start, or the last power-on). */
  | { by: 'time'; ms: number }
  /** Once `afterBytes` bytes went through `at` (Download, ArtifactInstall). */
  | { by: 'bytes'; at: StateScriptPoint; afterBytes: number }
  /** When the OTA client runs its state script at `at`. */
  | { by: 'state'; at: StateScriptPoint };

/** The kinds of cut, each drawn once per bag. */
export const CUT_KINDS = ['time', 'bytes', 'state'] as const satisfies ReadonlyArray<PlannedCut['by']>;

/** One update of one robot and the cuts it takes, in order. */
export interface PlannedUpdate {
  variant: RobotVariant;
  cuts: PlannedCut[];
}

const VARIANTS: ReadonlyArray<{ variant: RobotVariant; weight: number }> = [
  { variant: 'good', weight: 7 },
  { variant: 'fails-self-test', weight: 2 },
  { variant: 'crashes-on-boot', weight: 1 },
];
const BYTE_POINTS: readonly StateScriptPoint[] = ['Download', 'ArtifactInstall'];
const STATE_POINTS: readonly StateScriptPoint[] = [
  'ArtifactInstall_Enter',
  'ArtifactReboot_Enter',
  'ArtifactCommit_Enter',
  'ArtifactCommit_Leave',
];
/** Longest time cut: past it, most updates have ended and the cut would land on an idle robot. */
export const MAX_TIME_CUT_MS = 6_000;
/** Most cuts one update takes before it is let run to its end. */
export const MAX_CUTS_PER_UPDATE = 3;
/** Up to the size of the image (~1 MB): a draw past what the point sees never fires. */
const MAX_CUT_BYTES = 1_100_000;

/**
 * How many of `cuts` each robot takes: an equal share, the first robots one more when it does not
 * divide. Fixed up front, so no robot takes a cut another one would have taken on a faster run.
 */
export function cutShares(cuts: number, robotIds: readonly string[]): Map<string, number> {
  const base = Math.floor(cuts / robotIds.length);
  const extra = cuts % robotIds.length;
  return new Map(robotIds.map((id, i) => [id, base + (i < extra ? 1 : 0)]));
}

/** Each robot's updates and cuts for a run; the same seed and robots give the same plan. */
export function planOtaFuzz(
  seed: number,
  robotIds: readonly string[],
  cuts: number,
): Map<string, PlannedUpdate[]> {
  const shares = cutShares(cuts, robotIds);
  return new Map(robotIds.map((id) => [id, planRobot(seed, id, shares.get(id) ?? 0)]));
}

function planRobot(seed: number, robotId: string, share: number): PlannedUpdate[] {
  const rng = new SeededRandom(deriveSeed(seed, 'ota-fuzz', robotId));
  const kinds = shuffledBag(rng, CUT_KINDS);
  const updates: PlannedUpdate[] = [];
  for (let left = share; left > 0;) {
    const variant = pickVariant(rng);
    const count = Math.min(rng.int(1, MAX_CUTS_PER_UPDATE), left);
    const planned: PlannedUpdate = { variant, cuts: [] };
    for (let i = 0; i < count; i++) planned.cuts.push(drawCut(rng, kinds()));
    updates.push(planned);
    left -= count;
  }
  return updates;
}

/**
 * Draws from `items` without putting back, in an order shuffled from `rng`; once all are drawn, the
 * bag is refilled and shuffled again. Any `items.length` draws in a row from a fresh bag hold each
 * item once.
 */
function shuffledBag<T>(rng: SeededRandom, items: readonly T[]): () => T {
  const bag: T[] = [];
  return () => {
    if (bag.length === 0) {
      bag.push(...items);
      // Fisher-Yates, on the robot's own stream so the seed decides the order.
      for (let i = bag.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [bag[i], bag[j]] = [bag[j]!, bag[i]!];
      }
    }
    return bag.pop()!;
  };
}

function drawCut(rng: SeededRandom, kind: PlannedCut['by']): PlannedCut {
  switch (kind) {
    case 'time':
      return { by: 'time', ms: rng.int(0, MAX_TIME_CUT_MS) };
    case 'bytes':
      return { by: 'bytes', at: rng.pick(BYTE_POINTS), afterBytes: rng.int(0, MAX_CUT_BYTES) };
    case 'state':
      return { by: 'state', at: rng.pick(STATE_POINTS) };
  }
}

function pickVariant(rng: SeededRandom): RobotVariant {
  const total = VARIANTS.reduce((sum, entry) => sum + entry.weight, 0);
  let draw = rng.int(1, total);
  for (const entry of VARIANTS) {
    draw -= entry.weight;
    if (draw <= 0) return entry.variant;
  }
  return 'good';
}

/** `time 153 ms`, `bytes Download 711175`, `state ArtifactCommit_Enter`: for logs and sequences. */
export function describePlannedCut(cut: PlannedCut): string {
  switch (cut.by) {
    case 'time':
      return `time ${cut.ms} ms`;
    case 'bytes':
      return `bytes ${cut.at} ${cut.afterBytes}`;
    case 'state':
      return `state ${cut.at}`;
  }
}

/**
 * A robot's plan as lines, one per cut, `update 2 good: time 153 ms`: what a run reports it took,
 * and what a replay compares.
 */
export function describePlan(updates: readonly PlannedUpdate[]): string[] {
  return updates.flatMap((update, i) =>
    update.cuts.map((cut) => `update ${i + 1} ${update.variant}: ${describePlannedCut(cut)}`),
  );
}
