import { agentSettingsSchema, type AgentSettings } from '../../../reference/edge-agent/index.ts';
import { TIERS, type Tier } from '../../../protocol/telemetry.ts';
import { verdict, type TelemetryOracle } from './oracle.ts';

/**
 * The p99 ceiling of capture-to-queryable on an undisturbed link, from the agent's upload
 * settings: a record taken while another request is in flight waits for that one to answer or
 * time out, then for its own (two request timeouts), plus the uploader's idle poll, which a new
 * record cuts short but a busy machine may not.
 */
export function defaultIngestCeilingMs(settings: AgentSettings = {}): number {
  const parsed = agentSettingsSchema.parse(settings);
  const IDLE_POLL_MS = 1_000;
  return 2 * parsed.upload.requestTimeoutMs + IDLE_POLL_MS;
}

/**
 * Capture time to queryable in the cloud, per tier (arrival minus capture, from the stored
 * records), against a p99 ceiling: the drill's own, or {@link defaultIngestCeilingMs} when it
 * gives none. The ceiling holds on an undisturbed link only: records whose trip overlapped a
 * disturbance (a fault on the robot's link, a dead zone, a power cut, a frozen robot, a cloud
 * restart; `evidence.disturbances`), or followed one by less than a ceiling while the backlog
 * drained, are reported as a figure and not judged.
 */
export const ingestLatency: TelemetryOracle<{
  p99MaxMs?: Partial<Record<Tier, number>>;
  /** Ceiling for tiers without their own; default from the agent's default upload settings. */
  defaultP99MaxMs?: number;
}> = {
  name: 'ingest-latency',
  check(evidence, params) {
    const problems: string[] = [];
    const untold: string[] = [];
    const measured: Record<string, number> = {};
    const fallback = params.defaultP99MaxMs ?? defaultIngestCeilingMs();
    const spans = evidence.disturbances ?? [];
    for (const tier of TIERS) {
      const ceiling = params.p99MaxMs?.[tier] ?? fallback;
      const judged: number[] = [];
      const disturbed: number[] = [];
      for (const record of evidence.records) {
        if (record.tier !== tier) continue;
        const latency = record.receivedAt - record.capturedAt;
        const hit = spans.some(
          (span) => record.capturedAt <= span.to + ceiling && record.receivedAt >= span.from,
        );
        (hit ? disturbed : judged).push(latency);
      }
      if (judged.length) {
        const p99 = percentile(judged, 0.99);
        measured[`${tier}_p50_ms`] = percentile(judged, 0.5);
        measured[`${tier}_p99_ms`] = p99;
        measured[`${tier}_max_ms`] = Math.max(...judged);
        measured[`${tier}_ceiling_ms`] = ceiling;
        if (p99 > ceiling) {
          const text = `${tier} ingest latency p99 ${Math.round(p99)} ms over ${judged.length} undisturbed records, expected <= ${ceiling} ms`;
          // Every core taken: the uploader and the cloud waited for a CPU, which says nothing of
          // the product. Could not tell; reported, not failed.
          const machine = evidence.machine;
          if (machine && machine.loadAverage > machine.cores) {
            untold.push(
              `${text}, but the load average was ${machine.loadAverage.toFixed(1)} on ${machine.cores} cores: could not tell`,
            );
            measured[`${tier}_could_not_tell`] = 1;
          } else problems.push(text);
        }
      }
      if (disturbed.length) {
        measured[`${tier}_disturbed_records`] = disturbed.length;
        measured[`${tier}_disturbed_p99_ms`] = percentile(disturbed, 0.99);
      }
    }
    const shown = Object.entries(measured)
      .map(([key, value]) => `${key}=${Math.round(value)}`)
      .join(' ');
    const summary = `ingest latency ${shown || 'n/a'}${untold.length ? `; ${untold.join('; ')}` : ''}`;
    return verdict(this.name, evidence, problems, summary, measured);
  },
};

/** Nearest-rank percentile. */
function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
