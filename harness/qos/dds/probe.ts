import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import createDebug from 'debug';
import { z } from 'zod';
import { onProcessExit } from '../../core/cleanup.ts';
import { FleetdrillError, TimeoutError } from '../../core/errors.ts';
import type { TopicQos } from '../policy.ts';
import { ensureDdsProbe } from './build.ts';
import { cycloneConfigXml } from './cyclone-config.ts';

const log = createDebug('fleetdrill:qos:dds');

// Timestamps are CLOCK_MONOTONIC nanoseconds (process.hrtime.bigint()'s clock). As JS numbers
// they stay exact for 104 days of uptime and lose at most a few ns after that.
const ns = z.number().int().nonnegative();
const count = z.number().int().nonnegative();

const eventSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('ready'),
    t: ns,
    role: z.enum(['pub', 'sub']),
    topic: z.string(),
    domain: count,
    pid: count,
  }),
  z.object({ kind: z.literal('matched'), t: ns, current: count, total: count }),
  z.object({
    kind: z.literal('incompatible'),
    t: ns,
    side: z.enum(['offered', 'requested']),
    /** The last incompatible policy, as DDS names it: RELIABILITY, DURABILITY, DEADLINE, LIVELINESS... */
    policy: z.string(),
    total: count,
  }),
  z.object({ kind: z.literal('sample'), seq: count, sent: ns, recv: ns, size: count }),
  z.object({ kind: z.literal('deadline_missed'), t: ns, total: count }),
  /** A publisher with `count` wrote its last sample and now only stays alive. */
  z.object({ kind: z.literal('idle'), t: ns, published: count }),
  z.object({ kind: z.literal('liveliness'), t: ns, alive: count, not_alive: count }),
  z.object({ kind: z.literal('liveliness_lost'), t: ns, total: count }),
  z.object({ kind: z.literal('sample_lost'), t: ns, total: count }),
  z.object({ kind: z.literal('sample_rejected'), t: ns, total: count }),
  // Both roles end with a summary; zod tells them apart by role.
  z.discriminatedUnion('role', [
    z.object({
      kind: z.literal('summary'),
      t: ns,
      role: z.literal('pub'),
      published: count,
      write_errors: count,
      write_timeouts: count,
      /** The longest a single dds_write blocked (reliable keep_all behind a slow reader blocks). */
      longest_write_ns: count,
      deadline_missed: count,
      incompatible: count,
      /**
       * The writer's dds_statistics: Cyclone 0.10.2 has rexmit_bytes, throttle_count, time_throttle
       * and time_rexmit (ns); null when the library exposes none.
       */
      stats: z.record(z.string(), count).nullable(),
    }),
    z.object({
      kind: z.literal('summary'),
      t: ns,
      role: z.literal('sub'),
      received: count,
      lost: count,
      rejected: count,
      deadline_missed: count,
      incompatible: count,
    }),
  ]),
  z.object({ kind: z.literal('error'), flag: z.string().nullable(), message: z.string() }),
]);

/** One line of ddsprobe output. */
export type DdsProbeEvent = z.infer<typeof eventSchema>;
export type DdsProbeEventKind = DdsProbeEvent['kind'];
export type DdsProbeEventOf<K extends DdsProbeEventKind> = Extract<DdsProbeEvent, { kind: K }>;

/** The probe failed in a way that makes its output unusable (garbled output, bad flag, DDS error). */
export class DdsProbeError extends FleetdrillError {
  constructor(
    readonly label: string,
    message: string,
    readonly stderrTail: readonly string[] = [],
  ) {
    const tail = stderrTail.length
      ? `\n--- last stderr lines of ddsprobe ${label} ---\n${stderrTail.join('\n')}`
      : '';
    super(`ddsprobe ${label}: ${message}${tail}`);
  }
}

