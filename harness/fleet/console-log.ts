import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

/** The last `lines` lines of a robot's or service's console log; none when it does not exist. */
export function readLogTail(path: string, lines: number): string[] {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines);
  } catch {
    return [];
  }
}

/** Appends to a console log; a log that is already gone (teardown) is not an error. */
export function appendToLog(path: string, text: string): void {
  try {
    const fd = openSync(path, 'a');
    writeSync(fd, text);
    closeSync(fd);
  } catch {
    /* the run dir may already be gone during teardown */
  }
}

/** A `--- <time> <what> ---` marker line, as both backends write between boots. */
export function logMarker(what: string): string {
  return `--- ${new Date().toISOString()} ${what} ---\n`;
}
