import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
// @ts-expect-error: a plain zx script, no declarations
import { exitCode, startDaemon } from './after-install.mjs';

type Started = { up: boolean; stop: () => Promise<void> };
const startTyped = startDaemon as (
  command: string[],
  options: { answers: () => Promise<boolean>; waitS?: number; log: string },
) => Promise<Started>;

let dir: string;
/** Every daemon a test started, stopped after it even when the test failed. */
const daemons: Started[] = [];
async function start(...args: Parameters<typeof startTyped>): Promise<Started> {
  const started = await startTyped(...args);
  daemons.push(started);
  return started;
}
test.beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fd-ci-'));
});
test.afterEach(async () => {
  await Promise.all(daemons.splice(0).map((started) => started.stop()));
  await rm(dir, { recursive: true, force: true });
});

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** A daemon that "answers" once it has written its ready file, after `delayMs`, then runs on. */
function daemon(ready: string, delayMs: number): string[] {
  const script = `setTimeout(() => require('fs').writeFileSync(${JSON.stringify(ready)}, ''), ${delayMs}); setInterval(() => {}, 1000)`;
  return [process.execPath, '-e', script];
}

test('a daemon that comes up is waited for, and stop() ends it and returns', async () => {
  const ready = join(dir, 'ready');
  const started = await start(daemon(ready, 1_000), { answers: () => exists(ready), log: join(dir, 'log') });
  expect(started.up).toBe(true);
  const stopping = Date.now();
  await started.stop();
  expect(Date.now() - stopping).toBeLessThan(10_000);
  await started.stop(); // idempotent
});

test('a daemon that never answers is reported as not up, and stop() still ends it', async () => {
  const started = await start(daemon(join(dir, 'ready'), 600_000), {
    answers: () => Promise.resolve(false),
    waitS: 1,
    log: join(dir, 'log'),
  });
  expect(started.up).toBe(false);
  await started.stop();
});

test('a daemon that exits at once is not up, without waiting out the deadline', async () => {
  const begun = Date.now();
  const started = await start([process.execPath, '-e', 'process.exit(3)'], {
    answers: () => Promise.resolve(false),
    waitS: 30,
    log: join(dir, 'log'),
  });
  expect(started.up).toBe(false);
  expect(Date.now() - begun).toBeLessThan(10_000);
  await started.stop();
});

test('the exit code: a failed test run wins, then any other failed step is 1', () => {
  const code = exitCode as (codes: Record<string, number>) => number;
  expect(code({ typecheck: 0, lint: 0, test: 0, summary: 0 })).toBe(0);
  expect(code({ typecheck: 1, lint: 0, test: 0, summary: 0 })).toBe(1);
  expect(code({ typecheck: 0, lint: 0, test: 0, summary: 1 })).toBe(1);
  expect(code({ typecheck: 1, lint: 1, test: 2, summary: 0 })).toBe(2);
});
