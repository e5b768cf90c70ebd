/**
 * The gate that judges a HIL result against its model's latency budget (core/hil-budget.ts): every limit becomes a check with its measured value, and an invalid run fails whatever it
 * measured, because a number taken against the discipline proves nothing.
 */
import { ConfigError } from '../core/errors.ts';
import type { HilBudget, HilBudgets, StageKind } from '../core/hil-budget.ts';
import type { DeviceSample, HilResult } from './types.ts';

/** The stage kind of a stage name: `ssh://...` is `ssh`, everything else `local`. */
export function stageKind(stage: string): StageKind {
  return stage.startsWith('ssh://') ? 'ssh' : 'local';
}

/** The budget of a model on a stage; throws naming the model and stage when there is none. */
export function budgetFor(budgets: HilBudgets, model: string, stage: string): HilBudget {
  const kind = stageKind(stage);
  const budget = budgets[model]?.[kind];
  if (!budget) {
    const known = Object.keys(budgets).join(', ') || 'none';
    throw new ConfigError(
      `hil.budgets.${model}.${kind}`,
      `is not set: no latency budget for model ${model} on a ${kind} stage (models with budgets: ${known})`,
    );
  }
  return budget;
}

/** One limit, judged. */
export interface BudgetCheck {
  name: string;
  /** The limit as written: `<= 25 ms`. */
  limit: string;
  /** What was measured, or undefined when the stage could not measure it. */
  measured: number | boolean | undefined;
  unit: string;
  passed: boolean;
  note?: string;
}

/** The gate's verdict on a HIL result. */
export interface HilVerdict {
  passed: boolean;
  stage: string;
  model: string;
  valid: boolean;
  checks: BudgetCheck[];
  /** Why it failed, one line each; empty when it passed. */
  failures: string[];
}

/** A sensor at or above this is taken as throttling when no throttle flag is available. */
const THROTTLE_TEMPERATURE_C = 95;
/** A GPU clock below this share of the run's highest, under load, is taken as throttling. */
const THROTTLE_CLOCK_RATIO = 0.9;

/** The hottest reading of any sensor across the samples, or undefined when there are none. */
export function hottest(samples: readonly DeviceSample[]): number | undefined {
  let max: number | undefined;
  for (const sample of samples) {
    for (const value of Object.values(sample.temperaturesC)) {
      if (value !== null && (max === undefined || value > max)) max = value;
    }
  }
  return max;
}

/**
 * Whether the device throttled: a sensor reached the throttle temperature, or the GPU clock fell
 * below 90 % of its highest during the run while the GPU was busy (the governor backing off).
 * Undefined when there are no samples to tell.
 */
export function throttled(samples: readonly DeviceSample[]): boolean | undefined {
  if (samples.length === 0) return undefined;
  const hot = hottest(samples);
  if (hot !== undefined && hot >= THROTTLE_TEMPERATURE_C) return true;
  const busy = samples.filter((sample) => sample.gpu && sample.gpu.loadPct >= 50 && sample.gpu.mhz);
  const top = Math.max(0, ...busy.map((sample) => sample.gpu!.mhz!));
  return busy.some((sample) => sample.gpu!.mhz! < THROTTLE_CLOCK_RATIO * top);
}

/** Judges a result against its budget. */
export function evaluateBudget(result: HilResult, budget: HilBudget): HilVerdict {
  const checks: BudgetCheck[] = [];
  const atMost = (name: string, limit: number | undefined, measured: number, unit: string) => {
    if (limit === undefined) return;
    checks.push({ name, limit: `<= ${limit} ${unit}`, measured, unit, passed: measured <= limit });
  };
  atMost('p99 latency', budget.p99Ms, result.latencyMs.p99, 'ms');
  atMost('p90 latency', budget.p90Ms, result.latencyMs.p90, 'ms');
  if (budget.minThroughputQps !== undefined) {
    checks.push({
      name: 'throughput',
      limit: `>= ${budget.minThroughputQps} qps`,
      measured: result.throughputQps,
      unit: 'qps',
      passed: result.throughputQps >= budget.minThroughputQps,
    });
  }
  if (budget.maxTemperatureC !== undefined) {
    const hot = hottest(result.device);
    checks.push({
      name: 'max temperature',
      limit: `<= ${budget.maxTemperatureC} °C`,
      measured: hot,
      unit: '°C',
      // A limit the stage cannot measure is not met by silence: it is reported, and fails.
      passed: hot !== undefined && hot <= budget.maxTemperatureC,
      note: hot === undefined ? 'no device temperatures from this stage' : undefined,
    });
  }
  if (budget.noThrottling) {
    const didThrottle = throttled(result.device);
    checks.push({
      name: 'no thermal throttling',
      limit: 'none',
      measured: didThrottle,
      unit: '',
      passed: didThrottle === false,
      note: didThrottle === undefined ? 'no device telemetry from this stage' : undefined,
    });
  }
  const failures = [
    ...(result.valid ? [] : [`the run is invalid: ${result.invalidReasons.join('; ')}`]),
    ...checks
      .filter((check) => !check.passed)
      .map(
        (check) =>
          `${check.name}: ${check.measured === undefined ? 'not measured' : formatMeasured(check)}, limit ${check.limit}${check.note ? ` (${check.note})` : ''}`,
      ),
  ];
  return {
    passed: failures.length === 0,
    stage: result.stage,
    model: result.model.name,
    valid: result.valid,
    checks,
    failures,
  };
}

function formatMeasured(check: BudgetCheck): string {
  if (typeof check.measured === 'number') {
    return `${Number(check.measured.toFixed(3))} ${check.unit}`.trim();
  }
  return String(check.measured);
}
