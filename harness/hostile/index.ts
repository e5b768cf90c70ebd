/**
 * Hostile inputs at volume: seeded property-based fuzzing of the servers and loaders a fleet
 * exposes, each input judged by oracles (no crash, no 5xx, only documented statuses, clear
 * errors naming the file and field, stored data intact). docs/security.md, "Hostile inputs".
 */
export { fuzzRuns, FUZZ_RUNS_ENV, DEFAULT_FUZZ_RUNS, NIGHTLY_FUZZ_RUNS } from './runs.ts';
export { runFuzz, type FuzzTarget, type StartedFuzzTarget } from './runner.ts';
export { fuzzKpi, replayHint, type FuzzReport } from './report.ts';
export { FUZZ_TARGETS, type RunnableFuzzTarget } from './registry.ts';
export { OracleViolation } from './violation.ts';
