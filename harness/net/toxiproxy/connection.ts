import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import createDebug from 'debug';
import { SeededRandom } from '../../core/seed.ts';
import type { Address } from './address.ts';
import type { ByteCounter } from './metrics.ts';
import type { Stream, ToxicSpec } from './toxic-spec.ts';
import { toxicType } from './toxics/registry.ts';
import type { ToxicInput, ToxicStub } from './toxics/types.ts';

const log = createDebug('fleetdrill:toxiproxy');

/**
 * Bytes that may wait inside one direction's toxics before the sender is paused; a latency
 * toxic holds about `latency × throughput`, so this caps throughput under latency, as
 * Toxiproxy's bounded channels do.
 */
const QUEUE_LIMIT = 4 * 1024 * 1024;

const now = () => performance.now();

/** Where one stage of a direction sends its output: the next toxic, or the socket. */
interface Sink {
  push(data: Buffer): void;
  pushEnd(): void;
}

type Queued = Extract<ToxicInput, { kind: 'data' | 'end' }>;

const INTERRUPT: ToxicInput = { kind: 'interrupt' };
const DEADLINE: ToxicInput = { kind: 'deadline' };
const END: Queued = { kind: 'end' };

/** Runs `fire` at `time` (monotonic ms), never early: Node's timers may fire a little early. */
function alarm(time: number, fire: () => void): { cancel(): void } {
  let timer: NodeJS.Timeout;
  const arm = () => {
    timer = setTimeout(() => (now() >= time ? fire() : arm()), Math.max(1, Math.ceil(time - now())));
  };
  arm();
  return { cancel: () => clearTimeout(timer) };
}

/**
 * One toxic on one direction of one connection. `pass`: inactive (toxicity missed or the toxic
 * returned), input goes straight on. `run`: the toxic's pipe reads the queue. `hold`: a
 * removal or update is under way; input queues so that nothing overtakes what the toxic holds.
 */
class Stage implements ToxicStub, Sink {
  private mode: 'pass' | 'run' | 'hold' = 'hold';
  private readonly queue: Queued[] = [];
  private reader: { resolve(input: ToxicInput): void; alarm?: { cancel(): void } } | undefined;
  private sleeper: { resolve(done: boolean): void; alarm: { cancel(): void } } | undefined;
  private running: Promise<void> | undefined;
  private transitions: Promise<void> = Promise.resolve();
  /** Set once removal starts: lookups by name skip this stage from then on. */
  removing = false;
  bytesWritten = 0;

  constructor(
    private readonly link: Link,
    public spec: ToxicSpec,
    private readonly rng: SeededRandom,
  ) {}

  push(data: Buffer): void {
    if (this.link.killed) return;
    if (this.mode === 'pass') return this.link.after(this).push(data);
    this.enqueue({ kind: 'data', data, arrivedAt: now() });
  }

  pushEnd(): void {
    if (this.link.killed) return;
    if (this.mode === 'pass') return this.link.after(this).pushEnd();
    this.enqueue(END);
  }

  private enqueue(item: Queued): void {
    const reader = this.reader;
    if (reader) {
      this.reader = undefined;
      reader.alarm?.cancel();
      reader.resolve(item);
      return;
    }
    this.queue.push(item);
    if (item.kind === 'data') this.link.queued += item.data.length;
  }

  read(deadline?: number): Promise<ToxicInput> {
    if (this.mode !== 'run' || this.link.killed) return Promise.resolve(INTERRUPT);
    const item = this.queue.shift();
    if (item) {
      if (item.kind === 'data') this.link.dequeued(item.data.length);
      return Promise.resolve(item);
    }
    if (deadline !== undefined && deadline <= now()) return Promise.resolve(DEADLINE);
    return new Promise((resolve) => {
      const reader: NonNullable<Stage['reader']> = { resolve };
      if (deadline !== undefined) {
        reader.alarm = alarm(deadline, () => {
          this.reader = undefined;
          resolve(DEADLINE);
        });
      }
      this.reader = reader;
    });
  }

  write(data: Buffer): void {
    if (this.link.killed || data.length === 0) return;
    this.bytesWritten += data.length;
    this.link.after(this).push(data);
  }

  end(): void {
    if (!this.link.killed) this.link.after(this).pushEnd();
  }

  close(): void {
    this.link.connection.close();
  }

  reset(): void {
    this.link.connection.reset();
  }

