import { readFileSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

/**
 * How a boot's wait for its ready line is bounded. A boot is stuck when it shows no progress for
 * `idleMs`, not when a fixed total passes: on a busy machine a robot that is still loading is slow,
 * not dead. A total bound still catches a boot that keeps busy forever without becoming ready; it
 * grows with the number of services booting together and with the machine's load.
 */
export interface ReadinessLimits {
  /** How long a boot may go without any progress before it is stuck. */
  idleMs: number;
  /** How many services boot together with this one (a fleet's robots); default 1. */
  fleetSize?: number;
}

/** Idle windows a lone boot on an idle machine may take in total. */
const TOTAL_IDLE_WINDOWS = 3;
/** Robots booting together that add one more `TOTAL_IDLE_WINDOWS` to the total bound. */
const ROBOTS_PER_EXTRA_TOTAL = 25;

/** Runnable processes per core over the last minute (1 = every core busy); 0 where unknown. */
export function loadPerCore(): number {
  const [oneMinute = 0] = loadavg();
  return oneMinute / availableParallelism();
}

/**
 * The longest a boot may take even while it progresses: `TOTAL_IDLE_WINDOWS` idle windows for a
 * lone boot, one more set per `ROBOTS_PER_EXTRA_TOTAL` robots booting together, times the load per
 * core when the machine is oversubscribed.
 */
export function readinessTotalMs(limits: ReadinessLimits, load: number): number {
  const fleetSize = Math.max(1, limits.fleetSize ?? 1);
  const fleetFactor = 1 + (fleetSize - 1) / ROBOTS_PER_EXTRA_TOTAL;
  return Math.round(limits.idleMs * TOTAL_IDLE_WINDOWS * fleetFactor * Math.max(1, load));
}

/**
 * A counter that grows while a boot works: its console log's size, its process's CPU time.
 * `undefined` when it cannot be read right now (no log yet, the process gone).
 */
export type ProgressProbe = () => number | undefined;

/**
 * The deadline of one boot, checked against progress. Pure: the clock and the load come in as
 * functions and the readings as numbers, so it is tested with fake progress.
 */
export class ProgressDeadline {
  private readonly startedAt: number;
  private lastProgressAt: number;
  private readonly last = new Map<string, number>();

  constructor(
    private readonly limits: ReadinessLimits,
    private readonly clock: () => number = () => performance.now(),
    private readonly load: () => number = loadPerCore,
  ) {
    if (!(limits.idleMs > 0)) throw new RangeError(`readiness idleMs must be > 0, got ${limits.idleMs}`);
    this.startedAt = clock();
    this.lastProgressAt = this.startedAt;
  }

  /** Takes one reading of each named counter; any counter that grew since its last reading is progress. */
  observe(readings: Readonly<Record<string, number | undefined>>): void {
    for (const [name, value] of Object.entries(readings)) {
      if (value === undefined) continue;
      const before = this.last.get(name);
      this.last.set(name, value);
      // The first reading is a baseline: a log that exists is not progress by itself.
      if (before !== undefined && value > before) this.lastProgressAt = this.clock();
    }
  }

  /** Why the boot has run out of time, or undefined while it may go on. */
  overdue(): string | undefined {
    const now = this.clock();
    const idle = now - this.lastProgressAt;
    if (idle >= this.limits.idleMs) {
      return `not ready: no progress (console output, CPU time) for ${Math.round(idle)} ms (idle window ${this.limits.idleMs} ms, ${Math.round(now - this.startedAt)} ms since power-on)`;
    }
    const load = this.load();
    const totalMs = readinessTotalMs(this.limits, load);
    if (now - this.startedAt >= totalMs) {
      return `not ready within ${totalMs} ms though still making progress (total bound: ${TOTAL_IDLE_WINDOWS} idle windows of ${this.limits.idleMs} ms, for ${this.limits.fleetSize ?? 1} booting together at load ${load.toFixed(2)} per core)`;
    }
    return undefined;
  }
}

/** How often a boot's progress is read: cheap (a stat and a small /proc read) and fine enough. */
const PROBE_INTERVAL_MS = 250;

/**
 * Reads a boot's progress probes every `intervalMs` and calls `onOverdue` once with the reason
 * when its deadline passes. `stop()` ends the watch (ready, exited, or given up).
 */
export function watchBoot(options: {
  limits: ReadinessLimits;
  probes: Readonly<Record<string, ProgressProbe>>;
  onOverdue: (reason: string) => void;
  intervalMs?: number;
}): { stop(): void } {
  const deadline = new ProgressDeadline(options.limits);
  const read = () =>
    deadline.observe(
      Object.fromEntries(Object.entries(options.probes).map(([name, probe]) => [name, probe()])),
    );
  read();
  const timer = setInterval(
    () => {
      read();
      const reason = deadline.overdue();
      if (reason === undefined) return;
      clearInterval(timer);
      options.onOverdue(reason);
    },
    options.intervalMs ?? Math.min(PROBE_INTERVAL_MS, options.limits.idleMs / 4),
  );
  return { stop: () => clearInterval(timer) };
}

/** The size of a console log: it grows with every line the service writes. */
export function logSizeProbe(path: string): ProgressProbe {
  return () => {
    try {
      return statSync(path).size;
    } catch {
      return undefined;
    }
  };
}

/**
 * CPU time (clock ticks, user + system, with its reaped children's) of a process, from
 * /proc/<pid>/stat: a boot that prints nothing while it loads its modules still uses CPU. Undefined
 * where there is no /proc (not Linux) or the process is gone.
 */
export function cpuTimeProbe(pid: number | undefined): ProgressProbe {
  return () => {
    if (pid === undefined) return undefined;
    try {
      return cpuTicksOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return undefined;
    }
  };
}

/** utime + stime + cutime + cstime of a /proc/<pid>/stat line (fields 14-17). */
export function cpuTicksOf(stat: string): number {
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
  const total = (utime ?? NaN) + (stime ?? NaN) + (cutime ?? NaN) + (cstime ?? NaN);
  if (!Number.isFinite(total)) throw new Error(`unreadable /proc stat line: ${stat.slice(0, 80)}`);
  return total;
}
