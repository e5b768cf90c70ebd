import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { ensureBundle } from './embedded/bundle.ts';
import {
  assertNoProcessWarnings,
  findProcessWarnings,
  logSize,
  ProcessWarningError,
} from './process-warnings.ts';

let dir: string;
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetdrill-warnings-'));
});
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the test child as the robot host runs the agent: stdout and stderr into the console log. */
async function runChild(log: string, ...args: string[]): Promise<void> {
  const entry = await ensureBundle('harness/fleet/process-warnings.child.ts', 'process-warnings-child');
  const fd = openSync(log, 'a');
  try {
    const child = spawn(process.execPath, [entry, ...args], { stdio: ['ignore', fd, fd] });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
  } finally {
    closeSync(fd);
  }
}

test('a leak warning in a robot process fails the check, naming the robot, the process and the warning', async () => {
  const log = join(dir, 'r07.log');
  await runChild(log, 'leak');
  const check = () => assertNoProcessWarnings([{ who: 'r07', path: log, fromOffset: 0 }]);
  expect(check).toThrow(ProcessWarningError);
  expect(check).toThrow(
    /robot r07: edge-agent \(pid \d+\) warned MaxListenersExceededWarning: .*abort listeners/,
  );
});

test('a process that stays under the limit passes', async () => {
  const log = join(dir, 'r08.log');
  await runChild(log);
  expect(findProcessWarnings([{ who: 'r08', path: log, fromOffset: 0 }])).toEqual([]);
  expect(() => assertNoProcessWarnings([{ who: 'r08', path: log, fromOffset: 0 }])).not.toThrow();
});

test("only the drill's own part of the log counts: an earlier drill's warning is not this one's", async () => {
  const log = join(dir, 'r09.log');
  await runChild(log, 'leak');
  const mark = logSize(log);
  expect(mark).toBeGreaterThan(0);
  expect(() => assertNoProcessWarnings([{ who: 'r09', path: log, fromOffset: mark }])).not.toThrow();
  await runChild(log, 'leak');
  expect(() => assertNoProcessWarnings([{ who: 'r09', path: log, fromOffset: mark }])).toThrow(
    /robot r09: edge-agent/,
  );
});
