import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { POWER_CUT_MARKER } from '../../protocol/power-cut.ts';
import { describeExit, type RobotExit } from './backend.ts';

/**
 * Where an injected power cut (protocol/power-cut.ts) struck, read from the marker it leaves
 * on the robot's disk and removed; undefined when the robot died without one. A robot killed by
 * SIGKILL with the marker there was cut by a drill; without it, it died.
 */
export function takeInjectedPowerCut(diskDir: string): string | undefined {
  const marker = join(diskDir, POWER_CUT_MARKER);
  try {
    const where = readFileSync(marker, 'utf8').trim();
    rmSync(marker, { force: true });
    return where || 'an unnamed point';
  } catch {
    return undefined;
  }
}

/** Who hears how a robot went down. */
export interface RobotExitRouting {
  diskPath: string;
  /** Writes a marker into the robot's console log. */
  note: (what: string) => void;
  log: (format: string, ...args: unknown[]) => void;
  onInjectedCut: Iterable<(where: string) => void>;
  onDeath: Iterable<(exit: RobotExit) => void>;
}

/**
 * Routes an unexpected exit of a robot host: a SIGKILL with the injected-cut marker on the disk
 * was a drill's power cut; anything else is a death. The same for every backend.
 */
export function routeRobotExit(exit: RobotExit, routing: RobotExitRouting): void {
  const where = exit.signal === 'SIGKILL' ? takeInjectedPowerCut(routing.diskPath) : undefined;
  if (where !== undefined) {
    routing.note(`injected power cut at ${where}`);
    routing.log('injected power cut at %s', where);
    for (const listener of routing.onInjectedCut) listener(where);
    return;
  }
  routing.log('died: %s', describeExit(exit));
  for (const listener of routing.onDeath) listener(exit);
}
