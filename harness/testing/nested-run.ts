import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

/** A `playwright test` of one config in a child process, and what it printed so far. */
export interface StartedNestedRun {
  child: ChildProcess;
  /** Everything the run printed so far, stdout and stderr interleaved. */
  output: () => string;
  /** Its exit code (null when a signal ended it). */
  exited: Promise<number | null>;
}

/**
 * Starts `playwright test --config <config>` from the repository root with this Node, in its own
 * process group, like a terminal's foreground job, so Ctrl-C (or a kill) can be sent to all of it.
 */
export function startNestedRun(config: string, env: NodeJS.ProcessEnv): StartedNestedRun {
  const child = spawn(process.execPath, [PLAYWRIGHT_CLI, 'test', '--config', config], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** How the outer test steps into a nested run once its drill is under way. */
export type NestedRunStep =
  | {
      signal: NodeJS.Signals;
      target: 'group' | 'runner';
      /** Looks at the run once the drill is under way, just before the signal. */
      before?: (tmp: string) => Promise<void>;
    }
  | {
      /**
       * Looks at the run while its drill waits, then lets the drill end as its mode says: a run that
       * ends by itself is over too soon to be looked at otherwise.
       */
      look: (tmp: string) => Promise<void>;
    };

/**
 * Runs the hygiene drill in a nested Playwright run with its own TMPDIR and an environment tag,
 * optionally stepping in (a look, or a signal) once the drill is under way.
 */
export async function nestedRun(
  mode: string,
  step?: NestedRunStep,
  env: NodeJS.ProcessEnv = {},
): Promise<NestedRun> {
  const tmp = mkdtempSync(join(tmpdir(), 'hygiene-'));
  const marker = join(tmp, 'marker.json');
  // The drill waits for this file once under way (harness/testing/hygiene/drill.spec.ts).
  const hold = join(tmp, 'looked');
  const tag = randomUUID();
  const { child, output, exited } = startNestedRun(CONFIG, {
    ...process.env,
    TMPDIR: tmp,
    HYGIENE_MODE: mode,
    HYGIENE_MARKER: marker,
    HYGIENE_OUT: join(tmp, 'out'),
    HYGIENE_TIMEOUT_MS: mode === 'timeout' ? '8000' : '60000',
    FLEETDRILL_HYGIENE_TAG: tag,
    FLEETDRILL_SEED: '7',
    ...(step && 'look' in step ? { HYGIENE_HOLD: hold } : {}),
    ...env,
  });
  if (step) {
    const deadline = Date.now() + 60_000;
    while (!existsSync(marker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(marker), `the drill never got under way:\n${output()}`).toBe(true);
    if ('look' in step) {
      try {
        await step.look(tmp);
      } finally {
        writeFileSync(hold, '');
      }
    } else {
      await new Promise((r) => setTimeout(r, 300));
      await step.before?.(tmp);
      process.kill(step.target === 'group' ? -(child.pid as number) : (child.pid as number), step.signal);
    }
  }
  const exitCode = await exited;
  const reported = existsSync(marker)
    ? (JSON.parse(readFileSync(marker, 'utf8')) as { ports: number[]; pid: number })
    : undefined;
  return { exitCode, output: output(), ports: reported?.ports ?? [], tag, tmp, workerPid: reported?.pid };
}
