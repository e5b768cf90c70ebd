/**
 * The closing lines CI prints (.ci/summary.mjs), from Playwright's JSON reporter output.
 *
 * Playwright counts a `test.fail` test that failed as "expected", so its own `stats.expected`
 * would count a known gap as a pass. Here each test is looked up in the suites: one whose
 * expected status is "failed" and that did fail is a known gap, counted apart and never as
 * passed (also when it failed only on a retry, which Playwright counts as flaky); one that passed
 * instead is already "unexpected", so failed.
 */
import { FleetdrillError } from '../core/errors.ts';

/** A test marked `test.fail` that failed as marked: a gap the project knows of, not a pass. */
export interface KnownGap {
  /** `file:line`, as Playwright reports the spec. */
  location: string;
  /** The describe titles and the test title, joined with " › ". */
  title: string;
  project: string;
  /** The `test.fail` description, when it has one. */
  reason: string;
}

export interface CiSummary {
  passed: number;
  failed: number;
  skipped: number;
  /** Passed on a retry (counted in passed too, as Playwright does); known gaps not included. */
  flaky: number;
  knownGaps: KnownGap[];
}

/** The results file is not Playwright JSON output as this reads it. */
export class ResultsFormatError extends FleetdrillError {}

export interface JsonTest {
  expectedStatus: string;
  status: string;
  projectName?: string;
  annotations?: Array<{ type: string; description?: string }>;
}
export interface JsonSpec {
  title: string;
  file: string;
  line: number;
  tests: JsonTest[];
}
interface JsonSuite {
  title: string;
  file?: string;
  specs?: JsonSpec[];
  suites?: JsonSuite[];
}

const COUNTS = ['expected', 'unexpected', 'flaky', 'skipped'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every test in the suites, with the titles that lead to it (also read by the qualification's evidence). */
export function* testsOf(
  suites: unknown,
  path: string[],
  where: string,
): Generator<[JsonSpec, JsonTest, string[]]> {
  if (suites === undefined) return;
  if (!Array.isArray(suites)) throw new ResultsFormatError(`${where}: suites is not a list`);
  for (const [i, suite] of (suites as unknown[]).entries()) {
    const at = `${where}.suites[${i}]`;
    if (!isObject(suite)) throw new ResultsFormatError(`${at}: not an object`);
    const s = suite as unknown as JsonSuite;
    // A file's top suite is titled with the file name, which the location already gives.
    const titles = s.file !== undefined && s.title === s.file ? path : [...path, s.title];
    for (const [j, spec] of (s.specs ?? []).entries()) {
      if (!isObject(spec) || !Array.isArray(spec.tests))
        throw new ResultsFormatError(`${at}.specs[${j}]: no tests list`);
      for (const test of spec.tests) {
        if (!isObject(test) || typeof test.expectedStatus !== 'string' || typeof test.status !== 'string')
          throw new ResultsFormatError(
            `${at}.specs[${j}] (${spec.title}): a test without expectedStatus/status`,
          );
        yield [spec, test, [...titles, spec.title]];
      }
    }
    yield* testsOf(s.suites, titles, at);
  }
}

/**
 * The summary of a Playwright JSON report (the parsed file).
 * @throws ResultsFormatError naming what is missing.
 */
export function summarize(report: unknown): CiSummary {
  if (!isObject(report) || !isObject(report.stats)) throw new ResultsFormatError('no stats object');
  const stats = report.stats;
  for (const key of COUNTS)
    if (!Number.isInteger(stats[key])) throw new ResultsFormatError(`stats.${key} is not a count`);
  const count = (key: (typeof COUNTS)[number]) => stats[key] as number;

  const knownGaps: KnownGap[] = [];
  const gapsIn = { expected: 0, flaky: 0 };
  for (const [spec, test, titles] of testsOf(report.suites, [], 'report')) {
    if (test.expectedStatus !== 'failed' || (test.status !== 'expected' && test.status !== 'flaky')) continue;
    gapsIn[test.status]++;
    knownGaps.push({
      location: `${spec.file}:${spec.line}`,
      title: titles.join(' › '),
      project: test.projectName ?? '',
      reason: test.annotations?.find((a) => a.type === 'fail')?.description ?? '',
    });
  }
  // Both come from the same run; a walk that finds more gaps than Playwright counted tests as
  // expected read the file wrong, and a wrong count is worse than none.
  for (const key of ['expected', 'flaky'] as const)
    if (gapsIn[key] > count(key))
      throw new ResultsFormatError(
        `${gapsIn[key]} known gaps found ${key}, but stats.${key} is ${count(key)}`,
      );
  return {
    passed: count('expected') - gapsIn.expected + count('flaky') - gapsIn.flaky,
    failed: count('unexpected'),
    skipped: count('skipped'),
    flaky: count('flaky') - gapsIn.flaky,
    knownGaps,
  };
}

/**
 * What CI prints: each known gap, then `N known gaps` when there are any, and last the line CI
 * reads, `N passed, N failed, N skipped`.
 */
export function summaryLines(summary: CiSummary): string[] {
  const lines = summary.knownGaps.map(
    (gap) =>
      `known gap: ${gap.location} [${gap.project}] ${gap.title}${gap.reason ? ` (${gap.reason})` : ''}`,
  );
  if (summary.knownGaps.length) lines.push(`${summary.knownGaps.length} known gaps`);
  lines.push(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
  return lines;
}
