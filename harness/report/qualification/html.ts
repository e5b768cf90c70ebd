/**
 * The qualification report a person reads: one self-contained HTML file (inline CSS and SVG, no
 * script, no external URL, so it opens from a CI artifact or a mail attachment as it is), written
 * beside the same verdict as JSON and as JUnit XML.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { redactStrings } from '../../core/redact.ts';
import { redactSecrets } from '../../core/secrets.ts';
import { ChartDataError } from '../../core/vega.ts';
import { latencyHistogram } from '../../hil/histogram.ts';
import type { MatrixCell } from '../../qos/matrix-plot.ts';
import { fuzzOutcomesChart, type FuzzCut } from '../charts/fuzz-outcomes.ts';
import { qosMatrixChart } from '../charts/qos-matrix.ts';
import { trajectoryChart, type TrajectoryInput } from '../charts/trajectory.ts';
import { trendChart, type TrendSeries } from '../charts/trend.ts';
import { renderQualificationJunit } from './junit.ts';
import type { EvidenceResult, Qualification, RequirementVerdict } from './types.ts';

/** The data behind the report's plots; each plot is drawn only when its data is given. */
export interface QualificationExtras {
  trends?: TrendSeries[];
  hil?: { perQueryMs: number[]; budgetP99Ms?: number; title?: string };
  qosCells?: MatrixCell[];
  fuzz?: FuzzCut[];
  trajectory?: TrajectoryInput;
}

