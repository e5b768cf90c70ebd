import { expect, test } from '@playwright/test';
import { createSocket, type Socket } from 'node:dgram';
import { Toxiproxy } from 'toxiproxy-node-client';
import { ToxiproxyServer, type StartedToxiproxyServer } from './index.ts';
import { portOf, startEcho } from './test-helpers.ts';

const BUFFER_BYTES = 4 * 1024 * 1024;

/** A UDP echo server and a client that counts how many numbered datagrams come back. */
async function udpEcho(): Promise<{ port: number; close: () => void }> {
  const socket = createSocket('udp4');
  socket.on('message', (data, from) => socket.send(data, from.port, from.address));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.setRecvBufferSize(BUFFER_BYTES);
  return { port: socket.address().port, close: () => socket.close() };
}

async function roundTrips(port: number, count: number): Promise<{ received: number; minRttMs: number }> {
  const client: Socket = createSocket('udp4');
  await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
  client.setRecvBufferSize(BUFFER_BYTES);
  const sentAt = new Map<number, number>();
  const seen = new Set<number>();
  let minRttMs = Infinity;
  client.on('message', (data) => {
    const seq = data.readUInt32BE(0);
    seen.add(seq);
    minRttMs = Math.min(minRttMs, performance.now() - sentAt.get(seq)!);
  });
  for (let seq = 0; seq < count; seq++) {
    const packet = Buffer.alloc(32);
    packet.writeUInt32BE(seq, 0);
    sentAt.set(seq, performance.now());
    client.send(packet, port, '127.0.0.1');
    if (seq % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  client.close();
  return { received: seen.size, minRttMs };
}

const it = test.extend<{ server: StartedToxiproxyServer; echo: { port: number } }>({
  server: async ({}, use) => {
    const server = await new ToxiproxyServer({ seed: 5 }).start();
    await use(server);
    await server.stop();
  },
  echo: async ({}, use) => {
    const echo = await udpEcho();
    await use(echo);
    echo.close();
  },
});

async function call(server: StartedToxiproxyServer, method: string, path: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

it('a UDP proxy is created, faulted and removed through the same API', async ({ server, echo }) => {
  const created = await call(server, 'POST', '/proxies', {
    name: 'dds',
    listen: '127.0.0.1:0',
    upstream: `127.0.0.1:${echo.port}`,
    protocol: 'udp',
  });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ name: 'dds', enabled: true, protocol: 'udp', toxics: [] });
  const port = portOf(created.body!.listen as string);
  expect((await roundTrips(port, 500)).received).toBe(500);

  const loss = await call(server, 'POST', '/proxies/dds/toxics', {
    type: 'loss',
    stream: 'upstream',
    attributes: { probability: 0.3 },
  });
  expect(loss.status).toBe(200);
  expect(loss.body).toEqual({
    name: 'loss_upstream',
    type: 'loss',
    stream: 'upstream',
    toxicity: 1,
    attributes: { probability: 0.3 },
  });
  const lossy = await roundTrips(port, 3_000);
  expect(lossy.received / 3_000).toBeGreaterThan(0.65);
  expect(lossy.received / 3_000).toBeLessThan(0.75);

  expect(
    (await call(server, 'PATCH', '/proxies/dds/toxics/loss_upstream', { attributes: { probability: 0 } }))
      .status,
  ).toBe(200);
  await call(server, 'POST', '/proxies/dds/toxics', { type: 'latency', attributes: { latency: 30 } });
  const slow = await roundTrips(port, 100);
  expect(slow.received).toBe(100);
  expect(slow.minRttMs).toBeGreaterThanOrEqual(29);
  const listed = await call(server, 'GET', '/proxies/dds/toxics');
  expect((listed.body as unknown as Array<{ name: string }>).map((t) => t.name)).toEqual([
    'loss_upstream',
    'latency_downstream',
  ]);

  expect((await call(server, 'POST', '/proxies/dds', { enabled: false })).body).toMatchObject({
    enabled: false,
  });
  expect((await roundTrips(port, 50)).received).toBe(0);
  expect((await call(server, 'POST', '/reset')).status).toBe(204);
  expect((await call(server, 'GET', '/proxies/dds')).body).toMatchObject({ enabled: true, toxics: [] });
  expect((await roundTrips(port, 200)).received).toBe(200);

  expect((await call(server, 'DELETE', '/proxies/dds')).status).toBe(204);
  // The port is free again.
  const again = createSocket('udp4');
  await new Promise<void>((resolve) => again.bind(port, '127.0.0.1', resolve));
  again.close();
});

it('protocols and toxic types do not mix; errors use the API status codes', async ({ server, echo }) => {
  const tcpEcho = await startEcho();
  try {
    expect(
      await call(server, 'POST', '/proxies', {
        name: 'x',
        upstream: `127.0.0.1:${echo.port}`,
        protocol: 'sctp',
      }),
    ).toEqual({
      status: 400,
      body: { error: 'bad request body: protocol must be "tcp" or "udp", got "sctp"', status: 400 },
    });
    await call(server, 'POST', '/proxies', {
      name: 'udp',
      upstream: `127.0.0.1:${echo.port}`,
      protocol: 'udp',
    });
    await call(server, 'POST', '/proxies', { name: 'tcp', upstream: tcpEcho.address });
    expect((await call(server, 'POST', '/proxies/udp/toxics', { type: 'slicer' })).body).toEqual({
      error: 'invalid toxic type',
      status: 400,
    });
    expect((await call(server, 'POST', '/proxies/tcp/toxics', { type: 'loss' })).body).toEqual({
      error: 'invalid toxic type',
      status: 400,
    });
    expect(
      (await call(server, 'POST', '/proxies/udp/toxics', { type: 'loss', attributes: { probability: 3 } }))
        .status,
    ).toBe(400);
    expect((await call(server, 'POST', '/proxies/udp/toxics', { type: 'loss' })).status).toBe(200);
    expect((await call(server, 'POST', '/proxies/udp/toxics', { type: 'loss' })).status).toBe(409);
    expect((await call(server, 'GET', '/proxies/udp/toxics/nope')).status).toBe(404);
    // toxiproxy-node-client still reads a server that has UDP proxies.
    const all = await new Toxiproxy(server.url).getAll();
    expect(Object.keys(all).sort()).toEqual(['tcp', 'udp']);
    expect((await new Toxiproxy(server.url).get('udp')).upstream).toBe(`127.0.0.1:${echo.port}`);
  } finally {
    await tcpEcho.stop();
  }
});

it('populate creates UDP relays and leaves an unchanged one alone', async ({ server, echo }) => {
  const entry = { name: 'rtps', listen: '127.0.0.1:0', upstream: `127.0.0.1:${echo.port}`, protocol: 'udp' };
  const first = await call(server, 'POST', '/populate', [entry]);
  expect(first.status).toBe(201);
  const listen = (first.body!.proxies as Array<{ listen: string }>)[0]!.listen;
  const second = await call(server, 'POST', '/populate', [entry]);
  expect((second.body!.proxies as Array<{ listen: string }>)[0]!.listen).toBe(listen);
  expect((await roundTrips(portOf(listen), 100)).received).toBe(100);
});
