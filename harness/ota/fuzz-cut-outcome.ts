/**
 * What came of each power cut of the fuzz, for the per-cut plot: told from what the fuzz saw after
 * that cut (the oracles' findings, and what the robot said it runs after power-on), never from
 * the run's totals. A pure function, so each outcome can be shown to come from its evidence.
 */
import type { FuzzFinding, FuzzOracle } from './fuzz-oracles.ts';
import { STATE_SCRIPT_POINTS } from '../../protocol/power-cut.ts';
import type { PlannedCut } from './fuzz-plan.ts';

/**
 * How one cut ended: the power-on after it booted the software it had before the update (`old`) or on
 * the update's (`new`); or the first wrong finding of that cut; or `could-not-tell` when a check
 * could not tell (or the power-on booted a version that is neither). `not-converged` is for an
 * update's end, not a cut. The same words as the fuzz outcomes chart's.
 */
export type CutOutcome =
  'old' | 'new' | Exclude<FuzzOracle, 'converged'> | 'not-converged' | 'could-not-tell';

/** One entry of `OtaFuzzResult.cut_outcomes`. */
export interface CutOutcomeEntry {
  robot: string;
  /**
   * Where the cut fell, from the plan: `time`, `bytes Download`, `bytes ArtifactInstall`, or a
   * state point (`ArtifactCommit_Enter`); `update end` for an update's end that did not converge.
   */
  point: string;
  outcome: CutOutcome;
}

/** The point an update's own end is plotted at: no cut, but where convergence is judged. */
export const UPDATE_END_POINT = 'update end';

/** Where a planned cut falls, as the plot groups cuts. */
export function cutPoint(cut: PlannedCut): string {
  switch (cut.by) {
    case 'time':
      return 'time';
    case 'bytes':
      return `bytes ${cut.at}`;
    case 'state':
      return cut.at;
  }
}

/**
 * Where a cut point falls in an update, for plotting points in the update's order: `time` first
 * (it falls anywhere), then the client's state points in the order it runs them (a point's bytes
 * after its entry), then `update end`; a point the fuzz does not make goes last but one.
 */
export function cutPointRank(point: string): number {
  if (point === 'time') return 0;
  if (point === UPDATE_END_POINT) return 2 * STATE_SCRIPT_POINTS.length + 3;
  const bytes = point.startsWith('bytes ');
  const index = (STATE_SCRIPT_POINTS as readonly string[]).indexOf(bytes ? point.slice(6) : point);
  return index === -1 ? 2 * STATE_SCRIPT_POINTS.length + 2 : 1 + 2 * index + (bytes ? 1 : 0);
}

/** What one cut showed: every finding of the oracles on it, and what the power-on booted. */
export interface CutObservation {
  findings: readonly FuzzFinding[];
  /**
   * The version the power-on after the cut booted (the bootloader's decision, read from the disk
   * before power-on), once the robot answered what it runs. Not what it runs when asked: an
   * update that goes on after the power-on may have moved it on since, which is no outcome of
   * the cut. Absent when the robot did not come up or did not answer.
   */
  booted?: string;
}

/**
 * The outcome of one cut of an update from `fromVersion` to `version`. Wrong beats could not
 * tell (what was seen was seen); a cut with neither is old or new by the version it booted.
 */
export function classifyCut(
  seen: CutObservation,
  update: { fromVersion: string; version: string },
): CutOutcome {
  const firstWrong = seen.findings.find((finding) => finding.outcome === 'wrong');
  if (firstWrong) return firstWrong.oracle === 'converged' ? 'not-converged' : firstWrong.oracle;
  if (seen.findings.length > 0) return 'could-not-tell';
  if (seen.booted === update.fromVersion) return 'old';
  if (seen.booted === update.version) return 'new';
  return 'could-not-tell';
}

/**
 * The entry for an update's end, when it is worth one: `not-converged` when the convergence
 * oracle found it wrong, `could-not-tell` when it could not tell; none when it converged.
 */
export function classifyUpdateEnd(findings: readonly FuzzFinding[]): CutOutcome | undefined {
  if (findings.some((finding) => finding.outcome === 'wrong')) return 'not-converged';
  if (findings.length > 0) return 'could-not-tell';
  return undefined;
}
