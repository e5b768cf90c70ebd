import { openSync, readSync, closeSync, statSync } from 'node:fs';
import type { TestInfo } from '@playwright/test';
import * as allure from 'allure-js-commons';
import type { RecordedEvent } from '../core/events.ts';
import type { StartedFleet } from '../fleet/fleet.ts';

/** Where each robot's log stood when a test began, so only the test's own part is attached. */
export interface EvidenceMark {
  startedAt: number;
  logOffsets: Map<string, number>;
}

/** Notes the log positions at the start of a test. */
export function markEvidence(fleet: StartedFleet | undefined): EvidenceMark {
  const logOffsets = new Map<string, number>();
  for (const robot of fleet?.roster ?? []) logOffsets.set(robot.id, sizeOf(robot.logPath));
  return { startedAt: Date.now(), logOffsets };
}

/** Labels every test the same way, so the report groups by area and robot. */
export async function labelTest(testInfo: TestInfo, seed: number): Promise<void> {
  const tags = testInfo.tags.map((tag) => tag.replace(/^@/, ''));
  await allure.epic('fleetdrill');
  await allure.feature(featureOf(testInfo.file));
  await allure.severity(tags.includes('smoke') || tags.includes('release') ? 'critical' : 'normal');
  await allure.parameter('seed', String(seed));
  testInfo.annotations.push({ type: 'seed', description: `${seed} (replay: FLEETDRILL_SEED=${seed})` });
}

/**
 * Attaches what a failing (or passing) drill needs for a post-mortem: the seed, the robots it
 * ran on, their console output during the test, and the run's events.
 */
export async function attachEvidence(
  testInfo: TestInfo,
  fleet: StartedFleet,
  mark: EvidenceMark,
  robotIds: readonly string[],
): Promise<void> {
  for (const id of robotIds) await allure.label('robot', id);
  await testInfo.attach('seed', { body: String(fleet.seed), contentType: 'text/plain' });
  for (const robot of fleet.roster) {
    if (!robotIds.includes(robot.id)) continue;
    const body = readFrom(robot.logPath, mark.logOffsets.get(robot.id) ?? 0);
    await testInfo.attach(`robot ${robot.id} log`, { body, contentType: 'text/plain' });
  }
  const events: RecordedEvent[] = fleet.events.since(mark.startedAt);
  if (events.length) {
    await testInfo.attach('events.jsonl', {
      body: events.map((event) => JSON.stringify(event)).join('\n'),
      contentType: 'application/x-ndjson',
    });
  }
}

function featureOf(file: string): string {
  const base = file.split('/').pop() ?? file;
  return base.replace(/\.(spec|test)\.ts$/, '');
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Reads a log from an offset, capped so a chatty robot cannot bloat the report. */
function readFrom(path: string, offset: number, cap = 256 * 1024): string {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = statSync(path).size;
    const start = Math.max(offset, size - cap);
    const buffer = Buffer.alloc(Math.max(size - start, 0));
    readSync(fd, buffer, 0, buffer.length, start);
    return (start > offset ? '[... earlier output cut ...]\n' : '') + buffer.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
