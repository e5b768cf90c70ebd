import { expect, test } from '@playwright/test';
import { fuzzCuts } from './fuzz-evidence.ts';

test("each entry becomes one of the chart's cuts, with the client that was cut", () => {
  expect(
    fuzzCuts({
      ota_client: 'rauc',
      cut_outcomes: [
        { robot: 'r01', point: 'ArtifactCommit_Enter', outcome: 'new' },
        { robot: 'r01', point: 'time', outcome: 'old' },
        { robot: 'r02', point: 'update end', outcome: 'not-converged' },
        { robot: 'r02', point: 'bytes Download', outcome: 'could-not-tell' },
        { robot: 'r02', point: 'ArtifactInstall_Enter', outcome: 'bricked' },
      ],
    }),
  ).toEqual([
    // In the order an update passes the points, not the order the robots took the cuts.
    { client: 'rauc', point: 'time', outcome: 'old' },
    { client: 'rauc', point: 'bytes Download', outcome: 'could-not-tell' },
    { client: 'rauc', point: 'ArtifactInstall_Enter', outcome: 'bricked' },
    { client: 'rauc', point: 'ArtifactCommit_Enter', outcome: 'new' },
    { client: 'rauc', point: 'update end', outcome: 'not-converged' },
  ]);
});

test('a result without cut outcomes is an error, not an empty chart', () => {
  const old = { ota_client: 'mender' } as Parameters<typeof fuzzCuts>[0];
  expect(() => fuzzCuts(old)).toThrow('the ota fuzz result of mender has no cut_outcomes');
});
