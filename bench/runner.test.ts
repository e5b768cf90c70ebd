import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { REPO_ROOT } from '../harness/core/paths.ts';
import { Fleet } from '../harness/fleet/index.ts';
import { provisionRobots } from '../harness/ota/index.ts';
import { listeningPorts, processesWithEnv, settle } from '../harness/testing/leftovers.ts';
import {
  exitCode,
  runFigures,
  selectFigures,
  summarize,
  validateFigures,
  type Figure,
  type FigureResult,
} from './runner.ts';

const quiet = { log: () => undefined };

async function listen(): Promise<{ server: Server; port: number }> {
  const server = createServer((_, response) => response.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address');
  return { server, port: address.port };
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

/** A real, small figure: one HTTP round trip on loopback to a server it starts and stops. */
async function roundTripMs(): Promise<number> {
  const { server, port } = await listen();
  try {
    const startedAt = performance.now();
    const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
    await response.text();
    return performance.now() - startedAt;
  } finally {
    await close(server);
  }
}

test.describe('bench loop', () => {
  test('a figure that throws is recorded with its reason, its teardown runs, and the next figure is measured', async () => {
    const started: { port?: number; dir?: string } = {};
    const figures: Figure[] = [
      { name: 'round_trip_ms', unit: 'ms', target: { op: '<=', value: 60_000 }, measure: roundTripMs },
      {
        name: 'broken_ms',
        unit: 'ms',
        measure: async () => {
          // Starts what a measurer starts (a server, a temp dir), then fails the way a fleet does.
          const dir = await mkdtemp(join(tmpdir(), 'bench-runner-test-'));
          const { server, port } = await listen();
          Object.assign(started, { dir, port });
          try {
            await writeFile(join(dir, 'state'), 'busy');
            throw new Error(`robot r07: not ready within 20000 ms (port ${port})`);
          } finally {
            await close(server);
            await rm(dir, { recursive: true, force: true });
          }
        },
      },
      { name: 'round_trip_again_ms', unit: 'ms', measure: roundTripMs },
    ];
    const results = await runFigures(figures, { runs: 2, ...quiet });

    expect(results.map((result) => [result.name, result.status])).toEqual([
      ['round_trip_ms', 'ok'],
      ['broken_ms', 'error'],
      ['round_trip_again_ms', 'ok'],
    ]);
    const broken = results[1]!;
    expect(broken.reason).toBe(`run 1/2: robot r07: not ready within 20000 ms (port ${started.port})`);
    expect(broken.value).toBeUndefined();
    expect(broken.pass).toBeUndefined();
    expect(await listeningPorts([started.port!])).toEqual([]);
    expect(existsSync(started.dir!)).toBe(false);
    expect(results[0]!.runs).toHaveLength(2);
    expect(results[0]!.pass).toBe(true);
    expect(results[2]!.runs).toHaveLength(2);
    expect(exitCode(results)).toBe(1);
  });

  test('a fleet whose robot is not ready in time is an error of that figure; nothing of it is left running', async () => {
    test.setTimeout(60_000);
    const mine = () => processesWithEnv('FLEETDRILL_HARNESS_PID', String(process.pid));
    const runDirs = () =>
      readdirSync(tmpdir()).filter((name) => name.startsWith(`fleetdrill-${process.pid}-`));
    const dirsBefore = runDirs();
    const results = await runFigures(
      [
        {
          name: 'fleet_up_ms_1',
          unit: 'ms',
          target: { op: '<=', value: 5000 },
          // The bench's failure, made certain: with an idle window of 1 ms no boot shows progress
          // often enough (CPU time moves in 10 ms ticks) nor finishes within its 3 windows.
          measure: async () => {
            const fleet = await new Fleet({
              robots: 1,
              seed: 7,
              world: 'empty',
              telemetry: false,
              readyTimeoutMs: 1,
              provision: provisionRobots(),
            }).start();
            await fleet.stop();
            return fleet.info.readyMs;
          },
        },
        { name: 'round_trip_ms', unit: 'ms', measure: roundTripMs },
      ],
      { runs: 1, ...quiet, leftovers: async () => (await settle(mine)).map((pid) => `process ${pid}`) },
    );
    expect(results[0]).toMatchObject({ name: 'fleet_up_ms_1', status: 'error', runs: [] });
    expect(results[0]!.reason).toMatch(
      /^run 1\/1: robot r01: robot host not ready(: no progress| within \d+ ms though still making progress)/,
    );
    expect(results[0]!.reason).not.toMatch(/left behind/);
    expect(results[1]).toMatchObject({ name: 'round_trip_ms', status: 'ok' });
    expect(mine()).toEqual([]);
    expect(runDirs()).toEqual(dirsBefore);
  });

  test('a figure that leaves a process running is an error, even when it measured', async () => {
    const tag = randomUUID();
    const children: ChildProcess[] = [];
    const sleeper = () => {
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
        env: { ...process.env, BENCH_RUNNER_TEST: tag },
        stdio: 'ignore',
      });
      children.push(child);
      return child;
    };
    try {
      const results = await runFigures(
        [
          {
            name: 'tidy_ms',
            unit: 'ms',
            measure: async () => {
              const child = sleeper();
              await new Promise((resolve) => child.once('spawn', resolve));
              child.kill('SIGKILL');
              await new Promise((resolve) => child.once('exit', resolve));
              return 1;
            },
          },
          {
            name: 'leaky_ms',
            unit: 'ms',
            target: { op: '<=', value: 10 },
            measure: async () => {
              await new Promise((resolve) => sleeper().once('spawn', resolve));
              return 1;
            },
          },
        ],
        {
          runs: 1,
          ...quiet,
          leftovers: async () =>
            (await settle(() => processesWithEnv('BENCH_RUNNER_TEST', tag), 1_000)).map(
              (pid) => `process ${pid}`,
            ),
        },
      );
      expect(results[0]).toMatchObject({ status: 'ok', value: 1 });
      const leaky = results[1]!;
      expect(leaky).toMatchObject({ status: 'error', runs: [1] });
      expect(leaky.reason).toBe(`left behind after the figure: process ${children[1]!.pid}`);
      expect(leaky.value).toBeUndefined();
      expect(leaky.pass).toBeUndefined();
    } finally {
      for (const child of children) child.kill('SIGKILL');
    }
  });

  test('the value is the median of the runs, and the median is what is judged', async () => {
    const values = [9, 1, 2];
    const [result] = await runFigures(
      [
        {
          name: 'spread_ms',
          unit: 'ms',
          target: { op: '<=', value: 3 },
          measure: (run) => values[run]!,
        },
      ],
      { runs: 3, ...quiet },
    );
    // The mean (4) or the first run (9) would miss; the median (2) passes.
    expect(result).toMatchObject({ status: 'ok', value: 2, runs: [9, 1, 2], pass: true });
    const [missed] = await runFigures(
      [
        {
          name: 'spread_ms',
          unit: 'ms',
          target: { op: '<=', value: 1.5 },
          measure: (run) => values[run]!,
        },
      ],
      { runs: 3, ...quiet },
    );
    expect(missed).toMatchObject({ status: 'ok', value: 2, pass: false });
    expect(exitCode([missed!])).toBe(0);
  });

  test('notes are kept per run; a figure without a target has no verdict', async () => {
    const [result] = await runFigures(
      [{ name: 'noted_ms', unit: 'ms', measure: (run) => ({ value: run, note: `note ${run}` }) }],
      { runs: 2, ...quiet },
    );
    expect(result).toMatchObject({ value: 0.5, notes: 'run 1: note 0; run 2: note 1' });
    expect(result).not.toHaveProperty('pass');
    expect(result).not.toHaveProperty('target');
  });

  test('a later run that fails keeps the runs before it and gives no value', async () => {
    const [result] = await runFigures(
      [
        {
          name: 'second_fails_ms',
          unit: 'ms',
          measure: (run) => {
            if (run === 1) throw new Error('the cloud did not answer');
            return 4;
          },
        },
      ],
      { runs: 3, ...quiet },
    );
    expect(result).toMatchObject({ status: 'error', runs: [4], reason: 'run 2/3: the cloud did not answer' });
    expect(result).not.toHaveProperty('value');
  });

  test('a measurement that is not a finite number is an error, not a missed target', async () => {
    const [result] = await runFigures(
      [{ name: 'nan_ms', unit: 'ms', target: { op: '<=', value: 1 }, measure: () => 0 / 0 }],
      { runs: 1, ...quiet },
    );
    expect(result).toMatchObject({
      status: 'error',
      reason: 'run 1/1: measured NaN ms, not a finite number',
    });
    expect(result).not.toHaveProperty('pass');
  });

  test('a failed prepare is the figure error, and no run is tried', async () => {
    let measured = 0;
    const [result] = await runFigures(
      [
        {
          name: 'docker_ms',
          unit: 'ms',
          prepare: () => {
            throw new Error('no Docker engine answers at /var/run/docker.sock');
          },
          measure: () => ++measured,
        },
      ],
      { runs: 2, ...quiet },
    );
    expect(result).toMatchObject({
      status: 'error',
      runs: [],
      reason: 'prepare: no Docker engine answers at /var/run/docker.sock',
    });
    expect(measured).toBe(0);
  });

  test('definitions are checked before anything is measured', async () => {
    let measured = false;
    const measure = () => ((measured = true), 1);
    expect(() =>
      validateFigures([
        { name: 'a_ms', unit: 'ms', measure },
        { name: 'a_ms', unit: 'ms', measure },
      ]),
    ).toThrow(/bench figure a_ms: defined twice/);
    await expect(
      runFigures([{ name: 'b_ms', unit: 'ms', target: { op: '<=', value: Number.NaN }, measure }], {
        runs: 1,
        ...quiet,
      }),
    ).rejects.toThrow(/bench figure b_ms: target value/);
    await expect(runFigures([{ name: 'c_ms', unit: 'ms', measure }], { runs: 0, ...quiet })).rejects.toThrow(
      /runs must be a whole number >= 1, got 0/,
    );
    expect(measured).toBe(false);
  });

  test('BENCH_ONLY picks figures in definition order and names unknown ones', () => {
    const measure = () => 1;
    const figures: Figure[] = ['a_ms', 'b_ms', 'c_ms'].map((name) => ({ name, unit: 'ms', measure }));
    expect(selectFigures(figures, ['c_ms', 'a_ms']).map((figure) => figure.name)).toEqual(['a_ms', 'c_ms']);
    expect(selectFigures(figures).map((figure) => figure.name)).toEqual(['a_ms', 'b_ms', 'c_ms']);
    expect(() => selectFigures(figures, ['a_ms', 'fleet_up_ms'])).toThrow(
      /BENCH_ONLY: no figure named fleet_up_ms; the figures are a_ms, b_ms, c_ms/,
    );
  });
});

