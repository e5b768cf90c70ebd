import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { REPO_ROOT } from '../core/paths.ts';
import { listeningPorts, processesWithEnv, runDirsIn, settle } from './leftovers.ts';
import { nestedRun, type NestedRun } from './nested-run.ts';
import { realClientsAvailability } from '../ota/real/availability.ts';
import { listLoops, sweepStaleLoopDevices } from '../ota/real/loop-devices.ts';

/**
 * Where the machine allows it, the runs have real OTA clients on real disks: besides processes,
 * ports and run dirs, a run then has loop devices for its slots and daemons (RAUC's service, a
 * private D-Bus) that must not outlive it either. The pass has Mender and the other runs RAUC, so
 * both clients' teardown is seen, and each run checks that its disks were attached while it ran:
 * else the check for loop devices left could not fail. A timeout tears down the way a failure
 * does, so it runs fleetdrill's own client (a real disk costs CPU).
 */
const REAL = realClientsAvailability().ok;
const OTA_ENV: NodeJS.ProcessEnv = REAL ? { FLEETDRILL_OTA_CLIENT: 'rauc' } : {};
const MENDER_ENV: NodeJS.ProcessEnv = REAL ? { FLEETDRILL_OTA_CLIENT: 'mender' } : {};

/** Loop devices whose backing file lies in the nested run's TMPDIR. */
async function loopsIn(tmp: string): Promise<string[]> {
  return (await listLoops())
    .filter((loop) => loop.backFile.startsWith(tmp))
    .map((loop) => `${loop.device} ${loop.backFile}`);
}

/**
 * A nested run of the drill that hangs, sent `signal` (to the runner's process group) once it is
 * up, and how many loop devices it had attached just before: the count shows the disk check can fail.
 */
async function interruptedDrill(signal: NodeJS.Signals): Promise<{ run: NestedRun; attached: number }> {
  let attached = 0;
  const run = await nestedRun(
    'hang',
    { signal, target: 'group', before: async (tmp) => void (attached = (await loopsIn(tmp)).length) },
    OTA_ENV,
  );
  return { run, attached };
}

async function expectNothingLeft(run: NestedRun): Promise<void> {
  expect(run.ports.length, `the drill did not report its robots:\n${run.output}`).toBe(2);
  expect(await settle(() => processesWithEnv('FLEETDRILL_HYGIENE_TAG', run.tag)), 'processes left').toEqual(
    [],
  );
  expect(await settle(() => listeningPorts(run.ports)), 'ports still listening').toEqual([]);
  expect(runDirsIn(run.tmp), 'run dirs left in TMPDIR').toEqual([]);
  expect(await loopsIn(run.tmp), 'loop devices left').toEqual([]);
}

