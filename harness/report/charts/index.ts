export { trendChart, type TrendSeries } from './trend.ts';
export { bootTimesChart, type RobotBoot } from './boot-times.ts';
export { latencyHistogram, type LatencyHistogramInput } from '../../hil/histogram.ts';
export { qosMatrixChart } from './qos-matrix.ts';
export { fuzzOutcomesChart, FUZZ_CUT_OUTCOMES, type FuzzCut, type FuzzCutOutcome } from './fuzz-outcomes.ts';
export { trajectoryChart, type DeadZone, type TrajectoryInput } from './trajectory.ts';
export { ChartDataError } from '../../core/vega.ts';
