/*
 * After a robot host's ready line, the wait for rosbridge and /odom at rate follows the robot's
 * progress: a rosbridge that comes up late while the robot progresses is waited for past the idle
 * window, and a robot that shows no progress is named with its log tail within about the window,
 * at whichever stage it stuck. Rosbridge is a real reference robot in this process; the host's
 * progress is faked (the deadline itself is proven with real processes in readiness.test.ts).
 */
import { expect, test as base } from '@playwright/test';
import { labFixtures, type LabFixtures } from '../../reference/robot-sim/test-helpers.ts';
import { RobotUnreachableError, TimeoutError } from '../core/errors.ts';
import type { RobotSpec, StartedRobotHost } from './backend.ts';
import type { ProgressProbe } from './readiness.ts';
import { Robot } from './robot.ts';
import { freeLoopbackPort } from '../core/ports.ts';

const test = base.extend<LabFixtures>(labFixtures);

const IDLE_MS = 300;
const SPEC = { id: 'r07', rtf: 1 } as RobotSpec;

/** The parts of a host the wait uses: its progress, its log tail, and no death or cut to report. */
function host(rosbridge: string, log: ProgressProbe): StartedRobotHost {
  const used: Pick<
    StartedRobotHost,
    'endpoints' | 'progressProbes' | 'logTail' | 'onUnexpectedExit' | 'onInjectedPowerCut' | 'cable'
  > = {
    endpoints: { rosbridge, upstream: rosbridge.slice('ws://'.length) },
    progressProbes: () => ({ log }),
    logTail: () => ['up: 1.0.0 on slot A, rosbridge on ' + rosbridge],
    onUnexpectedExit: () => {},
    onInjectedPowerCut: () => {},
    cable: undefined,
  };
  return used as StartedRobotHost;
}

const growing = (): ProgressProbe => {
  let size = 0;
  return () => (size += 64);
};

test('a rosbridge that answers after two idle windows while the robot progresses is waited for', async ({
  lab,
}) => {
  const port = await freeLoopbackPort();
  const url = `ws://127.0.0.1:${port}`;
  const late = setTimeout(() => void lab.sim({ id: 'r07', port }), 2 * IDLE_MS);
  try {
    const startedAt = performance.now();
    // 26 robots booting together double the total bound to 6 idle windows: the rosbridge comes at
    // two, and the sim's start and /odom reaching its rate get the other four. With one robot
    // the bound (3 windows) would race the sim's start on an idle machine.
    const robot = await Robot.attach(SPEC, host(url, growing()), { readyTimeoutMs: IDLE_MS, fleetSize: 26 });
    expect(performance.now() - startedAt).toBeGreaterThan(2 * IDLE_MS);
    robot.detach();
  } finally {
    clearTimeout(late);
  }
});

test('a robot whose rosbridge never answers and that shows no progress is unreachable, with its log tail', async () => {
  const url = `ws://127.0.0.1:${await freeLoopbackPort()}`;
  const startedAt = performance.now();
  const error = await Robot.attach(
    SPEC,
    host(url, () => 512),
    { readyTimeoutMs: IDLE_MS },
  ).catch((failure: unknown) => failure);
  const elapsed = performance.now() - startedAt;
  expect(error).toBeInstanceOf(RobotUnreachableError);
  const message = (error as Error).message;
  expect(message).toMatch(
    new RegExp(
      `^robot r07: no rosbridge answer at ${url}; not ready: no progress .* \\(idle window 300 ms, `,
    ),
  );
  expect(message).toContain(`--- last log lines of r07 ---\nup: 1.0.0 on slot A, rosbridge on ${url}`);
  expect(elapsed).toBeLessThan(IDLE_MS + 700);
});

test('a robot whose /odom is too slow and that shows no progress times out naming the rate', async ({
  lab,
}) => {
  // A twentieth of the rate the spec's real-time factor asks for.
  const sim = await lab.sim({ id: 'r07', rtf: 0.05 });
  const startedAt = performance.now();
  const error = await Robot.attach(
    SPEC,
    host(sim.url, () => 512),
    { readyTimeoutMs: IDLE_MS },
  ).catch((failure: unknown) => failure);
  expect(error).toBeInstanceOf(TimeoutError);
  const message = (error as Error).message;
  expect(message).toMatch(
    /^robot r07: \/odom: (no message|best [\d.]+ Hz), expected >= 16 Hz; not ready: no progress /,
  );
  expect(message).toContain('--- last log lines of r07 ---');
  expect(performance.now() - startedAt).toBeLessThan(IDLE_MS + 700);
});
