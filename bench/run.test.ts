import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { REPO_ROOT } from '../harness/core/paths.ts';

/** `npm run bench` with a bad setting: it must stop before measuring anything, with exit code 2. */
async function bench(env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = promisify(execFile);
  return run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench', 'run.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

test.describe('npm run bench settings', () => {
  test('an unknown BENCH_ONLY name stops the bench with exit code 2, naming it', async () => {
    const result = await bench({ BENCH_ONLY: 'hil_overhead_pct,fleet_up_ms_5' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'bench: BENCH_ONLY: no figure named fleet_up_ms_5; the figures are fleet_up_ms_10,',
    );
    expect(result.stdout).toBe('');
  });

  test('BENCH_RUNS must be a whole number >= 1', async () => {
    for (const runs of ['0', '1.5']) {
      const result = await bench({ BENCH_RUNS: runs, BENCH_ONLY: 'hil_overhead_pct' });
      expect(result.code, runs).toBe(2);
      expect(result.stderr).toContain(`bench: BENCH_RUNS must be a whole number >= 1, got '${runs}'`);
    }
  });
});
