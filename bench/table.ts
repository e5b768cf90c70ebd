/**
 * `npm run bench:table [file]`: the benchmark table in Markdown, rendered from a bench result
 * file (default bench/results/latest.json, the committed one), so published figures are the
 * ones the bench wrote, never copied by hand.
 */
import { pathToFileURL } from 'node:url';
import { LATEST, readResults, type BenchResults } from './results.ts';

type FigureRow = BenchResults['figures'][number];

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 });

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function measured(figure: FigureRow): string {
  if (figure.value === undefined) return '—';
  const value = `${number.format(figure.value)} ${figure.unit}`;
  if (figure.runs.length < 2) return value;
  const low = Math.min(...figure.runs);
  const high = Math.max(...figure.runs);
  return `${value} (${number.format(low)}–${number.format(high)})`;
}

function verdict(figure: FigureRow): string {
  if (figure.status === 'error') return `**error**: ${figure.reason ?? ''}`;
  if (figure.pass === undefined) return '—';
  return figure.pass ? 'pass' : '**missed**';
}

/** The Markdown: a line saying where and when, then one row per figure. */
export function renderTable(results: BenchResults): string {
  const { machine } = results;
  const day = results.date.slice(0, 10);
  const lines = [
    `Measured ${day} on ${machine.model} (${machine.cpus} cores, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node.replace(/^v/, '')}), seed ${results.seed}, ${results.runs === 1 ? 'one run' : `median of ${results.runs} runs (range of the runs in brackets)`}.`,
  ];
  if (results.only) lines.push('', `Only these figures were measured: ${results.only.join(', ')}.`);
  lines.push(
    '',
    '| figure | target | measured | verdict | notes |',
    '| --- | --- | --- | --- | --- |',
    ...results.figures.map((figure) =>
      [
        `\`${figure.name}\``,
        figure.target ? figure.target.text : '—',
        measured(figure),
        verdict(figure),
        figure.notes ?? '',
      ]
        .map(cell)
        .join(' | ')
        .replace(/^/, '| ')
        .replace(/$/, ' |'),
    ),
  );
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2] ?? LATEST;
  try {
    process.stdout.write(renderTable(await readResults(file)));
  } catch (error) {
    console.error(`bench:table: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
