/**
 * A robot's wall clock, per robot rather than per machine: a robot without an RTC battery boots
 * with its clock at 1970, and keeps it until NTP sets it. The clock is an offset from this
 * machine's clock in a small file beside the robot's physical state (not on its disk: the clock
 * is hardware). The harness writes it (`Robot.setClock`); the reference robot host hands its path
 * to the edge agent, which reads the time from it.
 *
 *     <state dir>/clock.json   {"offsetMs": -1764806400000}   robot time = this machine's + offsetMs
 *
 * No file, or an unreadable one, is a clock that is right.
 */
import { readFileSync, statSync } from 'node:fs';

export const CLOCK_FILE = 'clock.json';

export interface RobotClockFile {
  offsetMs: number;
}

/** The offset in a clock file's text; throws naming the file when it is not one. */
export function parseClockFile(text: string, path: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: not JSON: ${(error as Error).message}`, { cause: error });
  }
  const offset = (parsed as Partial<RobotClockFile> | null)?.offsetMs;
  if (typeof offset !== 'number' || !Number.isFinite(offset))
    throw new Error(`${path}: offsetMs must be a finite number, got ${JSON.stringify(offset)}`);
  return offset;
}

/**
 * The robot's clock as a function, from the clock file at `path`: re-read when the file changes,
 * looked at most every `checkEveryMs`, so that calling it per request costs nothing.
 */
export function robotClock(path: string, checkEveryMs = 250, wall: () => number = Date.now): () => number {
  let offset = 0;
  let seenMtime = -1;
  let checkedAt = -Infinity;
  return () => {
    const now = wall();
    if (now - checkedAt >= checkEveryMs) {
      checkedAt = now;
      try {
        const mtime = statSync(path).mtimeMs;
        if (mtime !== seenMtime) {
          offset = parseClockFile(readFileSync(path, 'utf8'), path);
          seenMtime = mtime;
        }
      } catch {
        // No file yet (a clock never set is right), or one being replaced: keep what it had.
      }
    }
    return now + offset;
  };
}
