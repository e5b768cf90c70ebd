import { redactSecrets } from './secrets.ts';

/**
 * The error hierarchy callers branch on. Messages always name the robot, topic, field or limit
 * involved and the value that was measured, so a failed nightly reads without a debugger.
 */
export class FleetdrillError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Something did not happen within its deadline. */
export class TimeoutError extends FleetdrillError {}

/** Bad configuration or command-line input; `path` names the offending field. */
export class ConfigError extends FleetdrillError {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(path ? `${path} ${message}` : message);
  }
}

/** A robot could not be reached over one of its real interfaces. */
export class RobotUnreachableError extends FleetdrillError {
  constructor(
    readonly robotId: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`robot ${robotId}: ${message}`, options);
  }
}

/** A robot process exited when nobody asked it to. */
export class RobotDiedError extends FleetdrillError {
  constructor(
    readonly robotId: string,
    readonly exit: string,
    readonly lastLogLines: readonly string[],
  ) {
    // Redacted: a robot may print its keys or tokens, and the message ends up in the report.
    const tail = lastLogLines.length
      ? `\n--- last log lines of ${robotId} ---\n${redactSecrets(lastLogLines.join('\n'))}`
      : '';
    super(`robot ${robotId} died unexpectedly (${exit})${tail}`);
  }
}

/** A qualification gate was missed. */
export class GateFailedError extends FleetdrillError {}

/**
 * Runs every teardown step even when earlier ones fail, then rethrows the first failure.
 * Teardown that stops at the first error is how processes leak.
 */
export async function runAll(steps: ReadonlyArray<() => unknown>): Promise<void> {
  let first: unknown;
  let failed = false;
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      if (!failed) {
        first = error;
        failed = true;
      }
    }
  }
  if (failed) throw first;
}

/** Waits for every promise, then rethrows the first rejection, if any. */
export async function settleAll(promises: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
}
