import { redactSecrets } from '../../core/secrets.ts';
import type { RobotExit } from '../backend.ts';

/**
 * One service (a robot host, the fleet cloud, the fault layer) where it runs: a process on this
 * machine or a container. Both keep the service's console in one log file across restarts and
 * resolve a start with the service's ready line. For a robot host it is the robot's power supply:
 * a start is power-on, a kill is a power cut.
 */
export interface ServiceRuntime<Ready> {
  readonly running: boolean;
  /** Where it runs, for logs: `pid 4242`, `container 0123456789ab`. */
  readonly where: string;
  /** Starts it and resolves with its ready line; `banner` marks the boot in the console log. */
  start(banner?: string): Promise<Ready>;
  /** SIGKILL of everything it runs, no cleanup: a power cut or a crash. */
  kill(note?: string): Promise<void>;
  /** SIGTERM and time to finish, then SIGKILL for whatever is left. */
  shutdown(note?: string): Promise<void>;
  /** Stops every process of it where it stands (a hung computer); `thaw()` lets them go on. */
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  /** Frees what it holds once it is down for good (a container); idempotent. */
  remove(): Promise<void>;
  /** Called when it goes down without being asked to. */
  onUnexpectedExit(listener: (exit: RobotExit) => void): void;
  /** Writes a `--- <time> <what> ---` marker into the console log. */
  note(what: string): void;
  /** The last lines of the console log. */
  logTail(lines?: number): string[];
}

/** How a service boots, wherever it runs: its console log and what its ready line must say. */
export interface ServiceBoot<Ready> {
  /** File that collects the service's console output across restarts. */
  logPath: string;
  /**
   * The idle window of a start: it fails when the service shows no progress (console output, CPU
   * time) for this long. The total it may take grows from this with `fleetSize` and the machine's
   * load (harness/fleet/readiness.ts).
   */
  bootTimeoutMs: number;
  /** How many services boot together with this one (a fleet's robots); default 1. */
  fleetSize?: number;
  /** Checks the ready line (parsed JSON); throws to refuse it. */
  validateReady: (line: unknown) => Ready;
  /** Turns a reason ("exited during boot (exit code 2)") into the error a failed start throws. */
  startError: (message: string, logTail: string[]) => Error;
}

/**
 * `message` followed by the log tail under a heading, for start errors. The tail is redacted: a
 * service may print its keys or tokens, and the message ends up in the report.
 */
export function withLogTail(message: string, who: string, tail: readonly string[]): string {
  return tail.length
    ? `${message}\n--- last log lines of ${who} ---\n${redactSecrets(tail.join('\n'))}`
    : message;
}