  sleepUntil(time: number): Promise<boolean> {
    if (this.mode !== 'run' || this.link.killed) return Promise.resolve(false);
    if (time <= now()) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.sleeper = {
        resolve,
        alarm: alarm(time, () => {
          this.sleeper = undefined;
          resolve(true);
        }),
      };
    });
  }

  now(): number {
    return now();
  }

  random(): number {
    return this.rng.next();
  }

  /** Draws toxicity and starts the toxic, or lets data pass when the draw misses. */
  start(): void {
    if (this.link.killed) return;
    const type = toxicType(this.spec.type);
    if (!type || !(this.rng.next() < this.spec.toxicity)) {
      this.mode = 'pass';
      this.flush();
      return;
    }
    this.mode = 'run';
    const running = type.pipe(this, this.spec.attributes).catch((error: unknown) => {
      log('toxic %s failed on %s: %O', this.spec.name, this.link.connection.label, error);
      this.link.connection.destroy();
    });
    this.running = running;
    void running.then(() => {
      if (this.running !== running) return;
      this.running = undefined;
      // The toxic returned by itself (the stream ended): whatever still comes passes.
      if (this.mode === 'run') {
        this.mode = 'pass';
        this.flush();
      }
    });
  }

  /** Restarts the toxic with new settings; queued data keeps its place. */
  update(spec: ToxicSpec): void {
    this.transition(async () => {
      await this.halt();
      this.spec = spec;
      this.start();
    });
  }

  /** Stops the toxic, hands what it holds to the next stage and leaves the chain. */
  remove(): void {
    this.removing = true;
    this.transition(async () => {
      await this.halt();
      this.flush();
      this.link.detach(this);
    });
  }

  /** The connection is gone: drop everything and wake the toxic so it returns. */
  kill(): void {
    this.mode = 'hold';
    this.interrupt();
    this.queue.length = 0;
  }

  private transition(step: () => Promise<void>): void {
    this.transitions = this.transitions.then(step).catch((error: unknown) => {
      log('toxic %s: update failed: %O', this.spec.name, error);
      this.link.connection.destroy();
    });
  }

  private async halt(): Promise<void> {
    this.mode = 'hold';
    this.interrupt();
    if (this.running) await this.running;
  }

  private interrupt(): void {
    const { reader, sleeper } = this;
    this.reader = undefined;
    this.sleeper = undefined;
    reader?.alarm?.cancel();
    reader?.resolve(INTERRUPT);
    sleeper?.alarm.cancel();
    sleeper?.resolve(false);
  }

  private flush(): void {
    if (this.queue.length === 0) return;
    const next = this.link.after(this);
    for (const item of this.queue.splice(0)) {
      if (item.kind === 'data') {
        this.link.dequeued(item.data.length);
        next.push(item.data);
      } else {
        next.pushEnd();
      }
    }
  }
}

/**
 * One direction of a connection: the source socket's data runs through the toxics of that
 * stream, in the order they were added, to the target socket. With no toxics the source writes
 * to the target directly, which is as cheap as `pipe()`; since both paths run in the same
 * 'data' handler and a removed toxic hands on what it holds before it leaves, switching between
 * them never drops or reorders a byte.
 */
class Link {
  readonly stages: Stage[] = [];
  queued = 0;
  killed = false;
  private paused = false;
  private added = 0;
  private readonly terminal: Sink;

  constructor(
    readonly connection: Connection,
    readonly stream: Stream,
    private readonly source: Socket,
    private readonly target: Socket,
    private readonly counter: ByteCounter,
  ) {
    this.terminal = {
      push: (data) => {
        this.counter.sent += data.length;
        if (this.target.writable) this.target.write(data);
      },
      pushEnd: () => {
        if (this.target.writable) this.target.end();
      },
    };
  }

  start(toxics: readonly ToxicSpec[]): void {
    for (const toxic of toxics) this.add(toxic);
    this.source.on('data', (data: Buffer) => {
      this.counter.received += data.length;
      (this.stages[0] ?? this.terminal).push(data);
      if (this.target.writableNeedDrain || this.queued > QUEUE_LIMIT) {
        this.paused = true;
        this.source.pause();
      }
    });
    this.source.on('end', () => (this.stages[0] ?? this.terminal).pushEnd());
    this.target.on('drain', () => this.maybeResume());
    this.source.resume();
  }

  /** Where `stage` sends its output. */
  after(stage: Stage): Sink {
    const index = this.stages.indexOf(stage);
    return (index >= 0 && this.stages[index + 1]) || this.terminal;
  }

  add(toxic: ToxicSpec): void {
    const stage = new Stage(
      this,
      toxic,
      new SeededRandom(this.connection.seedFor(this.stream, toxic.name, this.added++)),
    );
    this.stages.push(stage);
    stage.start();
  }

