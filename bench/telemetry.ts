import { setTimeout as sleep } from 'node:timers/promises';
import { benchIngest } from '../reference/fleet-cloud/bench.ts';
import { TimeoutError } from '../harness/core/errors.ts';
import { Fleet, type Robot } from '../harness/fleet/index.ts';
import { provisionRobots } from '../harness/ota/index.ts';
import type { CloudClient, StoredRecord } from '../harness/fleet/index.ts';
import { percentile } from './stats.ts';
import type { IngestLoad } from './tls-ingest.ts';

/**
 * The load of both ingest figures, plaintext and TLS, shaped as a fleet's agents send it: 5 robots
 * uploading at once, in batches of 200 (the agent's default `upload.batchRecords`), 100,000
 * records in all.
 */
export const INGEST_LOAD: IngestLoad = { records: 100_000, batchSize: 200, robots: 5 };

/** Durable records per second into a fresh fleet cloud over plain HTTP on loopback, {@link INGEST_LOAD}. */
export function ingestSamplesPerSecond(): Promise<number> {
  return benchIngest(INGEST_LOAD);
}

/** What one run of the end-to-end telemetry bench saw. */
export interface TelemetryE2eResult {
  /** p99 of receivedAt − capturedAt over every robot's records captured in the window (nearest rank). */
  p99Ms: number;
  p50Ms: number;
  maxMs: number;
  /** Records captured in the window, all robots, all tiers. */
  records: number;
  /** The highest per-robot metrics p99 in the cloud's own summary (it includes the warm-up). */
  cloudSummaryP99Ms: number;
}

const E2E_ROBOTS = 5;
const E2E_METRICS_HZ = 10;
const E2E_WINDOW_MS = 15_000;
const E2E_WARMUP_MS = 2_000;
const E2E_ARRIVAL_TIMEOUT_MS = 30_000;

/**
 * Capture time → queryable in the cloud on a good link: 5 robots with agents sampling at 10 Hz.
 * Only records captured in a 15 s window after every agent answers and a short settle count, so
 * the boot backlog (records taken before the agent's first upload) does not dominate the tail.
 * The window's records are read back only once each robot's stored seqs run gap-free past the
 * window's end: seqs count every record of a boot, so none of them can still be in flight.
 */
export async function telemetryE2eP99Ms(seed: number): Promise<TelemetryE2eResult> {
  const fleet = await new Fleet({
    robots: E2E_ROBOTS,
    seed,
    world: 'empty',
    provision: provisionRobots({ agent: { metricsHz: E2E_METRICS_HZ } }),
  }).start();
  try {
    await Promise.all(fleet.roster.map((robot) => robot.agent.waitUntilReady()));
    await sleep(E2E_WARMUP_MS);
    const windowStart = Date.now();
    await sleep(E2E_WINDOW_MS);
    const windowEnd = Date.now();
    const api = fleet.cloud.api;
    const perRobot = await Promise.all(
      fleet.roster.map((robot) => windowRecords(api, robot, windowStart, windowEnd)),
    );
    const latencies = perRobot.flat().map((record) => record.receivedAt - record.capturedAt);
    const summaries = await Promise.all(fleet.roster.map((robot) => api.summary(robot.id)));
    return {
      p99Ms: percentile(latencies, 99),
      p50Ms: percentile(latencies, 50),
      maxMs: Math.max(...latencies),
      records: latencies.length,
      cloudSummaryP99Ms: Math.max(
        ...summaries.map((summary) => summary.tiers.metrics.ingestLatencyMs.p99 ?? 0),
      ),
    };
  } finally {
    await fleet.stop();
  }
}

/**
 * One robot's stored records captured in [from, to), once every record of that stretch is in:
 * the boot's seqs are gap-free from the last record captured before `from` to the first one
 * captured at or after `to`.
 */
async function windowRecords(
  api: CloudClient,
  robot: Robot,
  from: number,
  to: number,
): Promise<StoredRecord[]> {
  const deadline = performance.now() + E2E_ARRIVAL_TIMEOUT_MS;
  let state = 'no record captured before the window';
  for (;;) {
    const records = await api.records(robot.id);
    const before = records.filter((record) => record.capturedAt < from);
    const anchor = before.reduce<StoredRecord | undefined>(
      (latest, record) => (latest && latest.seq > record.seq ? latest : record),
      undefined,
    );
    if (anchor) {
      const boot = records.filter((record) => record.bootId === anchor.bootId);
      const seqs = new Set(boot.map((record) => record.seq));
      const after = boot.filter((record) => record.capturedAt >= to).map((record) => record.seq);
      const through = after.length ? Math.min(...after) : Math.max(...seqs);
      let missing = 0;
      for (let seq = anchor.seq + 1; seq < through; seq++) if (!seqs.has(seq)) missing++;
      if (after.length && missing === 0) {
        return boot.filter((record) => record.capturedAt >= from && record.capturedAt < to);
      }
      state = `${missing} seqs missing after seq ${anchor.seq}, ${after.length} records captured after the window`;
    }
    if (performance.now() > deadline) {
      throw new TimeoutError(
        `robot ${robot.id}: the cloud did not hold every record of the ${E2E_WINDOW_MS} ms window within ${E2E_ARRIVAL_TIMEOUT_MS} ms: ${state}`,
      );
    }
    await sleep(500);
  }
}
