import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { deriveSeed, SeededRandom } from '../../core/seed.ts';
import type { Datagram, UdpToxicKind } from './toxic.ts';
import { duplicate } from './toxics/duplicate.ts';
import { gilbertElliott } from './toxics/gilbert-elliott.ts';
import { latency } from './toxics/latency.ts';
import { loss } from './toxics/loss.ts';
import { reorder } from './toxics/reorder.ts';

/** The UDP impairments, by the `type` a toxic names. */
export const UDP_TOXICS: ReadonlyMap<string, UdpToxicKind<unknown>> = new Map(
  [latency, loss, gilbertElliott, duplicate, reorder].map((kind) => [
    kind.type,
    kind as UdpToxicKind<unknown>,
  ]),
);

export type UdpStream = 'upstream' | 'downstream';

/** A UDP toxic as the API shows it: the same shape as a Toxiproxy toxic. */
export interface UdpToxic {
  name: string;
  type: string;
  stream: UdpStream;
  toxicity: number;
  attributes: Record<string, number>;
}

/** Datagram counts for one direction. */
export interface UdpStreamStats {
  received: number;
  sent: number;
  dropped: number;
  duplicated: number;
}

/** A toxic could not be added or changed; `status` is the HTTP status the API answers with. */
export class UdpToxicError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409,
  ) {
    super(message);
  }
}

/**
 * Kernel receive buffer per socket: a sensor burst must queue here, not be dropped by the kernel
 * and counted as loss the relay never injected. The kernel caps it at net.core.rmem_max.
 */
const RECV_BUFFER_BYTES = 4 * 1024 * 1024;

/** A toxic as a request gives it: anything may be missing or of the wrong type. */
export interface ToxicInput {
  name?: string;
  type?: unknown;
  stream?: unknown;
  toxicity?: unknown;
  attributes?: unknown;
}

function parseToxicity(value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new UdpToxicError('toxicity must be a number in 0..1', 400);
  }
  return value;
}

function parseAttributes(kind: UdpToxicKind<unknown>, raw: unknown): Record<string, number> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UdpToxicError('attributes must be an object', 400);
  }
  try {
    return kind.parse(raw as Record<string, unknown>) as Record<string, number>;
  } catch (error) {
    throw new UdpToxicError((error as Error).message, 400);
  }
}

/** Flows idle this long are forgotten and their upstream sockets closed. */
const FLOW_IDLE_MS = 60_000;

/** One client address talking through the relay, with its own socket towards the upstream. */
/** Datagrams a flow holds for the upstream while its socket connects (a tick, unless it fails). */
const MAX_PENDING = 64;

interface Flow {
  index: number;
  client: RemoteInfo;
  socket: Socket;
  /** Datagrams for the upstream while the socket connects; undefined once connected. */
  pending: Buffer[] | undefined;
  lastSeen: number;
  chains: Record<UdpStream, Array<(packet: Datagram) => Datagram[]>>;
}

function splitHostPort(address: string, field: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new UdpToxicError(`${field} must be host:port, got ${JSON.stringify(address)}`, 400);
  }
  return { host, port };
}

/** What a UDP relay is: where it listens, where it forwards, and its seed. */
export interface UdpRelayOptions {
  name: string;
  /** `host:port`; port 0 picks a free one. */
  listen: string;
  upstream: string;
  seed: number;
  enabled?: boolean;
}

/**
 * A UDP relay with Toxiproxy-style toxics: datagrams from each client go to the upstream from a
 * socket of their own, so replies find their way back, and each direction runs through its own
 * chain of impairments (loss, burst loss, latency and jitter, duplication, reordering).
 * Toxiproxy itself has no UDP; this is fleetdrill's extension for DDS/RTPS traffic.
 */
