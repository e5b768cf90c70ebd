/**
 * The bench's loop: each figure measured several times, its median judged against its target.
 * A figure that throws is recorded as an error with its reason and the loop goes on to the next
 * one; the measurers own their teardown (try/finally), so a failed figure leaves nothing behind.
 */
import { median } from './stats.ts';
import { makeTarget, meets, type Target, type TargetSpec } from './target.ts';

/** A run's value, with an optional line for the report's `notes` when one number does not say it all. */
export type Measured = number | { value: number; note: string };

/** One benchmark figure as defined in bench/figures.ts. */
export interface Figure {
  /** snake_case with its unit last, e.g. `fleet_up_ms_50`: the key in reports and the README. */
  name: string;
  unit: string;
  /** Absent for figures that are tracked, not judged. */
  target?: TargetSpec;
  /** Untimed work the runs need (building images); runs once, before the first run. */
  prepare?: () => void | Promise<void>;
  /**
   * At most this many runs, whatever BENCH_RUNS says: a figure whose one run takes ten minutes
   * (a whole qualification) is measured once, and its note says so.
   */
  maxRuns?: number;
  /** One run; `run` counts from 0 and feeds the run's seed. */
  measure: (run: number) => Measured | Promise<Measured>;
}

/** What became of one figure. */
export interface FigureResult {
  name: string;
  /** `ok`: every run measured; `error`: it could not be measured (see `reason`). */
  status: 'ok' | 'error';
  unit: string;
  /** The median of `runs`; only when `status` is `ok`. */
  value?: number;
  /** Every run that measured, in order (an error keeps the runs before it). */
  runs: number[];
  target?: Target;
  /** The median against the target; only when measured and the figure has a target. */
  pass?: boolean;
  notes?: string;
  /** Why the figure could not be measured: which run, and the error's message. */
  reason?: string;
  /** Wall time of the figure, prepare and every run. */
  durationMs: number;
}

export interface RunOptions {
  /** Runs per figure (>= 1). */
  runs: number;
  log?: (line: string) => void;
  /**
   * Records an unhandled rejection or uncaught exception against the figure running at the
   * time, instead of letting it end the process. For the bench's own process only: it installs
   * process-wide listeners for the duration of the loop.
   */
  catchStrayErrors?: boolean;
  /**
   * What a figure left running (processes, ports, temp dirs), checked after each figure; anything
   * listed turns the figure into an error, since its teardown failed.
   */
  leftovers?: () => Promise<string[]>;
}

/** Checks the definitions up front (unique names, well-formed targets), naming the figure at fault. */
export function validateFigures(figures: readonly Figure[]): void {
  const seen = new Set<string>();
  for (const figure of figures) {
    if (!/^[a-z][a-z0-9_]*$/.test(figure.name))
      throw new TypeError(`bench figure '${figure.name}': name must be snake_case`);
    if (seen.has(figure.name)) throw new TypeError(`bench figure ${figure.name}: defined twice`);
    seen.add(figure.name);
    if (figure.target) makeTarget(figure.name, figure.target, figure.unit);
  }
}

