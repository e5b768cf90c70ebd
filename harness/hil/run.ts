/**
 * One HIL measurement from start to verdict: pick the stage, start it with the model, benchmark
 * under the discipline, always stop it, and judge the result against the model's budget.
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { deriveSeed } from '../core/seed.ts';
import { REPO_ROOT } from '../core/paths.ts';
import type { HilBudgets } from '../core/hil-budget.ts';
import { budgetFor, evaluateBudget, type HilVerdict } from './budget.ts';
import { LocalStage } from './local-stage.ts';
import { SshStage, type SshStageOptions } from './ssh/index.ts';
import { HilError, type HilResult, type HilStage, type RunDiscipline } from './types.ts';

/** The reference perception model. */
export const DEFAULT_MODEL = resolve(REPO_ROOT, 'reference/models/perception-cnn.onnx');

/** Env var: the stage to measure on, `local` or `ssh://user@host[:port]`. */
export const HIL_TARGET_ENV = 'HIL_TARGET';
/** Env var: the private key for an SSH stage (default ~/.ssh/id_ed25519, then id_rsa). */
export const HIL_KEY_ENV = 'HIL_KEY';

/** What a HIL run needs. */
export interface HilRunOptions {
  /** `local` (default) or `ssh://user@host[:port]`. */
  stage?: string;
  /** Path of the ONNX model; default the reference perception model. */
  model?: string;
  discipline: RunDiscipline;
  budgets: HilBudgets;
  /** The run's seed: the local stage's input tensor is drawn from it. */
  seed?: number;
  /** The SSH stage's settings (key, trtexec path, precision, flags). */
  ssh?: SshStageOptions;
}

/** A HIL run's outcome. */
export interface HilRun {
  result: HilResult;
  verdict: HilVerdict;
}

/** The stage a target names. */
export function createStage(target: string, seed = 1, ssh: SshStageOptions = {}): HilStage {
  if (target === 'local') return new LocalStage({ inputSeed: deriveSeed(seed, 'hil-input') });
  if (target.startsWith('ssh://')) {
    const privateKey = ssh.privateKey ?? (process.env[HIL_KEY_ENV] || undefined);
    return new SshStage(target, { ...ssh, privateKey });
  }
  throw new HilError(`stage '${target}': must be 'local' or ssh://user@host[:port]`);
}

/** The model's name as budgets know it: its file name without `.onnx`. */
export function modelName(path: string): string {
  return basename(path).replace(/\.onnx$/i, '');
}

/** Measures the model on the stage and judges it; the stage is stopped whatever happens. */
export async function runHil(options: HilRunOptions): Promise<HilRun> {
  const target = options.stage ?? 'local';
  const model = resolve(options.model ?? DEFAULT_MODEL);
  if (!existsSync(model)) throw new HilError(`model ${model}: no such file`);
  // Before any work: a model without a budget cannot be judged, so say so at once.
  const budget = budgetFor(options.budgets, modelName(model), target);
  const stage = await createStage(target, options.seed, options.ssh).start(model);
  try {
    const result = await stage.benchmark(options.discipline);
    return { result, verdict: evaluateBudget(result, budget) };
  } finally {
    await stage.stop();
  }
}

/** The CLI's last line: the KPIs a CI gate reads. */
export function summaryLine(result: HilResult): Record<string, unknown> {
  const round = (value: number) => Number(value.toFixed(3));
  return {
    stage: result.stage,
    valid: result.valid,
    queries: result.queries,
    p50_ms: round(result.latencyMs.p50),
    p90_ms: round(result.latencyMs.p90),
    p99_ms: round(result.latencyMs.p99),
    throughput_qps: round(result.throughputQps),
  };
}