/** Parses one output line; a line that is not a known event is an error naming probe and line. */
export function parseDdsProbeLine(label: string, line: string): DdsProbeEvent {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new DdsProbeError(label, `garbled output line (not JSON): ${JSON.stringify(line)}`);
  }
  const parsed = eventSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'line';
    throw new DdsProbeError(
      label,
      `garbled output line (${where}: ${issue?.message ?? 'invalid'}): ${JSON.stringify(line)}`,
    );
  }
  return parsed.data;
}

/** What to run: one endpoint of one topic. */
export interface DdsProbeOptions {
  role: 'pub' | 'sub';
  /** DDS topic name: letters, digits, '_' and '/'. */
  topic: string;
  /** What the publisher offers or the subscriber requests. */
  qos: TopicQos;
  /** Publisher only: samples per second (default 10). */
  rateHz?: number;
  /** Publisher only: payload bytes per sample (default 64). */
  sizeBytes?: number;
  /** Stop by itself after this long; default: run until stop(). */
  durationMs?: number;
  /** Publisher only: write this many samples, then stay alive (for late joiners) until stopped. */
  count?: number;
  /** Publisher only: publish only once a subscriber matched, seq starting at 0 then. */
  startAfterMatch?: boolean;
  /** Reliable writers: how long one write may block before it fails with a timeout (DDS default 100 ms). */
  maxBlockingMs?: number;
  /** DDS domain id (default 0). */
  domain?: number;
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** CYCLONEDDS_URI; default: loopback only, no multicast, peers found on 127.0.0.1. */
  cycloneXml?: string;
  /** Names the probe in errors and logs, e.g. `r01-pub-/odom`. */
  label: string;
  /** How long to wait for the probe's `ready` line (default 10 s). */
  readyTimeoutMs?: number;
  /** The probe binary; default ensureDdsProbe()'s build. */
  binary?: string;
}

/** Everything a finished probe reported. */
export interface DdsProbeReport {
  label: string;
  role: 'pub' | 'sub';
  events: DdsProbeEvent[];
  samples: DdsProbeEventOf<'sample'>[];
  matched: DdsProbeEventOf<'matched'>[];
  incompatible: DdsProbeEventOf<'incompatible'>[];
  deadlineMissed: DdsProbeEventOf<'deadline_missed'>[];
  liveliness: (DdsProbeEventOf<'liveliness'> | DdsProbeEventOf<'liveliness_lost'>)[];
  /** Null when the probe was killed before it could print one. */
  summary: DdsProbeEventOf<'summary'> | null;
  /** The probe's own `error` line, if it printed one. */
  error: DdsProbeEventOf<'error'> | null;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string[];
}

/** A running probe. */
export interface StartedDdsProbe {
  readonly label: string;
  readonly role: 'pub' | 'sub';
  /** The probe's pid. */
  readonly pid: number;
  /** Every event so far, in order. */
  readonly events: readonly DdsProbeEvent[];
  /**
   * The first event of `kind` (already seen or still to come) that passes `where`. Rejects with a
   * TimeoutError naming the probe and the kind, or with the probe's failure if it ends first.
   */
  waitFor<K extends DdsProbeEventKind>(
    kind: K,
    timeoutMs: number,
    where?: (event: DdsProbeEventOf<K>) => boolean,
  ): Promise<DdsProbeEventOf<K>>;
  /** SIGTERM, wait for the summary, SIGKILL after `graceMs` (default 3 s). Idempotent. */
  stop(graceMs?: number): Promise<DdsProbeReport>;
  /** Resolves when the process has ended; rejects only on garbled output or a failed spawn. */
  readonly done: Promise<DdsProbeReport>;
  [Symbol.asyncDispose](): Promise<void>;
}

const STDERR_LINES = 40;

