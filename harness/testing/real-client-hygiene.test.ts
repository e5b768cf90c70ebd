/**
 * Hygiene with a real OTA client: RAUC, the one that runs daemons (its service and a private
 * D-Bus) besides loop devices for its slots. After a pass, a failure or Ctrl-C, nothing of the run
 * is left: no loop device over its disks, no process. After SIGKILL of the runner the robots
 * power themselves off (their daemons go with them), and the next run detaches the devices.
 */
import { rmSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { listLoops, sweepStaleLoopDevices } from '../ota/real/loop-devices.ts';
import { realClientsAvailability } from '../ota/real/availability.ts';
import { processesWithEnv, settle } from './leftovers.ts';
import { nestedRun, type NestedRun } from './nested-run.ts';

/** Loop devices whose backing file lies in the nested run's TMPDIR. */
async function loopsOf(run: NestedRun): Promise<string[]> {
  return (await listLoops())
    .filter((loop) => loop.backFile.startsWith(run.tmp))
    .map((loop) => `${loop.device} ${loop.backFile}`);
}

async function expectNothingLeft(run: NestedRun): Promise<void> {
  expect(run.ports.length, `the drill did not report its robots:\n${run.output}`).toBe(2);
  expect(await settle(() => processesWithEnv('FLEETDRILL_HYGIENE_TAG', run.tag)), 'processes left').toEqual(
    [],
  );
  expect(await loopsOf(run), 'loop devices left').toEqual([]);
}

const available = realClientsAvailability();

test.describe('hygiene with RAUC on real disks: no loop device, daemon or client outlives a run', () => {
  test.skip(!available.ok, available.ok ? '' : available.reason);
  test.describe.configure({ mode: 'default', timeout: 150_000 });
  let run: NestedRun | undefined;
  test.afterEach(() => {
    if (run) rmSync(run.tmp, { recursive: true, force: true });
    run = undefined;
  });
  const rauc = { FLEETDRILL_OTA_CLIENT: 'rauc' };

  test('after a passing run', async () => {
    run = await nestedRun('pass', undefined, rauc);
    expect(run.exitCode, run.output).toBe(0);
    await expectNothingLeft(run);
  });

  test('after a failing run', async () => {
    run = await nestedRun('fail', undefined, rauc);
    expect(run.exitCode, run.output).toBe(1);
    await expectNothingLeft(run);
  });

  test('after Ctrl-C in the middle of a drill', async () => {
    run = await nestedRun('hang', { signal: 'SIGINT', target: 'group' }, rauc);
    expect(run.exitCode, run.output).not.toBe(0);
    await expectNothingLeft(run);
  });

  test('after the runner is SIGKILLed: daemons die with the robots, and the next run detaches the devices', async () => {
    run = await nestedRun('hang', { signal: 'SIGKILL', target: 'group' }, rauc);
    expect(
      await settle(() => processesWithEnv('FLEETDRILL_HYGIENE_TAG', run!.tag)),
      'processes left',
    ).toEqual([]);
    // Nothing could detach them: the devices outlive the runner, as they would a crash.
    expect((await loopsOf(run)).length, 'the run never attached its disks').toBeGreaterThan(0);
    const swept = await sweepStaleLoopDevices();
    expect(swept.length).toBeGreaterThan(0);
    expect(await loopsOf(run), 'loop devices left after the sweep').toEqual([]);
  });
});
