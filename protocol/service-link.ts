/**
 * How a robot host, edge agent or fleet cloud talks to whoever started it, in lines and
 * environment variables: the ready line, the lifeline switch, and one marked line per Node process
 * warning. The services write them (reference/service/); the harness's backends read them, the
 * embedded one from fd 3 and stderr, the docker one from the container's console.
 */

/** Env var: `stdout` sends the ready line to stdout instead of fd 3. */
export const READY_TO_ENV = 'FLEETDRILL_READY_TO';
/** Env var: `none` turns the stdin lifeline off. */
export const LIFELINE_ENV = 'FLEETDRILL_LIFELINE';
/** Prefix of a ready line on stdout, so a console reader can tell it from log lines. */
export const READY_PREFIX = 'FLEETDRILL_READY ';

/** Prefix of a warning line; the rest of the line is a {@link ProcessWarningLine} as JSON. */
export const WARNING_PREFIX = 'FLEETDRILL_WARNING ';

/** What a warning line carries. */
export interface ProcessWarningLine {
  /** Which process warned: `robot-host`, `edge-agent`, `fleet-cloud`. */
  role: string;
  pid: number;
  /** The warning's name, e.g. `MaxListenersExceededWarning`. */
  name: string;
  message: string;
}

/** The marked line for a warning, newline included. */
export function warningLine(role: string, warning: Error): string {
  const line: ProcessWarningLine = { role, pid: process.pid, name: warning.name, message: warning.message };
  return `${WARNING_PREFIX}${JSON.stringify(line)}\n`;
}
