import type {
  DrillOutcome,
  DrillSelector,
  EvidenceResult,
  Figure,
  FigureEvidence,
  Outcome,
  Qualification,
  QualificationFile,
  Requirement,
  RequirementVerdict,
  RunEvidence,
  SoftwareUnderTest,
  Waiver,
} from './types.ts';
import { activeWaiver } from './waivers.ts';

/**
 * The judge: a release's requirements against a run's evidence, the baseline release's figures and
 * the waivers, into a verdict a release manager signs. Pure, so a verdict can be recomputed from
 * stored evidence and tested without running anything.
 *
 * The rule throughout: evidence that is missing, skipped, marked invalid or a known gap is "could
 * not tell" (not-judged), never a pass. Outcomes, by precedence:
 * - an unwaived blocker failed: not qualified, exit 1. A known failure outranks unknowns, so this
 *   holds even when other requirements could not be judged;
 * - any requirement not judged: could not judge, exit 2;
 * - otherwise qualified, exit 0; failed major requirements are named in the summary but do not block.
 *
 * A waiver accepts a failure; it does not stand in for missing evidence, so a waived requirement
 * that could not be judged stays not-judged.
 */

/** Baseline figures: those of the release the candidate is compared with. */
export interface Baseline {
  release: string;
  figures: Figure[];
}

/** What the judge needs; nothing is read from disk or the clock. */
export interface JudgeInput {
  file: QualificationFile;
  evidence: RunEvidence;
  baseline?: Baseline | undefined;
  waivers: readonly Waiver[];
  sut: SoftwareUnderTest;
  seed: number;
  /** When the verdict is made: decides which waivers hold. */
  now: Date;
}

/** Judges every requirement of the file and the release as a whole. */
export function judge(input: JudgeInput): Qualification {
  const notes: string[] = [];
  const requirements = input.file.requirements.map((requirement) =>
    judgeRequirement(requirement, input, notes),
  );
  for (const { source, reason } of input.evidence.missing)
    notes.push(`evidence missing: ${source}: ${reason}`);
  const release = input.sut.release;
  const { outcome, exitCode, summary } = decide(release, requirements);
  const qualification: Qualification = {
    release,
    outcome,
    exitCode,
    summary,
    requirements: orderForReading(requirements),
    sut: input.sut,
    seed: input.seed,
    judgedAt: input.now.toISOString(),
    notes,
  };
  if (input.baseline) qualification.baseline = input.baseline.release;
  return qualification;
}

function judgeRequirement(requirement: Requirement, input: JudgeInput, notes: string[]): RequirementVerdict {
  let regression = false;
  const results = requirement.evidence.map((piece) => {
    if ('drills' in piece) return judgeDrills(piece.drills, input.evidence.drills);
    const judged = judgeFigure(piece, input.evidence, input.baseline);
    regression ||= judged.regression;
    return judged.result;
  });
  const verdict: RequirementVerdict = {
    id: requirement.id,
    title: requirement.title,
    severity: requirement.severity,
    area: requirement.area,
    status: 'passed',
    regression,
    results,
  };
  const statuses = new Set(results.map((r) => r.status));
  const found = activeWaiver(input.waivers, requirement.id, input.now);
  const by = found && `waiver for ${requirement.id} by ${found.waiver.owner}`;
  if (statuses.has('failed')) {
    verdict.status = 'failed';
    if (found) {
      verdict.waiver = { ...found.waiver, expired: found.expired };
      if (found.expired) notes.push(`${by} expired on ${found.waiver.expires}: ignored`);
      else verdict.status = 'waived';
    }
  } else if (statuses.has('not-judged')) {
    verdict.status = 'not-judged';
    if (found && !found.expired) {
      notes.push(
        `${by} does not cover it: it could not be judged, and a waiver accepts a failure, not missing evidence`,
      );
    }
  } else if (found && !found.expired) {
    notes.push(`${by} (until ${found.waiver.expires}) was not needed: it passed`);
  }
  return verdict;
}

