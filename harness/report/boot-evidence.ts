import type { TestInfo } from '@playwright/test';
import { bootTimesChart, type RobotBoot } from './charts/boot-times.ts';

/** What boot-time evidence needs of a started fleet. */
export interface BootedFleet {
  readonly info: {
    readonly readyMs: number;
    readonly bootMs: Readonly<Record<string, number>>;
    /** Where each robot ran (its Docker engine), by id. */
    readonly engines?: Readonly<Record<string, string>>;
  };
}

// Fleets whose bring-up is in the report already: a worker's fleet serves many drills.
const reported = new WeakSet<BootedFleet>();

/**
 * Attaches a fleet's per-robot boot times, as JSON and as a histogram, to the first drill that runs
 * on it: the drill that paid for its bring-up (a worker's start, or its restart after a failure).
 * Later drills on the same fleet get nothing, so the report holds each bring-up once. A picture
 * that fails never fails the drill.
 */
export async function attachBootTimes(testInfo: TestInfo, fleet: BootedFleet): Promise<void> {
  if (reported.has(fleet)) return;
  reported.add(fleet);
  // In id order: the fleet records them in the order the robots became ready.
  const byId = Object.entries(fleet.info.bootMs).sort(([a], [b]) => a.localeCompare(b));
  const boots: RobotBoot[] = byId.map(([robot, ms]) => ({ robot, ms }));
  // Which robot ran where, once a fleet spreads over more than one place (docs/docker-engines.md).
  const engines = fleet.info.engines ?? {};
  const where =
    new Set(Object.values(engines)).size > 1
      ? { engines: Object.fromEntries(byId.map(([robot]) => [robot, engines[robot]])) }
      : {};
  await testInfo.attach('fleet boot times', {
    body: JSON.stringify(
      { readyMs: fleet.info.readyMs, robots: Object.fromEntries(byId), ...where },
      null,
      2,
    ),
    contentType: 'application/json',
  });
  try {
    await testInfo.attach('fleet boot times histogram', {
      body: await bootTimesChart(boots),
      contentType: 'image/svg+xml',
    });
  } catch (error) {
    await testInfo.attach('fleet boot times histogram', {
      body: `the histogram could not be drawn: ${(error as Error).message}`,
      contentType: 'text/plain',
    });
  }
}
