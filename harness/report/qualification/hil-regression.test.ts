/*
 * The qualification's HIL requirement against real inference: the reference perception model is
 * the baseline release, and a slower variant of it (the same network at a larger input) is the
 * candidate. Both are measured on the local ONNX Runtime stage; the judge must find the p99
 * regression and show both values. Figures come from runs, never from typed-in numbers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { writePerceptionModel } from '../../../reference/models/make-perception-model.ts';
import { DEFAULT_CONFIG } from '../../core/config.ts';
import { DEFAULT_MODEL, runHil } from '../../hil/run.ts';
import { judge } from './judge.ts';
import { hilFigures } from './source-figures.ts';
import type { QualificationFile } from './types.ts';

const FILE: QualificationFile = {
  path: 'hil-regression.test.ts',
  suite: { grep: '@HIL-001', backends: ['embedded'] },
  sources: { hil: true },
  requirements: [
    {
      id: 'HIL-001',
      title: 'The perception model meets its latency budget, and its p99 does not regress',
      area: 'hil',
      severity: 'blocker',
      evidence: [{ figure: 'hil/perception-cnn/p99_ms', threshold: { max: 50, maxWorseningPct: 10 } }],
    },
  ],
};
const SUT = { release: '2.4.0', components: [] };
// Short runs: the gap between the models is far larger than what a busy machine moves a p99.
const DISCIPLINE = { warmupQueries: 5, minQueries: 60, minDurationMs: 0 };

async function p99Figures(model: string) {
  const { result } = await runHil({
    model,
    discipline: DISCIPLINE,
    budgets: DEFAULT_CONFIG.hil.budgets,
    seed: 5,
  });
  return hilFigures(result);
}

const P99 = 'hil/perception-cnn/p99_ms';
type Figures = Awaited<ReturnType<typeof p99Figures>>;

/**
 * Each model's run with the median p99 of three, the two models taking turns: one scheduling
 * hiccup of a busy machine can double a short run's p99, and must not decide which model is slower.
 */
async function interleaved(baselineModel: string, candidateModel: string) {
  const baseline: Figures[] = [];
  const candidate: Figures[] = [];
  for (let turn = 0; turn < 3; turn++) {
    baseline.push(await p99Figures(baselineModel));
    candidate.push(await p99Figures(candidateModel));
  }
  const p99 = (figures: Figures) => figures.find((f) => f.id === P99)!.value;
  const median = (runs: Figures[]) => [...runs].sort((a, b) => p99(a) - p99(b))[1]!;
  return { baseline: median(baseline), candidate: median(candidate) };
}

test('a candidate model slower than the baseline fails HIL-001 as a regression, both p99s shown', async () => {
  test.setTimeout(60_000);
  const dir = await mkdtemp(join(tmpdir(), `fleetdrill-${process.pid}-hil-regression-`));
  try {
    // 288 px instead of 224: about 1.65 times the arithmetic of the same network.
    const slower = await writePerceptionModel(dir, { resolution: 288 });
    const { baseline, candidate } = await interleaved(DEFAULT_MODEL, slower.modelPath);
    const q = judge({
      file: FILE,
      evidence: { drills: [], figures: candidate, missing: [] },
      baseline: { release: '2.3.0', figures: baseline },
      waivers: [],
      sut: SUT,
      seed: 5,
      now: new Date(),
    });
    const base = baseline.find((f) => f.id === P99)!;
    const cand = candidate.find((f) => f.id === P99)!;
    // The larger model does more arithmetic; a load burst during the baseline's runs can still
    // hide that. Then the measurement cannot show a regression: could not tell, not a judge failure.
    test.skip(
      cand.value <= base.value * 1.1,
      `could not tell: the larger model measured ${cand.value} ms against ${base.value} ms (a busy machine)`,
    );
    test.info().annotations.push({ type: 'kpi', description: `p99 ${base.value} ms → ${cand.value} ms` });
    const [requirement] = q.requirements;
    expect(requirement!.status, requirement!.results.map((r) => r.detail).join('; ')).toBe('failed');
    expect(requirement!.regression).toBe(true);
    const result = requirement!.results[0]!;
    expect(result.value).toBe(cand.value);
    expect(result.baseline).toBe(base.value);
    // Both values in the words a release manager reads, as rounded for reading.
    const shown = /p99_ms ([\d.]+) ms against ([\d.]+) ms in 2\.3\.0: ([\d.]+) % worse/.exec(result.detail);
    expect(shown, result.detail).not.toBeNull();
    expect(Number(shown![1])).toBeCloseTo(cand.value, 1);
    expect(Number(shown![2])).toBeCloseTo(base.value, 1);
    expect(q.exitCode).toBe(1);

    // The same run judged against itself: no regression, so the oracle is not always firing.
    const same = judge({
      file: FILE,
      evidence: { drills: [], figures: baseline, missing: [] },
      baseline: { release: '2.3.0', figures: baseline },
      waivers: [],
      sut: SUT,
      seed: 5,
      now: new Date(),
    });
    expect(same.requirements[0]!.status).toBe('passed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
