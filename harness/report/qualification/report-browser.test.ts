import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, expect, test } from '@playwright/test';
import { loadWorld } from '../../../protocol/world.ts';
import { resolveWorldPath } from '../../../reference/worlds/index.ts';
import { sampleQualification } from './fixture-qualification.ts';
import { writeQualificationReport, type QualificationExtras } from './html.ts';

const CHROMIUM = '/usr/bin/chromium';

function everyPlot(): QualificationExtras {
  const corridor = loadWorld(resolveWorldPath('corridor'));
  return {
    trends: [
      {
        figure: 'hil/perception-cnn/p99_ms',
        unit: 'ms',
        points: [
          { label: '2.3.0', startedAt: '2026-01-02T00:00:00Z', value: 7.1, valid: true },
          { label: 'run-9', startedAt: '2026-01-20T00:00:00Z', value: 9.6, valid: false },
          { label: '2.4.0', startedAt: '2026-02-01T00:00:00Z', value: 7.9, valid: true },
        ],
      },
    ],
    hil: {
      perQueryMs: Array.from({ length: 400 }, (_, i) => 5 + ((i * 37) % 100) / 40),
      budgetP99Ms: 7,
      title: 'perception-cnn on local',
    },
    qosCells: [
      {
        topic: '/cmd_vel',
        reliability: 'reliable',
        history: { kind: 'keep_last', depth: 10 },
        profile: 'wifi-edge',
        measured: { deliveredRatio: 0.91, received: 182, latencyMs: { p50: 4, p99: 30, max: 60 } },
        judgement: { verdict: 'fail', reasons: ['delivered 91 % < 95 %'] },
      },
    ],
    fuzz: [
      { client: 'mender', point: 'ArtifactInstall_Enter', outcome: 'old' },
      { client: 'mender', point: 'ArtifactCommit_Enter', outcome: 'new' },
      { client: 'mender', point: 'time', outcome: 'could-not-tell' },
    ],
    trajectory: {
      world: corridor,
      poses: Array.from({ length: 40 }, (_, i) => ({ t: i, x: 6 + i * 2.2, y: 5 })),
      deadZones: corridor.attenuators,
      faults: [{ t0: 4, t1: 6, label: 'dead zone fire-door-west' }],
    },
  };
}

test('the report opens from file:// in Chromium: verdict, requirements and every plot visible', async ({}, testInfo) => {
  test.skip(!existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (as .ci/run does)`);
  const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-report-browser-'));
  const browser = await chromium.launch({ executablePath: CHROMIUM });
  try {
    const files = await writeQualificationReport(dir, sampleQualification(), everyPlot());
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    // Any request beyond the file itself would be an external resource the report must not need.
    page.on('request', (request) => {
      if (request.url() !== pathToFileURL(files.html).href) problems.push(`requested ${request.url()}`);
    });
    await page.goto(pathToFileURL(files.html).href);

    await expect(page.locator('.verdict h1')).toHaveText('2.4.0: NOT QUALIFIED');
    await expect(page.locator('.verdict')).toBeInViewport();
    await expect(page.locator('table.requirements tbody tr')).toHaveCount(5);
    await expect(page.locator('#OTA-003')).toBeVisible();
    const figures = page.locator('figure');
    await expect(figures).toHaveCount(5);
    for (const figure of await figures.all()) {
      const svg = figure.locator('svg').first();
      await svg.scrollIntoViewIfNeeded();
      await expect(svg).toBeInViewport();
      const box = await svg.boundingBox();
      expect(box, `${await figure.getAttribute('id')}: no bounding box`).not.toBeNull();
      expect(box!.width).toBeGreaterThan(100);
      expect(box!.height).toBeGreaterThan(50);
    }
    await testInfo.attach('qualification.png', {
      body: await page.screenshot({ fullPage: true }),
      contentType: 'image/png',
    });
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }
});
