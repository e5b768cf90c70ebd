/**
 * A history store as a directory of JSON files, one per run, that CI caches or uploads as an
 * artifact: files are only ever added, so two machines' directories merge by copying. Allure's
 * history files of a run sit in `allure-history/<runId>/`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  HistoryError,
  checkAllureFileName,
  checkLimit,
  newestFirst,
  startedMs,
  validRecord,
  type AllureHistoryFiles,
  type HistoryRecord,
  type HistoryStore,
  type RunKind,
  type TrendPoint,
} from './history-record.ts';

/** The format of a run file this code reads and writes. */
export const HISTORY_FILE_FORMAT = 1;

const ALLURE_DIR = 'allure-history';
const RUN_FILE = /^(\d{8}T\d{6}\.\d{3}Z)-(.+)\.json$/;

/** A directory of run files named `<startedAt>-<runId>.json`. */
export class JsonDirHistory implements HistoryStore {
  readonly location: string;
  #closed = false;

  private constructor(location: string) {
    this.location = location;
  }

  /** Opens the directory, creating it when absent. */
  static async open(dir: string): Promise<JsonDirHistory> {
    const location = resolve(dir);
    try {
      await mkdir(location, { recursive: true });
    } catch (error) {
      throw new HistoryError(
        `history ${location}: cannot be made a directory (${(error as Error).message})`,
        {
          cause: error,
        },
      );
    }
    return new JsonDirHistory(location);
  }

  async append(record: HistoryRecord): Promise<void> {
    this.check();
    const valid = validRecord(record, `history ${this.location}: run ${JSON.stringify(record?.runId)}`);
    if ((await this.runFiles()).some((file) => file.runId === valid.runId)) {
      throw new HistoryError(`history ${this.location}: run "${valid.runId}" is already stored`);
    }
    const body = `${JSON.stringify({ format: HISTORY_FILE_FORMAT, run: valid }, null, 2)}\n`;
    await writeAtomically(join(this.location, runFileName(valid)), body);
  }

  async runs(options: { limit?: number; kind?: RunKind } = {}): Promise<HistoryRecord[]> {
    checkLimit(options.limit, true);
    const all = (await this.readAll()).filter((record) => !options.kind || record.kind === options.kind);
    return all.slice(0, options.limit ?? all.length);
  }

  async latestRelease(release: string): Promise<HistoryRecord | undefined> {
    return (await this.readAll()).find(
      (record) => record.kind === 'qualification' && record.release === release,
    );
  }

  async figureTrend(figureId: string, limit: number, kind?: RunKind): Promise<TrendPoint[]> {
    checkLimit(limit, false);
    const points: TrendPoint[] = [];
    for (const record of await this.readAll()) {
      if (points.length === limit) break;
      if (kind && record.kind !== kind) continue;
      const figure = record.figures.find((candidate) => candidate.id === figureId);
      if (!figure) continue;
      points.push({
        runId: record.runId,
        ...(record.release === undefined ? {} : { release: record.release }),
        kind: record.kind,
        startedAt: record.startedAt,
        value: figure.value,
        valid: figure.valid,
      });
    }
    return points.reverse();
  }

  async putAllureHistory(runId: string, files: AllureHistoryFiles): Promise<void> {
    this.check();
    const where = `history ${this.location}: run "${runId}"`;
    for (const name of files.keys()) checkAllureFileName(name, where);
    if (!(await this.runFiles()).some((file) => file.runId === runId)) {
      throw new HistoryError(`history ${this.location}: no run "${runId}" to keep Allure's history with`);
    }
    // Staged beside its final place and renamed in, so a reader sees the old set or the new one.
    const dir = join(this.location, ALLURE_DIR, runId);
    const staging = `${dir}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    await mkdir(staging, { recursive: true });
    try {
      for (const [name, content] of files) await writeFile(join(staging, name), content);
      await rm(dir, { recursive: true, force: true });
      await rename(staging, dir);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }

  async latestAllureHistory(): Promise<{ runId: string; files: AllureHistoryFiles } | undefined> {
    const root = join(this.location, ALLURE_DIR);
    const kept = new Set((await listDir(root)).filter((name) => !name.endsWith('.tmp')));
    const newest = (await this.readAll()).find((record) => kept.has(record.runId));
    if (!newest) return undefined;
    const dir = join(root, newest.runId);
    const files: AllureHistoryFiles = new Map();
    for (const name of (await listDir(dir)).sort()) {
      checkAllureFileName(name, `history ${dir}`);
      files.set(name, await readFile(join(dir, name)));
    }
    return { runId: newest.runId, files };
  }

  close(): void {
    this.#closed = true;
  }

  private check(): void {
    if (this.#closed) throw new HistoryError(`history ${this.location}: used after close()`);
  }

  /** Every run file's name and run id; other entries (temp files, the Allure folder) are not runs. */
  private async runFiles(): Promise<Array<{ file: string; runId: string }>> {
    this.check();
    const out: Array<{ file: string; runId: string }> = [];
    for (const name of await listDir(this.location)) {
      if (!name.endsWith('.json')) continue;
      const match = RUN_FILE.exec(name);
      if (!match) {
        throw new HistoryError(
          `history file ${join(this.location, name)}: the name is not <startedAt>-<runId>.json ` +
            '(only run files belong in a history directory)',
        );
      }
      out.push({ file: join(this.location, name), runId: match[2]! });
    }
    return out;
  }

  /**
   * Every run, read and validated, newest first. A damaged file stops the read with its name:
   * skipping it would drop a run from the trend and the baseline without anyone knowing.
   */
  private async readAll(): Promise<HistoryRecord[]> {
    const records: HistoryRecord[] = [];
    for (const { file, runId } of await this.runFiles()) {
      const where = `history file ${file}`;
      let document: unknown;
      try {
        document = JSON.parse(await readFile(file, 'utf8'));
      } catch (error) {
        throw new HistoryError(`${where}: is not valid JSON (${(error as Error).message})`, { cause: error });
      }
      const format = (document as { format?: unknown } | null)?.format;
      if (format !== HISTORY_FILE_FORMAT) {
        throw new HistoryError(
          typeof format === 'number' && format > HISTORY_FILE_FORMAT
            ? `${where}: format ${format} was written by a newer fleetdrill; this one reads ${HISTORY_FILE_FORMAT}`
            : `${where}: format must be ${HISTORY_FILE_FORMAT}, got ${JSON.stringify(format)}`,
        );
      }
      const record = validRecord((document as { run?: unknown }).run, `${where}: run`);
      if (record.runId !== runId) {
        throw new HistoryError(`${where}: holds run "${record.runId}", its name says "${runId}"`);
      }
      records.push(record);
    }
    return records.sort(newestFirst);
  }
}

/**
 * `20261203T181500.123Z-<runId>.json`: the start in UTC without `-` or `:`, as CI artifact stores
 * refuse `:` in names and the first `-` must end the time for the run id to be read back.
 */
function runFileName(record: HistoryRecord): string {
  const stamp = new Date(startedMs(record)).toISOString().replace(/[-:]/g, '');
  return `${stamp}-${record.runId}.json`;
}

async function writeAtomically(path: string, body: string): Promise<void> {
  const temp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, body, { flag: 'wx' });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw new HistoryError(`history file ${path}: cannot be written (${(error as Error).message})`, {
      cause: error,
    });
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new HistoryError(`history ${dir}: cannot be listed (${(error as Error).message})`, {
      cause: error,
    });
  }
}
