/**
 * trtexec's console log (TensorRT samples/common/sampleReporting.cpp) read into numbers. Names in
 * the Performance summary are taken as printed, so TensorRT 8's and 10's layouts both read; a
 * summary line that does not parse is an error, never a silently missing value.
 */
import { HilError } from '../types.ts';

/** One `<Name>: min = …, max = …, mean = …, median = …, percentile(P%) = …` line, in ms. */
export interface TrtexecSummary {
  min: number;
  max: number;
  mean: number;
  median: number;
  /** Every percentile printed, keyed by P as printed (`'90'`, `'99'`, `'99.9'`). */
  percentiles: Record<string, number>;
}

/** What one trtexec run printed. */
export interface TrtexecReport {
  /** TensorRT version as printed in the RUNNING line, e.g. '10.5.0' (from [TensorRT v100500]) or '8.6.1' (v8601). */
  tensorrtVersion: string | undefined;
  commandLine: string | undefined;
  /** 'passed' | 'failed' from the &&&& markers; 'incomplete' when the RUNNING line is there but no end marker (a truncated log). */
  outcome: 'passed' | 'failed' | 'incomplete';
  throughputQps: number | undefined;
  /** Every "<Name>: min = ..., max = ..., mean = ..., median = ..., percentile(P%) = ..." summary line, by name as printed (e.g. 'Latency', 'Enqueue Time', 'H2D Latency', 'GPU Compute Time', 'D2H Latency', TRT 8's 'End-to-End Host Latency'), with all percentiles present keyed by P. */
  summaries: Record<string, TrtexecSummary>;
  /** 'Total Host Walltime' and 'Total GPU Compute Time' in seconds, and any other 'Name: <number> <unit>' summary scalars. */
  totals: Record<string, { value: number; unit: string }>;
  /** Lines tagged [W] and [E]. */
  warnings: string[];
  errors: string[];
}

