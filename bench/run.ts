/**
 * `npm run bench`: the speed targets, measured on this machine, medians over several runs,
 * written to reports/bench.json. BENCH_RUNS sets the number of runs (default 3); BENCH_ONLY a
 * comma-separated list of metric names to measure.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../harness/fleet/embedded/bundle.ts';
import { measureAgentUsage, type AgentUsage } from './agent-resources.ts';
import { fleetUp, holds, measureLoad, median, type LoadPoint } from './fleet.ts';
import { deadZoneApplyLagMs } from './dead-zone.ts';
import { hilOverhead } from './hil.ts';
import { dockerFleetUp, dockerPowerCycleMs, prepareDockerImages } from './docker.ts';
import { measureFaultLayer, type FaultLayerResult } from './fault-layer.ts';
import { otaThroughput } from './ota.ts';
import { rosbridgeMessagesPerSecond } from './rosbridge.ts';
import { ingestSamplesPerSecond, telemetryE2eP99Ms } from './telemetry.ts';
import { otaFuzzCutsPerMinute, otaRollbackSeconds } from './ota-drills.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ONLY = process.env.BENCH_ONLY?.split(',').map((name) => name.trim());
const SEED = 20261124;

type Metric = { value: number; unit: string; runs: number[]; target?: string; notes?: string };
const metrics: Record<string, Metric> = {};
const loadPoints: LoadPoint[] = [];

function wanted(name: string): boolean {
  return !ONLY || ONLY.includes(name);
}

/** A run's value, with an optional line for the report's `notes` when one number does not say it all. */
type Measured = number | { value: number; note: string };

async function repeat(
  name: string,
  unit: string,
  target: string | undefined,
  measure: (run: number) => Promise<Measured>,
) {
  if (!wanted(name)) return;
  const runs: number[] = [];
  const notes: string[] = [];
  for (let run = 0; run < RUNS; run++) {
    const measured = await measure(run);
    const { value, note } = typeof measured === 'number' ? { value: measured, note: '' } : measured;
    runs.push(value);
    if (note) notes.push(`run ${run + 1}: ${note}`);
    console.log(`${name} run ${run + 1}/${RUNS}: ${value} ${unit}${note ? ` (${note})` : ''}`);
  }
  metrics[name] = {
    value: median(runs),
    unit,
    runs,
    target,
    notes: notes.length ? notes.join('; ') : undefined,
  };
}

/** The largest value in `candidates` for which `passes` holds, scanning upwards. */
async function largestPassing(
  candidates: number[],
  passes: (value: number) => Promise<boolean>,
): Promise<number> {
  let best = 0;
  for (const value of candidates) {
    // A fleet that cannot even come up at this load fails the point; it does not end the bench.
    const ok = await passes(value).catch((error: unknown) => {
      console.log(`  ${value}: ${(error as Error).message}`);
      return false;
    });
    if (!ok) break;
    best = value;
  }
  return best;
}

// Drills get the full stack (cloud and agents, the default); without telemetry the figure stays
// comparable with the robots-only bring-up measured before there was any.
const up = async (robots: number, seed: number, telemetry?: boolean): Promise<Measured> => {
  const result = await fleetUp(robots, seed, telemetry);
  return result.agentsMs === undefined
    ? result.readyMs
    : { value: result.readyMs, note: `every agent answering at ${result.agentsMs} ms` };
};
await repeat('fleet_up_ms_10', 'ms', '<= 5000 for 50 robots', (run) => up(10, SEED + run));
await repeat('fleet_up_ms_50', 'ms', '<= 5000', (run) => up(50, SEED + run));
await repeat('fleet_up_ms_50_no_telemetry', 'ms', '<= 5000', (run) => up(50, SEED + run, false));

// Containers: the images are built (or found) first, outside the timing.
if (wanted('docker_fleet_up_ms_10') || wanted('docker_power_cycle_ms')) await prepareDockerImages();
await repeat('docker_fleet_up_ms_10', 'ms', '<= 15000', async (run) => {
  const result = await dockerFleetUp(10, SEED + run);
  return { value: result.readyMs, note: `every agent answering at ${result.agentsMs} ms` };
});
await repeat('docker_power_cycle_ms', 'ms', undefined, async (run) => {
  const cycles = await dockerPowerCycleMs(SEED + run);
  return { value: median(cycles), note: `kill to ready, cycles ${cycles.join(', ')} ms` };
});

await repeat('hil_overhead_pct', '%', '< 1', async (run) => {
  const result = await hilOverhead(SEED + run);
  return {
    value: Number(result.pct.toFixed(3)),
    note: `${result.overheadPerQueryMs.toFixed(4)} ms per query beyond inference, p50 ${result.p50Ms.toFixed(2)} ms, ${result.queries} queries`,
  };
});

await repeat('ingest_samples_per_s', 'records/s', '>= 20000', () => ingestSamplesPerSecond());

await repeat('telemetry_e2e_p99_ms', 'ms', undefined, async (run) => {
  const result = await telemetryE2eP99Ms(SEED + run);
  return {
    value: result.p99Ms,
    note: `${result.records} records, p50 ${result.p50Ms} ms, max ${result.maxMs} ms, cloud summary metrics p99 (with warm-up) up to ${result.cloudSummaryP99Ms} ms`,
  };
});

