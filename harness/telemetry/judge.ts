import { availableParallelism, loadavg } from 'node:os';
import { createHash } from 'node:crypto';
import { test } from '@playwright/test';
import type { Tier } from '../../protocol/telemetry.ts';
import { GateFailedError } from '../core/errors.ts';
import type { RecordedEvent } from '../core/events.ts';
import type { StartedFleet } from '../fleet/index.ts';
import { inspectBlackbox } from './mcap.ts';
import {
  bandwidth,
  completeness,
  ingestLatency,
  mcapValidity,
  noDuplicates,
  perSeriesOrder,
  tierPolicy,
  type BlackboxEvidence,
  type Disturbance,
  type OracleVerdict,
  type TelemetryEvidence,
} from './oracles/index.ts';

/** What to judge beyond the always-on checks (completeness, no duplicates, order, latency). */
export interface TelemetryJudgeOptions {
  /** How long to wait for each agent to drain first. */
  drainTimeoutMs?: number;
  /** The agents' blackbox window, for the tier policy and MCAP checks (the agent defaults: 10 s, 5 s). */
  blackbox?: { preS: number; postS: number };
  /**
   * Ingest latency p99 ceilings per tier, on an undisturbed link. Tiers without one get the
   * ceiling the agent's upload settings imply (`defaultIngestCeilingMs`).
   */
  p99MaxMs?: Partial<Record<Tier, number>>;
  /**
   * Bandwidth budgets per tier over `durationS`, counted from `baseline` (the agent's bytes at
   * the drill's start, `{ bootId: status.boot_id, bytesSent: status.bytes_sent }`) when given.
   */
  bandwidth?: {
    durationS: number;
    budgetBytesPerS: Partial<Record<Tier, number>>;
    baseline?: { bootId: string; bytesSent: Record<Tier, number> };
  };
}

/** Every oracle's verdict for every robot judged. */
export interface TelemetryVerdict {
  ok: boolean;
  verdicts: OracleVerdict[];
  evidence: TelemetryEvidence[];
}

/** Waits for a robot's agent to drain and gathers what the oracles need from it and the cloud. */
export async function collectTelemetryEvidence(
  fleet: StartedFleet,
  robotId: string,
  options: { drainTimeoutMs?: number } = {},
): Promise<TelemetryEvidence> {
  const robot = fleet.robot(robotId);
  const agent = await robot.agent.waitUntilDrained(options.drainTimeoutMs ?? 60_000);
  const api = fleet.cloud.api;
  const [summary, records, infos] = await Promise.all([
    api.summary(robotId),
    api.records(robotId),
    api.blackboxes(robotId),
  ]);
  const blackboxes: BlackboxEvidence[] = [];
  for (const info of infos) {
    const box: BlackboxEvidence = { info };
    if (info.complete) {
      try {
        const bytes = await api.blackbox(info.key);
        box.servedSha256 = createHash('sha256').update(bytes).digest('hex');
        box.contents = await inspectBlackbox(bytes);
      } catch (error) {
        box.error = (error as Error).message;
      }
    }
    blackboxes.push(box);
  }
  // Read again: what the agent took while the cloud was read may already be there.
  const agentAfter = await robot.agent.status();
  const disturbances = disturbancesOf(fleet.events.since(0), robotId, Date.now());
  const machine = { loadAverage: loadavg()[0]!, cores: availableParallelism() };
  return { robotId, agent, agentAfter, summary, records, blackboxes, disturbances, machine };
}

/**
 * The spans in which a robot's uploads could not flow normally, from the run's events: a fault
 * on its cloud link, a dead zone, a power cut until power-on, a freeze, a network
 * disconnect, a boot, a cloud restart or death. A span still open at `now` ends there.
 */