/** Whether a drill is one the selector names: every key given must match. */
export function selects(selector: DrillSelector, drill: DrillOutcome): boolean {
  if (selector.tag !== undefined && !drill.tags.includes(selector.tag)) return false;
  if (selector.title !== undefined && !drill.title.includes(selector.title)) return false;
  if (selector.scenario !== undefined) {
    const want = `scenarios/${selector.scenario}.spec.ts`;
    const file = drill.file.replaceAll('\\', '/');
    if (file !== want && !file.endsWith(`/${want}`)) return false;
  }
  return true;
}

/** Drill evidence: every selected drill that ran must pass, and at least one must have run. */
export function judgeDrills(selector: DrillSelector, drills: readonly DrillOutcome[]): EvidenceResult {
  const evidence = `drills ${selectorLabel(selector)}`;
  const selected = drills.filter((drill) => selects(selector, drill));
  const result = (status: EvidenceResult['status'], detail: string): EvidenceResult => ({
    evidence,
    status,
    detail,
    drills: [...new Set(selected.map((d) => d.title))],
  });
  if (selected.length === 0) {
    return result(
      'not-judged',
      `no drill matched ${selectorLabel(selector)} (of ${drills.length} in the run)`,
    );
  }
  const by = (status: DrillOutcome['status']) => selected.filter((d) => d.status === status);
  const failed = by('failed');
  if (failed.length) {
    return result('failed', `${failed.length} of ${selected.length} drills failed: ${listDrills(failed)}`);
  }
  const gaps = by('known-gap');
  if (gaps.length) {
    return result(
      'not-judged',
      `${gaps.length} of ${selected.length} drills ${gaps.length === 1 ? 'is a known gap' : 'are known gaps'}: ${listDrills(gaps)}`,
    );
  }
  const passed = by('passed');
  const skipped = by('skipped');
  if (passed.length === 0) {
    return result(
      'not-judged',
      `all ${selected.length} selected drills were skipped: ${listDrills(skipped)}`,
    );
  }
  const skips = skipped.length ? `; ${skipped.length} skipped: ${listDrills(skipped)}` : '';
  return result('passed', `${passed.length} of ${passed.length} drills that ran passed${skips}`);
}

/**
 * Figure evidence: absolute bounds against the run's value, and the worsening against the
 * baseline's value. Each bound is judged on its own, so an absolute failure still fails when the
 * relative part cannot be judged.
 */
export function judgeFigure(
  piece: FigureEvidence,
  run: RunEvidence,
  baseline?: Baseline,
): { result: EvidenceResult; regression: boolean } {
  const id = piece.figure;
  const name = id.slice(id.lastIndexOf('/') + 1);
  const notJudged = (detail: string, extra: Partial<EvidenceResult> = {}) => ({
    result: { evidence: id, status: 'not-judged' as const, detail, ...extra },
    regression: false,
  });
  const found = run.figures.filter((f) => f.id === id);
  if (found.length === 0) return notJudged(`no figure ${id}; ${whyMissing(id, run)}`);
  if (found.length > 1)
    return notJudged(`figure ${id} appears ${found.length} times in the run: cannot tell which counts`);
  const figure = found[0]!;
  const show = (value: number) => withUnit(value, figure.unit);
  if (!figure.valid || !Number.isFinite(figure.value)) {
    return notJudged(
      `${name} could not tell: ${figure.note ?? `the measurement ${show(figure.value)} does not count`}`,
      {
        value: figure.value,
        unit: figure.unit,
      },
    );
  }

  const parts: Array<{ status: EvidenceResult['status']; detail: string }> = [];
  const { max, min, maxWorseningPct } = piece.threshold;
  if (max !== undefined) {
    const over = figure.value > max;
    parts.push({
      status: over ? 'failed' : 'passed',
      detail: `${name} ${show(figure.value)} ${over ? '>' : '≤'} max ${show(max)}`,
    });
  }
  if (min !== undefined) {
    const under = figure.value < min;
    parts.push({
      status: under ? 'failed' : 'passed',
      detail: `${name} ${show(figure.value)} ${under ? '<' : '≥'} min ${show(min)}`,
    });
  }
  const result: EvidenceResult = {
    evidence: id,
    status: 'passed',
    detail: '',
    value: figure.value,
    unit: figure.unit,
  };
  let regression = false;
  if (maxWorseningPct !== undefined) {
    const relative = compareWithBaseline(figure, name, maxWorseningPct, baseline);
    parts.push(relative);
    if (relative.baseline !== undefined) result.baseline = relative.baseline;
    if (relative.worseningPct !== undefined) result.worseningPct = relative.worseningPct;
    regression = relative.status === 'failed';
  }
  const statuses = new Set(parts.map((p) => p.status));
  result.status = statuses.has('failed') ? 'failed' : statuses.has('not-judged') ? 'not-judged' : 'passed';
  // The deciding parts first, so a one-line summary quoting the detail quotes the reason.
  const rank = { failed: 0, 'not-judged': 1, passed: 2 } as const;
  result.detail = [...parts]
    .sort((a, b) => rank[a.status] - rank[b.status])
    .map((p) => p.detail)
    .join('; ');
  return { result, regression };
}

