import { appendFileSync } from 'node:fs';
import { test } from '../../harness/index.ts';
import type { RestartMark } from '../worker-restart.ts';

const marksFile = process.env.RESTART_MARKS;
if (!marksFile) throw new TypeError('RESTART_MARKS must name the file the marks go to');

function mark(name: RestartMark, at = performance.timeOrigin + performance.now()): void {
  appendFileSync(marksFile as string, `${JSON.stringify({ mark: name, at, pid: process.pid })}\n`);
}

const drill = test.extend<object, { restartMarks: void }>({
  // Auto, so it runs before the fleet fixture: by then Node has started (its time origin) and this
  // file has loaded the drill fixtures and the harness behind them.
  restartMarks: [
    async ({}, use) => {
      mark('worker-start', performance.timeOrigin);
      mark('loaded');
      await use();
    },
    { scope: 'worker', auto: true },
  ],
});

drill('a drill fails, so Playwright replaces its worker', async ({ claim }) => {
  await claim.one();
  mark('failed');
  throw new Error('this drill fails on purpose: the next one runs on a fresh worker');
});

drill('the next drill gets its robot on the fresh worker', async ({ claim }) => {
  // The test body starts once the worker's fleet is up.
  mark('fleet-up');
  await claim.one();
  mark('settled');
});
