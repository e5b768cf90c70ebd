/**
 * What one run leaves in the history store, and the store's interface. Both stores (SQLite and a
 * JSON directory) validate every record with the same schema, on the way in and on the way out,
 * so a record that one store accepts the other accepts too, and a damaged store says where.
 */
import { z } from 'zod';
import { firstIssue } from '../../../protocol/zod-issues.ts';
import { FleetdrillError } from '../../core/errors.ts';
import type { Figure, Outcome, RequirementStatus, Severity, SoftwareUnderTest } from './types.ts';

/** Which kind of run wrote a record. */
export type RunKind = 'qualification' | 'nightly';

/** One qualification or nightly run, as the history keeps it. */
export interface HistoryRecord {
  /** Unique in the store; it also names the run's file in a JSON store, so it is path-safe. */
  runId: string;
  kind: RunKind;
  /** The release qualified (qualification) or built (nightly), when known. */
  release?: string;
  seed: number;
  /** ISO 8601 time the run started, with its offset (`2026-12-03T18:15:00.000Z`). */
  startedAt: string;
  sut: SoftwareUnderTest;
  figures: Figure[];
  verdicts: Array<{ id: string; status: RequirementStatus; severity: Severity }>;
  /** The qualification's outcome; a nightly run has none. */
  outcome?: Outcome;
  drills: { passed: number; failed: number; skipped: number };
}

/** One point of a figure's trend. */
export interface TrendPoint {
  runId: string;
  release?: string;
  kind: RunKind;
  startedAt: string;
  value: number;
  valid: boolean;
}

/** Allure's `history/*.json` files, by file name, as kept with a run. */
export type AllureHistoryFiles = Map<string, Buffer>;

/** Where runs are kept between CI machines: newest first on the way out. */
export interface HistoryStore {
  /** Where the store lives (a file or a directory), for messages. */
  readonly location: string;
  /** Adds one run; a run id already stored is an error, as two runs are never one. */
  append(record: HistoryRecord): Promise<void>;
  /** Stored runs, newest first (by startedAt, then runId). */
  runs(options?: { limit?: number; kind?: RunKind }): Promise<HistoryRecord[]>;
  /** The newest qualification of a release, if any. */
  latestRelease(release: string): Promise<HistoryRecord | undefined>;
  /** A figure over the newest `limit` runs that measured it, oldest first (for trend plots). */
  figureTrend(figureId: string, limit: number, kind?: RunKind): Promise<TrendPoint[]>;
  /** Keeps Allure's history files with a stored run, replacing any it had. */
  putAllureHistory(runId: string, files: AllureHistoryFiles): Promise<void>;
  /** The Allure history of the newest run that has one. */
  latestAllureHistory(): Promise<{ runId: string; files: AllureHistoryFiles } | undefined>;
  /** Releases the store; idempotent. */
  close(): void;
}

/** The history store cannot be read or written as asked; the message names the file or field. */
export class HistoryError extends FleetdrillError {}

// The id becomes part of a file name in a JSON store and of CI artifact paths.
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
// Allure writes these names itself; anything else (a path, a dotfile) is not its history.
const ALLURE_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.json$/;

const figureSchema = z.strictObject({
  id: z.string().min(1),
  value: z.number(),
  unit: z.string(),
  better: z.enum(['lower', 'higher']),
  valid: z.boolean(),
  note: z.string().optional(),
});

const sutSchema = z.strictObject({
  release: z.string().min(1),
  components: z.array(
    z.strictObject({
      name: z.string().min(1),
      version: z.string().optional(),
      digest: z.string().optional(),
      source: z.string().min(1),
    }),
  ),
});

const count = z.number().int().nonnegative();

const recordSchema = z
  .strictObject({
    runId: z.string().regex(RUN_ID, 'must be 1-128 characters of A-Z a-z 0-9 . _ - (it names a file)'),
    kind: z.enum(['qualification', 'nightly']),
    release: z.string().min(1).optional(),
    seed: z.number().int(),
    startedAt: z.iso.datetime({ offset: true }),
    sut: sutSchema,
    figures: z.array(figureSchema),
    verdicts: z.array(
      z.strictObject({
        id: z.string().min(1),
        status: z.enum(['passed', 'failed', 'waived', 'not-judged']),
        severity: z.enum(['blocker', 'major']),
      }),
    ),
    outcome: z.enum(['qualified', 'not-qualified', 'not-judged']).optional(),
    drills: z.strictObject({ passed: count, failed: count, skipped: count }),
  })
  .superRefine((record, context) => {
    const seen = new Set<string>();
    record.figures.forEach((figure, index) => {
      if (seen.has(figure.id)) {
        context.addIssue({
          code: 'custom',
          path: ['figures', index, 'id'],
          message: `repeats figure "${figure.id}" (a figure id is unique in a run)`,
        });
      }
      seen.add(figure.id);
    });
  });

/**
 * The record checked against the schema; `where` names its origin (`run r1`, a file) in the
 * error, which also names the field: `history file x.json: figures[2].value must be a number`.
 */
export function validRecord(value: unknown, where: string): HistoryRecord {
  const parsed = recordSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    const { path, message } = firstIssue(parsed.error);
    throw new HistoryError(`${where}: ${path} ${message}`);
  }
  return parsed.data;
}

/** The record's start as milliseconds since the epoch: what runs are ordered by. */
export function startedMs(record: Pick<HistoryRecord, 'startedAt'>): number {
  return Date.parse(record.startedAt);
}

/** Throws unless `name` is a file name Allure's history could have. */
export function checkAllureFileName(name: string, where: string): void {
  if (!ALLURE_FILE.test(name)) {
    throw new HistoryError(`${where}: "${name}" is not an Allure history file name (*.json)`);
  }
}

/** Newest first: by start time, then by run id so equal times still have one order. */
export function newestFirst(a: HistoryRecord, b: HistoryRecord): number {
  return startedMs(b) - startedMs(a) || (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0);
}

/** Throws unless `limit` is a whole number >= 1 (or absent, when `optional`). */
export function checkLimit(limit: number | undefined, optional: boolean): void {
  if (limit === undefined && optional) return;
  if (limit === undefined || !Number.isInteger(limit) || limit < 1) {
    throw new HistoryError(`limit must be a whole number >= 1, got ${String(limit)}`);
  }
}
