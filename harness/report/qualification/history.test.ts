import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from '@playwright/test';
import {
  HistoryError,
  JsonDirHistory,
  SqliteHistory,
  figureTrend,
  openHistory,
  restoreAllureHistory,
  saveAllureHistory,
  type HistoryRecord,
  type HistoryStore,
} from './history.ts';

let scratch: string;
test.beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'fleetdrill-history-'));
});
test.afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function run(runId: string, startedAt: string, overrides: Partial<HistoryRecord> = {}): HistoryRecord {
  return {
    runId,
    kind: 'qualification',
    release: '2.4.0',
    seed: 42,
    startedAt,
    sut: {
      release: '2.4.0',
      components: [
        { name: 'robot', version: '1.0.0', digest: `sha256:${'a'.repeat(64)}`, source: 'x.fdart' },
      ],
    },
    figures: [
      { id: 'hil/perception-cnn/p99_ms', value: 7.5, unit: 'ms', better: 'lower', valid: true },
      {
        id: 'qos/wifi-edge/cmd_vel/delivery',
        value: 0.97,
        unit: 'ratio',
        better: 'higher',
        valid: false,
        note: 'busy',
      },
    ],
    verdicts: [{ id: 'HIL-001', status: 'passed', severity: 'blocker' }],
    outcome: 'qualified',
    drills: { passed: 10, failed: 0, skipped: 1 },
    ...overrides,
  };
}

const p99 = (value: number, valid = true): HistoryRecord['figures'] => [
  { id: 'hil/perception-cnn/p99_ms', value, unit: 'ms', better: 'lower', valid },
];

const kinds: Array<[string, (dir: string) => Promise<HistoryStore>]> = [
  ['SqliteHistory', (dir) => SqliteHistory.open(join(dir, 'h.sqlite'))],
  ['JsonDirHistory', (dir) => JsonDirHistory.open(join(dir, 'h'))],
];

