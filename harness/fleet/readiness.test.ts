import { spawn } from 'node:child_process';
import { expect, test } from '@playwright/test';
import { TimeoutError } from '../core/errors.ts';
import {
  childCpuTimeProbe,
  cpuTicksOf,
  cpuTimeProbe,
  ProgressDeadline,
  readinessTotalMs,
  waitWhileProgressing,
} from './readiness.ts';

/** A clock the test moves by hand. */
function fakeClock() {
  let now = 1_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('a boot that keeps making progress is not stuck after many idle windows', () => {
  const clock = fakeClock();
  const deadline = new ProgressDeadline({ idleMs: 1_000 }, clock.now, () => 0);
  deadline.observe({ log: 100 });
  for (let step = 1; step <= 20; step++) {
    clock.advance(140);
    deadline.observe({ log: 100 + step });
    expect(deadline.overdue()).toBeUndefined();
  }
});

test('a boot with no progress for the idle window is stuck, naming the window', () => {
  const clock = fakeClock();
  const deadline = new ProgressDeadline({ idleMs: 1_000 }, clock.now, () => 0);
  deadline.observe({ log: 100, cpu: 5 });
  clock.advance(600);
  deadline.observe({ log: 120, cpu: 5 });
  clock.advance(999);
  deadline.observe({ log: 120, cpu: 5 });
  expect(deadline.overdue()).toBeUndefined();
  clock.advance(1);
  expect(deadline.overdue()).toMatch(
    /no progress .* for 1000 ms \(idle window 1000 ms, 1600 ms since power-on\)/,
  );
});

test('a counter that cannot be read, or that shrinks, is no progress', () => {
  const clock = fakeClock();
  const deadline = new ProgressDeadline({ idleMs: 500 }, clock.now, () => 0);
  deadline.observe({ log: 50, cpu: undefined });
  clock.advance(300);
  deadline.observe({ log: 40, cpu: 7 });
  clock.advance(200);
  expect(deadline.overdue()).toMatch(/no progress/);
});

test('a boot busy forever hits the total bound, which grows with fleet size and load', () => {
  expect(readinessTotalMs({ idleMs: 1_000 }, 0)).toBe(3_000);
  expect(readinessTotalMs({ idleMs: 1_000, fleetSize: 51 }, 0.5)).toBe(9_000);
  expect(readinessTotalMs({ idleMs: 1_000, fleetSize: 51 }, 2)).toBe(18_000);

  const clock = fakeClock();
  let load = 0;
  const deadline = new ProgressDeadline({ idleMs: 1_000 }, clock.now, () => load);
  let cpu = 0;
  for (let t = 0; t < 2_900; t += 100) {
    clock.advance(100);
    deadline.observe({ cpu: ++cpu });
  }
  expect(deadline.overdue()).toBeUndefined();
  clock.advance(100);
  deadline.observe({ cpu: cpu + 1 });
  expect(deadline.overdue()).toMatch(/not ready within 3000 ms though still making progress/);
  // The same boot on a machine loaded twice over has twice the time.
  load = 2;
  expect(deadline.overdue()).toBeUndefined();
});

test('an idle window that is not positive is refused', () => {
  expect(() => new ProgressDeadline({ idleMs: 0 })).toThrow(/idleMs must be > 0, got 0/);
});

test('CPU ticks are read past a command name with spaces and parentheses', () => {
  const stat = '4242 (node (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 17 5 3 2 20 0 11 0 100 0 0';
  expect(cpuTicksOf(stat)).toBe(17 + 5 + 3 + 2);
  expect(() => cpuTicksOf('4242 (node) S 1')).toThrow(/unreadable \/proc stat line/);
  const own = cpuTimeProbe(process.pid)();
  if (process.platform === 'linux') expect(own).toBeGreaterThan(0);
  expect(cpuTimeProbe(undefined)()).toBeUndefined();
});

/** A counter that grows by one at every reading while `growing()` says so. */
function fakeProgress(growing: () => boolean) {
  let value = 0;
  return () => (growing() ? ++value : value);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
function settleAfter(ms: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve('done'), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    });
  });
}

test('a wait that takes three idle windows while its probes grow is not given up', async () => {
  const startedAt = performance.now();
  const result = await waitWhileProgressing(
    { limits: { idleMs: 200, fleetSize: 26 }, probes: { log: fakeProgress(() => true) }, intervalMs: 20 },
    (signal) => settleAfter(600, signal),
  );
  expect(result).toBe('done');
  expect(performance.now() - startedAt).toBeGreaterThanOrEqual(590);
});

test('a wait whose probes stop growing is given up within the idle window, with the reason', async () => {
  const startedAt = performance.now();
  const progressUntil = startedAt + 300;
  const error = await waitWhileProgressing(
    {
      limits: { idleMs: 200, since: 'the wait began' },
      probes: { log: fakeProgress(() => performance.now() < progressUntil) },
      intervalMs: 20,
    },
    (signal) => settleAfter(5_000, signal),
  ).catch((failure: unknown) => failure);
  const elapsed = performance.now() - startedAt;
  expect(error).toBeInstanceOf(TimeoutError);
  expect((error as Error).message).toMatch(
    /^not ready: no progress \(console output, CPU time\) for 2\d\d ms \(idle window 200 ms, \d+ ms since the wait began\)$/,
  );
  // Progress for 300 ms (last seen up to a tick before), then one window and a tick or two; nowhere
  // near the wait's own 5 s.
  expect(elapsed).toBeGreaterThanOrEqual(450);
  expect(elapsed).toBeLessThan(1_200);
});

test("a child's CPU time is found by its command line, and is gone with it", async () => {
  test.skip(process.platform !== 'linux', 'reads /proc');
  const marker = `fleetdrill-agent-probe-${process.pid}`;
  const busy = spawn(process.execPath, ['-e', 'for(;;){}', marker], { stdio: 'ignore' });
  const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'other'], { stdio: 'ignore' });
  try {
    const probe = childCpuTimeProbe(process.pid, marker);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const first = probe();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(first).toBeDefined();
    expect(probe()).toBeGreaterThan(first!);
    expect(childCpuTimeProbe(process.pid, 'nobody-runs-this')()).toBeUndefined();
    // Only children count: the marker under another parent is not this one's agent.
    expect(childCpuTimeProbe(other.pid, marker)()).toBeUndefined();
    expect(childCpuTimeProbe(undefined, marker)()).toBeUndefined();
    busy.kill('SIGKILL');
    await new Promise((resolve) => busy.once('exit', resolve));
    expect(probe()).toBeUndefined();
  } finally {
    busy.kill('SIGKILL');
    other.kill('SIGKILL');
  }
});
