import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { REPO_ROOT } from '../core/paths.ts';
import { ddsDrillsAvailability } from '../qos/index.ts';
import { settle } from '../testing/leftovers.ts';
import { qos, type QosFlags } from './qos.ts';

const BIN = join(REPO_ROOT, 'bin/fleetdrill.js');

/** What a `fleetdrill qos` process with this pid could have left: namespaces, veths, probes. */
function leftoversOf(pid: number): string[] {
  const mine = new RegExp(`fdl${pid}x`);
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => mine.test(line));
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => mine.test(line));
  const probes = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes('ddsprobe') && line.includes(`--parent-pid ${pid}`));
  return [...namespaces, ...links, ...probes];
}

test.describe('fleetdrill qos', () => {
  test.beforeAll(async () => {
    const available = await ddsDrillsAvailability();
    test.skip(!available.ok, available.ok ? '' : `real DDS needs: ${available.missing}`);
  });

  test('Ctrl-C in the middle of a matrix: the cells under way finish, nothing is left, and the verdict is "could not judge"', async () => {
    test.setTimeout(90_000);
    const out = mkdtempSync(join(tmpdir(), 'qos-cli-'));
    try {
      const child = spawn(
        process.execPath,
        [
          BIN,
          'qos',
          '--topics',
          '/cmd_vel',
          '--profiles',
          'clear,loss-5,loss-10,loss-20',
          '--measure-ms',
          '3000',
          '--seed',
          '1',
          '--out',
          out,
        ],
        { cwd: REPO_ROOT },
      );
      let stderr = '';
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      // Interrupt while both lanes have cells running: after the matrix started, before any ended.
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          if (stderr.includes('replay with --seed')) setTimeout(resolve, 1_500);
        });
        void exited.then(() => reject(new Error(`qos exited before the matrix started:\n${stderr}`)));
      });
      const pid = child.pid!;
      expect(leftoversOf(pid).length, 'the matrix had namespaces up when interrupted').toBeGreaterThan(0);
      child.kill('SIGINT');
      const code = await exited;
      expect(stderr).toContain('stopping once the cells under way finish');
      expect(code, `${stderr}\n${stdout}`).toBe(2);
      expect(stdout).toMatch(/COULD-NOT-TELL: 2 cells in \d+ s, 2 not run \(stopped\)/);
      expect(await settle(() => leftoversOf(pid)), 'left behind').toEqual([]);
      // What ran is still reported: the JSON and the plot.
      const saved = JSON.parse(readFileSync(join(out, 'qos-matrix.json'), 'utf8')) as { cells: unknown[] };
      expect(saved.cells).toHaveLength(2);
      expect(existsSync(join(out, 'qos-matrix.svg'))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('bad input names the flag or the topic', async () => {
    // In-process: the same function the command runs, without a process start per case.
    const flags: QosFlags = {
      model: 'fd-amr-1',
      path: 'relay',
      lanes: '2',
      measureMs: '4000',
      out: 'reports/qos',
    };
    await expect(qos({ ...flags, path: 'wormhole' })).rejects.toThrow(
      "--path must be relay or direct, got 'wormhole'",
    );
    await expect(qos({ ...flags, topics: '/nope' })).rejects.toThrow(
      /--topics '\/nope' is not a topic of .*fd-amr-1\.json/,
    );
    await expect(qos({ ...flags, profiles: 'wifi-great' })).rejects.toThrow(
      "'wifi-great' is not a datagram link profile",
    );
    await expect(qos({ ...flags, model: 'no-such-robot' })).rejects.toThrow(/no-such-robot/);
    await expect(qos({ ...flags, lanes: '0' })).rejects.toThrow(/--lanes/);
  });
});
