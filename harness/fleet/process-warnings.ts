import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { WARNING_PREFIX, type ProcessWarningLine } from '../../protocol/service-link.ts';
import { FleetdrillError } from '../core/errors.ts';

/**
 * A robot's or the cloud's processes emitted a Node warning during a drill. A warning such as
 * MaxListenersExceededWarning is a leak that passes today and takes a robot down in a long run.
 */
export class ProcessWarningError extends FleetdrillError {}

/** One console log to look through, from where it stood when the drill began. */
export interface WarningSource {
  /** Who writes this log: a robot id, or `cloud`. */
  who: string;
  path: string;
  /** Byte offset the drill's part of the log starts at. */
  fromOffset: number;
}

/** A warning found in a log, with who it came from. */
export type FoundWarning = ProcessWarningLine & { who: string };

/** Warning lines in a log's text; other lines, and marked lines that do not parse, are skipped. */
export function parseWarningLines(text: string): ProcessWarningLine[] {
  const found: ProcessWarningLine[] = [];
  for (const line of text.split('\n')) {
    // Anywhere in the line: the docker backend's console may prefix a stream tag or a time.
    const at = line.indexOf(WARNING_PREFIX);
    if (at < 0) continue;
    try {
      const parsed = JSON.parse(line.slice(at + WARNING_PREFIX.length)) as Partial<ProcessWarningLine>;
      if (typeof parsed.name === 'string' && typeof parsed.message === 'string') {
        found.push({
          role: String(parsed.role ?? 'unknown'),
          pid: Number(parsed.pid ?? 0),
          name: parsed.name,
          message: parsed.message,
        });
      }
    } catch {
      /* a torn line (power cut mid-write): not a warning we can name */
    }
  }
  return found;
}

/** Every warning written to the given logs since their offsets. */
export function findProcessWarnings(sources: readonly WarningSource[]): FoundWarning[] {
  return sources.flatMap((source) =>
    parseWarningLines(readSince(source.path, source.fromOffset)).map((warning) => ({
      who: source.who,
      ...warning,
    })),
  );
}

/** Throws a ProcessWarningError naming each process that warned, and what it said. */
export function assertNoProcessWarnings(sources: readonly WarningSource[]): void {
  const warnings = findProcessWarnings(sources);
  if (!warnings.length) return;
  const lines = warnings.map(
    (warning) =>
      `${warning.who === 'cloud' ? 'fleet cloud' : `robot ${warning.who}`}: ${warning.role} (pid ${warning.pid}) warned ${warning.name}: ${warning.message}`,
  );
  throw new ProcessWarningError(
    `${warnings.length} Node process warning${warnings.length === 1 ? '' : 's'} during the drill:\n  ${lines.join('\n  ')}`,
  );
}

/** The size of a log now, 0 when it does not exist yet. */
export function logSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function readSince(path: string, offset: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = statSync(path).size;
    // A log that shrank was replaced (a new run dir): read all of it.
    const start = offset <= size ? offset : 0;
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    return buffer.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
