import { loadConfig, parseCount } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { HIL_TARGET_ENV, runHil, summaryLine } from '../hil/run.ts';
import type { Precision } from '../hil/ssh/index.ts';

/** `fleetdrill hil` options as commander hands them over. */
export interface HilFlags {
  stage?: string;
  model?: string;
  minQueries?: string;
  minDurationMs?: string;
  key?: string;
  precision?: string;
  json?: boolean;
}

function parsePrecision(value: string): Precision {
  if (value !== 'fp16' && value !== 'fp32' && value !== 'int8') {
    throw new ConfigError('--precision', `must be one of fp16, fp32, int8, got '${value}'`);
  }
  return value;
}

/**
 * Measures a model on a HIL stage and judges it against its budget. The last line on stdout is
 * the KPIs as JSON with --json (what a CI gate reads). Exit code 0 when the budget is met, 1
 * when it is not or the run is invalid.
 */
export async function hil(flags: HilFlags): Promise<number> {
  const config = loadConfig().hil;
  const discipline = {
    ...config.discipline,
    ...(flags.minQueries !== undefined && {
      minQueries: parseCount(flags.minQueries, '--min-queries', 1, 10_000_000),
    }),
    ...(flags.minDurationMs !== undefined && {
      minDurationMs: parseCount(flags.minDurationMs, '--min-duration-ms', 0, 86_400_000),
    }),
  };
  const stage = flags.stage ?? (process.env[HIL_TARGET_ENV] || 'local');
  if (!flags.json) {
    console.error(
      `fleetdrill hil: ${stage}, at least ${discipline.minQueries} queries and ${discipline.minDurationMs} ms after ${discipline.warmupQueries} warm-up queries`,
    );
  }
  const { result, verdict } = await runHil({
    stage,
    model: flags.model,
    discipline,
    budgets: config.budgets,
    ssh: {
      ...(flags.key !== undefined && { privateKey: flags.key }),
      ...(flags.precision !== undefined && { precision: parsePrecision(flags.precision) }),
    },
  });
  if (flags.json) {
    console.log(JSON.stringify({ event: 'verdict', ...verdict }));
  } else {
    const l = result.latencyMs;
    console.log(
      `${result.model.name} on ${result.stage}: ${result.queries} queries in ${(result.durationMs / 1000).toFixed(1)} s, ` +
        `p50 ${l.p50.toFixed(3)} ms, p90 ${l.p90.toFixed(3)} ms, p99 ${l.p99.toFixed(3)} ms, max ${l.max.toFixed(3)} ms, ` +
        `${result.throughputQps.toFixed(1)} qps${result.valid ? '' : ` — INVALID: ${result.invalidReasons.join('; ')}`}`,
    );
    for (const check of verdict.checks) {
      console.log(
        `  ${check.passed ? 'ok  ' : 'FAIL'} ${check.name}: ${String(check.measured)} (limit ${check.limit})`,
      );
    }
    console.log(verdict.passed ? 'budget met' : `budget NOT met: ${verdict.failures.join('; ')}`);
  }
  // The summary goes last, so a gate can read the final line.
  if (flags.json) console.log(JSON.stringify(summaryLine(result)));
  return verdict.passed ? 0 : 1;
}