test.describe('hygiene: nothing outlives a run', () => {
  test.describe.configure({ mode: 'default', timeout: 120_000 });
  let run: NestedRun | undefined;
  test.afterEach(() => {
    if (run) rmSync(run.tmp, { recursive: true, force: true });
    run = undefined;
  });

  test(`after a passing run${REAL ? ' (Mender on real disks)' : ''}`, async () => {
    let attached = 0;
    run = await nestedRun(
      'pass',
      { look: async (tmp) => void (attached = (await loopsIn(tmp)).length) },
      MENDER_ENV,
    );
    expect(run.exitCode, run.output).toBe(0);
    if (REAL) expect(attached, 'the run never attached its disks').toBeGreaterThan(0);
    await expectNothingLeft(run);
  });

  test(`after a failing run${REAL ? ' (RAUC on real disks)' : ''}`, async () => {
    let attached = 0;
    run = await nestedRun(
      'fail',
      { look: async (tmp) => void (attached = (await loopsIn(tmp)).length) },
      OTA_ENV,
    );
    expect(run.exitCode, run.output).toBe(1);
    expect(run.output).toContain('this drill fails on purpose');
    if (REAL) expect(attached, 'the run never attached its disks').toBeGreaterThan(0);
    await expectNothingLeft(run);
  });

  test('after a test timeout', async () => {
    run = await nestedRun('timeout');
    expect(run.exitCode, run.output).toBe(1);
    expect(run.output).toMatch(/Test timeout of 8000ms exceeded/);
    await expectNothingLeft(run);
  });

  test(`after Ctrl-C (SIGINT to the runner and its workers) in the middle of a drill${REAL ? ' (RAUC on real disks)' : ''}`, async () => {
    const interrupted = await interruptedDrill('SIGINT');
    run = interrupted.run;
    const { attached } = interrupted;
    expect(run.exitCode, run.output).not.toBe(0);
    if (REAL) expect(attached, 'the run never attached its disks').toBeGreaterThan(0);
    await expectNothingLeft(run);
  });

  test(`after the runner is SIGKILLed: robots power off, and the next run sweeps the run dir${REAL ? ' and the loop devices (RAUC on real disks)' : ''}`, async () => {
    const interrupted = await interruptedDrill('SIGKILL');
    run = interrupted.run;
    const { attached } = interrupted;
    expect(
      await settle(() => processesWithEnv('FLEETDRILL_HYGIENE_TAG', run!.tag)),
      'processes left',
    ).toEqual([]);
    expect(await settle(() => listeningPorts(run!.ports)), 'ports still listening').toEqual([]);
    // Nothing can clean up after SIGKILL; the next run in the same TMPDIR removes the leftovers:
    // the loop devices first (a fleet's start does the same), then the run dirs.
    if (REAL) {
      expect(attached, 'the run never attached its disks').toBeGreaterThan(0);
      // Any fleet starting meanwhile (another worker) may have swept them already: that is the design.
      await sweepStaleLoopDevices();
      expect(await loopsIn(run.tmp), 'loop devices left after the sweep').toEqual([]);
    }
    const { sweepStaleRunDirs } = await import('../fleet/run-dir.ts');
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = run.tmp;
    try {
      await sweepStaleRunDirs();
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
    }
    expect(runDirsIn(run.tmp)).toEqual([]);
  });

  test(`after Ctrl-C in the middle of \`fleetdrill ota fuzz\`: it finishes what is under way and leaves nothing${REAL ? ' (RAUC on real disks)' : ''}`, async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'hygiene-'));
    const tag = randomUUID();
    run = { exitCode: null, output: '', ports: [], tag, tmp, workerPid: undefined };
    const child = spawn(
      process.execPath,
      [
        join(REPO_ROOT, 'bin/fleetdrill.js'),
        ...['ota', 'fuzz', '--cuts', '1000', '--seed', '7', '--json'],
        ...(REAL ? ['--ota-client', 'rauc'] : []),
      ],
      {
        cwd: REPO_ROOT,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TMPDIR: tmp, FLEETDRILL_HYGIENE_TAG: tag },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!/ cut 2 /.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(stderr, 'the fuzz never got to its second cut').toMatch(/ cut 2 /);
    const attached = (await loopsIn(tmp)).length;
    process.kill(-(child.pid as number), 'SIGINT');
    const code = await exited;
    const last = stdout.trim().split('\n').at(-1) ?? '';
    expect(last.startsWith('{'), `no summary line (exit ${code}):\n${stderr.slice(-3000)}`).toBe(true);
    const summary = JSON.parse(last) as {
      cuts?: number;
      problems?: string[];
    };
    expect(code, stderr.slice(-2000)).toBe(0);
    expect(summary.cuts, 'it stopped cutting').toBeLessThan(1000);
    expect(summary.problems).toEqual([]);
    if (REAL) expect(attached, 'the fuzz never attached its disks').toBeGreaterThan(0);
    expect(await settle(() => processesWithEnv('FLEETDRILL_HYGIENE_TAG', tag)), 'processes left').toEqual([]);
    expect(runDirsIn(tmp), 'run dirs left in TMPDIR').toEqual([]);
    expect(await loopsIn(tmp), 'loop devices left').toEqual([]);
  });
});
