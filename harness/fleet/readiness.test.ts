import { expect, test } from '@playwright/test';
import { cpuTicksOf, cpuTimeProbe, ProgressDeadline, readinessTotalMs } from './readiness.ts';

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