/** Rounding slack so that exactly the limit (10 % of 0.1 ms steps) is not a float-noise failure. */
const PCT_EPSILON = 1e-9;

function compareWithBaseline(
  figure: Figure,
  name: string,
  limitPct: number,
  baseline: Baseline | undefined,
): { status: EvidenceResult['status']; detail: string; baseline?: number; worseningPct?: number } {
  const limit = `limit ${formatNumber(limitPct)} %`;
  // No --baseline at all (a first release, a laptop run): the relative bound does not apply, and
  // the detail says so. A baseline that was asked for but has no usable figure is "not judged".
  if (!baseline)
    return {
      status: 'passed',
      detail: `${name} not compared with an earlier release: no baseline was given (${limit} applies with --baseline)`,
    };
  const base = baseline.figures.find((f) => f.id === figure.id);
  if (!base)
    return {
      status: 'not-judged',
      detail: `no figure ${figure.id} in ${baseline.release} to compare with (${limit} not judged)`,
    };
  if (!base.valid || !Number.isFinite(base.value)) {
    return {
      status: 'not-judged',
      detail: `${name} in ${baseline.release} could not tell: ${base.note ?? 'marked invalid'} (${limit} not judged)`,
    };
  }
  if (base.unit !== figure.unit) {
    return {
      status: 'not-judged',
      detail: `${name} is in ${figure.unit || 'no unit'} but ${baseline.release} measured it in ${base.unit || 'no unit'} (${limit} not judged)`,
      baseline: base.value,
    };
  }
  if (base.value === 0) {
    return {
      status: 'not-judged',
      detail: `${name} was 0 in ${baseline.release}: a change in percent has no meaning (${limit} not judged)`,
      baseline: 0,
    };
  }
  const change = ((figure.value - base.value) / Math.abs(base.value)) * 100;
  const worseningPct = figure.better === 'lower' ? change : -change;
  const failed = worseningPct > limitPct + PCT_EPSILON;
  const direction = worseningPct >= 0 ? 'worse' : 'better';
  const detail =
    `${name} ${withUnit(figure.value, figure.unit)} against ${withUnit(base.value, base.unit)} in ${baseline.release}: ` +
    `${Math.abs(worseningPct).toFixed(1)} % ${direction}, ${limit}`;
  return { status: failed ? 'failed' : 'passed', detail, baseline: base.value, worseningPct };
}

/** Why a figure is absent: what the run reported about its source, when it did. */
function whyMissing(id: string, run: RunEvidence): string {
  const source = id.slice(0, id.indexOf('/'));
  const reasons = run.missing
    .filter((m) => m.source === source || m.source === id || id.startsWith(`${m.source}/`))
    .map((m) => m.reason);
  return reasons.length
    ? `the source did not run: ${reasons.join('; ')}`
    : `the run did not produce it (source ${source})`;
}

