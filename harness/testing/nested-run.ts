import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect } from '@playwright/test';
import { PLAYWRIGHT_CLI } from '../cli/scenarios.ts';
import { REPO_ROOT } from '../core/paths.ts';

const CONFIG = join(REPO_ROOT, 'harness/testing/hygiene/playwright.config.ts');

export interface NestedRun {
  exitCode: number | null;
  output: string;
  ports: number[];
  tag: string;
  tmp: string;
  /** The pid of the worker that ran the drill, from the drill's marker. */
  workerPid: number | undefined;
}

/**
 * Runs the hygiene drill in a nested Playwright run with its own TMPDIR and an environment tag,
 * optionally interrupting it once the drill is under way.
 */
export async function nestedRun(
  mode: string,
  interrupt?: {
    signal: NodeJS.Signals;
    target: 'group' | 'runner';
    /** Looks at the run once the drill is under way, just before the signal. */
    before?: (tmp: string) => Promise<void>;
  },
  env: NodeJS.ProcessEnv = {},
): Promise<NestedRun> {
  const tmp = mkdtempSync(join(tmpdir(), 'hygiene-'));
  const marker = join(tmp, 'marker.json');
  const tag = randomUUID();
  const child = spawn(process.execPath, [PLAYWRIGHT_CLI, 'test', '--config', CONFIG], {
    cwd: REPO_ROOT,
    // Its own process group, like a terminal's foreground job, so Ctrl-C can be sent to all of it.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      TMPDIR: tmp,
      HYGIENE_MODE: mode,
      HYGIENE_MARKER: marker,
      HYGIENE_OUT: join(tmp, 'out'),
      HYGIENE_TIMEOUT_MS: mode === 'timeout' ? '8000' : '60000',
      FLEETDRILL_HYGIENE_TAG: tag,
      FLEETDRILL_SEED: '7',
      ...env,
    },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  if (interrupt) {
    const deadline = Date.now() + 60_000;
    while (!existsSync(marker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(marker), `the drill never got under way:\n${output}`).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    await interrupt.before?.(tmp);
    process.kill(
      interrupt.target === 'group' ? -(child.pid as number) : (child.pid as number),
      interrupt.signal,
    );
  }
  const exitCode = await exited;
  const reported = existsSync(marker)
    ? (JSON.parse(readFileSync(marker, 'utf8')) as { ports: number[]; pid: number })
    : undefined;
  return { exitCode, output, ports: reported?.ports ?? [], tag, tmp, workerPid: reported?.pid };
}
