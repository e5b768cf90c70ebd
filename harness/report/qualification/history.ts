/**
 * The history of qualification and nightly runs: where baselines and trends come from, and how
 * Allure's own history travels between CI machines. Open a store with `openHistory`; both kinds
 * (a SQLite file, a directory of JSON files) behave the same.
 */
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../../core/paths.ts';
import { HistoryError, type HistoryStore, type RunKind, type TrendPoint } from './history-record.ts';
import { JsonDirHistory } from './history-json.ts';
import { SqliteHistory } from './history-sqlite.ts';

export {
  HistoryError,
  type AllureHistoryFiles,
  type HistoryRecord,
  type HistoryStore,
  type RunKind,
  type TrendPoint,
} from './history-record.ts';
export { JsonDirHistory, HISTORY_FILE_FORMAT } from './history-json.ts';
export { SqliteHistory, HISTORY_SCHEMA_VERSION } from './history-sqlite.ts';

/** Where runs are kept unless told otherwise. */
export const DEFAULT_HISTORY = join(REPO_ROOT, 'reports', 'history', 'fleetdrill-history.sqlite');

/**
 * Opens a history store from a spec: `sqlite:<file>` or a path ending in `.sqlite`/`.db` is a
 * SQLite file; `json:<dir>`, a path ending in `/`, or an existing directory is a JSON directory.
 * Anything else is an error, as guessing would start an empty history beside the real one.
 */
export async function openHistory(spec: string = DEFAULT_HISTORY): Promise<HistoryStore> {
  if (spec.startsWith('sqlite:')) return SqliteHistory.open(nonEmpty(spec.slice('sqlite:'.length), spec));
  if (spec.startsWith('json:')) return JsonDirHistory.open(nonEmpty(spec.slice('json:'.length), spec));
  if (/\.(sqlite|sqlite3|db)$/i.test(spec)) return SqliteHistory.open(spec);
  if (spec.endsWith('/') || (await isDirectory(spec))) return JsonDirHistory.open(spec);
  throw new HistoryError(
    `history "${spec}": say sqlite:<file> or json:<dir> (or give a .sqlite file or an existing directory)`,
  );
}

/** A figure over the newest `limit` runs that measured it, oldest first: the points of a trend plot. */
export function figureTrend(
  store: HistoryStore,
  figureId: string,
  limit: number,
  kind?: RunKind,
): Promise<TrendPoint[]> {
  return store.figureTrend(figureId, limit, kind);
}

/**
 * Keeps the `*.json` files of Allure's `history` folder (reports/allure-report/history after
 * `allure generate`) with the newest stored run, so the next machine's report continues the
 * trend. Append the run first. Returns the run and the files kept.
 */
export async function saveAllureHistory(
  store: HistoryStore,
  historyDir: string,
): Promise<{ runId: string; files: string[] }> {
  const [latest] = await store.runs({ limit: 1 });
  if (!latest) {
    throw new HistoryError(
      `history ${store.location}: no run to keep Allure's history with; append the run first`,
    );
  }
  let names: string[];
  try {
    names = (await readdir(historyDir)).filter((name) => name.endsWith('.json')).sort();
  } catch (error) {
    throw new HistoryError(
      `Allure history ${historyDir}: cannot be read (${(error as Error).message}); run allure generate first`,
      { cause: error },
    );
  }
  const files = new Map<string, Buffer>();
  for (const name of names) {
    const path = join(historyDir, name);
    const content = await readFile(path);
    // A truncated file would break every later report's trend widgets, so it never gets stored.
    try {
      JSON.parse(content.toString('utf8'));
    } catch (error) {
      throw new HistoryError(`Allure history file ${path}: is not valid JSON (${(error as Error).message})`);
    }
    files.set(name, content);
  }
  await store.putAllureHistory(latest.runId, files);
  return { runId: latest.runId, files: names };
}

/**
 * Writes the newest stored Allure history into `<resultsDir>/history/`, where `allure generate`
 * reads it. Returns what was written, or undefined when no run kept one (a first run).
 */
export async function restoreAllureHistory(
  store: HistoryStore,
  resultsDir: string,
): Promise<{ runId: string; files: string[] } | undefined> {
  const kept = await store.latestAllureHistory();
  if (!kept) return undefined;
  const dir = join(resultsDir, 'history');
  await mkdir(dir, { recursive: true });
  for (const [name, content] of kept.files) await writeFile(join(dir, name), content);
  return { runId: kept.runId, files: [...kept.files.keys()] };
}

function nonEmpty(path: string, spec: string): string {
  if (path === '') throw new HistoryError(`history "${spec}": names no path`);
  return path;
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}
