import { readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { TimeoutError } from '../core/errors.ts';

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
  /** What the time is counted from, for messages; default `power-on`. */
  since?: string;
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
      return `not ready: no progress (console output, CPU time) for ${Math.round(idle)} ms (idle window ${this.limits.idleMs} ms, ${Math.round(now - this.startedAt)} ms since ${this.limits.since ?? 'power-on'})`;
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

/**
 * The timeout to give a wait that {@link waitWhileProgressing} bounds: the longest timer Node keeps
 * (about 24.8 days), so that only the progress deadline ends it.
 */
export const BOUNDED_BY_PROGRESS_MS = 2 ** 31 - 1;

/**
 * Runs a wait that follows a boot (rosbridge answering, /odom at rate, the edge agent answering)
 * under the same kind of deadline as the boot: while the probes show progress the wait goes on, up
 * to the total bound. `wait` gets a signal that aborts, with a TimeoutError giving the reason, once
 * the probes stay idle for the window or the total bound passes; it must stop on that signal, and
 * what it rejects with (the reason, with what it saw so far) is what the caller gets.
 */
export async function waitWhileProgressing<T>(
  options: {
    limits: ReadinessLimits;
    probes: Readonly<Record<string, ProgressProbe>>;
    intervalMs?: number;
  },
  wait: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const watch = watchBoot({
    ...options,
    onOverdue: (reason) => controller.abort(new TimeoutError(reason)),
  });
  try {
    return await wait(controller.signal);
  } finally {
    watch.stop();
  }
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

/**
 * CPU time of the child of `parentPid` whose command line holds `argument` (a robot host's edge
 * agent, started from the agent entry the harness gave the host): the agent loads its modules in a
 * process of its own, which the host's CPU time does not count until it is reaped. Undefined while
 * there is no such child (not started yet, gone) or no /proc.
 */
export function childCpuTimeProbe(parentPid: number | undefined, argument: string): ProgressProbe {
  let child: number | undefined;
  return () => {
    if (parentPid === undefined) return undefined;
    let ticks = child === undefined ? undefined : childCpuTicks(child, parentPid, argument);
    if (ticks !== undefined) return ticks;
    // Not started yet, or a new one after a reboot: look among the host's children again.
    child = undefined;
    for (const pid of childrenOf(parentPid)) {
      ticks = childCpuTicks(pid, parentPid, argument);
      if (ticks === undefined) continue;
      child = pid;
      return ticks;
    }
    return undefined;
  };
}

/** Pids of a process's children, from every thread's /proc children list (any thread may spawn). */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/**
 * CPU ticks of `pid` while it is a child of `parentPid` running with `argument` (pids are reused);
 * undefined otherwise.
 */
function childCpuTicks(pid: number, parentPid: number, argument: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== parentPid) return undefined;
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(argument)) return undefined;
    return cpuTicksOf(stat);
  } catch {
    return undefined;
  }
}
