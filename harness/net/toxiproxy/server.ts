import { randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import createDebug from 'debug';
import { ConfigError, FleetdrillError, runAll } from '../../core/errors.ts';
import { ToxiproxyApi, JSON_TYPE, errorResponse, parseJsonBody, type ApiResponse } from './api.ts';
import { ProxyCollection } from './collection.ts';
import { ApiError } from './errors.ts';
import { ProxyMetrics } from './metrics.ts';

const log = createDebug('fleetdrill:toxiproxy');

/** Request bodies above this are refused: the API's bodies are a few hundred bytes. */
const MAX_BODY = 1024 * 1024;

/** How the embedded Toxiproxy-compatible server starts. */
export interface ToxiproxyServerOptions {
  /** Interface the HTTP API listens on. Default 127.0.0.1. */
  host?: string;
  /** HTTP API port; 0 (the default) picks a free one. The standalone command defaults to 8474. */
  port?: number;
  /** Seed for jitter and toxicity draws; default a fresh one, readable as `seed` once started. */
  seed?: number;
  /**
   * Proxies to create before the API answers, as `POST /populate` takes them
   * (`[{ name, listen, upstream, enabled? }]`). A bad entry fails `start()`.
   */
  proxies?: readonly unknown[];
}

/**
 * An embedded server speaking Toxiproxy 2.12's HTTP API, with a TCP data plane and the
 * standard toxics. toxiproxy-node-client, @testcontainers/toxiproxy and toxiproxy-cli can drive
 * it as they would drive toxiproxy-server. `start()` returns the running server.
 */
export class ToxiproxyServer {
  constructor(private readonly options: ToxiproxyServerOptions = {}) {}

  async start(): Promise<StartedToxiproxyServer> {
    const host = this.options.host ?? '127.0.0.1';
    const port = this.options.port ?? 0;
    const seed = this.options.seed ?? randomInt(0, 0xffffffff);
    const metrics = new ProxyMetrics();
    const proxies = new ProxyCollection({ seed, metrics });
    const api = new ToxiproxyApi(proxies, metrics);
    const server = createServer((request, response) => void respond(api, request, response));
    try {
      if (this.options.proxies) {
        const result = await proxies.populate(this.options.proxies);
        if (result.error) {
          const where = result.index === undefined ? 'proxies' : `proxies[${result.index}]:`;
          throw new ConfigError(where, result.error.message);
        }
      }
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port }, () => {
          server.off('error', reject);
          resolve();
        });
      }).catch((error: Error) => {
        throw new FleetdrillError(`toxiproxy API cannot listen on ${host}:${port}: ${error.message}`);
      });
    } catch (error) {
      await proxies.stopAll();
      throw error;
    }
    server.on('error', (error) => log('API server: %s', error.message));
    const bound = (server.address() as AddressInfo).port;
    log('toxiproxy API on %s:%d, seed %d', host, bound, seed);
    return new StartedToxiproxyServer(server, proxies, host, bound, seed);
  }
}

/** The running server. `stop()` closes the API, every proxy listener and every connection. */
export class StartedToxiproxyServer {
  /** The API's base URL, such as `http://127.0.0.1:8474`. */
  readonly url: string;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly server: Server,
    private readonly proxies: ProxyCollection,
    /** Interface the API listens on. */
    readonly host: string,
    /** The API's port. */
    readonly port: number,
    /** The seed jitter and toxicity are drawn from. */
    readonly seed: number,
  ) {
    const reachable = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
    this.url = `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
  }

  /** Proxy names and the addresses they listen on, as the API would show them. */
  listeners(): Record<string, string> {
    return Object.fromEntries(this.proxies.all().map((proxy) => [proxy.name, proxy.listen]));
  }

  /** Stops everything; safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= runAll([
      () =>
        new Promise<void>((resolve) => {
          this.server.close(() => resolve());
          this.server.closeAllConnections();
        }),
      () => this.proxies.stopAll(),
    ]);
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * Reads a request body. Past MAX_BODY bytes the rest is read and dropped, so the client still
 * gets its 413 instead of a reset.
 */
async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  }
  if (size > MAX_BODY) throw new ApiError(413, `request body over ${MAX_BODY} bytes`);
  return Buffer.concat(chunks).toString('utf8');
}

async function respond(api: ToxiproxyApi, request: IncomingMessage, response: ServerResponse): Promise<void> {
  // Toxiproxy tags every response with an id; 20 characters, like its xids.
  response.setHeader('X-Toxiproxy-Request-Id', randomBytes(10).toString('hex'));
  let result: ApiResponse;
  try {
    // A web page must not be able to drive the proxy through the user's browser.
    if (request.headers['user-agent']?.startsWith('Mozilla/')) {
      throw new ApiError(403, 'User agent not allowed');
    }
    const text = await readBody(request);
    const path = new URL(request.url ?? '/', 'http://toxiproxy').pathname;
    result = await api.handle({ method: request.method ?? 'GET', path, body: () => parseJsonBody(text) });
  } catch (error) {
    result = errorResponse(error instanceof ApiError ? error : new ApiError(500, (error as Error).message));
  }
  if (response.destroyed) return;
  if ('json' in result) {
    response.writeHead(result.status, { 'Content-Type': JSON_TYPE });
    response.end(`${JSON.stringify(result.json)}\n`);
  } else if ('text' in result) {
    response.writeHead(result.status, { 'Content-Type': result.contentType });
    response.end(result.text);
  } else {
    response.writeHead(result.status);
    response.end();
  }
}