/**
 * The loop in a process of its own: process-wide listeners cannot be tried inside a Playwright
 * worker, which fails the test on any unhandled rejection.
 */
async function loopInChild(catchStrayErrors: boolean): Promise<{ code: number; stdout: string }> {
  const script = `
    import { runFigures } from './bench/runner.ts';
    const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
    const results = await runFigures([
      { name: 'rejected_ms', unit: 'ms', measure: async () => { void Promise.reject(new Error('a socket closed late')); await settle(); return 1; } },
      { name: 'thrown_ms', unit: 'ms', measure: async () => { setTimeout(() => { throw new Error('a timer threw'); }, 0); await settle(); return 2; } },
      { name: 'after_ms', unit: 'ms', measure: () => 3 },
    ], { runs: 1, catchStrayErrors: ${catchStrayErrors}, log: () => {} });
    console.log(JSON.stringify(results.map(({ name, status, reason }) => ({ name, status, reason }))));
  `;
  try {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: REPO_ROOT },
    );
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, stdout: failed.stdout };
  }
}

test.describe('stray errors during a figure', () => {
  test('an unhandled rejection or uncaught exception fails the figure it happened in, and the loop goes on', async () => {
    const { code, stdout } = await loopInChild(true);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual([
      {
        name: 'rejected_ms',
        status: 'error',
        reason: 'run 1/1: stray error while measuring: a socket closed late',
      },
      { name: 'thrown_ms', status: 'error', reason: 'run 1/1: stray error while measuring: a timer threw' },
      { name: 'after_ms', status: 'ok' },
    ]);
  });

  test('without the guard the same figure ends the process: the guard is what keeps the bench going', async () => {
    const { code, stdout } = await loopInChild(false);
    expect(code).not.toBe(0);
    expect(stdout).toBe('');
  });
});