/** The figures named in `only` (all when absent), in definition order; unknown names throw. */
export function selectFigures(figures: readonly Figure[], only?: readonly string[]): Figure[] {
  if (!only) return [...figures];
  const known = new Set(figures.map((figure) => figure.name));
  const unknown = only.filter((name) => !known.has(name));
  if (unknown.length) {
    throw new TypeError(
      `BENCH_ONLY: no figure named ${unknown.join(', ')}; the figures are ${[...known].join(', ')}`,
    );
  }
  return figures.filter((figure) => only.includes(figure.name));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Measures each figure in turn; never throws for a figure's failure. */
export async function runFigures(figures: readonly Figure[], options: RunOptions): Promise<FigureResult[]> {
  if (!Number.isInteger(options.runs) || options.runs < 1) {
    throw new RangeError(`runs must be a whole number >= 1, got ${options.runs}`);
  }
  validateFigures(figures);
  const log = options.log ?? ((line: string) => console.log(line));
  let stray: unknown[] = [];
  const onStray = (error: unknown): void => {
    log(`  stray error: ${messageOf(error)}`);
    stray.push(error);
  };
  if (options.catchStrayErrors) {
    process.on('unhandledRejection', onStray);
    process.on('uncaughtException', onStray);
  }
  try {
    const results: FigureResult[] = [];
    for (const figure of figures) {
      stray = [];
      let result = await runFigure(
        figure,
        Math.min(options.runs, figure.maxRuns ?? options.runs),
        log,
        () => stray,
      );
      const left = options.leftovers ? await options.leftovers() : [];
      if (left.length) {
        const what = `left behind after the figure: ${left.join(', ')}`;
        log(`${figure.name} FAILED ${what}`);
        result = {
          ...result,
          status: 'error',
          value: undefined,
          pass: undefined,
          reason: result.reason ? `${result.reason}; ${what}` : what,
        };
        result = ordered(result);
      }
      results.push(result);
    }
    return results;
  } finally {
    if (options.catchStrayErrors) {
      process.off('unhandledRejection', onStray);
      process.off('uncaughtException', onStray);
    }
  }
}

/** The same result with its keys in reading order and no undefined fields (for the JSON files). */
function ordered(result: FigureResult): FigureResult {
  const { name, status, value, unit, runs, target, pass, notes, reason, durationMs } = result;
  return {
    name,
    status,
    ...(value === undefined ? {} : { value }),
    unit,
    runs,
    ...(target ? { target } : {}),
    ...(pass === undefined ? {} : { pass }),
    ...(notes ? { notes } : {}),
    ...(reason ? { reason } : {}),
    durationMs,
  };
}

async function runFigure(
  figure: Figure,
  runs: number,
  log: (line: string) => void,
  strayErrors: () => unknown[],
): Promise<FigureResult> {
  const startedAt = performance.now();
  const target = figure.target && makeTarget(figure.name, figure.target, figure.unit);
  const values: number[] = [];
  const notes: string[] = [];
  const done = (status: 'ok' | 'error', extra: { value?: number; pass?: boolean; reason?: string }) =>
    ordered({
      name: figure.name,
      status,
      unit: figure.unit,
      runs: values,
      target,
      notes: notes.join('; '),
      ...extra,
      durationMs: Math.round(performance.now() - startedAt),
    });
  const failed = (stage: string, error: unknown): FigureResult => {
    const reason = `${stage}: ${messageOf(error)}`;
    log(`${figure.name} FAILED ${reason}`);
    if (error instanceof Error && error.stack) log(error.stack);
    return done('error', { reason });
  };

  try {
    await figure.prepare?.();
  } catch (error) {
    return failed('prepare', error);
  }
  for (let run = 0; run < runs; run++) {
    const stage = `run ${run + 1}/${runs}`;
    let measured: Measured;
    try {
      measured = await figure.measure(run);
    } catch (error) {
      return failed(stage, error);
    }
    const { value, note } = typeof measured === 'number' ? { value: measured, note: '' } : measured;
    // NaN or Infinity is a measurer's bug or a broken input, not a figure to judge.
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return failed(stage, new RangeError(`measured ${String(value)} ${figure.unit}, not a finite number`));
    }
    const stray = strayErrors();
    if (stray.length) return failed(stage, new Error(`stray error while measuring: ${messageOf(stray[0])}`));
    values.push(value);
    if (note) notes.push(`run ${run + 1}: ${note}`);
    log(`${figure.name} ${stage}: ${value} ${figure.unit}${note ? ` (${note})` : ''}`);
  }
  const value = median(values);
  const pass = target ? meets(target, value) : undefined;
  log(
    `${figure.name}: ${value} ${figure.unit}${target ? ` (target ${target.text}: ${pass ? 'pass' : 'MISSED'})` : ''}`,
  );
  return done('ok', { value, pass });
}

/** Counts for the summary line and the report. */
export interface BenchSummary {
  figures: number;
  /** Measured and within target. */
  passed: number;
  /** Measured and outside target. */
  missed: number;
  /** Measured, no target to judge. */
  untargeted: number;
  /** Could not be measured. */
  errors: number;
}

export function summarize(results: readonly FigureResult[]): BenchSummary {
  const ok = results.filter((result) => result.status === 'ok');
  return {
    figures: results.length,
    passed: ok.filter((result) => result.pass === true).length,
    missed: ok.filter((result) => result.pass === false).length,
    untargeted: ok.filter((result) => result.pass === undefined).length,
    errors: results.length - ok.length,
  };
}

/**
 * The bench's exit code. 1 when any figure could not be measured: the bench's output is then
 * incomplete, which CI must see. A missed target is a finding about the machine and the code,
 * recorded in the report (`pass: false`); it makes the exit code 1 only with `strict`
 * (`npm run bench -- --strict`), for a gate that holds a known machine to the targets.
 */
export function exitCode(results: readonly FigureResult[], options: { strict?: boolean } = {}): 0 | 1 {
  const summary = summarize(results);
  if (summary.errors > 0) return 1;
  if (options.strict && summary.missed > 0) return 1;
  return 0;
}