for (const [name, open] of kinds) {
  test.describe(name, () => {
    test('gives back what was appended, newest first, by kind and limit', async () => {
      const store = await open(scratch);
      const a = run('a', '2026-12-01T10:00:00.000Z');
      const b = run('b', '2026-12-03T10:00:00+02:00', {
        kind: 'nightly',
        outcome: undefined,
        release: undefined,
      });
      const c = run('c', '2026-12-02T10:00:00.000Z');
      for (const record of [a, b, c]) await store.append(record);
      expect(await store.runs()).toEqual([b, c, a]);
      expect((await store.runs({ limit: 2 })).map((r) => r.runId)).toEqual(['b', 'c']);
      expect((await store.runs({ kind: 'qualification' })).map((r) => r.runId)).toEqual(['c', 'a']);
      expect((await store.runs({ kind: 'nightly' }))[0]).not.toHaveProperty('release');
      await expect(store.runs({ limit: 0 })).rejects.toThrow(/limit must be a whole number >= 1, got 0/);
      store.close();
      store.close();
      await expect(store.runs()).rejects.toThrow(/used after close/);
    });

    test('keeps its runs when opened again', async () => {
      const first = await open(scratch);
      await first.append(run('a', '2026-12-01T10:00:00.000Z'));
      first.close();
      const second = await open(scratch);
      await second.append(run('b', '2026-12-02T10:00:00.000Z'));
      expect((await second.runs()).map((r) => r.runId)).toEqual(['b', 'a']);
      second.close();
    });

    test('refuses a run id twice, and a record that does not hold, naming the field', async () => {
      const store = await open(scratch);
      await store.append(run('a', '2026-12-01T10:00:00.000Z'));
      await expect(store.append(run('a', '2026-12-05T10:00:00.000Z'))).rejects.toThrow(
        /run "a" is already stored/,
      );
      const broken = run('b', '2026-12-01T10:00:00.000Z');
      (broken.figures[1] as { value: unknown }).value = 'fast';
      await expect(store.append(broken)).rejects.toThrow(/run "b": figures\[1\]\.value must be a number/);
      await expect(store.append(run('c', 'yesterday'))).rejects.toThrow(/run "c": startedAt/);
      await expect(store.append(run('../d', '2026-12-01T10:00:00.000Z'))).rejects.toThrow(
        /runId must be 1-128/,
      );
      const twice = run('e', '2026-12-01T10:00:00.000Z', { figures: [...p99(1), ...p99(2)] });
      await expect(store.append(twice)).rejects.toThrow(
        /figures\[1\]\.id repeats figure "hil\/perception-cnn\/p99_ms"/,
      );
      expect((await store.runs()).map((r) => r.runId)).toEqual(['a']);
      store.close();
    });

    test('the latest release is its newest qualification, never a nightly', async () => {
      const store = await open(scratch);
      await store.append(run('q1', '2026-12-01T10:00:00.000Z', { release: '2.3.0' }));
      await store.append(run('q2', '2026-12-02T10:00:00.000Z', { release: '2.3.0' }));
      await store.append(run('n3', '2026-12-03T10:00:00.000Z', { release: '2.3.0', kind: 'nightly' }));
      await store.append(run('q4', '2026-12-04T10:00:00.000Z', { release: '2.4.0' }));
      expect((await store.latestRelease('2.3.0'))?.runId).toBe('q2');
      expect(await store.latestRelease('9.9.9')).toBeUndefined();
      store.close();
    });

    test('a figure trend covers the newest runs that measured it, oldest first', async () => {
      const store = await open(scratch);
      await store.append(run('r1', '2026-12-01T10:00:00.000Z', { figures: p99(6.1), release: '2.2.0' }));
      await store.append(run('r2', '2026-12-02T10:00:00.000Z', { figures: [], release: '2.3.0' }));
      await store.append(
        run('r3', '2026-12-03T10:00:00.000Z', { figures: p99(6.3, false), kind: 'nightly' }),
      );
      await store.append(run('r4', '2026-12-04T10:00:00.000Z', { figures: p99(6.4), release: undefined }));
      await store.append(run('r5', '2026-12-05T10:00:00.000Z', { figures: p99(6.5) }));
      const trend = await figureTrend(store, 'hil/perception-cnn/p99_ms', 3);
      expect(trend).toEqual([
        {
          runId: 'r3',
          release: '2.4.0',
          kind: 'nightly',
          startedAt: '2026-12-03T10:00:00.000Z',
          value: 6.3,
          valid: false,
        },
        {
          runId: 'r4',
          kind: 'qualification',
          startedAt: '2026-12-04T10:00:00.000Z',
          value: 6.4,
          valid: true,
        },
        {
          runId: 'r5',
          release: '2.4.0',
          kind: 'qualification',
          startedAt: '2026-12-05T10:00:00.000Z',
          value: 6.5,
          valid: true,
        },
      ]);
      const qualifications = await figureTrend(store, 'hil/perception-cnn/p99_ms', 10, 'qualification');
      expect(qualifications.map((point) => point.runId)).toEqual(['r1', 'r4', 'r5']);
      expect(await figureTrend(store, 'no/such', 10)).toEqual([]);
      store.close();
    });

    test("carries Allure's history from the newest run that kept one into the next results", async () => {
      const store = await open(scratch);
      const report = join(scratch, 'report', 'history');
      await mkdir(report, { recursive: true });
      await writeFile(join(report, 'history-trend.json'), '[{"data":{"passed":3}}]');
      await writeFile(join(report, 'history.json'), '{}');
      await expect(saveAllureHistory(store, report)).rejects.toThrow(/no run to keep Allure's history with/);
      expect(await restoreAllureHistory(store, join(scratch, 'results'))).toBeUndefined();

      await store.append(run('r1', '2026-12-01T10:00:00.000Z'));
      expect(await saveAllureHistory(store, report)).toEqual({
        runId: 'r1',
        files: ['history-trend.json', 'history.json'],
      });
      // A later run that kept no history (it crashed before the report) does not hide r1's.
      await store.append(run('r2', '2026-12-02T10:00:00.000Z'));
      const results = join(scratch, 'results');
      expect(await restoreAllureHistory(store, results)).toEqual({
        runId: 'r1',
        files: ['history-trend.json', 'history.json'],
      });
      expect(await readFile(join(results, 'history', 'history-trend.json'), 'utf8')).toBe(
        '[{"data":{"passed":3}}]',
      );

      await writeFile(join(report, 'history-trend.json'), '[{"data":{"passed":4}}]');
      await saveAllureHistory(store, report);
      const again = join(scratch, 'results-2');
      expect((await restoreAllureHistory(store, again))?.runId).toBe('r2');
      expect(await readFile(join(again, 'history', 'history-trend.json'), 'utf8')).toBe(
        '[{"data":{"passed":4}}]',
      );

      await writeFile(join(report, 'duration-trend.json'), '[{"data":');
      await expect(saveAllureHistory(store, report)).rejects.toThrow(
        /duration-trend\.json: is not valid JSON/,
      );
      await expect(saveAllureHistory(store, join(scratch, 'nowhere'))).rejects.toThrow(
        /nowhere: cannot be read/,
      );
      await expect(store.putAllureHistory('r9', new Map())).rejects.toThrow(/no run "r9"/);
      await expect(store.putAllureHistory('r1', new Map([['../x.json', Buffer.from('{}')]]))).rejects.toThrow(
        /"\.\.\/x\.json" is not an Allure history file name/,
      );
      store.close();
    });
  });
}

test.describe('SqliteHistory', () => {
  test('runs in WAL mode with a schema version, and a trend is one indexed query', async () => {
    const file = join(scratch, 'h.sqlite');
    const store = await SqliteHistory.open(file);
    expect(store.explainTrend()).toMatch(/USING INDEX figures_trend/);
    expect(store.explainTrend()).not.toMatch(/SCAN/);
    store.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    db.close();
  });

  test('a newer schema, or a file that is no history, is an error naming the file', async () => {
    const newer = join(scratch, 'newer.sqlite');
    (await SqliteHistory.open(newer)).close();
    const db = new Database(newer);
    db.pragma('user_version = 7');
    db.close();
    await expect(SqliteHistory.open(newer)).rejects.toThrow(
      `history ${newer}: schema version 7 was written by a newer fleetdrill; this one reads version 1`,
    );

    const foreign = join(scratch, 'foreign.sqlite');
    const other = new Database(foreign);
    other.exec('CREATE TABLE orders (id INTEGER)');
    other.close();
    await expect(SqliteHistory.open(foreign)).rejects.toThrow(
      `history ${foreign}: is a SQLite file with tables (orders)`,
    );

    const text = join(scratch, 'text.sqlite');
    await writeFile(
      text,
      'this is not a database, only some text that is long enough to be a header\n'.repeat(20),
    );
    await expect(SqliteHistory.open(text)).rejects.toThrow(`history ${text}: file is not a database`);
  });

  test('a damaged stored record is an error naming the run', async () => {
    const file = join(scratch, 'h.sqlite');
    const store = await SqliteHistory.open(file);
    await store.append(run('r1', '2026-12-01T10:00:00.000Z'));
    const db = new Database(file);
    db.prepare("UPDATE runs SET record = json_set(record, '$.drills.failed', -1)").run();
    db.close();
    await expect(store.runs()).rejects.toThrow(`history ${file}: run "r1": drills.failed must be >= 0`);
    store.close();
  });
});

test.describe('JsonDirHistory', () => {
  test('writes one file per run, named by start and run id, with no temp file left', async () => {
    const dir = join(scratch, 'h');
    const store = await JsonDirHistory.open(dir);
    await store.append(run('r-1.x', '2026-12-03T19:15:00.5+01:00'));
    expect(await readdir(dir)).toEqual(['20261203T181500.500Z-r-1.x.json']);
    store.close();
  });

  test('a damaged file is an error naming it, never skipped', async () => {
    const dir = join(scratch, 'h');
    const store = await JsonDirHistory.open(dir);
    await store.append(run('r1', '2026-12-01T10:00:00.000Z'));
    await store.append(run('r2', '2026-12-02T10:00:00.000Z'));
    const file = join(dir, '20261201T100000.000Z-r1.json');
    const good = await readFile(file, 'utf8');

    await writeFile(file, good.slice(0, 40));
    await expect(store.runs()).rejects.toThrow(`history file ${file}: is not valid JSON`);
    await expect(store.latestRelease('2.4.0')).rejects.toThrow(file);

    await writeFile(file, good.replace('"format": 1', '"format": 2'));
    await expect(store.runs()).rejects.toThrow(
      `history file ${file}: format 2 was written by a newer fleetdrill`,
    );

    await writeFile(file, good.replace('"passed": 10', '"passed": "ten"'));
    await expect(store.runs()).rejects.toThrow(`history file ${file}: run: drills.passed must be a number`);

    await writeFile(file, good.replace('"runId": "r1"', '"runId": "r3"'));
    await expect(store.runs()).rejects.toThrow(`history file ${file}: holds run "r3", its name says "r1"`);

    await writeFile(file, good);
    await writeFile(join(dir, 'notes.json'), '{}');
    await expect(store.runs()).rejects.toThrow(/notes\.json: the name is not <startedAt>-<runId>\.json/);
    store.close();
  });
});

test('openHistory picks the store from the spec', async () => {
  const cases: Array<[string, typeof SqliteHistory | typeof JsonDirHistory]> = [
    [`sqlite:${join(scratch, 'a')}`, SqliteHistory],
    [join(scratch, 'b.sqlite'), SqliteHistory],
    [`json:${join(scratch, 'c.sqlite')}`, JsonDirHistory],
    [`${join(scratch, 'd')}/`, JsonDirHistory],
    [scratch, JsonDirHistory],
  ];
  for (const [spec, kind] of cases) {
    const store = await openHistory(spec);
    expect(store, spec).toBeInstanceOf(kind);
    store.close();
  }
  await expect(openHistory(join(scratch, 'nothing-here'))).rejects.toThrow(/say sqlite:<file> or json:<dir>/);
  await expect(openHistory('sqlite:')).rejects.toThrow(HistoryError);
});
