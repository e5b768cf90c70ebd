import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { sampleQualification } from './fixture-qualification.ts';
import { renderQualificationHtml, writeQualificationReport } from './html.ts';

test('the verdict first, then every requirement with its anchor, evidence, waiver and notes', async () => {
  const html = await renderQualificationHtml(sampleQualification());
  const verdict = html.indexOf('<section class="verdict not-qualified"');
  expect(verdict).toBeGreaterThan(-1);
  expect(html).toContain('<h1>2.4.0: NOT QUALIFIED</h1>');
  expect(verdict).toBeLessThan(html.indexOf('<table class="requirements"'));
  for (const id of ['HIL-001', 'OTA-003', 'QOS-002', 'TEL-001', 'HIL-002'])
    expect(html).toContain(`<tr id="${id}"`);
  // The judge's order is kept: its regressions come first.
  expect(html.indexOf('id="HIL-001"')).toBeLessThan(html.indexOf('id="OTA-003"'));
  expect(html).toContain('<span class="regression">regression</span>');
  expect(html).toContain('value 7.9 ms; 2.3.0: 7.1 ms (+11.3 % worse)');
  expect(html).toContain(
    '<span class="expired">expired: ignored</span> (net-team, until 2026-01-15: AP firmware)',
  );
  expect(html).toContain('waived by ana, until 2026-03-01: known uploader bug &quot;#42&quot;');
  expect(html).toContain('<code>sha256:abab');
  expect(html).toContain('<li>source hil: no Jetson reachable &lt;ssh://nvidia@jetson&gt;</li>');
});

test('every string from data is escaped', async () => {
  const q = sampleQualification();
  q.requirements[0]!.title = '<script>alert(1)</script>';
  q.summary = '<img src=x onerror=alert(1)>';
  const html = await renderQualificationHtml(q);
  expect(html).not.toContain('<script');
  expect(html).not.toContain('<img');
  expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  expect(html).toContain('cmd_vel delivered on wifi-edge &lt;reliable &amp; keep_last&gt;');
});

test('plots sit in figures with captions; data a chart refuses is said in its figure', async () => {
  const html = await renderQualificationHtml(sampleQualification(), {
    hil: { perQueryMs: [5, 5.1, 5.3, 6, 7.2], budgetP99Ms: 7, title: 'perception-cnn on local' },
    fuzz: [{ client: 'rauc', point: 'time', outcome: 'old' }],
    qosCells: [],
  });
  expect(html.match(/<figure id="plot-/g)).toHaveLength(3);
  expect(html).toContain('budget p99 ≤ 7 ms');
  expect(html).toContain('no data: the QoS matrix did not run');
  expect(html).not.toMatch(/(src|href)="(https?:)?\/\/|url\(|<script|<link/);
  const broken = await renderQualificationHtml(sampleQualification(), {
    hil: { perQueryMs: [5, Number.NaN] },
  });
  expect(broken).toContain('could not draw this plot: perQueryMs[1] must be a finite number, got NaN');
});

test('writes the HTML, the qualification as JSON, and the JUnit XML', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-qualification-'));
  try {
    const q = sampleQualification();
    const files = await writeQualificationReport(join(dir, 'out'), q);
    expect(JSON.parse(await readFile(files.json, 'utf8'))).toEqual(q);
    expect(await readFile(files.junit, 'utf8')).toContain(
      '<testcase classname="qualification.ota" name="OTA-003',
    );
    expect(await readFile(files.html, 'utf8')).toContain('NOT QUALIFIED');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the written report carries no key or token a drill message quoted', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-qualification-'));
  try {
    const q = sampleQualification();
    q.notes.push('robot r01 died: MQTT_PASSWORD=hunter2 -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE');
    const files = await writeQualificationReport(join(dir, 'out'), q);
    for (const file of [files.json, files.junit, files.html]) {
      const text = await readFile(file, 'utf8');
      expect(text, file).not.toContain('hunter2');
      expect(text, file).not.toContain('MHcCAQEE');
    }
    expect(JSON.parse(await readFile(files.json, 'utf8')).notes).toContain(
      'robot r01 died: MQTT_PASSWORD=[redacted: password] [redacted: private key]',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