/** Escapes every string from data for HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const OUTCOME_TEXT = { qualified: 'QUALIFIED', 'not-qualified': 'NOT QUALIFIED', 'not-judged': 'NOT JUDGED' };

const CSS = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1em 2em; color: #212121; }
.verdict { border-radius: 8px; padding: 1em 1.5em; margin-bottom: 1.5em; color: #fff; }
.verdict h1 { margin: 0; font-size: 2.2em; letter-spacing: 0.05em; }
.verdict p { margin: 0.4em 0 0; font-size: 1.1em; }
.verdict.qualified { background: #2e7d32; } .verdict.not-qualified { background: #c62828; } .verdict.not-judged { background: #ef6c00; }
dl.run { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; }
dl.run dt { font-weight: 600; } dl.run dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ddd; padding: 0.35em 0.6em; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
code { font-size: 0.92em; word-break: break-all; }
.status { font-weight: 700; white-space: nowrap; }
td.id { white-space: nowrap; }
.status.passed { color: #2e7d32; } .status.failed { color: #c62828; } .status.waived { color: #6d4c41; } .status.not-judged { color: #ef6c00; }
.regression { background: #c62828; color: #fff; border-radius: 3px; padding: 0 0.3em; font-size: 0.85em; }
.severity.blocker { font-weight: 700; }
ul.evidence { margin: 0; padding-left: 1.1em; }
.expired { color: #c62828; }
figure { margin: 1.5em 0; padding: 0.5em; border: 1px solid #eee; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-style: italic; color: #555; margin-top: 0.4em; }
.plot-error { color: #c62828; }
`;

const fmt = (x: number): string => String(Number(x.toPrecision(6)));

function evidenceLine(e: EvidenceResult, baseline: string | undefined): string {
  const parts = [
    `<span class="status ${e.status}">${escapeHtml(e.status)}</span>`,
    `<code>${escapeHtml(e.evidence)}</code>: ${escapeHtml(e.detail)}`,
  ];
  if (e.value !== undefined) {
    const unit = e.unit ? ` ${escapeHtml(e.unit)}` : '';
    let against = `value ${fmt(e.value)}${unit}`;
    if (e.baseline !== undefined)
      against += `; ${escapeHtml(baseline ?? 'baseline')}: ${fmt(e.baseline)}${unit}`;
    if (e.worseningPct !== undefined)
      against += ` (${e.worseningPct > 0 ? '+' : ''}${fmt(e.worseningPct)} % ${e.worseningPct > 0 ? 'worse' : 'better'})`;
    parts.push(`<br>${against}`);
  }
  if (e.drills?.length) parts.push(`<br>drills: ${e.drills.map(escapeHtml).join('; ')}`);
  return `<li>${parts.join(' ')}</li>`;
}

function waiverCell(r: RequirementVerdict): string {
  const w = r.waiver;
  if (!w) return '';
  const who = `${escapeHtml(w.owner)}, until ${escapeHtml(w.expires)}: ${escapeHtml(w.reason)}`;
  return w.expired ? `<span class="expired">expired: ignored</span> (${who})` : `waived by ${who}`;
}

function requirementRow(r: RequirementVerdict, baseline: string | undefined): string {
  return [
    `<tr id="${escapeHtml(r.id)}" class="requirement ${r.status}">`,
    `<td class="id"><a href="#${escapeHtml(r.id)}"><code>${escapeHtml(r.id)}</code></a></td>`,
    `<td>${escapeHtml(r.title)}${r.regression ? ' <span class="regression">regression</span>' : ''}</td>`,
    `<td class="severity ${escapeHtml(r.severity)}">${escapeHtml(r.severity)}</td>`,
    `<td><span class="status ${r.status}">${escapeHtml(r.status)}</span></td>`,
    `<td><ul class="evidence">${r.results.map((e) => evidenceLine(e, baseline)).join('')}</ul></td>`,
    `<td>${waiverCell(r)}</td>`,
    '</tr>',
  ].join('');
}

/** A plot in its figure; data a chart refuses becomes a visible message, not a missing plot. */
async function figure(id: string, caption: string, draw: () => Promise<string>): Promise<string> {
  let body: string;
  try {
    body = await draw();
  } catch (error) {
    if (!(error instanceof ChartDataError)) throw error;
    body = `<p class="plot-error">could not draw this plot: ${escapeHtml(error.message)}</p>`;
  }
  return `<figure id="${id}">${body}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

async function plots(q: Qualification, extras: QualificationExtras): Promise<string[]> {
  const out: Array<Promise<string>> = [];
  if (extras.trends)
    out.push(
      figure(
        'plot-trends',
        `Key figures over the last runs and releases, up to ${q.release}. Hollow points did not count.`,
        () => trendChart(extras.trends!),
      ),
    );
  if (extras.hil) {
    const hil = extras.hil;
    out.push(
      figure(
        'plot-hil',
        `HIL inference latency per query, with p50, p90, p99${hil.budgetP99Ms === undefined ? '' : ' and the p99 budget'}.`,
        () =>
          latencyHistogram({
            perQueryMs: hil.perQueryMs,
            budgetP99Ms: hil.budgetP99Ms,
            title: hil.title ?? 'HIL latency',
          }),
      ),
    );
  }
  if (extras.qosCells)
    out.push(
      figure('plot-qos', 'QoS matrix: verdict per topic and link profile, delivered share as text.', () =>
        qosMatrixChart(extras.qosCells!),
      ),
    );
  if (extras.fuzz)
    out.push(
      figure('plot-fuzz', 'OTA power-cut fuzz: what each cut led to, by cut point.', () =>
        fuzzOutcomesChart(extras.fuzz!),
      ),
    );
  if (extras.trajectory)
    out.push(
      figure(
        'plot-trajectory',
        "The robot's path over the world map with dead zones shaded, and the faults injected meanwhile.",
        () => trajectoryChart(extras.trajectory!),
      ),
    );
  return Promise.all(out);
}

/** The report as one self-contained HTML document. */
export async function renderQualificationHtml(
  q: Qualification,
  extras: QualificationExtras = {},
): Promise<string> {
  const sut = q.sut.components
    .map(
      (c) =>
        `<tr><td>${escapeHtml(c.name)}</td><td>${escapeHtml(c.version ?? '')}</td><td><code>${escapeHtml(c.digest ?? '')}</code></td><td>${escapeHtml(c.source)}</td></tr>`,
    )
    .join('');
  const figures = await plots(q, extras);
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(`Qualification of ${q.release}: ${OUTCOME_TEXT[q.outcome]}`)}</title>`,
    `<style>${CSS}</style></head><body>`,
    `<section class="verdict ${q.outcome}" id="verdict">`,
    `<h1>${escapeHtml(q.release)}: ${OUTCOME_TEXT[q.outcome]}</h1>`,
    `<p class="summary">${escapeHtml(q.summary)}</p>`,
    '</section>',
    '<dl class="run">',
    `<dt>release</dt><dd>${escapeHtml(q.release)}</dd>`,
    `<dt>baseline</dt><dd>${q.baseline ? escapeHtml(q.baseline) : 'none: relative thresholds not judged'}</dd>`,
    `<dt>seed</dt><dd><code>${q.seed}</code></dd>`,
    `<dt>judged at</dt><dd>${escapeHtml(q.judgedAt)}</dd>`,
    `<dt>exit code</dt><dd>${q.exitCode}</dd>`,
    '</dl>',
    `<h2>Software under test (${escapeHtml(q.sut.release)})</h2>`,
    '<table class="sut"><thead><tr><th>component</th><th>version</th><th>digest</th><th>read from</th></tr></thead>',
    `<tbody>${sut || '<tr><td colspan="4">none recorded</td></tr>'}</tbody></table>`,
    '<h2>Requirements</h2>',
    '<table class="requirements"><thead><tr><th>id</th><th>title</th><th>severity</th><th>status</th><th>evidence</th><th>waiver</th></tr></thead>',
    `<tbody>${q.requirements.map((r) => requirementRow(r, q.baseline)).join('\n')}</tbody></table>`,
    ...(q.notes.length
      ? [
          '<h2>Notes</h2>',
          `<ul class="notes">${q.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`,
        ]
      : []),
    ...(figures.length ? ['<h2>Plots</h2>', ...figures] : []),
    '</body></html>',
    '',
  ].join('\n');
}

/** Paths of what `writeQualificationReport` wrote. */
export interface QualificationReportFiles {
  html: string;
  json: string;
  junit: string;
}

/**
 * Writes `qualification.html`, `qualification.json` (the Qualification as is) and
 * `qualification-junit.xml` into `dir`. Every string is redacted first: drill messages and notes
 * quote what drills and robots printed, and the report is kept with the release.
 */
export async function writeQualificationReport(
  dir: string,
  given: Qualification,
  extras: QualificationExtras = {},
): Promise<QualificationReportFiles> {
  const q = redactStrings(given, redactSecrets);
  await mkdir(dir, { recursive: true });
  const files = {
    html: join(dir, 'qualification.html'),
    json: join(dir, 'qualification.json'),
    junit: join(dir, 'qualification-junit.xml'),
  };
  const html = await renderQualificationHtml(q, extras);
  await writeFile(files.json, `${JSON.stringify(q, null, 2)}\n`);
  await writeFile(files.junit, renderQualificationJunit(q));
  await writeFile(files.html, html);
  return files;
}
