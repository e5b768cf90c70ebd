/**
 * A whole release qualification, timed as a release manager runs it: `fleetdrill qualify` on the
 * reference stack (qualification.yaml: the @release drills on the embedded fleet, the HIL stage,
 * the reduced QoS matrix over real DDS, 16 OTA power cuts), with its report and Allure report,
 * from the command to its exit.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../harness/core/paths.ts';
import type { Qualification } from '../harness/report/qualification/types.ts';

/** Wall seconds of one `fleetdrill qualify`, and what it concluded. */
export async function qualifyWallSeconds(seed: number): Promise<{ value: number; note: string }> {
  const dir = await mkdtemp(join(tmpdir(), `fleetdrill-${process.pid}-bench-qualify-`));
  try {
    const out = join(dir, 'out');
    const started = performance.now();
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          join(REPO_ROOT, 'bin', 'fleetdrill.js'),
          'qualify',
          '--release',
          `bench-${seed}`,
          '--seed',
          String(seed),
          '--history',
          `json:${join(dir, 'history')}`,
          '--out',
          out,
        ],
        { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'ignore'] },
      );
      child.once('error', reject);
      child.once('exit', (exit) => resolve(exit));
    });
    const seconds = (performance.now() - started) / 1000;
    // 0, 1 and 2 are verdicts; anything else is a crash, and a crash's time is no figure.
    if (code !== 0 && code !== 1 && code !== 2) throw new Error(`fleetdrill qualify exited with ${code}`);
    const q = JSON.parse(
      await readFile(join(out, 'qualification', 'qualification.json'), 'utf8'),
    ) as Qualification;
    const count = (status: string) => q.requirements.filter((r) => r.status === status).length;
    return {
      value: Number(seconds.toFixed(1)),
      note: `${q.outcome} (exit ${code}): ${count('passed')} passed, ${count('failed')} failed, ${count('not-judged')} not judged of ${q.requirements.length} requirements`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
