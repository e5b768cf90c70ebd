/**
 * A run's drill evidence, read from Playwright's JSON report (one run's, or the one
 * `playwright merge-reports` makes of several shards' blob reports): each drill's outcome with its
 * tags, and the figures the drills recorded as attachments (recordFigure).
 */
import { testsOf, ResultsFormatError, type JsonTest } from '../ci-summary.ts';
import type { DrillOutcome, DrillStatus, Figure } from './types.ts';

/** The content type of a figure a drill attaches: JSON of a {@link Figure}. */
export const FIGURE_CONTENT_TYPE = 'application/vnd.fleetdrill.figure+json';

interface JsonResult {
  status?: string;
  error?: { message?: string };
  attachments?: Array<{ name?: string; contentType?: string; body?: string }>;
}

/** Playwright's JSON spec as this reads it: tags without their `@`. */
interface JsonSpecWithTags {
  title: string;
  file: string;
  line: number;
  tags?: string[];
}

const FIGURE_ID = /^[\w.-]+(\/[\w.%-]+)+$/;

/** A figure read from an attachment body, checked field by field. */
export function parseFigure(body: unknown, where: string): Figure {
  const f = body as Partial<Figure> | null;
  const problem =
    typeof f !== 'object' || f === null
      ? 'not an object'
      : typeof f.id !== 'string' || !FIGURE_ID.test(f.id)
        ? `id ${JSON.stringify(f.id)} is not <source>/<name>`
        : typeof f.value !== 'number' || !Number.isFinite(f.value)
          ? `value ${JSON.stringify(f.value)} is not a finite number`
          : typeof f.unit !== 'string'
            ? 'unit is not a string'
            : f.better !== 'lower' && f.better !== 'higher'
              ? `better ${JSON.stringify(f.better)} is not lower or higher`
              : typeof f.valid !== 'boolean'
                ? 'valid is not a boolean'
                : undefined;
  if (problem) throw new ResultsFormatError(`${where}: figure ${problem}`);
  return {
    id: f!.id!,
    value: f!.value!,
    unit: f!.unit!,
    better: f!.better!,
    valid: f!.valid!,
    ...(f!.note && { note: f!.note }),
  };
}

function statusOf(test: JsonTest): DrillStatus {
  // A test.fail test that failed as marked is a gap the project knows of: never evidence of a pass.
  if (test.expectedStatus === 'failed' && (test.status === 'expected' || test.status === 'flaky'))
    return 'known-gap';
  if (test.status === 'skipped') return 'skipped';
  // Flaky (passed on a retry) counts as passed, as Playwright reports it; the config has no retries.
  return test.status === 'expected' || test.status === 'flaky' ? 'passed' : 'failed';
}

/** The drills (tests outside the `unit` project) and the figures they recorded. */
export function drillEvidence(
  report: unknown,
  shard?: string,
): { drills: DrillOutcome[]; figures: Figure[] } {
  if (typeof report !== 'object' || report === null)
    throw new ResultsFormatError('not a Playwright JSON report');
  const drills: DrillOutcome[] = [];
  const figures: Figure[] = [];
  for (const [spec, test, titles] of testsOf((report as { suites?: unknown }).suites, [], 'report')) {
    if (test.projectName === 'unit') continue;
    const s = spec as unknown as JsonSpecWithTags;
    const results = (test as unknown as { results?: JsonResult[] }).results ?? [];
    const last = results.at(-1);
    const status = statusOf(test);
    const skipReason = test.annotations?.find((a) => a.type === 'skip')?.description;
    const message =
      status === 'failed'
        ? last?.error?.message?.split('\n')[0]
        : status === 'skipped'
          ? skipReason
          : status === 'known-gap'
            ? test.annotations?.find((a) => a.type === 'fail')?.description
            : undefined;
    const title = titles.join(' › ');
    drills.push({
      title,
      file: s.file,
      project: test.projectName ?? '',
      tags: (s.tags ?? []).map((tag) => (tag.startsWith('@') ? tag : `@${tag}`)),
      status,
      ...(message && { message }),
      ...(shard && { shard }),
    });
    // Figures only from a drill that passed: a failed drill's numbers are not evidence.
    if (status !== 'passed' || !last) continue;
    for (const attachment of last.attachments ?? []) {
      if (attachment.contentType !== FIGURE_CONTENT_TYPE || attachment.body === undefined) continue;
      const where = `${s.file}:${s.line} (${title}) attachment ${attachment.name ?? ''}`;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.from(attachment.body, 'base64').toString('utf8'));
      } catch (error) {
        throw new ResultsFormatError(`${where}: not JSON (${(error as Error).message})`);
      }
      figures.push(parseFigure(body, where));
    }
  }
  return { drills, figures };
}
