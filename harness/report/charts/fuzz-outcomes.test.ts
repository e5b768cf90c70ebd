import { expect, test } from '@playwright/test';
import { assertWellFormedSvg, markItems, svgTexts } from '../../testing/svg.ts';
import { fuzzOutcomesChart, type FuzzCut } from './fuzz-outcomes.ts';

test('a bar segment per cut point and outcome, with its count', async () => {
  const cuts: FuzzCut[] = [
    { client: 'mender', point: 'ArtifactInstall_Enter', outcome: 'old' },
    { client: 'mender', point: 'ArtifactInstall_Enter', outcome: 'old' },
    { client: 'mender', point: 'ArtifactInstall_Enter', outcome: 'could-not-tell' },
    { client: 'mender', point: 'ArtifactCommit_Enter', outcome: 'new' },
    { client: 'mender', point: 'ArtifactCommit_Enter', outcome: 'bricked' },
  ];
  const svg = await fuzzOutcomesChart(cuts);
  assertWellFormedSvg(svg);
  const bars = markItems(svg, 'cuts');
  expect(bars).toHaveLength(4);
  expect(bars.filter((b) => b.includes('outcome: old') && b.includes('cuts: 2'))).toHaveLength(1);
  expect(svgTexts(svg)).toEqual(
    expect.arrayContaining(['ArtifactInstall_Enter', 'bricked', 'could-not-tell']),
  );
});

test('two clients get a row each', async () => {
  const svg = await fuzzOutcomesChart([
    { client: 'mender', point: 'time', outcome: 'old' },
    { client: 'rauc', point: 'time', outcome: 'unverified-boot' },
  ]);
  expect(svgTexts(svg)).toEqual(expect.arrayContaining(['mender', 'rauc']));
});

test('an outcome the fuzz does not use is an error; no cuts says "no data"', async () => {
  await expect(
    fuzzOutcomesChart([{ client: 'rauc', point: 'time', outcome: 'unverified' as FuzzCut['outcome'] }]),
  ).rejects.toThrow('cuts[0].outcome must be one of old, new, bricked, unverified-boot');
  expect(svgTexts(await fuzzOutcomesChart([]))).toContain('no data: no power cut was taken');
});
