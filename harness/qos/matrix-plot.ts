import type { CellJudgement, CellMeasured } from './judge.ts';
import type { History, Reliability } from './policy.ts';

/** One cell of the QoS matrix as the plot draws it. */
export interface MatrixCell {
  topic: string;
  reliability: Reliability;
  history: History;
  /** Link profile name: the column. */
  profile: string;
  measured: Pick<CellMeasured, 'deliveredRatio' | 'received' | 'latencyMs'>;
  judgement: CellJudgement;
}

export interface MatrixPlotOptions {
  /** Shown above the plot; defaults to a description of the sweep. */
  title?: string;
}

const CELL_W = 104;
const CELL_H = 42;
const HEADER_H = 28;
const TITLE_H = 34;
const LEGEND_H = 70;
const PAD = 12;
/** Width of one character of the 12 px sans-serif labels, generously: labels must not be cut. */
const CHAR_W = 7.2;

/** Escapes text and attribute values: topic names and titles come from user files. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * The fill for a delivered ratio: red at 50 % and below, through yellow, to green at 100 %.
 * The scale starts at 50 % because that is where the interesting differences are: every
 * acceptable cell lies above it, and below it a topic is simply broken.
 */
export function deliveryColour(ratio: number): string {
  const t = Math.min(1, Math.max(0, (ratio - 0.5) / 0.5));
  return `hsl(${Math.round(120 * t)}, 65%, 50%)`;
}

const depthLabel = (h: History): string => (h.kind === 'keep_all' ? 'keep_all' : `depth ${h.depth}`);
const rowLabel = (c: MatrixCell): string => `${c.topic} · ${c.reliability} · ${depthLabel(c.history)}`;
const percent = (ratio: number): string => `${Number((ratio * 100).toFixed(1))} %`;
const round = (x: number): string => String(Math.round(x));

/**
 * The QoS matrix as a standalone SVG heatmap: one row per topic · reliability · history, one
 * column per link profile, filled by delivered % and labelled with delivered % and latency p99;
 * a failed cell has a red outline, a could-not-tell cell a grey hatch (its colour would claim
 * more than the evidence does). Rows and columns keep the order they first appear in.
 */
export function renderMatrixSvg(cells: readonly MatrixCell[], options: MatrixPlotOptions = {}): string {
  const rows = [...new Set(cells.map(rowLabel))];
  const columns = [...new Set(cells.map((c) => c.profile))];
  const byKey = new Map(cells.map((c) => [`${rowLabel(c)}\u0000${c.profile}`, c]));
  const labelW = Math.ceil(Math.max(60, ...rows.map((r) => r.length * CHAR_W))) + PAD;
  const gridX = PAD + labelW;
  const gridY = TITLE_H + HEADER_H;
  const width = Math.max(gridX + columns.length * CELL_W + PAD, 460);
  const height = gridY + rows.length * CELL_H + LEGEND_H;
  const title =
    options.title ??
    `QoS matrix: delivered % and latency p99 per topic and link profile (${cells.length} cells)`;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    '<defs>',
    '<pattern id="could-not-tell" patternUnits="userSpaceOnUse" width="8" height="8" patternTransform="rotate(45)">',
    '<rect width="8" height="8" fill="#eeeeee"/>',
    '<line x1="0" y1="0" x2="0" y2="8" stroke="#9e9e9e" stroke-width="3"/>',
    '</pattern>',
    '<linearGradient id="delivery-scale" x1="0" x2="1" y1="0" y2="0">',
    ...[0, 0.25, 0.5, 0.75, 1].map(
      (t) => `<stop offset="${t}" stop-color="${deliveryColour(0.5 + t * 0.5)}"/>`,
    ),
    '</linearGradient>',
    '</defs>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${PAD}" y="${TITLE_H - 12}" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  );
  columns.forEach((profile, i) => {
    const x = gridX + i * CELL_W + CELL_W / 2;
    out.push(
      `<text class="column" x="${x}" y="${gridY - 10}" text-anchor="middle" font-weight="bold">${escapeXml(profile)}</text>`,
    );
  });
  rows.forEach((row, j) => {
    const y = gridY + j * CELL_H;
    out.push(
      `<text class="row" x="${gridX - PAD / 2}" y="${y + CELL_H / 2 + 4}" text-anchor="end">${escapeXml(row)}</text>`,
    );
    columns.forEach((profile, i) => {
      const x = gridX + i * CELL_W;
      const cell = byKey.get(`${row}\u0000${profile}`);
      if (!cell) {
        out.push(
          `<rect class="empty" x="${x + 1}" y="${y + 1}" width="${CELL_W - 2}" height="${CELL_H - 2}" fill="#fafafa" stroke="#dddddd"/>`,
          `<text x="${x + CELL_W / 2}" y="${y + CELL_H / 2 + 4}" text-anchor="middle" fill="#999999">not run</text>`,
        );
        return;
      }
      out.push(...cellSvg(cell, x, y));
    });
  });
  out.push(...legendSvg(PAD, gridY + rows.length * CELL_H + 18), '</svg>');
  return `${out.join('\n')}\n`;
}

