export * from './types.ts';
export { percentile, latencyStats } from './stats.ts';
export {
  budgetFor,
  evaluateBudget,
  hottest,
  stageKind,
  throttled,
  type BudgetCheck,
  type HilBudget,
  type HilBudgets,
  type HilVerdict,
  type StageKind,
} from './budget.ts';
export { latencyHistogramSvg } from './histogram.ts';
export {
  createStage,
  DEFAULT_MODEL,
  HIL_KEY_ENV,
  HIL_TARGET_ENV,
  modelName,
  runHil,
  summaryLine,
  type HilRun,
  type HilRunOptions,
} from './run.ts';
export { hilOverheadPct, LocalStage, type LocalHilResult, type LocalStageOptions } from './local-stage.ts';
export {
  parseSshTarget,
  SshStage,
  type Precision,
  type SshStageOptions,
  type SshTarget,
} from './ssh-stage.ts';
export * from './parsers/index.ts';
