import { openSync, readSync, closeSync, statSync } from 'node:fs';
import { test, type TestInfo } from '@playwright/test';
import * as allure from 'allure-js-commons';
import type { Link } from 'allure-js-commons';
import { getGlobalTestRuntimeWithAutoconfig } from 'allure-js-commons/sdk/runtime';
import type { RecordedEvent } from '../core/events.ts';
import type { StartedFleet } from '../fleet/index.ts';
import { drillTimelineChart } from './drill-timeline.ts';

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

/** A tag naming a requirement a drill gives evidence for, as qualification.yaml lists it. */
export const REQUIREMENT_TAG = /^@[A-Z]+-\d{3}$/;

/** Where the qualification report sits relative to the Allure report (both under `reports/`). */
export const QUALIFICATION_REPORT_URL = '../qualification/qualification.html';

/** A link to the requirement's row of the qualification report, per requirement tag. */
export function requirementLinks(tags: readonly string[]): Link[] {
  return tags
    .filter((tag) => REQUIREMENT_TAG.test(tag))
    .map((tag) => tag.slice(1))
    .map((id) => ({ type: 'requirement', name: id, url: `${QUALIFICATION_REPORT_URL}#${id}` }));
}

/**
 * Labels every test the same way, so the report groups by area and robot, and links each
 * requirement the test's tags name, so the report traces from drill to requirement.
 */
export async function labelTest(testInfo: TestInfo, seed: number): Promise<void> {
  const tags = testInfo.tags.map((tag) => tag.replace(/^@/, ''));
  await allure.epic('fleetdrill');
  await allure.feature(featureOf(testInfo.file));
  await allure.severity(tags.includes('smoke') || tags.includes('release') ? 'critical' : 'normal');
  // Out of the history id: a per-run seed would make every run a new test and empty its history.
  await allure.parameter('seed', String(seed), { excluded: true });
  for (const link of requirementLinks(testInfo.tags)) await allure.link(link.url, link.name, link.type);
  testInfo.annotations.push({ type: 'seed', description: `${seed} (replay: FLEETDRILL_SEED=${seed})` });
}

/** What a drill's fleet actually ran with; the report shows it on the drill, not as a run default. */
export interface DrillSetup {
  robots: number;
  backend: string;
  world: string;
  rtf: number;
  otaClient: string;
  telemetry: boolean;
  /** The user's robot image on the docker backend, if any. */
  robotImage?: string;
}

/** Records a drill's fleet setup as Allure parameters of that drill. */
export async function recordDrillSetup(setup: DrillSetup): Promise<void> {
  await allure.parameter('robots', String(setup.robots));
  await allure.parameter('backend', setup.backend);
  await allure.parameter('world', setup.world);
  await allure.parameter('rtf', String(setup.rtf));
  await allure.parameter('ota client', setup.otaClient);
  await allure.parameter('telemetry', setup.telemetry ? 'on' : 'off');
  if (setup.robotImage) await allure.parameter('robot image', setup.robotImage);
}

/** The phases of a drill, in the order a reader expects them. */
export type PhaseName = 'set-up' | 'fault' | 'observe' | 'verdict';

/**
 * Runs one phase of a drill as a step, shown by Playwright and by Allure, with the phase's
 * parameters (the fault's profile, the window observed, the threshold judged) on the step, so the
 * report reads as set-up, fault, observe, verdict with the values each used.
 */
export async function phase<T>(
  name: PhaseName,
  params: Record<string, string | number>,
  body: () => T | Promise<T>,
): Promise<T> {
  return test.step(name, async () => {
    const runtime = await getGlobalTestRuntimeWithAutoconfig();
    for (const [key, value] of Object.entries(params)) await runtime.stepParameter(key, String(value));
    return body();
  });
}

/**
 * `label: detail`, or the label alone when there is no detail: an `expect` message becomes an
 * Allure step's name, and a trailing colon with nothing after it reads as a value gone missing.
 */
export function withDetail(label: string, detail?: string | number | null): string {
  const text = detail === undefined || detail === null ? '' : String(detail).trim();
  return text ? `${label}: ${text}` : label;
}

/**
 * Attaches what a failing (or passing) drill needs for a post-mortem: the seed, the robots it
 * ran on, their console output during the test, and the run's events, raw and as a timeline.
 * `robotIds` are the robots the drill claimed; the fixtures pass every robot when one died.
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
    await attachTimeline(testInfo, fleet, mark, events);
  }
}

/** The drill's events as an image a browser shows; a picture that fails never fails the drill. */
async function attachTimeline(
  testInfo: TestInfo,
  fleet: StartedFleet,
  mark: EvidenceMark,
  events: readonly RecordedEvent[],
): Promise<void> {
  const span = { from: mark.startedAt, to: Date.now() };
  const robots = fleet.roster.map((robot) => robot.id);
  try {
    const svg = await drillTimelineChart(events, span, robots);
    if (svg) await testInfo.attach('timeline', { body: svg, contentType: 'image/svg+xml' });
  } catch (error) {
    await testInfo.attach('timeline', {
      body: `the timeline could not be drawn: ${(error as Error).message}`,
      contentType: 'text/plain',
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