function cellSvg(cell: MatrixCell, x: number, y: number): string[] {
  const { verdict, reasons } = cell.judgement;
  const fill =
    verdict === 'could-not-tell' ? 'url(#could-not-tell)' : deliveryColour(cell.measured.deliveredRatio);
  const stroke =
    verdict === 'fail' ? 'stroke="#c62828" stroke-width="3"' : 'stroke="#ffffff" stroke-width="1"';
  const latency = cell.measured.received > 0 ? `p99 ${round(cell.measured.latencyMs.p99)} ms` : 'p99 –';
  const tip = [`${rowLabel(cell)} on ${cell.profile}: ${verdict}`, ...reasons].join('\n');
  const cx = x + CELL_W / 2;
  return [
    `<g class="cell" data-topic="${escapeXml(cell.topic)}" data-profile="${escapeXml(cell.profile)}" data-verdict="${verdict}">`,
    `<title>${escapeXml(tip)}</title>`,
    `<rect x="${x + 2}" y="${y + 2}" width="${CELL_W - 4}" height="${CELL_H - 4}" fill="${fill}" ${stroke}/>`,
    `<text x="${cx}" y="${y + 18}" text-anchor="middle" font-weight="bold">${escapeXml(percent(cell.measured.deliveredRatio))}</text>`,
    `<text x="${cx}" y="${y + 33}" text-anchor="middle" font-size="11">${escapeXml(latency)}</text>`,
    '</g>',
  ];
}

function legendSvg(x: number, y: number): string[] {
  const barW = 200;
  return [
    '<g class="legend">',
    `<text x="${x}" y="${y}">delivered</text>`,
    `<rect x="${x + 64}" y="${y - 11}" width="${barW}" height="14" fill="url(#delivery-scale)"/>`,
    `<text x="${x + 64}" y="${y + 16}" font-size="10">≤ 50 %</text>`,
    `<text x="${x + 64 + barW / 2}" y="${y + 16}" font-size="10" text-anchor="middle">75 %</text>`,
    `<text x="${x + 64 + barW}" y="${y + 16}" font-size="10" text-anchor="end">100 %</text>`,
    `<rect x="${x}" y="${y + 26}" width="22" height="14" fill="#ffffff" stroke="#c62828" stroke-width="3"/>`,
    `<text x="${x + 28}" y="${y + 37}">fails its contract</text>`,
    `<rect x="${x + 150}" y="${y + 26}" width="22" height="14" fill="url(#could-not-tell)"/>`,
    `<text x="${x + 178}" y="${y + 37}">could not tell (thin evidence)</text>`,
    '</g>',
  ];
}
