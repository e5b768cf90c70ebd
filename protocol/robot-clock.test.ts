import { expect, test } from '@playwright/test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseClockFile, robotClock } from './robot-clock.ts';

test('a robot clock follows its file: right without one, the offset once written, the last good one through a bad write', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-clock-'));
  try {
    const path = join(dir, 'clock.json');
    let wall = 1_000_000;
    const now = robotClock(path, 0, () => wall);
    expect(now()).toBe(1_000_000);
    await writeFile(path, JSON.stringify({ offsetMs: -1_000_000 }));
    expect(now()).toBe(0);
    wall += 5;
    expect(now()).toBe(5);
    await writeFile(path, '{"offsetMs":');
    wall += 1; // a new mtime is not guaranteed within a millisecond; the text is what matters
    expect(now()).toBe(6);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a clock file that is not one is refused, naming the file and the field', () => {
  expect(() => parseClockFile('{"offsetMs":"soon"}', '/r01/clock.json')).toThrow(
    '/r01/clock.json: offsetMs must be a finite number, got "soon"',
  );
  expect(() => parseClockFile('nope', '/r01/clock.json')).toThrow(/^\/r01\/clock.json: not JSON/);
});
