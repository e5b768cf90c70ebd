import fc from 'fast-check';
import { deriveSeed } from '../core/index.ts';
import type { FuzzReport } from './report.ts';
import { OracleViolation } from './violation.ts';

/**
 * Something to fuzz: a server or a loader. `start()` brings it up with known-good data stored;
 * the started target makes the inputs (from what it holds) and judges each by its oracles.
 */
export interface FuzzTarget<Input> {
  /** Names the target in reports and derives its seed: `cloud-telemetry`. */
  readonly name: string;
  start(): Promise<StartedFuzzTarget<Input>>;
}

/** A target up and holding its known-good data. */
export interface StartedFuzzTarget<Input> {
  /** Hostile inputs, with valid ones mixed in so the fuzz reaches past the first check. */
  readonly inputs: fc.Arbitrary<Input>;
  /**
   * Feeds one input and judges the answer: resolves with the outcome to count it under (`400`,
   * `refused (WorldError)`, `accepted`), throws OracleViolation when an oracle fails.
   */
  send(input: Input): Promise<string>;
  /** After the inputs: still alive, and the known-good data reads back unchanged. */
  check(): Promise<void>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Most characters of a breaking input a report quotes. */
const INPUT_QUOTE_CHARS = 2_000;

/**
 * Feeds `runs` inputs to a target, seeded from the run's seed, counting outcomes, then checks
 * it is alive and its stored data intact. Stops at the first violation without shrinking: the
 * servers hold state, so a shrunk input would not replay what broke them; the seed does.
 */
export async function runFuzz<Input>(
  target: FuzzTarget<Input>,
  options: { runSeed: number; runs: number },
): Promise<FuzzReport> {
  const seed = deriveSeed(options.runSeed, 'fuzz', target.name);
  const report: FuzzReport = {
    target: target.name,
    runSeed: options.runSeed,
    seed,
    runs: options.runs,
    sent: 0,
    outcomes: {},
    serverErrors: 0,
  };
  await using started = await target.start();
  const property = fc.asyncProperty(started.inputs, async (input) => {
    report.sent++;
    const outcome = await started.send(input);
    report.outcomes[outcome] = (report.outcomes[outcome] ?? 0) + 1;
  });
  const details = await fc.check(property, { seed, numRuns: options.runs, endOnFailure: true });
  if (details.failed) {
    const error = details.errorInstance;
    if (error instanceof OracleViolation && /answered 5\d\d/.test(error.message)) report.serverErrors++;
    report.violation = {
      message: error instanceof Error ? error.message : String(error),
      input: fc.stringify(details.counterexample?.[0]).slice(0, INPUT_QUOTE_CHARS),
      ...(details.counterexamplePath ? { path: details.counterexamplePath } : {}),
    };
    if (!(error instanceof OracleViolation))
      report.violation.message = `the fuzzer itself failed: ${report.violation.message}`;
  }
  try {
    await started.check();
  } catch (error) {
    if (!(error instanceof OracleViolation)) throw error;
    report.violation ??= { message: error.message };
  }
  return report;
}
