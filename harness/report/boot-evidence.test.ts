import { expect, test } from '@playwright/test';
import { attachBootTimes } from './boot-evidence.ts';

test('a fleet’s boot times go to the first drill on it only, as JSON and a histogram', async ({}, testInfo) => {
  const fleet = { info: { readyMs: 1_900, bootMs: { r02: 1_850, r01: 1_200 } } };
  const before = testInfo.attachments.length;
  await attachBootTimes(testInfo, fleet);
  await attachBootTimes(testInfo, fleet);
  const added = testInfo.attachments.slice(before);
  expect(added.map((a) => `${a.name} ${a.contentType}`)).toEqual([
    'fleet boot times application/json',
    'fleet boot times histogram image/svg+xml',
  ]);
  expect(added[0]!.body!.toString('utf8')).toMatch(/"r01": 1200,\s+"r02": 1850/);
  expect(JSON.parse(added[0]!.body!.toString('utf8'))).toEqual({
    readyMs: 1_900,
    robots: { r01: 1_200, r02: 1_850 },
  });
  expect(added[1]!.body!.toString('utf8')).toContain('r02 1850 ms');
});

test('a fleet over several Docker engines says which robot ran where; one place says nothing', async ({}, testInfo) => {
  const engines = { r01: 'unix:///var/run/docker.sock', r02: 'unix:///tmp/e2/docker.sock' };
  const before = testInfo.attachments.length;
  await attachBootTimes(testInfo, { info: { readyMs: 900, bootMs: { r02: 800, r01: 700 }, engines } });
  await attachBootTimes(testInfo, {
    info: { readyMs: 900, bootMs: { r01: 700 }, engines: { r01: 'unix:///var/run/docker.sock' } },
  });
  const [spread, single] = testInfo.attachments
    .slice(before)
    .filter((a) => a.contentType === 'application/json')
    .map((a) => JSON.parse(a.body!.toString('utf8')) as Record<string, unknown>);
  expect(spread).toEqual({ readyMs: 900, robots: { r01: 700, r02: 800 }, engines });
  expect(single).not.toHaveProperty('engines');
});

test('boot times that cannot be drawn are said so in the report, without failing the drill', async ({}, testInfo) => {
  const before = testInfo.attachments.length;
  await attachBootTimes(testInfo, { info: { readyMs: 10, bootMs: { r07: Number.NaN } } });
  const histogram = testInfo.attachments.slice(before)[1]!;
  expect(histogram.contentType).toBe('text/plain');
  expect(histogram.body!.toString('utf8')).toBe(
    'the histogram could not be drawn: boots[0] (r07).ms must be a finite number, got NaN',
  );
});
