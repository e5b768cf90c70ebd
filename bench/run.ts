/**
 * `npm run bench`: the speed targets, measured on this machine, medians over several runs,
 * written to reports/bench.json; with `-- --save` also to bench/results/latest.json, the committed
 * file the benchmark table is rendered from (`npm run bench:table`).
 *
 * BENCH_RUNS sets the number of runs (default 3); BENCH_ONLY a comma-separated list of figure
 * names; FLEETDRILL_SEED the seed (default a fixed one, so runs on different days compare).
 *
 * A figure that cannot be measured is recorded with its reason and the bench goes on. Exit code:
 * 0 when every figure was measured (a missed target is recorded as `pass: false`, not fatal),
 * 1 when any figure could not be measured, or with `--strict` also when any target was missed,
 * 2 for a bad argument or setting.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseSeed, SEED_ENV } from '../harness/core/seed.ts';
import { REPO_ROOT } from '../harness/core/paths.ts';
import { processesWithEnv, settle } from '../harness/testing/leftovers.ts';
import { benchFigures } from './figures.ts';
import type { LoadPoint } from './fleet.ts';
import { benchResults, LATEST, writeResults } from './results.ts';
import { exitCode, runFigures, selectFigures, type Figure } from './runner.ts';
import { BENCH_DOC, publishTable } from './table.ts';

/** The bench's seed unless FLEETDRILL_SEED says otherwise: fixed, so figures compare across runs. */
const DEFAULT_SEED = 20261124;
const REPORT = join(REPO_ROOT, 'reports', 'bench.json');

function settings(): { runs: number; only?: string[]; seed: number; save: boolean; strict: boolean } {
  const { values } = parseArgs({
    options: { save: { type: 'boolean', default: false }, strict: { type: 'boolean', default: false } },
  });
  const runsText = process.env.BENCH_RUNS ?? '3';
  const runs = Number(runsText);
  if (!/^\d+$/.test(runsText.trim()) || runs < 1) {
    throw new TypeError(`BENCH_RUNS must be a whole number >= 1, got '${runsText}'`);
  }
  const only = process.env.BENCH_ONLY?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const seedText = process.env[SEED_ENV];
  const seed = seedText ? parseSeed(seedText) : DEFAULT_SEED;
  return { runs, only: only?.length ? only : undefined, seed, save: values.save, strict: values.strict };
}

/** Robots and agents this process started that are still running (they carry its pid). */
async function leftoverProcesses(): Promise<string[]> {
  const left = await settle(() => processesWithEnv('FLEETDRILL_HARNESS_PID', String(process.pid)));
  return left.map((pid) => `process ${pid}`);
}

let setup: ReturnType<typeof settings>;
let figures: Figure[];
const loadPoints: LoadPoint[] = [];
try {
  setup = settings();
  figures = selectFigures(
    benchFigures({ seed: setup.seed, loadPoints, log: (line) => console.log(line) }),
    setup.only,
  );
} catch (error) {
  console.error(`bench: ${(error as Error).message}`);
  process.exit(2);
}

const date = new Date();
console.log(
  `bench: ${figures.length} figures, ${setup.runs} runs each, seed ${setup.seed}${setup.only ? ` (BENCH_ONLY)` : ''}`,
);
const results = await runFigures(figures, {
  runs: setup.runs,
  catchStrayErrors: true,
  leftovers: leftoverProcesses,
});
const file = benchResults(results, { date, seed: setup.seed, runs: setup.runs, only: setup.only });
const metrics = Object.fromEntries(
  results.flatMap((result) => (result.value === undefined ? [] : [[result.name, result.value]])),
);
await writeResults(REPORT, file, { metrics, loadPoints });
console.log(`wrote ${REPORT}`);
if (setup.save) {
  await writeResults(LATEST, file);
  await publishTable(file);
  console.log(`wrote ${LATEST} and its table in ${BENCH_DOC}`);
}

for (const result of results) {
  const verdict =
    result.status === 'error'
      ? `ERROR ${result.reason}`
      : `${result.value} ${result.unit}${result.target ? ` ${result.pass ? 'pass' : 'MISSED'} (${result.target.text})` : ''}`;
  console.log(`  ${result.name}: ${verdict}`);
}
const { summary } = file;
console.log(
  `bench: ${summary.figures} figures: ${summary.passed} passed, ${summary.missed} missed their target, ${summary.untargeted} without a target, ${summary.errors} could not be measured`,
);
process.exitCode = exitCode(results, { strict: setup.strict });
