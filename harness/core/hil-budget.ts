/**
 * The shape of a HIL latency budget as the config holds it. It lives in core because the config
 * is validated once up front, below the layers; judging a result against it is hil/budget.ts's job.
 */
import { z } from 'zod';

/** The limits one model must meet on one kind of stage. Every field is optional. */
export interface HilBudget {
  /** p99 latency, ms, at most. */
  p99Ms?: number;
  /** p90 latency (MLPerf SingleStream's metric), ms, at most. */
  p90Ms?: number;
  /** Throughput, queries per second, at least. */
  minThroughputQps?: number;
  /** The hottest sensor during the run, °C, at most (needs device telemetry). */
  maxTemperatureC?: number;
  /** No thermal throttling during the run (needs device telemetry). */
  noThrottling?: boolean;
}

/** `local` (ONNX Runtime on this machine) or `ssh` (a Jetson over SSH). */
export type StageKind = 'local' | 'ssh';

/** Budgets by model name (the file name without `.onnx`), then by stage kind. */
export type HilBudgets = Record<string, Partial<Record<StageKind, HilBudget>>>;

export const budgetSchema = z
  .object({
    p99Ms: z.number().positive().optional(),
    p90Ms: z.number().positive().optional(),
    minThroughputQps: z.number().positive().optional(),
    maxTemperatureC: z.number().optional(),
    noThrottling: z.boolean().optional(),
  })
  .strict();
