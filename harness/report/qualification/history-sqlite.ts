/**
 * The default history store: one SQLite file. Runs and their figures are rows, so a figure's trend
 * is one indexed query however long the history grows; Allure's history files are blobs kept with
 * the run that produced them.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import {
  HistoryError,
  checkAllureFileName,
  checkLimit,
  startedMs,
  validRecord,
  type AllureHistoryFiles,
  type HistoryRecord,
  type HistoryStore,
  type RunKind,
  type TrendPoint,
} from './history-record.ts';

/** The schema this code reads and writes (SQLite's user_version). */
export const HISTORY_SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE runs (
  run_id     TEXT PRIMARY KEY,
  kind       TEXT NOT NULL CHECK (kind IN ('qualification', 'nightly')),
  release    TEXT,
  started_at TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  outcome    TEXT,
  record     TEXT NOT NULL
) STRICT;
CREATE INDEX runs_newest ON runs (started_ms DESC, run_id DESC);
CREATE INDEX runs_release ON runs (release, kind, started_ms DESC, run_id DESC);
CREATE TABLE figures (
  run_id     TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  figure_id  TEXT NOT NULL,
  -- The run's start and kind again, so a trend reads this table alone, along one index.
  started_ms INTEGER NOT NULL,
  kind       TEXT NOT NULL,
  value      REAL NOT NULL,
  valid      INTEGER NOT NULL,
  PRIMARY KEY (run_id, figure_id)
) STRICT;
CREATE INDEX figures_trend ON figures (figure_id, started_ms DESC, run_id DESC);
CREATE TABLE allure_history (
  run_id  TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  name    TEXT NOT NULL,
  content BLOB NOT NULL,
  PRIMARY KEY (run_id, name)
) STRICT;
`;

/**
 * better-sqlite3 is synchronous; the store's interface is not, as the JSON store reads files.
 * A throw becomes a rejection, as it would in an async method.
 */
function settle<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => resolve(work()));
}

/** A SQLite history file. */
export class SqliteHistory implements HistoryStore {
  readonly location: string;
  #db: Database.Database | undefined;

  private constructor(location: string, db: Database.Database) {
    this.location = location;
    this.#db = db;
  }

  /**
   * Opens the file, creating it and its folder when absent. A file written by a newer fleetdrill,
   * or one that is not a history at all, is an error naming it: guessing would lose runs.
   */
  static async open(path: string): Promise<SqliteHistory> {
    const file = resolve(path);
    await mkdir(dirname(file), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (error) {
      throw new HistoryError(`history ${file}: cannot be opened (${(error as Error).message})`, {
        cause: error,
      });
    }
    try {
      db.pragma('journal_mode = WAL');
      // Parallel CI steps may append at once; the writer lock is held for one short transaction.
      db.pragma('busy_timeout = 10000');
      db.pragma('foreign_keys = ON');
      migrate(db, file);
      return new SqliteHistory(file, db);
    } catch (error) {
      db.close();
      if (error instanceof HistoryError) throw error;
      throw new HistoryError(`history ${file}: ${(error as Error).message}`, { cause: error });
    }
  }

  append(record: HistoryRecord): Promise<void> {
    return settle(() => {
      const valid = validRecord(record, `history ${this.location}: run ${JSON.stringify(record?.runId)}`);
      const db = this.db();
      const at = startedMs(valid);
      const insertRun = db.prepare(
        'INSERT INTO runs (run_id, kind, release, started_at, started_ms, outcome, record) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      const insertFigure = db.prepare(
        'INSERT INTO figures (run_id, figure_id, started_ms, kind, value, valid) VALUES (?, ?, ?, ?, ?, ?)',
      );
      const exists = db.prepare('SELECT 1 FROM runs WHERE run_id = ?').pluck();
      db.transaction(() => {
        if (exists.get(valid.runId)) {
          throw new HistoryError(`history ${this.location}: run "${valid.runId}" is already stored`);
        }
        insertRun.run(
          valid.runId,
          valid.kind,
          valid.release ?? null,
          valid.startedAt,
          at,
          valid.outcome ?? null,
          JSON.stringify(valid),
        );
        for (const figure of valid.figures) {
          insertFigure.run(valid.runId, figure.id, at, valid.kind, figure.value, figure.valid ? 1 : 0);
        }
      }).immediate();
    });
  }

  runs(options: { limit?: number; kind?: RunKind } = {}): Promise<HistoryRecord[]> {
    return settle(() => {
      checkLimit(options.limit, true);
      const rows = this.db()
        .prepare<[string | null, string | null, number], { run_id: string; record: string }>(
          `SELECT run_id, record FROM runs WHERE (? IS NULL OR kind = ?)
           ORDER BY started_ms DESC, run_id DESC LIMIT ?`,
        )
        .all(options.kind ?? null, options.kind ?? null, options.limit ?? -1);
      return rows.map((row) => this.parse(row));
    });
  }

  latestRelease(release: string): Promise<HistoryRecord | undefined> {
    return settle(() => {
      const row = this.db()
        .prepare<[string], { run_id: string; record: string }>(
          `SELECT run_id, record FROM runs WHERE release = ? AND kind = 'qualification'
           ORDER BY started_ms DESC, run_id DESC LIMIT 1`,
        )
        .get(release);
      return row ? this.parse(row) : undefined;
    });
  }

  figureTrend(figureId: string, limit: number, kind?: RunKind): Promise<TrendPoint[]> {
    return settle(() => {
      checkLimit(limit, false);
      const rows = this.db()
        .prepare<
          [string, string | null, string | null, number],
          {
            run_id: string;
            kind: RunKind;
            value: number;
            valid: number;
            release: string | null;
            started_at: string;
          }
        >(TREND_QUERY)
        .all(figureId, kind ?? null, kind ?? null, limit);
      return rows.reverse().map((row) => ({
        runId: row.run_id,
        ...(row.release === null ? {} : { release: row.release }),
        kind: row.kind,
        startedAt: row.started_at,
        value: row.value,
        valid: row.valid === 1,
      }));
    });
  }

  putAllureHistory(runId: string, files: AllureHistoryFiles): Promise<void> {
    return settle(() => {
      for (const name of files.keys()) checkAllureFileName(name, `history ${this.location}: run "${runId}"`);
      const db = this.db();
      const exists = db.prepare('SELECT 1 FROM runs WHERE run_id = ?').pluck();
      const remove = db.prepare('DELETE FROM allure_history WHERE run_id = ?');
      const insert = db.prepare('INSERT INTO allure_history (run_id, name, content) VALUES (?, ?, ?)');
      db.transaction(() => {
        if (!exists.get(runId)) {
          throw new HistoryError(`history ${this.location}: no run "${runId}" to keep Allure's history with`);
        }
        remove.run(runId);
        for (const [name, content] of files) insert.run(runId, name, content);
      }).immediate();
    });
  }

  latestAllureHistory(): Promise<{ runId: string; files: AllureHistoryFiles } | undefined> {
    return settle(() => {
      const db = this.db();
      const runId = db
        .prepare<[], string>(
          `SELECT run_id FROM runs WHERE run_id IN (SELECT run_id FROM allure_history)
           ORDER BY started_ms DESC, run_id DESC LIMIT 1`,
        )
        .pluck()
        .get();
      if (runId === undefined) return undefined;
      const rows = db
        .prepare<[string], { name: string; content: Buffer }>(
          'SELECT name, content FROM allure_history WHERE run_id = ? ORDER BY name',
        )
        .all(runId);
      return { runId, files: new Map(rows.map((row) => [row.name, row.content])) };
    });
  }

  close(): void {
    this.#db?.close();
    this.#db = undefined;
  }

  /** The query plan of a trend query, so a test can hold it to its index. */
  explainTrend(): string {
    return this.db()
      .prepare<[string, null, null, number], { detail: string }>(`EXPLAIN QUERY PLAN ${TREND_QUERY}`)
      .all('x', null, null, 1)
      .map((row) => row.detail)
      .join('\n');
  }

  private db(): Database.Database {
    if (!this.#db) throw new HistoryError(`history ${this.location}: used after close()`);
    return this.#db;
  }

  private parse(row: { run_id: string; record: string }): HistoryRecord {
    const where = `history ${this.location}: run "${row.run_id}"`;
    let value: unknown;
    try {
      value = JSON.parse(row.record);
    } catch (error) {
      throw new HistoryError(`${where}: its record is not JSON (${(error as Error).message})`);
    }
    return validRecord(value, where);
  }
}