const NUMBER = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?`;
const PREFIX = /^\[\d{2}\/\d{2}\/\d{4}-\d{2}:\d{2}:\d{2}\] \[([IWEVF])\] ?(.*)$/;
const MARKER = /^&&&& (RUNNING|PASSED|FAILED) TensorRT\.trtexec\b(.*)$/;
const VERSION = /\[TensorRT v(\d+)\]/;
const SECTION = /^=== (.+) ===$/;
const SUMMARY = /^([^:]+): (min = .*)$/;
const SCALAR = new RegExp(`^([^:]+): (${NUMBER}) (\\S+)$`);
const STAT = new RegExp(`^(min|max|mean|median|percentile\\((${NUMBER})%\\)) = (${NUMBER}) ms$`);

/**
 * Reads a trtexec log. Throws HilError when the text has no `&&&& RUNNING TensorRT.trtexec` line,
 * or when a Performance summary line does not parse (naming the line). A log without an end marker
 * is `incomplete`, and its last line may be cut short, so that one line is not held to the format.
 */
export function parseTrtexecLog(text: string): TrtexecReport {
  const report: TrtexecReport = {
    tensorrtVersion: undefined,
    commandLine: undefined,
    outcome: 'incomplete',
    throughputQps: undefined,
    summaries: {},
    totals: {},
    warnings: [],
    errors: [],
  };
  const lines = text.split(/\r?\n/);
  let running = false;
  let section: string | undefined;
  let bad: { lineNo: number; error: HilError } | undefined;
  let lastLineNo = 0;

  for (const [index, line] of lines.entries()) {
    const lineNo = index + 1;
    if (line.trim() !== '') lastLineNo = lineNo;
    const marker = MARKER.exec(line);
    if (marker) {
      const [, kind, rest] = marker as unknown as [string, string, string];
      if (kind === 'RUNNING') {
        running = true;
        report.tensorrtVersion = versionOf(rest);
        const hash = rest.indexOf(' # ');
        if (hash >= 0) report.commandLine = rest.slice(hash + 3).trim();
      } else {
        report.outcome = kind === 'PASSED' ? 'passed' : 'failed';
      }
      continue;
    }
    const tagged = PREFIX.exec(line);
    if (!tagged) continue;
    const [, severity, message] = tagged as unknown as [string, string, string];
    if (severity === 'W') report.warnings.push(message);
    if (severity === 'E' || severity === 'F') report.errors.push(message);
    if (severity !== 'I') continue;

    const header = SECTION.exec(message.trim());
    if (header) {
      section = header[1];
      continue;
    }
    if (section !== 'Performance summary' || bad) continue;
    try {
      readSummaryLine(message, report);
    } catch (error) {
      const reason = (error as Error).message;
      bad = { lineNo, error: new HilError(`trtexec log line ${lineNo}: ${reason}: '${line}'`) };
    }
  }

  if (!running) throw new HilError('not a trtexec log: no "&&&& RUNNING TensorRT.trtexec" line');
  // A truncated log's last line may stop anywhere: that one line is the cut, not a format error.
  const isTheCut = report.outcome === 'incomplete' && bad?.lineNo === lastLineNo;
  if (bad && !isTheCut) throw bad.error;
  return report;
}

/** Throws HilError unless the run PASSED and printed its Performance summary. */
export function requireValidTrtexec(report: TrtexecReport): void {
  if (report.outcome === 'failed') {
    const first = report.errors[0];
    throw new HilError(`trtexec FAILED${first === undefined ? ' (no [E] line)' : `: ${first}`}`);
  }
  if (report.outcome === 'incomplete') {
    throw new HilError('trtexec incomplete: the log ends before &&&& PASSED/FAILED (truncated?)');
  }
  const missing = ['Latency', 'GPU Compute Time'].filter((name) => !(name in report.summaries));
  if (report.throughputQps === undefined) missing.unshift('Throughput');
  if (missing.length > 0) {
    throw new HilError(`trtexec PASSED but its Performance summary is missing ${missing.join(', ')}`);
  }
}

/** `v100500` → `10.5.0` (MAJOR*10000 + MINOR*100 + PATCH since 10), `v8601` → `8.6.1` (MAJOR*1000 + MINOR*100 + PATCH before). */
function versionOf(rest: string): string | undefined {
  const digits = VERSION.exec(rest)?.[1];
  if (digits === undefined) return undefined;
  const code = Number(digits);
  const major = code >= 100_000 ? Math.floor(code / 10_000) : Math.floor(code / 1_000);
  const minor = code >= 100_000 ? Math.floor(code / 100) % 100 : Math.floor(code / 100) % 10;
  return `${major}.${minor}.${code % 100}`;
}

/** One [I] line of the Performance summary into `report`; throws on a line of neither known shape. */
function readSummaryLine(message: string, report: TrtexecReport): void {
  const text = message.trim();
  // The section ends with a blank [I] line and a pointer to the verbose explanations.
  if (text === '' || text.startsWith('Explanations of the performance metrics')) return;
  const summary = SUMMARY.exec(text);
  if (summary) {
    const [, name, body] = summary as unknown as [string, string, string];
    report.summaries[name] = summaryOf(body);
    return;
  }
  const scalar = SCALAR.exec(text);
  if (scalar) {
    const [, name, value, unit] = scalar as unknown as [string, string, string, string];
    if (name === 'Throughput') {
      if (unit !== 'qps') throw new Error(`Throughput in '${unit}', expected qps`);
      report.throughputQps = Number(value);
    } else {
      report.totals[name] = { value: Number(value), unit };
    }
    return;
  }
  throw new Error('not a Performance summary line');
}

function summaryOf(body: string): TrtexecSummary {
  const found: Partial<Record<'min' | 'max' | 'mean' | 'median', number>> = {};
  const percentiles: Record<string, number> = {};
  for (const part of body.split(', ')) {
    const stat = STAT.exec(part);
    if (!stat) throw new Error(`cannot read '${part}'`);
    const [, key, p, value] = stat as unknown as [string, string, string | undefined, string];
    if (p === undefined) found[key as keyof typeof found] = Number(value);
    else percentiles[p] = Number(value);
  }
  const { min, max, mean, median } = found;
  if (min === undefined || max === undefined || mean === undefined || median === undefined) {
    throw new Error('summary needs min, max, mean and median');
  }
  return { min, max, mean, median, percentiles };
}
