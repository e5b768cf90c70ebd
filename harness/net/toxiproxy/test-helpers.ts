import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Fixtures, PlaywrightTestArgs, PlaywrightTestOptions } from '@playwright/test';
import { Toxiproxy, type Proxy } from 'toxiproxy-node-client';
import { ToxiproxyServer, type StartedToxiproxyServer } from './index.ts';

/** A TCP server for tests: each connection gets `handle`; `stop()` drops them all. */
export interface TcpServer {
  port: number;
  address: string;
  /** Every connection accepted so far, open or not. */
  sockets: Socket[];
  stop(): Promise<void>;
}

export async function startTcpServer(handle: (socket: Socket) => void): Promise<TcpServer> {
  const sockets: Socket[] = [];
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    address: `127.0.0.1:${port}`,
    sockets,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Echoes everything back and half-closes when the client does. */
export const startEcho = () => startTcpServer((socket) => socket.pipe(socket));

/** How a test connection ended. */
export interface Closed {
  how: 'end' | 'error';
  code?: string;
  /** performance.now() when it happened. */
  at: number;
}

/** A client socket that records what it receives, when, and how it ended. */
export class TestClient {
  readonly chunks: Array<{ data: Buffer; at: number }> = [];
  /** Resolves on the first of 'end' or 'error'. */
  readonly closed: Promise<Closed>;
  /** Bytes received so far. */
  receivedBytes = 0;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => {
      this.chunks.push({ data, at: performance.now() });
      this.receivedBytes += data.length;
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => {
      socket.once('end', () => resolve({ how: 'end', at: performance.now() }));
      socket.once('error', (error: NodeJS.ErrnoException) =>
        resolve({ how: 'error', code: error.code, at: performance.now() }),
      );
    });
  }

  static async connect(port: number): Promise<TestClient> {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const client = new TestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return client;
  }

  get received(): Buffer {
    return Buffer.concat(this.chunks.map((chunk) => chunk.data));
  }

  /** Waits until `bytes` bytes in all have arrived; returns the time the last one did. */
  async waitFor(bytes: number, timeoutMs = 10_000): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.receivedBytes >= bytes) return this.chunks.at(-1)!.at;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`got ${this.receivedBytes} of ${bytes} bytes in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends `data` and returns how long until `data.length` more bytes came back (ms). */
  async roundTrip(data: Buffer | string = 'ping', timeoutMs = 10_000): Promise<number> {
    const expected = this.receivedBytes + Buffer.byteLength(data);
    const start = performance.now();
    this.socket.write(data);
    return (await this.waitFor(expected, timeoutMs)) - start;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Resolves with what happens first: the promise, or 'timeout' after `ms`. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([
    promise,
    new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms)),
  ]);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The port of a `host:port` listen address. */
export const portOf = (listen: string) => Number(listen.slice(listen.lastIndexOf(':') + 1));

/** Connects to a proxy by its listen address. */
export const connectTo = (proxy: { listen: string }) => TestClient.connect(portOf(proxy.listen));

/** Fixtures of the toxiproxy tests. */
export interface ProxyFixtures {
  /** An embedded server with seed 7. */
  server: StartedToxiproxyServer;
  echo: TcpServer;
  /** toxiproxy-node-client pointed at `server`. */
  toxiproxy: Toxiproxy;
  /** A proxy in front of `echo`, made through the client. */
  echoProxy: Proxy;
}

/** For `base.extend<ProxyFixtures>(proxyFixtures)`: each owns what it starts. */
export const proxyFixtures: Fixtures<ProxyFixtures, object, PlaywrightTestArgs & PlaywrightTestOptions> = {
  server: async ({}, use) => {
    const server = await new ToxiproxyServer({ seed: 7 }).start();
    await use(server);
    await server.stop();
  },
  echo: async ({}, use) => {
    const echo = await startEcho();
    await use(echo);
    await echo.stop();
  },
  toxiproxy: async ({ server }, use) => {
    await use(new Toxiproxy(server.url));
  },
  echoProxy: async ({ toxiproxy, echo }, use) => {
    await use(await toxiproxy.createProxy({ name: 'echo', listen: '127.0.0.1:0', upstream: echo.address }));
  },
};
