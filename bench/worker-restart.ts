/**
 * `worker_restart_ms`: what a drill waits after a failed test makes Playwright replace its worker.
 *
 * A nested Playwright run (bench/worker-restart/) of two drills on one worker with the drill
 * fixtures: the first claims a robot and fails, so Playwright stops that worker and starts a fresh
 * one for the second, which claims a robot of the fresh worker's fleet. Each drill writes marks
 * (wall-clock ms and its worker's pid) to a file this module reads back.
 *
 * The figure runs from the fresh worker's process start (Node's time origin) to its drill holding a
 * settled robot: Node and Playwright's worker starting, the config, the spec and the harness
 * modules loading (from Playwright's transform cache, warm as in a real run), the worker-scoped
 * fleet starting, and the first claim settling. Not in it, and in the note instead: the failed
 * drill's own teardown, its worker's fleet stopping and the spawn of the new process, which the
 * runner awaits before it starts the new worker. The nested config is smaller than the project's
 * (no reporters to set up in the worker, no config file to read), by a few ms of loading.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../harness/core/paths.ts';
import { processesWithEnv, settle } from '../harness/testing/leftovers.ts';
import { startNestedRun } from '../harness/testing/nested-run.ts';

/** The moments the nested drills record, in the order they happen: the failure, then the fresh worker's. */
export const RESTART_MARKS = ['failed', 'worker-start', 'loaded', 'fleet-up', 'settled'] as const;
export type RestartMark = (typeof RESTART_MARKS)[number];

/** One line of the marks file. */
interface MarkRecord {
  mark: RestartMark;
  /** Wall-clock ms since the epoch. */
  at: number;
  pid: number;
}

/** Where the wait after a failed drill goes (ms). */
export interface RestartPhases {
  /** Fresh worker's process start to its drill holding a settled robot: the figure. */
  restartMs: number;
  /** The failed drill's throw to the fresh process starting: its teardown, its fleet's stop, the spawn. */
  teardownMs: number;
  /** Process start to the drill fixtures loaded. */
  loadMs: number;
  /** Fixtures loaded to the fleet up (the drill's body starting). */
  fleetUpMs: number;
  /** The fleet up to the first claim settled. */
  claimMs: number;
}

const CONFIG = join(REPO_ROOT, 'bench/worker-restart/playwright.config.ts');
/** Two 10-robot bring-ups and teardowns: a run that has not ended by then is stuck. */
const RUN_TIMEOUT_MS = 300_000;

function parseMarks(text: string, file: string): MarkRecord[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      const where = `${file} line ${index + 1}`;
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        throw new Error(`${where}: not JSON: ${line}`);
      }
      const { mark, at, pid } = (record ?? {}) as Partial<MarkRecord>;
      if (!RESTART_MARKS.includes(mark as RestartMark)) {
        throw new Error(
          `${where}: mark must be one of ${RESTART_MARKS.join(', ')}, got ${JSON.stringify(mark)}`,
        );
      }
      if (typeof at !== 'number' || !Number.isFinite(at))
        throw new Error(`${where}: at must be a number of ms`);
      if (!Number.isInteger(pid)) throw new Error(`${where}: pid must be a whole number`);
      return { mark, at, pid } as MarkRecord;
    });
}

/**
 * The phases of the wait, from the marks file's text. The fresh worker is the one that settled a
 * claim; it must not be the worker whose drill failed (then Playwright did not replace it, and
 * the figure would time a fleet already up), and its marks must come in order after the failure.
 */