  update(toxic: ToxicSpec): void {
    this.find(toxic.name)?.update(toxic);
  }

  remove(name: string): void {
    const stage = this.find(name);
    if (stage) stage.remove();
  }

  detach(stage: Stage): void {
    const index = this.stages.indexOf(stage);
    if (index >= 0) this.stages.splice(index, 1);
  }

  dequeued(bytes: number): void {
    this.queued -= bytes;
    this.maybeResume();
  }

  kill(): void {
    this.killed = true;
    for (const stage of this.stages) stage.kill();
    this.queued = 0;
  }

  private find(name: string): Stage | undefined {
    return this.stages.find((stage) => stage.spec.name === name && !stage.removing);
  }

  private maybeResume(): void {
    if (!this.paused || this.killed) return;
    if (this.target.writableNeedDrain || this.queued > QUEUE_LIMIT / 2) return;
    this.paused = false;
    this.source.resume();
  }
}

/** What a connection needs from its proxy. */
export interface ConnectionOptions {
  /** For logs: `<proxy>#<n>`. */
  label: string;
  upstream: Address;
  /** The proxy's toxics when the upstream connection is made. */
  toxics: () => readonly ToxicSpec[];
  counters: Record<Stream, ByteCounter>;
  /** Seed for one toxic's random draws on this connection. */
  seedFor: (stream: Stream, toxic: string, ordinal: number) => number;
  /** Called once both sockets have closed. */
  onClose: () => void;
}

/**
 * A client connection and its upstream connection, joined by two links: `upstream` carries
 * client → server, `downstream` server → client. Half-closes pass through, so a client may
 * finish sending and still read the reply.
 */
export class Connection {
  readonly label: string;
  private readonly server: Socket;
  private links: Record<Stream, Link> | undefined;
  private open = 2;
  private killed = false;

  constructor(
    private readonly client: Socket,
    private readonly options: ConnectionOptions,
  ) {
    this.label = options.label;
    client.setNoDelay(true);
    client.on('error', (error) => this.fail('client', error));
    this.server = connect({
      host: options.upstream.host || '127.0.0.1',
      port: options.upstream.port,
      allowHalfOpen: true,
      noDelay: true,
    });
    this.server.on('error', (error) => this.fail('upstream', error));
    this.server.once('connect', () => this.join());
    for (const socket of [client, this.server]) {
      socket.once('close', () => {
        // A client that goes before the upstream answers leaves nothing to wait for.
        if (!this.links) this.destroy();
        if (--this.open === 0) {
          this.kill();
          options.onClose();
        }
      });
    }
  }

  seedFor(stream: Stream, toxic: string, ordinal: number): number {
    return this.options.seedFor(stream, toxic, ordinal);
  }

  addToxic(toxic: ToxicSpec): void {
    this.links?.[toxic.stream].add(toxic);
  }

  updateToxic(toxic: ToxicSpec): void {
    this.links?.[toxic.stream].update(toxic);
  }

  removeToxic(toxic: ToxicSpec): void {
    this.links?.[toxic.stream].remove(toxic.name);
  }

  /** Closes both sides with a FIN once what was written has gone out. */
  close(): void {
    this.kill();
    for (const socket of [this.client, this.server]) socket.destroySoon();
  }

  /** Closes both sides with a TCP RST. */
  reset(): void {
    this.kill();
    for (const socket of [this.client, this.server]) {
      try {
        socket.resetAndDestroy();
      } catch {
        // Not connected (yet or any more): there is nothing to reset, only to close.
        socket.destroy();
      }
    }
  }

  /** Drops both sides at once. */
  destroy(): void {
    this.kill();
    this.client.destroy();
    this.server.destroy();
  }

  private join(): void {
    if (this.killed) return;
    const { counters, toxics } = this.options;
    this.links = {
      upstream: new Link(this, 'upstream', this.client, this.server, counters.upstream),
      downstream: new Link(this, 'downstream', this.server, this.client, counters.downstream),
    };
    const all = toxics();
    this.links.upstream.start(all.filter((toxic) => toxic.stream === 'upstream'));
    this.links.downstream.start(all.filter((toxic) => toxic.stream === 'downstream'));
  }

  private fail(side: string, error: Error): void {
    log('%s: %s socket: %s', this.label, side, error.message);
    this.destroy();
  }

  private kill(): void {
    if (this.killed) return;
    this.killed = true;
    this.links?.upstream.kill();
    this.links?.downstream.kill();
  }
}
