import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RobotTelemetrySummary } from '../protocol/telemetry.ts';
import { Fleet } from '../harness/fleet/index.ts';
import { provisionRobots } from '../harness/ota/index.ts';
import { processesWithEnv } from '../harness/testing/leftovers.ts';

/** One edge agent process as the bench saw it. */
export interface AgentUsage {
  robot: string;
  pid: number;
  /** Highest VmRSS over the window, sampled once a second (MB, 2^20 bytes). */
  rssMb: number;
  /**
   * Highest RssAnon over the window (MB): the agent's own memory. VmRSS also counts the node
   * binary's pages (about 45 MB), which every node process on the machine shares, so it is not
   * what one more robot costs.
   */
  privateMb: number;
  /** utime + stime over the window, percent of one core. */
  cpuPct: number;
}

const ROBOTS = 5;
const WARMUP_MS = 5_000;
const WINDOW_MS = 20_000;

/**
 * Memory and CPU of each robot's edge agent at the default 1 Hz metrics: a fleet of 5 robots,
 * measured from /proc over a 20 s window after every agent answers and a 5 s warm-up. Agents
 * are found by their environment, so only this harness's agents count. Fails when an agent
 * uploaded less than half its samples in the window: an idle agent's figures would say nothing.
 */
export async function measureAgentUsage(seed: number): Promise<AgentUsage[]> {
  const fleet = await new Fleet({
    robots: ROBOTS,
    seed,
    world: 'empty',
    provision: provisionRobots(),
  }).start();
  try {
    await Promise.all(fleet.roster.map((robot) => robot.agent.waitUntilReady()));
    await sleep(WARMUP_MS);
    const mine = new Set(processesWithEnv('FLEETDRILL_HARNESS_PID', String(process.pid)));
    const pids = processesWithEnv('FLEETDRILL_ROLE', 'edge-agent').filter((pid) => mine.has(pid));
    if (pids.length !== ROBOTS) {
      throw new Error(
        `agent usage: found ${pids.length} edge agent processes of this harness, expected ${ROBOTS}`,
      );
    }
    const api = fleet.cloud.api;
    const storedBefore = await Promise.all(
      fleet.roster.map(async (robot) => storedMetrics(await api.summary(robot.id))),
    );
    const tick = clockTicksPerSecond();
    const startTicks = pids.map(cpuTicks);
    const startedAt = performance.now();
    const peakRss = pids.map((pid) => memoryKb(pid, 'VmRSS'));
    const peakPrivate = pids.map((pid) => memoryKb(pid, 'RssAnon'));
    while (performance.now() - startedAt < WINDOW_MS) {
      await sleep(Math.min(1_000, WINDOW_MS - (performance.now() - startedAt)));
      pids.forEach((pid, i) => {
        peakRss[i] = Math.max(peakRss[i]!, memoryKb(pid, 'VmRSS'));
        peakPrivate[i] = Math.max(peakPrivate[i]!, memoryKb(pid, 'RssAnon'));
      });
    }
    const seconds = (performance.now() - startedAt) / 1000;
    const usage = pids.map((pid, i) => ({
      robot: robotOf(pid),
      pid,
      rssMb: Math.round((peakRss[i]! / 1024) * 10) / 10,
      privateMb: Math.round((peakPrivate[i]! / 1024) * 10) / 10,
      cpuPct: Math.round(((cpuTicks(pid) - startTicks[i]!) / tick / seconds) * 1000) / 10,
    }));
    for (const [i, robot] of fleet.roster.entries()) {
      const uploaded = storedMetrics(await api.summary(robot.id)) - storedBefore[i]!;
      // 1 Hz metrics: about one record a second should have reached the cloud.
      const expected = WINDOW_MS / 1000 / 2;
      if (uploaded < expected) {
        throw new Error(
          `agent usage: robot ${robot.id} got ${uploaded} metrics records to the cloud in the ${WINDOW_MS} ms window, expected >= ${expected}`,
        );
      }
    }
    return usage.sort((a, b) => a.robot.localeCompare(b.robot));
  } finally {
    await fleet.stop();
  }
}

function storedMetrics(summary: RobotTelemetrySummary): number {
  return summary.tiers.metrics.stored;
}

/** utime + stime in clock ticks. The command name may hold spaces, so fields count from its ')'. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5); the slice starts at field 3.
  return Number(fields[11]) + Number(fields[12]);
}

/** A memory line of /proc/<pid>/status, in kB. */
function memoryKb(pid: number, field: 'VmRSS' | 'RssAnon'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`agent usage: /proc/${pid}/status has no ${field}`);
  return Number(match[1]);
}

function robotOf(pid: number): string {
  const entry = readFileSync(`/proc/${pid}/environ`, 'utf8')
    .split('\0')
    .find((variable) => variable.startsWith('FLEETDRILL_ROBOT_ID='));
  return entry?.slice('FLEETDRILL_ROBOT_ID='.length) ?? `pid ${pid}`;
}

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    // Linux has reported 100 to user space on every architecture for years.
    return 100;
  }
}
