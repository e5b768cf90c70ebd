import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { test as base, expect } from '@playwright/test';
import { Toxiproxy } from 'toxiproxy-node-client';
import { listeningPorts } from '../../testing/leftovers.ts';
import { ToxiproxyServer } from './index.ts';
import {
  connectTo,
  portOf,
  proxyFixtures,
  sleep,
  startEcho,
  startTcpServer,
  within,
  type ProxyFixtures,
} from './test-helpers.ts';

const test = base.extend<ProxyFixtures>(proxyFixtures);

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A raw JSON API call; returns the status. */
async function api(url: string, method: string, path: string, body?: unknown): Promise<number> {
  const response = await fetch(`${url}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

test.describe('toxics on live connections', () => {
  test('adding, updating and removing latency changes an open connection', async ({ server, echoProxy }) => {
    const client = await connectTo(echoProxy);
    expect(await client.roundTrip()).toBeLessThan(150);
    const path = `/proxies/${echoProxy.name}/toxics`;
    expect(await api(server.url, 'POST', path, { type: 'latency', attributes: { latency: 150 } })).toBe(200);
    expect(await client.roundTrip()).toBeGreaterThanOrEqual(149);
    expect(
      await api(server.url, 'PATCH', `${path}/latency_downstream`, { attributes: { latency: 350 } }),
    ).toBe(200);
    expect(await client.roundTrip()).toBeGreaterThanOrEqual(349);
    expect(await api(server.url, 'DELETE', `${path}/latency_downstream`)).toBe(204);
    expect(await client.roundTrip()).toBeLessThan(150);
    client.destroy();
  });

  test('a toxic removed mid-delay hands on what it holds at once', async ({ server, echoProxy }) => {
    const path = `/proxies/${echoProxy.name}/toxics`;
    await api(server.url, 'POST', path, { type: 'latency', attributes: { latency: 5_000 } });
    const client = await connectTo(echoProxy);
    const start = performance.now();
    client.socket.write('held');
    await sleep(200);
    expect(client.received.length).toBe(0);
    await api(server.url, 'DELETE', `${path}/latency_downstream`);
    expect((await client.waitFor(4)) - start).toBeLessThan(2_000);
    expect(client.received.toString()).toBe('held');
    client.destroy();
  });

  test('switching between the direct path and toxics never drops or reorders a byte', async ({
    server,
    echoProxy,
  }) => {
    test.setTimeout(90_000);
    const client = await connectTo(echoProxy);
    // A steady stream for as long as toxics come and go, so every switch has data in flight.
    const sent: Buffer[] = [];
    let switching = true;
    const writer = (async () => {
      for (let n = 0; switching; n++) {
        const chunk = randomBytes(8 * 1024);
        sent.push(chunk);
        if (!client.socket.write(chunk)) await once(client.socket, 'drain');
        if (n % 4 === 3) await sleep(1);
      }
    })();
    const path = `/proxies/${echoProxy.name}/toxics`;
    const toxics = [
      { name: 'lat', type: 'latency', attributes: { latency: 5, jitter: 5 } },
      {
        name: 'slice',
        type: 'slicer',
        stream: 'upstream',
        attributes: { average_size: 1_000, size_variation: 500 },
      },
      { name: 'bw', type: 'bandwidth', attributes: { rate: 20_000 } },
      { name: 'lat-up', type: 'latency', stream: 'upstream', attributes: { latency: 3 } },
    ];
    let step = 0;
    while (step < 32) {
      const toxic = toxics[step % toxics.length]!;
      expect(await api(server.url, 'POST', path, toxic)).toBe(200);
      await sleep(5 + (step % 3) * 10);
      // Flip toxicity so the toxic restarts both as a pass-through and as a toxic.
      await api(server.url, 'PATCH', `${path}/${toxic.name}`, { toxicity: step % 2 });
      await sleep(5);
      if (step % 4 !== 3) expect(await api(server.url, 'DELETE', `${path}/${toxic.name}`)).toBe(204);
      else expect(await api(server.url, 'POST', '/reset')).toBe(204);
      step++;
    }
    switching = false;
    await writer;
    const payload = Buffer.concat(sent);
    await client.waitFor(payload.length, 60_000);
    expect(client.received.length).toBe(payload.length);
    expect(sha(client.received)).toBe(sha(payload));
    client.destroy();
  });

  test('a half-closed client still gets its reply, through toxics too', async ({ echoProxy }) => {
    for (const withToxic of [false, true]) {
      if (withToxic) await echoProxy.addToxic({ type: 'latency', attributes: { latency: 100 } } as never);
      const client = await connectTo(echoProxy);
      client.socket.end('last words');
      const closed = await client.closed;
      expect(closed.how).toBe('end');
      expect(client.received.toString()).toBe('last words');
    }
  });
});

test.describe('proxy lifecycle', () => {
  test('disabling closes live connections and refuses new ones; enabling reopens the port', async ({
    server,
    echoProxy,
  }) => {
    const client = await connectTo(echoProxy);
    await client.roundTrip();
    expect(await api(server.url, 'PATCH', `/proxies/${echoProxy.name}`, { enabled: false })).toBe(200);
    expect(await within(client.closed, 5_000)).not.toBe('timeout');
    await expect(connectTo(echoProxy)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(await api(server.url, 'PATCH', `/proxies/${echoProxy.name}`, { enabled: true })).toBe(200);
    const again = await connectTo(echoProxy);
    await again.roundTrip();
    again.destroy();
  });

  test('deleting a proxy closes its connections and frees its port', async ({ server, echoProxy }) => {
    const client = await connectTo(echoProxy);
    await client.roundTrip();
    expect(await api(server.url, 'DELETE', `/proxies/${echoProxy.name}`)).toBe(204);
    expect(await within(client.closed, 5_000)).not.toBe('timeout');
    expect(await listeningPorts([portOf(echoProxy.listen)])).toEqual([]);
  });

  test('an unreachable upstream closes the client, and the server carries on', async ({ toxiproxy }) => {
    const gone = await startEcho();
    await gone.stop();
    const proxy = await toxiproxy.createProxy({
      name: 'gone',
      listen: '127.0.0.1:0',
      upstream: gone.address,
    });
    const client = await connectTo(proxy);
    expect(await within(client.closed, 5_000)).not.toBe('timeout');
    expect(JSON.parse(await toxiproxy.getVersion())).toHaveProperty('version');
  });

  test('stop() closes the API, every listener and every connection, and is idempotent', async () => {
    const echo = await startEcho();
    let ports: number[];
    try {
      const server = await new ToxiproxyServer({
        proxies: [
          { name: 'one', upstream: echo.address },
          { name: 'two', upstream: echo.address },
        ],
      }).start();
      const listeners = Object.values(server.listeners());
      ports = [server.port, ...listeners.map(portOf)];
      expect(await listeningPorts(ports)).toEqual(ports);
      const clients = await Promise.all(listeners.map((listen) => connectTo({ listen })));
      // Keep-alive HTTP connections must not hold stop() up either.
      await fetch(`${server.url}/proxies`, { keepalive: true });
      await Promise.all([server.stop(), server.stop()]);
      await server.stop();
      expect(await listeningPorts(ports)).toEqual([]);
      for (const client of clients) expect(await within(client.closed, 5_000)).not.toBe('timeout');
      await expect.poll(() => echo.sockets.filter((socket) => !socket.destroyed).length).toBe(0);
    } finally {
      await echo.stop();
    }
  });

  test('await using stops the server at the end of the scope', async () => {
    let port: number;
    {
      await using server = await new ToxiproxyServer().start();
      port = server.port;
      expect(await listeningPorts([port])).toEqual([port]);
    }
    expect(await listeningPorts([port])).toEqual([]);
  });

  test('start() fails cleanly on a bad proxies list or a taken port', async () => {
    await expect(new ToxiproxyServer({ proxies: [{ name: 'x' }] }).start()).rejects.toThrow(
      'proxies[0]: missing required field: upstream',
    );
    await using first = await new ToxiproxyServer().start();
    await expect(
      new ToxiproxyServer({
        port: first.port,
        proxies: [{ name: 'p', listen: '127.0.0.1:0', upstream: 'a:1' }],
      }).start(),
    ).rejects.toThrow(`toxiproxy API cannot listen on 127.0.0.1:${first.port}`);
  });
});

test('with no toxics the proxy adds little latency and keeps most of the throughput', async () => {
  test.setTimeout(90_000);
  const echo = await startEcho();
  const sink = await startTcpServer((socket) => socket.resume());
  try {
    await using server = await new ToxiproxyServer().start();
    const client = new Toxiproxy(server.url);
    const viaEcho = await client.createProxy({ name: 'echo', listen: '127.0.0.1:0', upstream: echo.address });
    const viaSink = await client.createProxy({ name: 'sink', listen: '127.0.0.1:0', upstream: sink.address });

    const p50 = async (port: number) => {
      const probe = await connectTo({ listen: `127.0.0.1:${port}` });
      const samples: number[] = [];
      for (let i = 0; i < 1_000; i++) samples.push(await probe.roundTrip('x'));
      probe.destroy();
      return samples.sort((a, b) => a - b)[500]!;
    };
    const throughput = async (port: number) => {
      const writer = await connectTo({ listen: `127.0.0.1:${port}` });
      const chunk = Buffer.alloc(64 * 1024);
      const total = 128 * 1024 * 1024;
      const start = performance.now();
      for (let sent = 0; sent < total; sent += chunk.length) {
        if (!writer.socket.write(chunk)) await once(writer.socket, 'drain');
      }
      await new Promise<void>((resolve) => writer.socket.end(resolve));
      const mbPerS = total / 1e6 / ((performance.now() - start) / 1000);
      writer.destroy();
      return mbPerS;
    };
    const direct = await p50(echo.port);
    const proxied = await p50(portOf(viaEcho.listen));
    const directRate = await throughput(sink.port);
    const proxiedRate = await throughput(portOf(viaSink.listen));
    const added = (proxied - direct) * 1000;
    test.info().annotations.push({
      type: 'performance',
      description: `p50 round trip ${Math.round(direct * 1000)} µs direct, ${Math.round(proxied * 1000)} µs proxied (+${Math.round(added)} µs); ${Math.round(directRate)} MB/s direct, ${Math.round(proxiedRate)} MB/s proxied (client, proxy and servers share this process)`,
    });
    // The targets are +200 µs and 50 %; the bounds leave room for a loaded two-core machine,
    // and still fail if data took the toxic pipeline's timers.
    expect(added).toBeLessThan(1_000);
    expect(proxiedRate / directRate).toBeGreaterThan(0.2);
  } finally {
    await echo.stop();
    await sink.stop();
  }
});