test.describe('bench exit code', () => {
  const ok = { status: 'ok', unit: 'ms', runs: [1], value: 1, durationMs: 1 } as const;
  const passed: FigureResult = { ...ok, runs: [1], name: 'passed_ms', pass: true };
  const missed: FigureResult = { ...ok, runs: [1], name: 'missed_ms', pass: false };
  const untargeted: FigureResult = { ...ok, runs: [1], name: 'untargeted_ms' };
  const error: FigureResult = {
    name: 'error_ms',
    status: 'error',
    unit: 'ms',
    runs: [],
    reason: 'x',
    durationMs: 1,
  };

  test('0 when every figure was measured, whether or not it met its target', () => {
    expect(exitCode([passed, untargeted])).toBe(0);
    expect(exitCode([passed, missed, untargeted])).toBe(0);
  });

  test('1 when any figure could not be measured', () => {
    expect(exitCode([passed, error])).toBe(1);
    expect(exitCode([error])).toBe(1);
  });

  test('with strict, a missed target is 1 too', () => {
    expect(exitCode([passed, missed], { strict: true })).toBe(1);
    expect(exitCode([passed, untargeted], { strict: true })).toBe(0);
  });

  test('the summary counts each kind once', () => {
    expect(summarize([passed, missed, untargeted, error])).toEqual({
      figures: 4,
      passed: 1,
      missed: 1,
      untargeted: 1,
      errors: 1,
    });
  });
});