function selectorLabel(selector: DrillSelector): string {
  const parts: string[] = [];
  if (selector.tag !== undefined) parts.push(`tag=${selector.tag}`);
  if (selector.title !== undefined) parts.push(`title~"${selector.title}"`);
  if (selector.scenario !== undefined) parts.push(`scenario=${selector.scenario}`);
  return parts.join(' ');
}

/** Up to three drills with their message; a reader opens the report for the rest. */
function listDrills(drills: readonly DrillOutcome[]): string {
  const shown = drills
    .slice(0, 3)
    .map((d) => `${d.title} [${d.project}]${d.message ? `: ${d.message}` : ''}`);
  const more = drills.length > 3 ? `, and ${drills.length - 3} more` : '';
  return shown.join(', ') + more;
}

function withUnit(value: number, unit: string): string {
  return unit ? `${formatNumber(value)} ${unit}` : formatNumber(value);
}

/** Four significant digits, but never rounding away the integer part. */
function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return String(Math.round(value));
  return String(Number(value.toPrecision(4)));
}

function decide(
  release: string,
  verdicts: readonly RequirementVerdict[],
): { outcome: Outcome; exitCode: 0 | 1 | 2; summary: string } {
  const failedBlockers = verdicts.filter((v) => v.status === 'failed' && v.severity === 'blocker');
  const failedMajors = verdicts.filter((v) => v.status === 'failed' && v.severity === 'major');
  const notJudged = verdicts.filter((v) => v.status === 'not-judged');
  const waived = verdicts.filter((v) => v.status === 'waived');
  const majors = failedMajors.length
    ? `; major failures, not blocking: ${listReasons(failedMajors, 'failed')}`
    : '';
  if (failedBlockers.length) {
    const unknown = notJudged.length ? `; also not judged: ${notJudged.map((v) => v.id).join(', ')}` : '';
    return {
      outcome: 'not-qualified',
      exitCode: 1,
      summary: `${release} is not qualified: ${listReasons(failedBlockers, 'failed')}${majors}${unknown}`,
    };
  }
  if (notJudged.length) {
    return {
      outcome: 'not-judged',
      exitCode: 2,
      summary: `${release} could not be judged: ${listReasons(notJudged, 'not-judged')}${majors}`,
    };
  }
  const passed = verdicts.length - waived.length - failedMajors.length;
  const waivers = waived.length
    ? `, ${waived.length} waived (${waived.map((v) => `${v.id} until ${v.waiver?.expires ?? '?'}`).join(', ')})`
    : '';
  return {
    outcome: 'qualified',
    exitCode: 0,
    summary: `${release} is qualified: ${passed} of ${verdicts.length} requirements passed${waivers}${majors}`,
  };
}

/** `HIL-001 (blocker) failed: p99_ms …`, for up to three requirements. */
function listReasons(verdicts: readonly RequirementVerdict[], status: 'failed' | 'not-judged'): string {
  const word = status === 'failed' ? 'failed' : 'not judged';
  const shown = verdicts.slice(0, 3).map((v) => {
    const why = v.results.find((r) => r.status === status)?.detail ?? '';
    return `${v.id} (${v.severity}) ${word}: ${why}`;
  });
  const more = verdicts.length > 3 ? `; and ${verdicts.length - 3} more` : '';
  return shown.join('; ') + more;
}

/** Regressions first, then failed, not judged, waived, passed; by id within each group. */
function orderForReading(verdicts: readonly RequirementVerdict[]): RequirementVerdict[] {
  const rank = (v: RequirementVerdict) =>
    v.regression ? 0 : { failed: 1, 'not-judged': 2, waived: 3, passed: 4 }[v.status];
  return [...verdicts].sort((a, b) => rank(a) - rank(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