export class UdpRelay {
  static async start(options: UdpRelayOptions): Promise<UdpRelay> {
    const listen = splitHostPort(options.listen, 'listen');
    const upstream = splitHostPort(options.upstream, 'upstream');
    const socket = createSocket(listen.host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(listen.port, listen.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.setRecvBufferSize(RECV_BUFFER_BYTES);
    return new UdpRelay(options, socket, upstream);
  }

  readonly stats: Record<UdpStream, UdpStreamStats> = {
    upstream: { received: 0, sent: 0, dropped: 0, duplicated: 0 },
    downstream: { received: 0, sent: 0, dropped: 0, duplicated: 0 },
  };
  private readonly flows = new Map<string, Flow>();
  private readonly toxicList: UdpToxic[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sweeper: NodeJS.Timeout;
  private flowCount = 0;
  private closed = false;
  enabled: boolean;

  private constructor(
    private readonly options: UdpRelayOptions,
    private readonly socket: Socket,
    private upstreamAddress: { host: string; port: number },
  ) {
    this.enabled = options.enabled ?? true;
    socket.on('message', (data, client) => this.fromClient(data, client));
    socket.on('error', () => undefined);
    this.sweeper = setInterval(() => this.sweep(), FLOW_IDLE_MS / 4);
    this.sweeper.unref();
  }

  get name(): string {
    return this.options.name;
  }

  /** The real `host:port` the relay listens on. */
  get listen(): string {
    const { address, port } = this.socket.address();
    return `${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  get upstream(): string {
    return `${this.upstreamAddress.host}:${this.upstreamAddress.port}`;
  }

  get toxics(): readonly UdpToxic[] {
    return this.toxicList;
  }

  /** Validates a toxic and fills in Toxiproxy's defaults (stream downstream, toxicity 1, name). */
  static validateToxic(input: ToxicInput): UdpToxic {
    const kind = typeof input.type === 'string' ? UDP_TOXICS.get(input.type) : undefined;
    if (!kind) throw new UdpToxicError('invalid toxic type', 400);
    const stream = input.stream ?? 'downstream';
    if (stream !== 'upstream' && stream !== 'downstream')
      throw new UdpToxicError('stream must be upstream or downstream', 400);
    return {
      name: input.name ?? `${kind.type}_${stream}`,
      type: kind.type,
      stream,
      toxicity: parseToxicity(input.toxicity ?? 1),
      attributes: parseAttributes(kind, input.attributes ?? {}),
    };
  }

  addToxic(input: ToxicInput): UdpToxic {
    const toxic = UdpRelay.validateToxic(input);
    if (this.toxicList.some((existing) => existing.name === toxic.name))
      throw new UdpToxicError('toxic already exists', 409);
    this.toxicList.push(toxic);
    this.rebuildChains();
    return toxic;
  }

  updateToxic(name: string, input: { toxicity?: unknown; attributes?: unknown }): UdpToxic {
    const toxic = this.toxicList.find((t) => t.name === name);
    if (!toxic) throw new UdpToxicError('toxic not found', 404);
    const kind = UDP_TOXICS.get(toxic.type) as UdpToxicKind<unknown>;
    if (input.toxicity !== undefined) toxic.toxicity = parseToxicity(input.toxicity);
    if (input.attributes !== undefined) {
      toxic.attributes = parseAttributes(kind, { ...toxic.attributes, ...(input.attributes as object) });
    }
    this.rebuildChains();
    return toxic;
  }

  removeToxic(name: string): void {
    const index = this.toxicList.findIndex((t) => t.name === name);
    if (index < 0) throw new UdpToxicError('toxic not found', 404);
    this.toxicList.splice(index, 1);
    this.rebuildChains();
  }

  removeAllToxics(): void {
    this.toxicList.length = 0;
    this.rebuildChains();
  }

  /** Points the relay at a new upstream; existing flows are dropped and start afresh. */
  setUpstream(upstream: string): void {
    this.upstreamAddress = splitHostPort(upstream, 'upstream');
    for (const flow of this.flows.values()) flow.socket.close();
    this.flows.clear();
  }

  /** Closes the socket, every flow and every pending delayed datagram. Idempotent. */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const flow of this.flows.values()) flow.socket.close();
    this.flows.clear();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private fromClient(data: Buffer, client: RemoteInfo): void {
    if (this.closed) return;
    const key = `${client.address}:${client.port}`;
    let flow = this.flows.get(key);
    if (!flow) {
      flow = this.openFlow(client);
      this.flows.set(key, flow);
    }
    flow.lastSeen = Date.now();
    const target = flow;
    this.pass('upstream', flow, data, (out) => {
      if (!target.pending) target.socket.send(out);
      // A connect that failed (no route) would otherwise queue the client's stream for ever.
      else if (target.pending.length < MAX_PENDING) target.pending.push(out);
    });
  }

  private openFlow(client: RemoteInfo): Flow {
    const socket = createSocket(client.family === 'IPv6' ? 'udp6' : 'udp4');
    const flow: Flow = {
      index: this.flowCount++,
      client,
      socket,
      pending: [],
      lastSeen: Date.now(),
      chains: { upstream: [], downstream: [] },
    };
    socket.on('message', (data) => {
      if (this.closed) return;
      flow.lastSeen = Date.now();
      this.pass('downstream', flow, data, (out) => this.socket.send(out, client.port, client.address));
    });
    socket.on('error', () => undefined);
    // Connected, not bound to every interface: the kernel binds the one local address that routes
    // to the upstream and lets in datagrams from the upstream alone, so no other machine can send
    // the client "replies" through this port. The buffer is sized before the first reply.
    socket.connect(this.upstreamAddress.port, this.upstreamAddress.host, () => {
      socket.setRecvBufferSize(RECV_BUFFER_BYTES);
      const queued = flow.pending ?? [];
      flow.pending = undefined;
      for (const out of queued) socket.send(out);
    });
    this.buildChains(flow);
    return flow;
  }

  private pass(stream: UdpStream, flow: Flow, data: Buffer, send: (data: Buffer) => void): void {
    const stats = this.stats[stream];
    stats.received++;
    if (!this.enabled) {
      stats.dropped++;
      return;
    }
    let packets: Datagram[] = [{ data, delayMs: 0 }];
    for (const toxic of flow.chains[stream]) packets = packets.flatMap(toxic);
    if (packets.length === 0) stats.dropped++;
    else stats.duplicated += packets.length - 1;
    for (const packet of packets) {
      if (packet.delayMs <= 0) {
        stats.sent++;
        send(packet.data);
        continue;
      }
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        stats.sent++;
        send(packet.data);
      }, packet.delayMs);
      this.timers.add(timer);
    }
  }

  private rebuildChains(): void {
    for (const flow of this.flows.values()) this.buildChains(flow);
  }

  /**
   * Each toxic applies to a flow and direction or not, drawn once (as Toxiproxy does per
   * connection), from a stream seeded by relay, flow order and toxic: replays match.
   */
  private buildChains(flow: Flow): void {
    for (const stream of ['upstream', 'downstream'] as const) {
      flow.chains[stream] = this.toxicList
        .filter((toxic) => toxic.stream === stream)
        .flatMap((toxic) => {
          const random = new SeededRandom(
            deriveSeed(this.options.seed, this.name, flow.index, toxic.name, stream),
          );
          if (random.next() >= toxic.toxicity) return [];
          const kind = UDP_TOXICS.get(toxic.type) as UdpToxicKind<unknown>;
          return [kind.start(toxic.attributes, random)];
        });
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, flow] of this.flows) {
      if (now - flow.lastSeen > FLOW_IDLE_MS) {
        flow.socket.close();
        this.flows.delete(key);
      }
    }
  }
}