// One artifact for every run (it is built once and cached): the runs differ in their disk and cloud only.
await repeat('ota_throughput_mb_s', 'MB/s', '>= 100', async () => {
  const result = await otaThroughput(SEED);
  return {
    value: result.mbPerS,
    note: `${result.totalMs} ms: offer ${result.offerMs} ms, download ${result.transferMs + result.verifyMs} ms (transfer ${result.transferMs}, fsync + hash + verify ${result.verifyMs}), install ${result.installMs} ms (slot write + read-back + arm)`,
  };
});

// One fleet gives both agent metrics; runs are shared between them.
const agentUsageRuns: AgentUsage[][] = [];
const agentUsage = async (run: number): Promise<AgentUsage[]> => {
  agentUsageRuns[run] ??= await measureAgentUsage(SEED + run);
  const usage = agentUsageRuns[run];
  console.log(
    `  agents run ${run + 1}: ${usage.map((a) => `${a.robot} ${a.rssMb} MB ${a.cpuPct} %`).join(', ')}`,
  );
  return usage;
};
const acrossAgents = (usage: AgentUsage[], of: (agent: AgentUsage) => number, unit: string): Measured => {
  const worst = usage.reduce((a, b) => (of(b) > of(a) ? b : a));
  return { value: median(usage.map(of)), note: `max ${of(worst)} ${unit}, ${worst.robot}` };
};

await repeat('ota_rollback_s', 's', undefined, async (run) => {
  // The common case: the new software boots but fails its health checks; the note has the
  // bootloader's case, software that crashes on boot.
  const health = await otaRollbackSeconds(SEED + run, 'fails-self-test');
  const crash = await otaRollbackSeconds(SEED + run, 'crashes-on-boot');
  return { value: health, note: `crashes-on-boot: ${crash} s` };
});

await repeat('ota_fuzz_cuts_per_min', 'cuts/min', undefined, (run) => otaFuzzCutsPerMinute(SEED + run));
await repeat('agent_rss_mb', 'MB', undefined, async (run) =>
  acrossAgents(await agentUsage(run), (agent) => agent.rssMb, 'MB'),
);
await repeat('agent_cpu_pct', '% of one core', undefined, async (run) =>
  acrossAgents(await agentUsage(run), (agent) => agent.cpuPct, '%'),
);

await repeat('single_robot_max_rtf', 'x', '>= 50', (run) =>
  largestPassing([10, 25, 50, 75, 100, 150, 200, 300, 400], async (rtf) => {
    const point = await measureLoad(1, rtf, SEED + run, 3_000);
    loadPoints.push(point);
    console.log(
      `  1 robot at rtf ${rtf}: achieved ${point.minAchievedRtf.toFixed(1)}–${point.maxAchievedRtf.toFixed(1)}, worst ${point.worst}`,
    );
    return holds(point);
  }),
);

await repeat('max_robots_rtf1', 'robots', '>= 100', (run) =>
  largestPassing([25, 50, 75, 100, 125, 150, 200], async (robots) => {
    const point = await measureLoad(robots, 1, SEED + run);
    loadPoints.push(point);
    console.log(
      `  ${robots} robots at rtf 1: achieved rtf ${point.minAchievedRtf.toFixed(3)}–${point.maxAchievedRtf.toFixed(3)}, worst ${point.worst}`,
    );
    return holds(point);
  }),
);

await repeat('rosbridge_msgs_per_s', 'msg/s', undefined, (run) => rosbridgeMessagesPerSecond(SEED + run));

await repeat('dead_zone_apply_lag_ms', 'ms', undefined, (run) => deadZoneApplyLagMs(SEED + run));

// One fault-layer run gives all three proxy metrics; runs are shared between them.
const faultLayerRuns: FaultLayerResult[] = [];
const faultLayer = async (run: number): Promise<FaultLayerResult> => {
  faultLayerRuns[run] ??= await measureFaultLayer(SEED + run);
  const result = faultLayerRuns[run];
  console.log(`  fault layer run ${run + 1}: ${JSON.stringify(result)}`);
  return result;
};
await repeat('proxy_added_latency_p50_us', 'µs', '<= 200', async (run) => (await faultLayer(run)).addedP50Us);
await repeat(
  'proxy_added_latency_p99_us',
  'µs',
  undefined,
  async (run) => (await faultLayer(run)).addedP99Us,
);
await repeat(
  'proxy_throughput_ratio',
  'ratio',
  '>= 0.5',
  async (run) => (await faultLayer(run)).throughputRatio,
);

const report = {
  date: new Date().toISOString(),
  machine: {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  },
  runs: RUNS,
  metrics: Object.fromEntries(Object.entries(metrics).map(([name, metric]) => [name, metric.value])),
  details: metrics,
  loadPoints,
};
const out = join(REPO_ROOT, 'reports', 'bench.json');
await mkdir(join(REPO_ROOT, 'reports'), { recursive: true });
await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report.metrics, null, 2));
console.log(`wrote ${out}`);
