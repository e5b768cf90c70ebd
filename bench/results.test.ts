import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { REPO_ROOT } from '../harness/core/paths.ts';
import {
  benchResults,
  LATEST,
  readResults,
  writeResults,
  type BenchResults,
  type Machine,
} from './results.ts';
import { runFigures, type Figure } from './runner.ts';
import { BENCH_DOC, publishedTable, renderTable, spliceTable } from './table.ts';

const machine: Machine = { cpus: 2, model: 'Test CPU', memoryGiB: 24, os: 'Linux 6.1.0', node: 'v20.20.2' };
const date = new Date('2026-12-03T10:00:00.000Z');

/** Four figures, one of each kind, from the real loop. */
async function sampleResults(): Promise<BenchResults> {
  const values = [5200, 4800, 5100];
  const figures: Figure[] = [
    {
      name: 'fleet_up_ms_50',
      unit: 'ms',
      target: { op: '<=', value: 5000 },
      measure: (run) => values[run]!,
    },
    {
      name: 'proxy_throughput_ratio',
      unit: 'ratio',
      target: { op: '>=', value: 0.5 },
      measure: (run) => [0.49, 0.52, 0.55][run]!,
    },
    {
      name: 'agent_rss_mb',
      unit: 'MB',
      measure: (run) => ({ value: 85 + run, note: `max ${90 + run} MB` }),
    },
    {
      name: 'max_robots_rtf1',
      unit: 'robots',
      target: { op: '>=', value: 100 },
      measure: () => Promise.reject(new Error('robot r42: robot host not ready within 60000 ms')),
    },
  ];
  const results = await runFigures(figures, { runs: 3, log: () => undefined });
  // Durations are wall time; fixed here so the file can be compared byte for byte.
  return benchResults(
    results.map((result) => ({ ...result, durationMs: 10 })),
    { date, seed: 20261124, runs: 3, machine },
  );
}

let dir: string;
test.beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bench-results-test-'));
});
test.afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test.describe('bench result file', () => {
  test('holds machine, date, seed and per figure value, unit, runs, target and verdict', async () => {
    const path = join(dir, 'results', 'latest.json');
    await writeResults(path, await sampleResults());
    const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['format', 'date', 'seed', 'runs', 'machine', 'summary', 'figures']);
    expect(json).toMatchObject({
      format: 1,
      date: '2026-12-03T10:00:00.000Z',
      seed: 20261124,
      runs: 3,
      machine,
      summary: { figures: 4, passed: 1, missed: 1, untargeted: 1, errors: 1 },
    });
    expect(json.figures).toEqual([
      {
        name: 'fleet_up_ms_50',
        status: 'ok',
        value: 5100,
        unit: 'ms',
        runs: [5200, 4800, 5100],
        target: { op: '<=', value: 5000, unit: 'ms', text: '<= 5000 ms' },
        pass: false,
        durationMs: 10,
      },
      {
        name: 'proxy_throughput_ratio',
        status: 'ok',
        value: 0.52,
        unit: 'ratio',
        runs: [0.49, 0.52, 0.55],
        target: { op: '>=', value: 0.5, unit: 'ratio', text: '>= 0.5 ratio' },
        pass: true,
        durationMs: 10,
      },
      {
        name: 'agent_rss_mb',
        status: 'ok',
        value: 86,
        unit: 'MB',
        runs: [85, 86, 87],
        notes: 'run 1: max 90 MB; run 2: max 91 MB; run 3: max 92 MB',
        durationMs: 10,
      },
      {
        name: 'max_robots_rtf1',
        status: 'error',
        unit: 'robots',
        runs: [],
        target: { op: '>=', value: 100, unit: 'robots', text: '>= 100 robots' },
        reason: 'run 1/3: robot r42: robot host not ready within 60000 ms',
        durationMs: 10,
      },
    ]);
    expect(await readResults(path)).toEqual(json);
  });

  test('a partial run says which figures it holds', () => {
    const results = benchResults([], { date, seed: 1, runs: 1, only: ['hil_overhead_pct'], machine });
    expect(results.only).toEqual(['hil_overhead_pct']);
  });

  test("reports/bench.json's extras (a value map, load points) read as the same results", async () => {
    const path = join(dir, 'bench.json');
    const results = await sampleResults();
    await writeResults(path, results, { metrics: { fleet_up_ms_50: 5100 }, loadPoints: [] });
    expect(await readResults(path)).toEqual(results);
  });

  test('a broken file is refused, naming the file and the field', async () => {
    const results = await sampleResults();
    const path = join(dir, 'latest.json');
    const broken = structuredClone(results);
    delete broken.figures[3]!.reason;
    await writeFile(path, JSON.stringify(broken));
    await expect(readResults(path)).rejects.toThrow(
      `${path}: not a bench result file: figures.3: reason is present exactly when status is error`,
    );
    const judgedWithoutTarget = structuredClone(results);
    judgedWithoutTarget.figures[2]!.pass = true;
    await writeFile(path, JSON.stringify(judgedWithoutTarget));
    await expect(readResults(path)).rejects.toThrow(/figures\.2: pass needs a measured value and a target/);
    await writeFile(path, JSON.stringify({ ...results, format: 2 }));
    await expect(readResults(path)).rejects.toThrow(/format: /);
    await writeFile(path, '{ "format": 1,');
    await expect(readResults(path)).rejects.toThrow(new RegExp(`^${path}: `));
  });

  test('writing checks the results first, so a malformed file is never written', async () => {
    const results = await sampleResults();
    const path = join(dir, 'never.json');
    const broken = { ...results, figures: [{ ...results.figures[0]!, value: undefined }] };
    await expect(writeResults(path, broken)).rejects.toThrow(/value is present exactly when status is ok/);
    await expect(readFile(path)).rejects.toThrow(/ENOENT/);
  });
});

