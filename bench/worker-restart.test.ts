import { expect, test } from '@playwright/test';
import { restartPhases, type RestartMark } from './worker-restart.ts';

const FILE = '/tmp/marks.jsonl';
const FAILED_WORKER = 101;
const FRESH_WORKER = 202;

type Line = [RestartMark, number, number];

/** A marks file as the nested drills write it: both workers mark their start and load. */
const goodRun: Line[] = [
  ['worker-start', 1_000, FAILED_WORKER],
  ['loaded', 1_400, FAILED_WORKER],
  ['failed', 5_000, FAILED_WORKER],
  ['worker-start', 6_200, FRESH_WORKER],
  ['loaded', 6_650.4, FRESH_WORKER],
  ['fleet-up', 9_650, FRESH_WORKER],
  ['settled', 9_800, FRESH_WORKER],
];

const text = (lines: Line[]): string =>
  lines.map(([mark, at, pid]) => JSON.stringify({ mark, at, pid })).join('\n') + '\n';
const without = (mark: RestartMark, pid: number): Line[] =>
  goodRun.filter(([m, , p]) => !(m === mark && p === pid));

test.describe('restartPhases', () => {
  test('splits the wait on the fresh worker into its phases, the teardown before it apart', () => {
    expect(restartPhases(text(goodRun), FILE)).toEqual({
      restartMs: 3_600,
      teardownMs: 1_200,
      loadMs: 450,
      fleetUpMs: 3_000,
      claimMs: 150,
    });
  });

  test('a drill after the failure that ran in the same worker is no restart', () => {
    const sameWorker = goodRun.map(([mark, at, pid]): Line => [
      mark,
      at,
      pid === FRESH_WORKER ? FAILED_WORKER : pid,
    ]);
    expect(() => restartPhases(text(sameWorker), FILE)).toThrow(
      `${FILE}: the drill after the failure ran in the failed drill's worker (pid ${FAILED_WORKER}): Playwright did not replace it`,
    );
  });

  test('names the mark that is missing', () => {
    expect(() => restartPhases(text(without('failed', FAILED_WORKER)), FILE)).toThrow(
      `${FILE}: no 'failed' mark: the first drill did not get to fail`,
    );
    expect(() => restartPhases(text(without('settled', FRESH_WORKER)), FILE)).toThrow(
      `${FILE}: no 'settled' mark: the drill after the failure never held a robot`,
    );
    // The failed worker's own start must not stand in for the fresh worker's.
    expect(() => restartPhases(text(without('worker-start', FRESH_WORKER)), FILE)).toThrow(
      `${FILE}: no 'worker-start' mark from worker pid ${FRESH_WORKER}`,
    );
  });

  test('marks out of order are an error, not a negative phase', () => {
    const early: Line[] = goodRun.map(([mark, at, pid]): Line =>
      mark === 'fleet-up' ? [mark, 6_000, pid] : [mark, at, pid],
    );
    expect(() => restartPhases(text(early), FILE)).toThrow(
      `${FILE}: 'fleet-up' at 6000 comes before 'loaded' at 6650.4`,
    );
  });

  test('a malformed line is named by its number and field', () => {
    const lines = text(goodRun).split('\n');
    expect(() =>
      restartPhases([...lines.slice(0, 2), '{"mark":"fail', ...lines.slice(2)].join('\n'), FILE),
    ).toThrow(`${FILE} line 3: not JSON`);
    expect(() => restartPhases(`{"mark":"done","at":1,"pid":1}\n`, FILE)).toThrow(
      `${FILE} line 1: mark must be one of failed, worker-start, loaded, fleet-up, settled, got "done"`,
    );
    expect(() => restartPhases(`{"mark":"failed","at":"soon","pid":1}\n`, FILE)).toThrow(
      `${FILE} line 1: at must be a number of ms`,
    );
    expect(() => restartPhases(`{"mark":"failed","at":1}\n`, FILE)).toThrow(
      `${FILE} line 1: pid must be a whole number`,
    );
  });
});
