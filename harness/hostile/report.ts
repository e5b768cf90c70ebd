import { FUZZ_RUNS_ENV } from './runs.ts';

/** What fuzzing one target found: the counts go to the report, a violation fails the drill. */
export interface FuzzReport {
  target: string;
  /** The run's seed: FLEETDRILL_SEED=<runSeed> replays this report. */
  runSeed: number;
  /** The target's own seed, derived from the run's seed and the target's name. */
  seed: number;
  /** Inputs asked for. */
  runs: number;
  /** Inputs fed, including the one that broke an oracle. */
  sent: number;
  /** Inputs per outcome (`200`, `400`, `refused (ConfigError)`, ...). */
  outcomes: Record<string, number>;
  /** 5xx answers seen: 0, or the run failed. */
  serverErrors: number;
  /** The first oracle broken, with the input that broke it; absent when every oracle held. */
  violation?: { message: string; input?: string; path?: string };
}

/** The report as one `kpi` annotation: `fuzz_cloud-telemetry inputs=500 200=120 400=380 5xx=0 violations=0`. */
export function fuzzKpi(report: FuzzReport): string {
  const outcomes = Object.entries(report.outcomes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([outcome, count]) => `${outcome.replace(/\s+/g, '_')}=${count}`);
  return [
    `fuzz_${report.target}`,
    `inputs=${report.sent}`,
    ...outcomes,
    `5xx=${report.serverErrors}`,
    `violations=${report.violation ? 1 : 0}`,
  ].join(' ');
}

/** How to replay a report's run: the command a failure message ends with. */
export function replayHint(report: FuzzReport, spec = 'scenarios/hostile-inputs.spec.ts'): string {
  return `FLEETDRILL_SEED=${report.runSeed} ${FUZZ_RUNS_ENV}=${report.runs} npx playwright test ${spec} --project=security -g '${report.target}'`;
}
