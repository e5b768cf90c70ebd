/**
 * A latency histogram as a small standalone SVG, for the report: the per-query times in equal
 * bins, with the p50, p90 and p99 marked. No plotting library: a few rectangles say it all.
 */
import { latencyStats } from './stats.ts';

const WIDTH = 640;
const HEIGHT = 260;
const MARGIN = { left: 48, right: 16, top: 24, bottom: 40 };

/** Counts of `values` in `bins` equal bins from min to max. */
export function binCounts(values: readonly number[], bins: number): { edges: number[]; counts: number[] } {
  if (values.length === 0) return { edges: [], counts: [] };
  const min = Math.min(...values);
  const max = Math.max(...values);
  const width = max > min ? (max - min) / bins : 1;
  const counts = new Array<number>(bins).fill(0);
  for (const value of values) {
    counts[Math.min(bins - 1, Math.floor((value - min) / width))]! += 1;
  }
  const edges = Array.from({ length: bins + 1 }, (_, i) => min + i * width);
  return { edges, counts };
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The SVG of a latency histogram of `perQueryMs`, titled. */
export function latencyHistogramSvg(perQueryMs: readonly number[], title: string, bins = 40): string {
  const { edges, counts } = binCounts(perQueryMs, bins);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<text x="${MARGIN.left}" y="16" font-size="13">${escape(title)}</text>`,
  ];
  if (counts.length) {
    const top = Math.max(...counts);
    const min = edges[0]!;
    const span = edges[edges.length - 1]! - min || 1;
    const x = (ms: number) => MARGIN.left + ((ms - min) / span) * plotW;
    const barW = plotW / counts.length;
    counts.forEach((count, i) => {
      const h = (count / top) * plotH;
      parts.push(
        `<rect x="${(MARGIN.left + i * barW).toFixed(1)}" y="${(MARGIN.top + plotH - h).toFixed(1)}" width="${Math.max(barW - 1, 1).toFixed(1)}" height="${h.toFixed(1)}" fill="#4a7bd0"><title>${edges[i]!.toFixed(3)}–${edges[i + 1]!.toFixed(3)} ms: ${count}</title></rect>`,
      );
    });
    const stats = latencyStats(perQueryMs);
    for (const [label, value, color] of [
      ['p50', stats.p50, '#2a9d3a'],
      ['p90', stats.p90, '#d08a1a'],
      ['p99', stats.p99, '#c0392b'],
    ] as const) {
      parts.push(
        `<line x1="${x(value).toFixed(1)}" x2="${x(value).toFixed(1)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="${color}" stroke-dasharray="4 3"/>`,
        `<text x="${(x(value) + 3).toFixed(1)}" y="${MARGIN.top + 10}" fill="${color}">${label} ${value.toFixed(2)} ms</text>`,
      );
    }
    const axisY = MARGIN.top + plotH;
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${axisY}" y2="${axisY}" stroke="#333"/>`,
      `<text x="${MARGIN.left}" y="${axisY + 16}">${min.toFixed(2)} ms</text>`,
      `<text x="${MARGIN.left + plotW}" y="${axisY + 16}" text-anchor="end">${(min + span).toFixed(2)} ms</text>`,
      `<text x="${MARGIN.left + plotW / 2}" y="${axisY + 32}" text-anchor="middle">latency per query (${perQueryMs.length} queries)</text>`,
      `<text x="${MARGIN.left - 6}" y="${MARGIN.top + 8}" text-anchor="end">${top}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}