export function disturbancesOf(
  events: readonly RecordedEvent[],
  robotId: string,
  now: number,
): Disturbance[] {
  const spans: Disturbance[] = [];
  const open = new Map<string, number>();
  const start = (key: string, t: number) => {
    if (!open.has(key)) open.set(key, t);
  };
  const end = (key: string, t: number) => {
    const from = open.get(key);
    if (from === undefined) return;
    open.delete(key);
    spans.push({ from, to: t, what: key });
  };
  for (const event of events) {
    if (event.kind === 'cloud-restarted') {
      spans.push({ from: event.t - event.downMs, to: event.t, what: 'cloud restart' });
      continue;
    }
    if (event.kind === 'cloud-died') {
      start('cloud down', event.t);
      continue;
    }
    if (!('robot' in event) || event.robot !== robotId) continue;
    switch (event.kind) {
      case 'fault-applied':
        // The rosbridge link is the harness's view of the robot; uploads do not cross it.
        if (event.link !== 'rosbridge') start(`fault on ${event.link}`, event.t);
        break;
      case 'fault-cleared':
        end(`fault on ${event.link}`, event.t);
        break;
      case 'dead-zone-entered':
        start('dead zone', event.t);
        break;
      case 'dead-zone-left':
        end('dead zone', event.t);
        break;
      case 'power-cut':
      case 'robot-shutdown':
      case 'robot-booting':
        start('down or booting', event.t);
        break;
      // Powered on (or first up): the agent's backlog then drains within the oracle's margin.
      case 'power-on':
      case 'robot-ready':
        end('down or booting', event.t);
        break;
      case 'robot-frozen':
        start('frozen', event.t);
        break;
      case 'robot-thawed':
        end('frozen', event.t);
        break;
      case 'network-disconnected':
        start('disconnected', event.t);
        break;
      case 'network-reconnected':
        end('disconnected', event.t);
        break;
      default:
        break;
    }
  }
  for (const key of [...open.keys()]) end(key, now);
  return spans;
}

/**
 * Judges the telemetry of the given robots after a drill: completeness against the agent's own
 * account, no duplicates, per-series order, ingest latency, the tier policy and every blackbox's
 * MCAP, and bandwidth when a budget is given.
 */
export async function judgeTelemetry(
  fleet: StartedFleet,
  robotIds: readonly string[],
  options: TelemetryJudgeOptions = {},
): Promise<TelemetryVerdict> {
  const window = options.blackbox ?? { preS: 10, postS: 5 };
  const evidence = await Promise.all(
    robotIds.map((id) => collectTelemetryEvidence(fleet, id, { drainTimeoutMs: options.drainTimeoutMs })),
  );
  const verdicts: OracleVerdict[] = [];
  for (const item of evidence) {
    verdicts.push(
      completeness.check(item, {}),
      noDuplicates.check(item, {}),
      perSeriesOrder.check(item, {}),
      ingestLatency.check(item, { p99MaxMs: options.p99MaxMs }),
      tierPolicy.check(item, window),
      mcapValidity.check(item, window),
    );
    if (options.bandwidth) verdicts.push(bandwidth.check(item, options.bandwidth));
  }
  return { ok: verdicts.every((v) => v.ok), verdicts, evidence };
}

/** Throws a GateFailedError listing every failed verdict. */
export function assertTelemetry(result: TelemetryVerdict): void {
  const failed = result.verdicts.filter((v) => !v.ok);
  if (failed.length) {
    throw new GateFailedError(
      `telemetry oracles failed:\n${failed.map((v) => `  ${v.oracle}: ${v.message}`).join('\n')}`,
    );
  }
}

/**
 * What drills call: judges the robots' telemetry, attaches every verdict (and the measured
 * values as a KPI annotation) to the running test, then fails it if any oracle failed.
 */
export async function checkTelemetry(
  fleet: StartedFleet,
  robotIds: readonly string[],
  options: TelemetryJudgeOptions = {},
): Promise<TelemetryVerdict> {
  const result = await judgeTelemetry(fleet, robotIds, options);
  const info = test.info();
  await info.attach('telemetry verdicts', {
    body: JSON.stringify(result.verdicts, null, 2),
    contentType: 'application/json',
  });
  for (const v of result.verdicts) {
    info.annotations.push({
      type: v.ok ? 'oracle' : 'oracle failed',
      description: `${v.oracle}: ${v.message}`,
    });
  }
  assertTelemetry(result);
  return result;
}
