import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import createDebug from 'debug';
import { deriveSeed } from '../../core/seed.ts';
import { formatAddress, parseAddress } from './address.ts';
import { Connection } from './connection.ts';
import { ApiError, toxicExists, toxicNotFound } from './errors.ts';
import type { ProxyMetrics } from './metrics.ts';
import { parseNewToxic, parseToxicUpdate, toxicJson, type ToxicSpec } from './toxic-spec.ts';

const log = createDebug('fleetdrill:toxiproxy');

/** What every proxy of one server shares. */
export interface ProxyContext {
  seed: number;
  metrics: ProxyMetrics;
}

/** A proxy as configured through the API (validated). */
export interface ProxyConfig {
  name: string;
  listen: string;
  upstream: string;
  /** Unset: true for a new proxy, unchanged for an existing one. */
  enabled?: boolean;
  /** fleetdrill extension: `udp` makes a UDP relay (see udp-proxy.ts). Default `tcp`. */
  protocol?: 'tcp' | 'udp';
}

/** The fields `PATCH /proxies/{p}` may change. */
export interface ProxyPatch {
  listen?: string;
  upstream?: string;
  enabled?: boolean;
}

/** Go's "localhost" resolves to 127.0.0.1 first; Node may pick ::1. Bind what Toxiproxy binds. */
function bindHost(host: string): string | undefined {
  if (host === '') return undefined;
  return host === 'localhost' ? '127.0.0.1' : host;
}

/**
 * One proxy: a TCP listener that joins every client to the upstream through the proxy's
 * toxics. Toxic changes reach live connections at once.
 */
export class Proxy {
  readonly protocol = 'tcp';
  readonly name: string;
  /** The bound address once listening (port 0 resolved); the requested one before. */
  listen: string;
  /** The listen address as last requested, so populating `host:0` again is a no-op. */
  requestedListen: string;
  upstream: string;
  enabled = false;
  private toxicList: ToxicSpec[] = [];
  private server: Server | undefined;
  private readonly connections = new Set<Connection>();
  private accepted = 0;

  constructor(
    private readonly context: ProxyContext,
    config: ProxyConfig,
  ) {
    this.name = config.name;
    this.listen = this.requestedListen = config.listen;
    this.upstream = config.upstream;
  }

  get toxics(): readonly ToxicSpec[] {
    return this.toxicList;
  }

  /** Live connections, for tests and debugging. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Starts listening; idempotent. */
  async start(): Promise<void> {
    if (this.server) return;
    const { host, port } = parseAddress(this.listen, 'listen');
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) =>
      this.accept(socket),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: bindHost(host), port }, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((error: NodeJS.ErrnoException) => {
      // An address that names no interface of this machine is the request's fault (found by
      // fuzzing: `"listen": "a:1"` was a 500). A taken or privileged port stays a 500, as in Toxiproxy.
      const status = error.code === 'ENOTFOUND' || error.code === 'EADDRNOTAVAIL' ? 400 : 500;
      throw new ApiError(status, `proxy ${this.name}: listen ${this.listen}: ${error.message}`);
    });
    server.on('error', (error) => log('proxy %s: listener: %s', this.name, error.message));
    const address = server.address() as AddressInfo;
    this.listen = formatAddress(address.address, address.port);
    this.server = server;
    this.enabled = true;
    log('proxy %s: %s -> %s', this.name, this.listen, this.upstream);
  }

  /** Stops listening and drops every connection; idempotent. */
  async stop(): Promise<void> {
    this.enabled = false;
    const server = this.server;
    this.server = undefined;
    for (const connection of this.connections) connection.destroy();
    this.connections.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Applies a PATCH: a new listen address or upstream restarts the listener. */
  async update(patch: ProxyPatch): Promise<void> {
    if (patch.listen !== undefined) parseAddress(patch.listen, 'listen');
    if (patch.upstream !== undefined) parseAddress(patch.upstream, 'upstream');
    const enabled = patch.enabled ?? this.enabled;
    const listenChanged = patch.listen !== undefined && patch.listen !== this.listen;
    const upstreamChanged = patch.upstream !== undefined && patch.upstream !== this.upstream;
    if (listenChanged || upstreamChanged) {
      await this.stop();
      if (patch.listen !== undefined && listenChanged) this.listen = this.requestedListen = patch.listen;
      if (patch.upstream !== undefined) this.upstream = patch.upstream;
      if (enabled) await this.start();
    } else if (enabled && !this.enabled) {
      await this.start();
    } else if (!enabled && this.enabled) {
      await this.stop();
    }
  }

  /** True when populating `config` would leave this proxy as it is. */
  matches(config: ProxyConfig): boolean {
    return (
      config.protocol !== 'udp' &&
      (config.listen === this.listen || config.listen === this.requestedListen) &&
      config.upstream === this.upstream
    );
  }

  /** Validates a new toxic for this proxy (TCP toxic types). */
  parseToxic(body: unknown): ToxicSpec {
    return parseNewToxic(body);
  }

  toxic(name: string): ToxicSpec {
    const toxic = this.toxicList.find((candidate) => candidate.name === name);
    if (!toxic) throw toxicNotFound();
    return toxic;
  }

  addToxic(toxic: ToxicSpec): void {
    if (this.toxicList.some((candidate) => candidate.name === toxic.name)) throw toxicExists();
    this.toxicList = [...this.toxicList, toxic];
    for (const connection of this.connections) connection.addToxic(toxic);
  }

  updateToxic(name: string, body: unknown): ToxicSpec {
    const updated = parseToxicUpdate(this.toxic(name), body);
    this.toxicList = this.toxicList.map((toxic) => (toxic.name === name ? updated : toxic));
    for (const connection of this.connections) connection.updateToxic(updated);
    return updated;
  }

  removeToxic(name: string): void {
    const toxic = this.toxic(name);
    this.toxicList = this.toxicList.filter((candidate) => candidate !== toxic);
    for (const connection of this.connections) connection.removeToxic(toxic);
  }

  removeAllToxics(): void {
    for (const toxic of this.toxicList) this.removeToxic(toxic.name);
  }

  json() {
    return {
      name: this.name,
      listen: this.listen,
      upstream: this.upstream,
      enabled: this.enabled,
      toxics: this.toxicList.map(toxicJson),
    };
  }

  private accept(client: Socket): void {
    if (!this.enabled) {
      client.destroy();
      return;
    }
    const ordinal = this.accepted++;
    const { metrics, seed } = this.context;
    const { listen, upstream, name } = this;
    const connection: Connection = new Connection(client, {
      label: `${name}#${ordinal}`,
      upstream: parseAddress(upstream, 'upstream'),
      toxics: () => this.toxicList,
      counters: {
        upstream: metrics.counter(name, listen, upstream, 'upstream'),
        downstream: metrics.counter(name, listen, upstream, 'downstream'),
      },
      seedFor: (stream, toxic, added) => deriveSeed(seed, name, ordinal, stream, toxic, added),
      onClose: () => this.connections.delete(connection),
    });
    this.connections.add(connection);
  }
}
