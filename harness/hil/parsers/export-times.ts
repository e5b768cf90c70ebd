/**
 * trtexec's `--exportTimes=f.json`: one object per measured query, in order. Every query is kept
 * so that the statistics can be recomputed (and histogrammed) rather than taken from the log.
 */
import { latencyStats } from '../stats.ts';
import { HilError, type LatencyStats } from '../types.ts';

/** The fields trtexec writes for each query, all in ms. */
export const EXPORT_TIME_FIELDS = [
  'startEnqMs',
  'endEnqMs',
  'startH2dMs',
  'endH2dMs',
  'startComputeMs',
  'endComputeMs',
  'startD2hMs',
  'endD2hMs',
  'h2dMs',
  'computeMs',
  'd2hMs',
  'latencyMs',
] as const;

/** What an export-times file says: each query's latency and the statistics (trtexec's percentiles). */
export interface ExportTimes {
  /** Each query's `latencyMs`, in the order run. */
  perQueryMs: number[];
  latency: LatencyStats;
  /** Statistics of each query's `computeMs` (trtexec's GPU Compute Time). */
  computeMs: LatencyStats;
}

const DURATIONS = new Set<string>(['h2dMs', 'computeMs', 'd2hMs', 'latencyMs']);

/** How to read an export-times file. */
export interface ExportTimesOptions {
  /**
   * trtexec's `--warmUp` in ms. trtexec writes the warm-up queries too and leaves them out of its
   * summary from the first query whose compute starts at or after this time; so does this parser.
   * Default 0: every query counts.
   */
  warmupMs?: number;
}

/** Reads an export-times file; throws HilError for truncated JSON and names index and field of a bad entry. */
export function parseExportTimes(json: string, options: ExportTimesOptions = {}): ExportTimes {
  const warmupMs = options.warmupMs ?? 0;
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw new HilError(`trtexec export times: not valid JSON (truncated?): ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!Array.isArray(data)) throw new HilError('trtexec export times: expected an array of queries');
  if (data.length === 0) throw new HilError('trtexec export times: no queries');

  const perQueryMs: number[] = [];
  const computeMs: number[] = [];
  let measuring = false;
  data.forEach((entry: unknown, index) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new HilError(`trtexec export times [${index}]: expected an object, got ${JSON.stringify(entry)}`);
    }
    const query = entry as Record<string, unknown>;
    for (const field of EXPORT_TIME_FIELDS) {
      const value = query[field];
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new HilError(
          `trtexec export times [${index}].${field}: expected a number, got ${JSON.stringify(value)}`,
        );
      }
      if (DURATIONS.has(field) && value < 0) {
        throw new HilError(`trtexec export times [${index}].${field}: negative duration ${value}`);
      }
    }
    measuring ||= (query.startComputeMs as number) >= warmupMs;
    if (!measuring) return;
    perQueryMs.push(query.latencyMs as number);
    computeMs.push(query.computeMs as number);
  });

  if (perQueryMs.length === 0) {
    throw new HilError(
      `trtexec export times: all ${data.length} queries are within the ${warmupMs} ms warm-up`,
    );
  }
  return { perQueryMs, latency: latencyStats(perQueryMs), computeMs: latencyStats(computeMs) };
}
