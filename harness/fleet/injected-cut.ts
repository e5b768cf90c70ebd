import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { POWER_CUT_MARKER } from '../../fixtures/edge-agent/ota/faults.ts';

/**
 * Where an injected power cut (edge-agent/ota/faults.ts) struck, read from the marker it leaves
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
