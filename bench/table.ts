/**
 * `npm run bench:table [file]`: the benchmark table in Markdown, rendered from a bench result
 * file (default bench/results/latest.json, the committed one), so published figures are the
 * ones the bench wrote, never copied by hand. `npm run bench:table -- --docs` writes it into
 * docs/benchmarks.md between its markers instead (`npm run bench -- --save` does that too).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../harness/core/paths.ts';
import { LATEST, readResults, type BenchResults } from './results.ts';

/** The page that publishes the figures, and the markers its table sits between. */
export const BENCH_DOC = join(REPO_ROOT, 'docs', 'benchmarks.md');
const START =
  '<!-- bench:table:start (rendered from bench/results/latest.json by npm run bench:table -- --docs) -->';
const END = '<!-- bench:table:end -->';

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

/** `markdown` with the text between the table markers replaced by `table`; throws without them. */
export function spliceTable(markdown: string, table: string, path = BENCH_DOC): string {
  const start = markdown.indexOf(START);
  const end = markdown.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${path}: no '${START}' ... '${END}' markers`);
  return `${markdown.slice(0, start + START.length)}\n\n${table}\n${markdown.slice(end)}`;
}

/** The table as it stands between the markers of `markdown` (for the drift check). */
export function publishedTable(markdown: string): string {
  const start = markdown.indexOf(START);
  const end = markdown.indexOf(END);
  if (start < 0 || end < start) return '';
  return markdown.slice(start + START.length, end).trim();
}

/** Writes the table of `results` into docs/benchmarks.md. */
export async function publishTable(results: BenchResults, path = BENCH_DOC): Promise<void> {
  await writeFile(path, spliceTable(await readFile(path, 'utf8'), renderTable(results), path));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const docs = args.includes('--docs');
  const file = args.find((arg) => arg !== '--docs') ?? LATEST;
  try {
    const results = await readResults(file);
    if (docs) await publishTable(results);
    else process.stdout.write(renderTable(results));
  } catch (error) {
    console.error(`bench:table: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
