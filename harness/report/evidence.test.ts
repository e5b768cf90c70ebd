import { expect, test, type TestInfo } from '@playwright/test';
import { EventBus } from '../core/events.ts';
import type { StartedFleet } from '../fleet/index.ts';
import {
  attachEvidence,
  labelTest,
  markEvidence,
  phase,
  recordDrillSetup,
  requirementLinks,
  withDetail,
} from './evidence.ts';

const ALLURE_MESSAGE = 'application/vnd.allure.message+json';

/** The runtime messages allure-playwright's worker side sent for this test, as the reporter reads them. */
interface AllureMessage {
  type: string;
  data: Record<string, unknown>;
}

function allureMessages(testInfo: TestInfo): AllureMessage[] {
  return testInfo.attachments
    .filter((attachment) => attachment.contentType === ALLURE_MESSAGE && attachment.body)
    .map((attachment) => JSON.parse(attachment.body!.toString('utf8')) as AllureMessage);
}

function metadataOf(testInfo: TestInfo, field: 'links' | 'parameters'): unknown[] {
  return allureMessages(testInfo)
    .filter((message) => message.type === 'metadata')
    .flatMap((message) => (message.data[field] as unknown[] | undefined) ?? []);
}

test.describe('requirement links', () => {
  test('a tag like @OTA-003 becomes a link to its row of the qualification report', () => {
    expect(requirementLinks(['@nightly', '@OTA-003', '@HIL-001'])).toEqual([
      { type: 'requirement', name: 'OTA-003', url: '../qualification/qualification.html#OTA-003' },
      { type: 'requirement', name: 'HIL-001', url: '../qualification/qualification.html#HIL-001' },
    ]);
  });

  test('tags that only look alike are no requirement', () => {
    expect(
      requirementLinks(['@ota', '@OTA-3', '@ota-003', '@OTA-0031', '@OTA_003', 'OTA-003', '@qos-matrix']),
    ).toEqual([]);
  });

  test('labelTest sends the links to the report', { tag: ['@smoke', '@QOS-002'] }, async ({}, testInfo) => {
    await labelTest(testInfo, 1234);
    expect(metadataOf(testInfo, 'links')).toEqual([
      { type: 'requirement', name: 'QOS-002', url: '../qualification/qualification.html#QOS-002' },
    ]);
    expect(metadataOf(testInfo, 'parameters')).toContainEqual({
      name: 'seed',
      value: '1234',
      excluded: true,
    });
  });
});

test('a drill records the setup its fleet ran with as parameters', async ({}, testInfo) => {
  await recordDrillSetup({
    robots: 5,
    backend: 'docker',
    world: 'hospital',
    rtf: 4,
    otaClient: 'rauc',
    telemetry: false,
  });
  expect(metadataOf(testInfo, 'parameters')).toEqual([
    { name: 'robots', value: '5' },
    { name: 'backend', value: 'docker' },
    { name: 'world', value: 'hospital' },
    { name: 'rtf', value: '4' },
    { name: 'ota client', value: 'rauc' },
    { name: 'telemetry', value: 'off' },
  ]);
});

test.describe('phases', () => {
  test('a phase runs its body, returns its value and carries its parameters to the step', async ({}, testInfo) => {
    const value = await phase('fault', { zone: 'east corridor', seconds: 60 }, () => 42);
    expect(value).toBe(42);
    const stepParameters = allureMessages(testInfo)
      .filter((message) => message.type === 'step_metadata')
      .flatMap((message) => message.data.parameters as unknown[]);
    expect(stepParameters).toEqual([
      { name: 'zone', value: 'east corridor' },
      { name: 'seconds', value: '60' },
    ]);
  });

  test("a failing phase fails with its body's error", async () => {
    await expect(
      phase('verdict', {}, () => Promise.reject(new Error('loss 3 records, expected 0'))),
    ).rejects.toThrow('loss 3 records');
  });
});

test('a step name carries its value, or has no trailing colon when there is none', () => {
  expect(withDetail('goal ended succeeded', '')).toBe('goal ended succeeded');
  expect(withDetail('goal ended aborted', 'blocked at (3, 4)')).toBe('goal ended aborted: blocked at (3, 4)');
  expect(withDetail('the run is valid', undefined)).toBe('the run is valid');
  expect(withDetail('sim seconds spent in the dead zone', 61.5)).toBe(
    'sim seconds spent in the dead zone: 61.5',
  );
  expect(withDetail('sim seconds spent in the dead zone', 0)).toBe('sim seconds spent in the dead zone: 0');
});

test.describe('the drill timeline', () => {
  /** What attachEvidence reads of a fleet: its seed, roster and event bus; no robot runs. */
  const fleetWith = (events: EventBus) => ({ seed: 7, roster: [], events }) as unknown as StartedFleet;
  const attached = (testInfo: TestInfo) =>
    testInfo.attachments
      .filter((a) => a.contentType !== ALLURE_MESSAGE)
      .map((a) => `${a.name} ${a.contentType}`);

  test('the events of the drill are attached raw and as an SVG timeline', async ({}, testInfo) => {
    const events = new EventBus();
    events.emit({ kind: 'run-seed', seed: 7 });
    const mark = markEvidence(undefined);
    events.emit({ kind: 'power-cut', robot: 'r01' });
    events.emit({ kind: 'power-on', robot: 'r01' });
    await attachEvidence(testInfo, fleetWith(events), mark, []);
    expect(attached(testInfo)).toEqual([
      'seed text/plain',
      'events.jsonl application/x-ndjson',
      'timeline image/svg+xml',
    ]);
    const svg = testInfo.attachments.find((a) => a.name === 'timeline')!.body!.toString('utf8');
    expect(svg).toContain('power off');
  });

  test('a drill without events gets no timeline', async ({}, testInfo) => {
    const events = new EventBus();
    events.emit({ kind: 'run-seed', seed: 7 });
    const mark = { ...markEvidence(undefined), startedAt: Date.now() + 60_000 };
    await attachEvidence(testInfo, fleetWith(events), mark, []);
    expect(attached(testInfo)).toEqual(['seed text/plain']);
  });
});