test.describe('bench table', () => {
  test('renders every figure of the file: target, median with the range of the runs, verdict', async () => {
    expect(renderTable(await sampleResults())).toBe(
      [
        'Measured 2026-12-03 on Test CPU (2 cores, 24 GiB, Linux 6.1.0, Node 20.20.2), seed 20261124, median of 3 runs (range of the runs in brackets).',
        '',
        '| figure | target | measured | verdict | notes |',
        '| --- | --- | --- | --- | --- |',
        '| `fleet_up_ms_50` | <= 5000 ms | 5,100 ms (4,800–5,200) | **missed** |  |',
        '| `proxy_throughput_ratio` | >= 0.5 ratio | 0.52 ratio (0.49–0.55) | pass |  |',
        '| `agent_rss_mb` | — | 86 MB (85–87) | — | run 1: max 90 MB; run 2: max 91 MB; run 3: max 92 MB |',
        '| `max_robots_rtf1` | >= 100 robots | — | **error**: run 1/3: robot r42: robot host not ready within 60000 ms |  |',
        '',
      ].join('\n'),
    );
  });

  test('a partial run says so, one run has no range, and a pipe in a note does not break the row', async () => {
    const results = await sampleResults();
    results.only = ['agent_rss_mb'];
    results.runs = 1;
    results.figures = [{ ...results.figures[2]!, runs: [86], notes: 'a | b' }];
    const table = renderTable(results);
    expect(table).toContain(', seed 20261124, one run.\n');
    expect(table).toContain('\n\nOnly these figures were measured: agent_rss_mb.\n\n');
    expect(table).toContain('| `agent_rss_mb` | — | 86 MB | — | a \\| b |');
  });

  test('`npm run bench:table` prints the table of a file, and refuses a broken one with its path', async () => {
    const path = join(dir, 'latest.json');
    const results = await sampleResults();
    await writeResults(path, results);
    const run = promisify(execFile);
    const table = join(REPO_ROOT, 'bench', 'table.ts');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', table, path], { cwd: REPO_ROOT });
    expect(stdout).toBe(renderTable(results));
    await writeFile(path, '{}');
    const failed = await run(process.execPath, ['--import', 'tsx', table, path], { cwd: REPO_ROOT }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toContain(
      `bench:table: ${path}: not a bench result file: format:`,
    );
  });
});

test.describe('published figures', () => {
  /** Prettier may pad a table's cells; what counts is the text of each cell. */
  const cells = (markdown: string) =>
    markdown
      .trim()
      .split('\n')
      .map((line) => line.replace(/\s+/g, ' ').replace(/-{3,}/g, '---').trim());

  test('docs/benchmarks.md shows exactly the table of the committed bench/results/latest.json', async () => {
    const published = publishedTable(await readFile(BENCH_DOC, 'utf8'));
    expect(published, `${BENCH_DOC} has no table between its markers`).not.toBe('');
    expect(cells(published), 'run `npm run bench:table -- --docs` after changing latest.json').toEqual(
      cells(renderTable(await readResults(LATEST))),
    );
  });

  test('the drift check fires when the page and the file disagree, and a page without markers is refused', async () => {
    const page = await readFile(BENCH_DOC, 'utf8');
    const results = await readResults(LATEST);
    const edited = {
      ...results,
      figures: results.figures.map((f, i) => (i === 0 ? { ...f, notes: 'edited by hand' } : f)),
    };
    expect(cells(publishedTable(spliceTable(page, renderTable(edited))))).not.toEqual(
      cells(renderTable(results)),
    );
    expect(() => spliceTable('# no markers\n', 'table', 'page.md')).toThrow(/page.md: no .* markers/);
  });
});