/** The command-line flags for one endpoint. */
export function ddsProbeArgs(options: DdsProbeOptions): string[] {
  const { qos } = options;
  const args = [
    options.role,
    '--topic',
    options.topic,
    '--reliability',
    qos.reliability,
    '--durability',
    qos.durability,
    '--history',
    qos.history.kind === 'keep_all' ? 'keep_all' : `keep_last:${qos.history.depth}`,
    '--domain',
    String(options.domain ?? 0),
  ];
  if (qos.deadlineMs !== undefined) args.push('--deadline-ms', String(qos.deadlineMs));
  if (qos.lifespanMs !== undefined) args.push('--lifespan-ms', String(qos.lifespanMs));
  if (qos.liveliness) {
    const lease = qos.liveliness.leaseMs === undefined ? '' : `:${qos.liveliness.leaseMs}`;
    args.push('--liveliness', `${qos.liveliness.kind}${lease}`);
  }
  if (options.maxBlockingMs !== undefined) args.push('--max-blocking-ms', String(options.maxBlockingMs));
  if (options.durationMs !== undefined) args.push('--duration-ms', String(options.durationMs));
  if (options.role === 'pub') {
    if (options.rateHz !== undefined) args.push('--rate-hz', String(options.rateHz));
    if (options.sizeBytes !== undefined) args.push('--size', String(options.sizeBytes));
    if (options.count !== undefined) args.push('--count', String(options.count));
    if (options.startAfterMatch) args.push('--start-after-match');
  }
  return args;
}

/** Loopback only, no multicast; participants find each other on 127.0.0.1's default ports. */
function loopbackXml(): string {
  return cycloneConfigXml({ bindAddress: '127.0.0.1', peers: ['127.0.0.1'], participantIndex: 'auto' });
}

/**
 * Starts one ddsprobe endpoint and resolves once it printed `ready` (its participant, topic and
 * endpoint exist). A probe that fails before that rejects with its own error line, e.g. the flag
 * it refused. The process never outlives this one: SIGKILL on exit, and the probe itself dies
 * with its parent.
 */
export async function startDdsProbe(options: DdsProbeOptions): Promise<StartedDdsProbe> {
  const binary = options.binary ?? (await ensureDdsProbe());
  const args = [...ddsProbeArgs(options), '--parent-pid', String(process.pid)];
  const [file, argv] = options.netns
    ? ['ip', ['netns', 'exec', options.netns, binary, ...args]]
    : [binary, args];
  log('%s: %s %s', options.label, file, argv.join(' '));
  const child = spawn(file, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CYCLONEDDS_URI: options.cycloneXml ?? loopbackXml() },
  });
  const probe = new RunningProbe(options.label, options.role, child);
  try {
    await probe.waitFor('ready', options.readyTimeoutMs ?? 10_000);
  } catch (error) {
    await probe.stop(500).catch(() => undefined);
    throw error;
  }
  return probe;
}

type Waiter = { accept: (event: DdsProbeEvent) => boolean; fail: (error: Error) => void };

class RunningProbe implements StartedDdsProbe {
  readonly events: DdsProbeEvent[] = [];
  readonly done: Promise<DdsProbeReport>;
  readonly pid: number;
  private readonly stderrTail: string[] = [];
  private readonly waiters = new Set<Waiter>();
  private failure: DdsProbeError | undefined;
  private ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private stopping: Promise<DdsProbeReport> | undefined;