// Newest `limit` first, along figures_trend; the caller turns it oldest first. Release and the
// start's text come from runs by primary key, one row per point.
const TREND_QUERY = `
SELECT f.run_id, f.kind, f.value, f.valid, r.release, r.started_at
FROM figures AS f JOIN runs AS r ON r.run_id = f.run_id
WHERE f.figure_id = ? AND (? IS NULL OR f.kind = ?)
ORDER BY f.started_ms DESC, f.run_id DESC
LIMIT ?`;

function migrate(db: Database.Database, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === HISTORY_SCHEMA_VERSION) return;
  if (version > HISTORY_SCHEMA_VERSION) {
    throw new HistoryError(
      `history ${file}: schema version ${version} was written by a newer fleetdrill; ` +
        `this one reads version ${HISTORY_SCHEMA_VERSION}`,
    );
  }
  const tables = db
    .prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .pluck()
    .all();
  if (tables.length > 0) {
    throw new HistoryError(
      `history ${file}: is a SQLite file with tables (${tables.join(', ')}) but no history schema version: ` +
        'not a fleetdrill history',
    );
  }
  db.transaction(() => {
    db.exec(SCHEMA);
    db.pragma(`user_version = ${HISTORY_SCHEMA_VERSION}`);
  }).immediate();
}
