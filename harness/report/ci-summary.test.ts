/*
 * The CI summary: known gaps (test.fail tests that failed) are counted apart, never as passes,
 * on a hand-written Playwright JSON report, on one Playwright itself writes, and through
 * .ci/summary.mjs as CI runs it.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { REPO_ROOT } from '../core/paths.ts';
import { ResultsFormatError, summarize, summaryLines } from './ci-summary.ts';

const run = promisify(execFile);

type Status = 'expected' | 'unexpected' | 'flaky' | 'skipped';

function jsonTest(expectedStatus: string, status: Status, results: string[], reason?: string) {
  return {
    timeout: 30_000,
    annotations: reason === undefined ? [] : [{ type: 'fail', description: reason }],
    expectedStatus,
    projectId: 'unit',
    projectName: 'unit',
    results: results.map((result, retry) => ({ workerIndex: 0, status: result, duration: 5, retry })),
    status,
  };
}

function spec(title: string, line: number, tests: ReturnType<typeof jsonTest>[]) {
  return {
    title,
    ok: tests.every((t) => t.status !== 'unexpected'),
    tags: [],
    tests,
    id: `id-${line}`,
    file: 'a/b.test.ts',
    line,
    column: 1,
  };
}

/**
 * As Playwright's JSON reporter writes it: a file suite titled with the file, a describe inside
 * it; one plain pass, one test.fail that failed (the known gap, in the describe), one that passed
 * on its retry, one skipped.
 */
function sample() {
  return {
    config: {},
    suites: [
      {
        title: 'a/b.test.ts',
        file: 'a/b.test.ts',
        line: 0,
        column: 0,
        specs: [
          spec('plain', 3, [jsonTest('passed', 'expected', ['passed'])]),
          spec('flaky one', 7, [jsonTest('passed', 'flaky', ['failed', 'passed'])]),
          spec('skipped one', 11, [jsonTest('skipped', 'skipped', ['skipped'])]),
        ],
        suites: [
          {
            title: 'contracts',
            file: 'a/b.test.ts',
            line: 14,
            column: 1,
            specs: [spec('the gap', 15, [jsonTest('failed', 'expected', ['failed'], 'not done yet')])],
          },
        ],
      },
    ],
    errors: [],
    stats: {
      startTime: '2026-01-01T00:00:00.000Z',
      duration: 1000,
      expected: 2,
      skipped: 1,
      unexpected: 0,
      flaky: 1,
    },
  };
}

test('a test.fail that failed is a known gap, not a pass; flaky passes, skipped is skipped', () => {
  const summary = summarize(sample());
  expect(summary).toMatchObject({ passed: 2, failed: 0, skipped: 1, flaky: 1 });
  expect(summary.knownGaps).toEqual([
    { location: 'a/b.test.ts:15', title: 'contracts › the gap', project: 'unit', reason: 'not done yet' },
  ]);
  expect(summaryLines(summary)).toEqual([
    'known gap: a/b.test.ts:15 [unit] contracts › the gap (not done yet)',
    '1 known gaps',
    '2 passed, 0 failed, 1 skipped',
  ]);
});

test('without known gaps only the final line is printed', () => {
  const report = sample();
  report.suites[0]!.suites = [];
  report.stats.expected = 1;
  expect(summaryLines(summarize(report))).toEqual(['2 passed, 0 failed, 1 skipped']);
});

test('a test.fail that passed is a failure; one that failed only on a retry is still a gap', () => {
  const report = sample();
  const gap = report.suites[0]!.suites[0]!.specs[0]!;
  gap.tests = [jsonTest('failed', 'unexpected', ['passed'], 'not done yet')];
  report.stats = { ...report.stats, expected: 1, unexpected: 1 };
  expect(summarize(report)).toMatchObject({ passed: 2, failed: 1, knownGaps: [] });

  gap.tests = [jsonTest('failed', 'flaky', ['passed', 'failed'], 'not done yet')];
  report.stats = { ...report.stats, unexpected: 0, flaky: 2 };
  expect(summarize(report)).toMatchObject({
    passed: 2,
    failed: 0,
    flaky: 1,
    knownGaps: [{ title: 'contracts › the gap' }],
  });
});

test('a report it cannot read is refused, not counted as whatever it finds', () => {
  expect(() => summarize({ suites: [] })).toThrow(ResultsFormatError);
  const noStatus = sample();
  delete (noStatus.suites[0]!.specs[0]!.tests[0] as Partial<ReturnType<typeof jsonTest>>).expectedStatus;
  expect(() => summarize(noStatus)).toThrow(/specs\[0\] \(plain\): a test without expectedStatus/);
  // More gaps in the suites than stats counts as expected: the walk or the file is wrong.
  const tooMany = sample();
  tooMany.stats.expected = 0;
  expect(() => summarize(tooMany)).toThrow(/1 known gaps found expected, but stats.expected is 0/);
});

test.describe('on real output', () => {
  let dir: string;
  test.beforeEach(() => {
    mkdirSync(join(REPO_ROOT, 'reports'), { recursive: true });
    // Inside the repository, so the run resolves @playwright/test; reports/ is git-ignored.
    dir = mkdtempSync(join(REPO_ROOT, 'reports', 'ci-summary-'));
  });
  test.afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('.ci/summary.mjs prints the gap apart and the CI line last', async () => {
    const file = join(dir, 'results.json');
    writeFileSync(file, JSON.stringify(sample()));
    const { stdout } = await run(process.execPath, ['.ci/summary.mjs', file], { cwd: REPO_ROOT });
    expect(stdout.trim().split('\n').slice(-2)).toEqual(['1 known gaps', '2 passed, 0 failed, 1 skipped']);
  });

  test("Playwright's own JSON: the test.fail test is a gap, the flaky and the plain ones pass", async () => {
    test.setTimeout(90_000);
    writeFileSync(
      join(dir, 'sample.spec.mjs'),
      [
        "import { test, expect } from '@playwright/test';",
        "test('plain', () => expect(1).toBe(1));",
        "test('flaky one', () => expect(test.info().retry).toBe(1));",
        "test('skipped one', () => test.skip(true, 'not here'));",
        "test.describe('contracts', () => {",
        "  test('the gap', () => { test.fail(true, 'not done yet'); expect(1).toBe(2); });",
        '});',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'pw.config.mjs'),
      `export default { testDir: '.', testMatch: /sample\\.spec\\.mjs$/, retries: 1, workers: 1,
        outputDir: 'out', reporter: [['json', { outputFile: 'results.json' }]] };`,
    );
    await run(
      process.execPath,
      [join(REPO_ROOT, 'node_modules/@playwright/test/cli.js'), 'test', '-c', 'pw.config.mjs'],
      {
        cwd: dir,
        env: { ...process.env, CI: '' },
      },
    );
    const summary = summarize(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')));
    expect(summary).toMatchObject({ passed: 2, failed: 0, skipped: 1, flaky: 1 });
    expect(summary.knownGaps).toEqual([
      { location: 'sample.spec.mjs:6', title: 'contracts › the gap', project: '', reason: 'not done yet' },
    ]);
  });
});