export function restartPhases(text: string, file: string): RestartPhases {
  const records = parseMarks(text, file);
  const failed = records.find((record) => record.mark === 'failed');
  if (!failed) throw new Error(`${file}: no 'failed' mark: the first drill did not get to fail`);
  const settled = records.find((record) => record.mark === 'settled');
  if (!settled) throw new Error(`${file}: no 'settled' mark: the drill after the failure never held a robot`);
  if (settled.pid === failed.pid) {
    throw new Error(
      `${file}: the drill after the failure ran in the failed drill's worker (pid ${failed.pid}): Playwright did not replace it`,
    );
  }
  const at = (mark: RestartMark): number => {
    const pid = mark === 'failed' ? failed.pid : settled.pid;
    const record = records.find((candidate) => candidate.mark === mark && candidate.pid === pid);
    if (!record) throw new Error(`${file}: no '${mark}' mark from worker pid ${pid}`);
    return record.at;
  };
  const times = RESTART_MARKS.map(at);
  RESTART_MARKS.forEach((mark, index) => {
    const previous = RESTART_MARKS[index - 1];
    if (previous !== undefined && times[index]! < times[index - 1]!) {
      throw new Error(
        `${file}: '${mark}' at ${times[index]} comes before '${previous}' at ${times[index - 1]}`,
      );
    }
  });
  const [failedAt, startAt, loadedAt, fleetUpAt, settledAt] = times as [
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = (value: number): number => Math.round(value);
  return {
    restartMs: ms(settledAt - startAt),
    teardownMs: ms(startAt - failedAt),
    loadMs: ms(loadedAt - startAt),
    fleetUpMs: ms(fleetUpAt - loadedAt),
    claimMs: ms(settledAt - fleetUpAt),
  };
}

function tail(output: string): string {
  return output.length > 3_000 ? `…${output.slice(-3_000)}` : output;
}

/**
 * Robot processes either nested worker started (they carry its pid) that are still running, killed.
 * The pids come from the marks file's text, read leniently: a malformed file still names them.
 */
async function killLeftRobots(marksText: string): Promise<number[]> {
  const workers = [...new Set([...marksText.matchAll(/"pid":(\d+)/g)].map((match) => match[1] as string))];
  const left = await settle(() => workers.flatMap((pid) => processesWithEnv('FLEETDRILL_HARNESS_PID', pid)));
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* it ended on its own meanwhile */
    }
  }
  return left;
}

/**
 * Runs the two nested drills with a fleet of `robots` and returns where the wait went. Nothing of
 * the nested run is left behind: its marks and results go, and a robot process of either worker
 * still running after it is killed and named in the error.
 */
export async function measureWorkerRestart(robots: number, seed: number): Promise<RestartPhases> {
  const tmp = await mkdtemp(join(tmpdir(), 'bench-worker-restart-'));
  const marks = join(tmp, 'marks.jsonl');
  try {
    const { child, output, exited } = startNestedRun(CONFIG, {
      // TMPDIR stays: Playwright keeps its transform cache there, warm from earlier runs as on a
      // developer's machine, and the fleets remove their run dirs in it when they stop.
      ...process.env,
      FLEETDRILL_SEED: String(seed),
      RESTART_ROBOTS: String(robots),
      RESTART_MARKS: marks,
      RESTART_OUT: join(tmp, 'test-results'),
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), RUN_TIMEOUT_MS);
    });
    const ended = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (ended === 'timeout') {
      // Ctrl-C lets the fixtures tear the fleets down; a run that ignores it is killed.
      process.kill(-(child.pid as number), 'SIGINT');
      const stopped = await Promise.race([
        exited,
        new Promise((resolve) => setTimeout(resolve, 30_000, 'stuck')),
      ]);
      if (stopped === 'stuck') process.kill(-(child.pid as number), 'SIGKILL');
    }
    const text = await readFile(marks, 'utf8').catch(() => '');
    // Checked whatever the run's outcome: a failed or stuck run is the likeliest to leave robots.
    const left = await killLeftRobots(text);
    const leftover = left.length ? `left robot processes running (killed): ${left.join(', ')}` : '';
    const run = ended === 'timeout' ? `did not end within ${RUN_TIMEOUT_MS / 1000} s` : `exit ${ended}`;
    if (ended === 'timeout' || !text) {
      const what = [run, text ? '' : 'wrote no marks', leftover].filter(Boolean).join(', ');
      throw new Error(`the nested run ${what}:\n${tail(output())}`);
    }
    let phases: RestartPhases;
    try {
      phases = restartPhases(text, marks);
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\nnested run (${[run, leftover].filter(Boolean).join(', ')}):\n${tail(output())}`,
        {
          cause: error,
        },
      );
    }
    if (left.length) throw new Error(`the nested run ${leftover}`);
    return phases;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
