export {
  HilError,
  type ClockState,
  type DeviceSample,
  type HilResult,
  type HilStage,
  type LatencyStats,
  type RunDiscipline,
  type StartedHilStage,
} from './types.ts';
export { percentile, latencyStats } from './stats.ts';
export {
  budgetFor,
  evaluateBudget,
  hottest,
  stageKind,
  throttled,
  type BudgetCheck,
  type HilVerdict,
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
export {
  hilOverheadPct,
  LocalStage,
  type LocalHilResult,
  type LocalStageOptions,
  type StartedLocalStage,
} from './local-stage.ts';
export {
  parseSshTarget,
  SshStage,
  type Precision,
  type SshStageOptions,
  type SshTarget,
  type StartedSshStage,
} from './ssh/index.ts';
export {
  EXPORT_TIME_FIELDS,
  parseExportTimes,
  parseTegrastats,
  parseTegrastatsLine,
  parseTrtexecLog,
  requireValidTrtexec,
  type ExportTimes,
  type ExportTimesOptions,
  type TrtexecReport,
  type TrtexecSummary,
} from './parsers/index.ts';
