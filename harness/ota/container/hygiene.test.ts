/**
 * Nothing of the container channel outlives a run: after a pass, a failure, a Ctrl-C, and (with
 * the next start's sweep) a SIGKILL, no registry process, storage folder, updater, software
 * container or pulled image of the run is left. Each case first sees the thing exist, so the
 * check can fail.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { REPO_ROOT } from '../../core/paths.ts';
import { isAlive } from '../../core/process-alive.ts';
import { dockerClient, LABELS, removeLeftovers } from '../../fleet/docker/engine.ts';
import { startNestedRun } from '../../testing/nested-run.ts';
import { containerOtaUnavailable, sweepDeadRigDirs, sweepDeadRunImages } from './rig.ts';
import { sweepDeadRegistries } from './registry.ts';

const unavailable = await containerOtaUnavailable();
test.skip(unavailable !== undefined, unavailable ?? '');

const CONFIG = join(REPO_ROOT, 'harness/ota/container/hygiene/playwright.config.ts');

interface Marker {
  pid: number;
  registryPid: number;
  run: string;
  dir: string;
}

/** What a run left: processes whose command line names its TMPDIR, its folders, containers and images. */
function leftovers(tmp: string, run: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    if (cmdline.includes(tmp) && isAlive(Number(pid)) && Number(pid) !== process.pid)
      found.push(`process ${pid}: ${cmdline.slice(0, 120)}`);
  }
  for (const name of readdirSync(tmp)) {
    if (/^fleetdrill-(registry|container-ota)-/.test(name)) found.push(`folder ${join(tmp, name)}`);
  }
  const containers = spawnSync(
    'docker',
    ['ps', '-a', '--filter', `label=${LABELS.run}=${run}`, '--format', '{{.Names}}'],
    {
      encoding: 'utf8',
    },
  ).stdout;
  found.push(
    ...containers
      .split('\n')
      .filter(Boolean)
      .map((name) => `container ${name}`),
  );
  const images = spawnSync(
    'docker',
    ['image', 'ls', '--filter', `label=${LABELS.run}=${run}`, '--format', '{{.Repository}}:{{.Tag}}'],
    {
      encoding: 'utf8',
    },
  ).stdout;
  found.push(
    ...images
      .split('\n')
      .filter(Boolean)
      .map((image) => `image ${image}`),
  );
  return found;
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

/** A nested run in `mode`; `interrupt` is sent to its process group once the rig is up. */
async function nested(
  mode: string,
  interrupt?: NodeJS.Signals,
): Promise<{ exitCode: number | null; marker: Marker; tmp: string; output: string; before: string[] }> {
  const tmp = mkdtempSync(join(tmpdir(), 'container-ota-hygiene-'));
  const markerPath = join(tmp, 'marker.json');
  const run = startNestedRun(CONFIG, {
    ...process.env,
    TMPDIR: tmp,
    HYGIENE_MODE: mode,
    HYGIENE_MARKER: markerPath,
    HYGIENE_OUT: join(tmp, 'out'),
  });
  // The rig is up once the marker is there, or the run ended without one (it failed to start).
  let ended = false;
  void run.exited.then(() => (ended = true));
  await waitFor(() => existsSync(markerPath) || ended, 180_000);
  if (!existsSync(markerPath)) {
    if (!ended) process.kill(-run.child.pid!, 'SIGKILL');
    await run.exited;
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`the rig never came up:\n${run.output()}`);
  }
  const marker = JSON.parse(readFileSync(markerPath, 'utf8')) as Marker;
  const before = leftovers(tmp, marker.run);
  if (interrupt) process.kill(-run.child.pid!, interrupt);
  const exitCode = await run.exited;
  return { exitCode, marker, tmp, output: run.output(), before };
}

test.describe('container OTA hygiene', () => {
  test.describe.configure({ timeout: 240_000 });

  for (const [mode, signal, code] of [
    ['pass', undefined, 0],
    ['fail', undefined, 1],
    ['hang', 'SIGINT', undefined],
  ] as const) {
    test(`after ${signal ? 'Ctrl-C' : `a ${mode}ed run`}: no registry, updater, container, image or folder is left`, async () => {
      const { exitCode, marker, tmp, output, before } = await nested(mode, signal);
      try {
        // The check can fail: while the run was up, its registry and containers were there.
        expect(
          before.some((line) => line.startsWith('process')),
          before.join('\n'),
        ).toBe(true);
        expect(
          before.some((line) => line.startsWith('container')),
          before.join('\n'),
        ).toBe(true);
        if (code !== undefined) expect(exitCode, output).toBe(code);
        expect(
          await waitFor(() => !isAlive(marker.registryPid), 10_000),
          'the registry process is gone',
        ).toBe(true);
        expect(leftovers(tmp, marker.run), output).toEqual([]);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
  }

  test("after a SIGKILL: the next start sweeps the dead run's registry, containers and images", async () => {
    const { marker, tmp } = await nested('hang', 'SIGKILL');
    try {
      await waitFor(() => !isAlive(marker.pid), 10_000);
      // The registry died with the run's process group; its folder, containers and images did not.
      const left = leftovers(tmp, marker.run);
      expect(
        left.some((line) => line.startsWith('folder')),
        left.join('\n'),
      ).toBe(true);
      expect(
        left.some((line) => line.startsWith('container')),
        left.join('\n'),
      ).toBe(true);
      expect(sweepDeadRegistries(tmp)).toBeGreaterThan(0);
      await removeLeftovers(dockerClient());
      sweepDeadRunImages();
      expect(sweepDeadRigDirs(tmp)).toBeGreaterThan(0);
      expect(
        await waitFor(() => leftovers(tmp, marker.run).length === 0, 10_000),
        leftovers(tmp, marker.run).join('\n'),
      ).toBe(true);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