  constructor(
    readonly label: string,
    readonly role: 'pub' | 'sub',
    private readonly child: ChildProcess,
  ) {
    this.pid = child.pid ?? -1;
    const unregister = onProcessExit(() => child.kill('SIGKILL'));
    const stdoutClosed = new Promise<void>((resolve) => {
      createInterface({ input: child.stdout! })
        .on('line', (line) => this.onLine(line))
        .on('close', resolve);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_LINES) this.stderrTail.shift();
    });
    const exited = new Promise<void>((resolve) => {
      child.once('error', (error) => {
        this.failure ??= new DdsProbeError(label, `could not start: ${error.message}`);
        this.ended ??= { code: null, signal: null };
        resolve();
      });
      child.once('exit', (code, signal) => {
        this.ended = { code, signal };
        resolve();
      });
    });
    // A grandchild holding our stdout open must not keep the probe "running" after it exited.
    const drained = exited.then(() =>
      Promise.race([stdoutClosed, new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref())]),
    );
    this.done = drained.then(() => {
      unregister();
      const error = this.failure ?? this.exitError();
      for (const waiter of this.waiters) waiter.fail(error);
      this.waiters.clear();
      if (this.failure) throw this.failure;
      return this.report();
    });
    // Callers that only stop() must not see an unhandled rejection; stop() and done still reject.
    this.done.catch(() => undefined);
  }

  private onLine(line: string): void {
    if (this.failure) return;
    let event: DdsProbeEvent;
    try {
      event = parseDdsProbeLine(this.label, line);
    } catch (error) {
      // Output we cannot read makes every later number suspect: end the probe and say why.
      this.failure = error as DdsProbeError;
      this.child.kill('SIGKILL');
      for (const waiter of this.waiters) waiter.fail(this.failure);
      this.waiters.clear();
      return;
    }
    this.events.push(event);
    for (const waiter of [...this.waiters]) if (waiter.accept(event)) this.waiters.delete(waiter);
  }

  private exitError(): DdsProbeError {
    const own = this.events.find((e): e is DdsProbeEventOf<'error'> => e.kind === 'error');
    const how = this.ended?.signal ? `signal ${this.ended.signal}` : `code ${this.ended?.code}`;
    return new DdsProbeError(this.label, own ? own.message : `exited (${how})`, this.stderrTail);
  }

  waitFor<K extends DdsProbeEventKind>(
    kind: K,
    timeoutMs: number,
    where: (event: DdsProbeEventOf<K>) => boolean = () => true,
  ): Promise<DdsProbeEventOf<K>> {
    const matches = (e: DdsProbeEvent): e is DdsProbeEventOf<K> =>
      e.kind === kind && where(e as DdsProbeEventOf<K>);
    const seen = this.events.find(matches);
    if (seen) return Promise.resolve(seen);
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.reject(this.exitError());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new TimeoutError(`ddsprobe ${this.label}: no '${kind}' event within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        accept: (e) => {
          if (!matches(e)) return false;
          clearTimeout(timer);
          resolve(e);
          return true;
        },
        fail: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiters.add(waiter);
    });
  }

  stop(graceMs = 3_000): Promise<DdsProbeReport> {
    this.stopping ??= (async () => {
      if (!this.ended) {
        this.child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const graceOver = new Promise<'grace-over'>((resolve) => {
          timer = setTimeout(() => resolve('grace-over'), graceMs);
        });
        const first = await Promise.race([
          this.done.then(
            () => 'done' as const,
            () => 'done' as const,
          ),
          graceOver,
        ]);
        clearTimeout(timer);
        if (first === 'grace-over') {
          log('%s: no summary %d ms after SIGTERM, SIGKILL', this.label, graceMs);
          this.child.kill('SIGKILL');
        }
      }
      return this.done;
    })();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private report(): DdsProbeReport {
    const of = <K extends DdsProbeEventKind>(kind: K) =>
      this.events.filter((e): e is DdsProbeEventOf<K> => e.kind === kind);
    return {
      label: this.label,
      role: this.role,
      events: [...this.events],
      samples: of('sample'),
      matched: of('matched'),
      incompatible: of('incompatible'),
      deadlineMissed: of('deadline_missed'),
      liveliness: this.events.filter(
        (e): e is DdsProbeEventOf<'liveliness'> | DdsProbeEventOf<'liveliness_lost'> =>
          e.kind === 'liveliness' || e.kind === 'liveliness_lost',
      ),
      summary: of('summary').at(-1) ?? null,
      error: of('error').at(-1) ?? null,
      exitCode: this.ended?.code ?? null,
      signal: this.ended?.signal ?? null,
      stderrTail: [...this.stderrTail],
    };
  }
}
