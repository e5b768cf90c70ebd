/*
 * Each cut's outcome comes from what was seen after it: the version the robot runs says old or
 * new only when no oracle found anything; the first wrong finding names the outcome; anything
 * untold is "could not tell", never old or new.
 */
import { expect, test } from '@playwright/test';
import { classifyCut, classifyUpdateEnd, cutPoint } from './fuzz-cut-outcome.ts';
import { judgePowerOn, type FuzzFinding } from './fuzz-oracles.ts';

const UPDATE = { fromVersion: '1.0.3', version: '1.0.4' };
const WHERE = 'r01 cut 2 of 8 (after 153 ms, good 1.0.3→1.0.4)';
const wrong = (oracle: FuzzFinding['oracle']): FuzzFinding => ({ oracle, outcome: 'wrong', message: oracle });
const untold = (oracle: FuzzFinding['oracle']): FuzzFinding => ({
  oracle,
  outcome: 'could-not-tell',
  message: oracle,
});

test('a clean cut is old or new by the version the power-on after it booted', () => {
  expect(classifyCut({ findings: [], booted: '1.0.3' }, UPDATE)).toBe('old');
  expect(classifyCut({ findings: [], booted: '1.0.4' }, UPDATE)).toBe('new');
  // Neither version of the update: no ground to say old or new.
  expect(classifyCut({ findings: [], booted: '0.9.0' }, UPDATE)).toBe('could-not-tell');
});

test('a cut whose boot is not known, or whose check could not tell, could not tell', () => {
  expect(classifyCut({ findings: [] }, UPDATE)).toBe('could-not-tell');
  // A robot that did not answer: the running oracle could not tell, whatever the disk said.
  expect(classifyCut({ findings: [untold('unverified-boot')], booted: '1.0.3' }, UPDATE)).toBe(
    'could-not-tell',
  );
});

test('the first wrong finding names the outcome, even when the robot runs a version', () => {
  const booted = '1.0.4';
  expect(classifyCut({ findings: [wrong('invalid-env'), wrong('bricked')], booted }, UPDATE)).toBe(
    'invalid-env',
  );
  expect(classifyCut({ findings: [untold('unverified-boot'), wrong('bricked')], booted }, UPDATE)).toBe(
    'bricked',
  );
  expect(classifyCut({ findings: [wrong('unverified-boot')], booted }, UPDATE)).toBe('unverified-boot');
  expect(classifyCut({ findings: [untold('unverified-boot')], booted }, UPDATE)).toBe('could-not-tell');
});

test('a power-on that failed is bricked when the robot died, could not tell when it is only slow', () => {
  const died = judgePowerOn(WHERE, { died: true, message: 'exit 1' });
  const slow = judgePowerOn(WHERE, { died: false, message: 'not ready after 30 s' });
  expect(classifyCut({ findings: [died] }, UPDATE)).toBe('bricked');
  expect(classifyCut({ findings: [slow] }, UPDATE)).toBe('could-not-tell');
});

test("an update's end is plotted only when it did not converge or could not be told", () => {
  expect(classifyUpdateEnd([])).toBeUndefined();
  expect(classifyUpdateEnd([wrong('converged')])).toBe('not-converged');
  expect(classifyUpdateEnd([untold('converged')])).toBe('could-not-tell');
});

test('a cut falls at time, at bytes of a point, or at a state point, as planned', () => {
  expect(cutPoint({ by: 'time', ms: 153 })).toBe('time');
  expect(cutPoint({ by: 'bytes', at: 'Download', afterBytes: 711_175 })).toBe('bytes Download');
  expect(cutPoint({ by: 'state', at: 'ArtifactCommit_Enter' })).toBe('ArtifactCommit_Enter');
});
