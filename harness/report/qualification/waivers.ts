import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.ts';
import type { QualificationFile, Waiver } from './types.ts';
import { issueError, parseYaml } from './yaml-input.ts';

/**
 * The waivers file: failures a named owner accepted for a reason, until a date.
 *
 * ```yaml
 * - requirement: HIL-001
 *   reason: Orin NX thermal throttling, fix in 2.4.1 (JIRA-812)
 *   owner: alice
 *   expires: 2026-11-30       # holds through the end of that day, UTC
 * ```
 *
 * An expired waiver counts as no waiver; the judge still reports it, so nobody wonders why a
 * waived failure came back.
 */

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const text = z.string().trim().min(1);
const waiversSchema = z.array(
  z.strictObject({
    requirement: text,
    reason: text,
    owner: text,
    // Quoted or not, YAML 1.2 keeps 2026-11-30 a string; a number here is a typo like 20261130.
    expires: z.string().refine((value) => calendarDay(value) !== undefined, {
      error: 'must be a calendar date YYYY-MM-DD',
    }),
  }),
  { error: 'must be a list of waivers' },
);

/** Validates the text of a waivers file; `path` names it in errors. An empty file waives nothing. */
export function parseWaivers(yamlText: string, path: string): Waiver[] {
  const input = parseYaml(yamlText, path);
  if (input.value === null) return [];
  const parsed = waiversSchema.safeParse(input.value, { reportInput: true });
  if (!parsed.success) throw issueError(input, parsed.error);
  return parsed.data;
}

/** Reads and validates a waivers file; every error names the file. */
export async function loadWaivers(path: string): Promise<Waiver[]> {
  let yamlText: string;
  try {
    yamlText = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, `cannot be read (${(error as Error).message})`);
  }
  return parseWaivers(yamlText, path);
}

/**
 * Refuses waivers of requirements the qualification file does not list: a waiver of a renamed or
 * mistyped id would otherwise wait silently while the failure it meant to cover blocks the release.
 */
export function checkWaivers(
  waivers: readonly Waiver[],
  file: QualificationFile,
  waiversPath = 'waivers',
): void {
  const ids = new Set(file.requirements.map((r) => r.id));
  waivers.forEach((waiver, index) => {
    if (!ids.has(waiver.requirement)) {
      throw new ConfigError(
        `${waiversPath}: [${index}].requirement`,
        `names ${waiver.requirement}, which ${file.path} does not list`,
      );
    }
  });
}

/**
 * The waiver that applies to a requirement at `now`: an active one if any (the one that lasts
 * longest), otherwise the most recently expired one with `expired: true`, so the report can say it
 * was ignored. Undefined when no waiver names the requirement.
 */
export function activeWaiver(
  waivers: readonly Waiver[],
  requirementId: string,
  now: Date,
): { waiver: Waiver; expired: boolean } | undefined {
  let best: { waiver: Waiver; end: number } | undefined;
  for (const waiver of waivers) {
    if (waiver.requirement !== requirementId) continue;
    const end = waiverEnd(waiver);
    if (!best || end > best.end) best = { waiver, end };
  }
  return best && { waiver: best.waiver, expired: now.getTime() >= best.end };
}

/** The instant a waiver stops holding: midnight UTC after its `expires` day. */
export function waiverEnd(waiver: Waiver): number {
  const day = calendarDay(waiver.expires);
  if (day === undefined)
    throw new ConfigError(
      `waiver for ${waiver.requirement}: expires`,
      `is not a date YYYY-MM-DD, got ${JSON.stringify(waiver.expires)}`,
    );
  return Date.UTC(day.year, day.month - 1, day.day + 1);
}

/** The date's parts when it is a real calendar day (no 2026-02-30). */
function calendarDay(value: string): { year: number; month: number; day: number } | undefined {
  const match = ISO_DATE.exec(value);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  const real =
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return real ? { year, month, day } : undefined;
}
