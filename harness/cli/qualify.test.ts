/*
 * `fleetdrill qualify` and `fleetdrill merge` end to end, on real drills: a small qualification
 * (two fleet drills and a figure no source of this run produces) run whole, and run as two
 * shards merged. Same seed, same verdicts, same counts; the figure nobody measured keeps the
 * verdict at "could not judge" (exit 2) both ways, never a pass.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { runFleetdrill } from '../testing/run-cli.ts';
import type { Qualification } from '../report/qualification/types.ts';

const QUALIFICATION = `
suite:
  grep: '@FLEET-001|@FLEET-003'
  backends: [embedded]
requirements:
  - id: FLEET-001
    title: Every robot streams /odom and /scan at their nominal rates
    area: fleet
    severity: blocker
    evidence:
      - drills: { tag: '@FLEET-001' }
  - id: FLEET-003
    title: A robot sent to a goal across the warehouse arrives
    area: fleet
    severity: blocker
    evidence:
      - drills: { tag: '@FLEET-003' }
  - id: QOS-009
    title: A figure this run has no source for
    area: qos
    severity: major
    evidence:
      - figure: qos/loss-20/cmd_vel/delivered_pct
        min: 90
`;

// One worker per run: the shards run side by side on a machine already busy with tests.
const fleetdrill = (args: string[]) => runFleetdrill(args, { FLEETDRILL_WORKERS: '1' });

/** What must match between a sharded and an unsharded run. */
function essence(q: Qualification) {
  return {
    outcome: q.outcome,
    exitCode: q.exitCode,
    seed: q.seed,
    requirements: q.requirements.map((r) => ({
      id: r.id,
      status: r.status,
      results: r.results.map((e) => ({
        evidence: e.evidence,
        status: e.status,
        drills: e.drills?.length ?? 0,
      })),
    })),
  };
}

test('two shards merged give the verdicts and counts of one unsharded run with the same seed', async () => {
  test.setTimeout(300_000);
  const dir = await mkdtemp(join(tmpdir(), `fleetdrill-${process.pid}-qualify-`));
  try {
    const file = join(dir, 'qualification.yaml');
    await writeFile(file, QUALIFICATION);
    const common = ['--release', '9.9.9', '--qualification', file, '--no-allure'];
    const [whole, one, two] = await Promise.all([
      fleetdrill([
        'qualify',
        ...common,
        '--seed',
        '77',
        '--history',
        `json:${join(dir, 'h-whole')}`,
        '--out',
        join(dir, 'whole'),
      ]),
      fleetdrill(['qualify', ...common, '--seed', '77', '--shard', '1/2', '--out', join(dir, 's1')]),
      fleetdrill(['qualify', ...common, '--seed', '77', '--shard', '2/2', '--out', join(dir, 's2')]),
    ]);
    // The verdict goes to stdout, errors to stderr: a failure shows both.
    const said = (run: { stdout: string; stderr: string }) =>
      `${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`;
    expect(whole.code, said(whole)).toBe(2);
    expect(one.code, said(one)).toBe(0);
    expect(two.code, said(two)).toBe(0);
    const merged = await fleetdrill([
      'merge',
      join(dir, 's1'),
      join(dir, 's2'),
      ...common.filter((arg) => arg !== '--seed'),
      '--history',
      `json:${join(dir, 'h-merged')}`,
      '--out',
      join(dir, 'merged'),
    ]);
    expect(merged.code, said(merged)).toBe(2);

    const read = async (name: string) =>
      JSON.parse(
        await readFile(join(dir, name, 'qualification', 'qualification.json'), 'utf8'),
      ) as Qualification;
    const [a, b] = [await read('whole'), await read('merged')];
    expect(essence(b)).toEqual(essence(a));
    // Both fleet drills ran and passed, one in each shard; the figure nobody measured is not judged.
    expect(a.requirements.find((r) => r.id === 'FLEET-001')!.status).toBe('passed');
    expect(a.requirements.find((r) => r.id === 'FLEET-003')!.status).toBe('passed');
    expect(a.requirements.find((r) => r.id === 'QOS-009')!.status).toBe('not-judged');
    expect(merged.stdout).toContain('QOS-009');

    // One shard alone can never qualify: the other's drills are unknown.
    const half = await fleetdrill([
      'merge',
      join(dir, 's1'),
      ...common,
      '--history',
      `json:${join(dir, 'h-half')}`,
      '--out',
      join(dir, 'half'),
    ]);
    expect(half.code).toBe(2);
    expect((await read('half')).notes.join('\n')).toContain('shard 2/2 is missing');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
