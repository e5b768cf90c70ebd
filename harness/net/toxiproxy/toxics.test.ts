import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { test as base, expect } from '@playwright/test';
import { Toxiproxy, type ICreateToxicBody, type Proxy } from 'toxiproxy-node-client';
import { ToxiproxyServer } from './index.ts';
import {
  connectTo,
  proxyFixtures,
  sleep,
  startEcho,
  startTcpServer,
  within,
  type ProxyFixtures,
} from './test-helpers.ts';

// Timing bounds are one-sided where it matters (a toxic must delay at least this much) and
// generous on the other side: these tests share two cores with everything else.
const test = base.extend<ProxyFixtures>(proxyFixtures);

/** Adds a toxic with Toxiproxy's defaults for what is left out. */
function add(
  proxy: Proxy,
  toxic: Omit<Partial<ICreateToxicBody<unknown>>, 'type'> & { type: string; attributes?: object },
) {
  return proxy.addToxic(toxic as ICreateToxicBody<unknown>);
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

test.describe('data plane', () => {
  test('with no toxics, bytes pass intact and in order', async ({ echoProxy }) => {
    const client = await connectTo(echoProxy);
    const payload = randomBytes(5 * 1024 * 1024);
    client.socket.write(payload);
    await client.waitFor(payload.length, 20_000);
    expect(sha(client.received)).toBe(sha(payload));
    client.destroy();
  });

  test('latency delays each chunk from its arrival, per direction, and toxics stack', async ({
    echoProxy,
  }) => {
    const client = await connectTo(echoProxy);
    expect(await client.roundTrip()).toBeLessThan(150);
    await add(echoProxy, { type: 'latency', attributes: { latency: 200, jitter: 0 } });
    const one = await client.roundTrip();
    expect(one).toBeGreaterThanOrEqual(199);
    expect(one).toBeLessThan(200 + 600);
    await add(echoProxy, { type: 'latency', stream: 'upstream', attributes: { latency: 150 } });
    const both = await client.roundTrip();
    expect(both).toBeGreaterThanOrEqual(349);
    expect(both).toBeLessThan(350 + 600);
    await add(echoProxy, { name: 'more', type: 'latency', attributes: { latency: 100 } });
    expect(await client.roundTrip()).toBeGreaterThanOrEqual(449);

    // Five writes 40 ms apart: each is delayed from its own arrival, so the last comes back
    // about 450 ms after it was sent, not 5 × 450 ms after the first.
    const before = client.received.length;
    const first = performance.now();
    for (let i = 0; i < 5; i++) {
      client.socket.write('abcd');
      await sleep(40);
    }
    const last = (await client.waitFor(before + 20)) - first;
    expect(last).toBeGreaterThanOrEqual(449 + 160);
    expect(last).toBeLessThan(1_500);
    client.destroy();
  });

  test('jitter spreads delays uniformly around the latency', async ({ echoProxy }) => {
    await add(echoProxy, { type: 'latency', attributes: { latency: 150, jitter: 100 } });
    const client = await connectTo(echoProxy);
    const delays: number[] = [];
    for (let i = 0; i < 12; i++) delays.push(await client.roundTrip(`${i}`));
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(49);
      expect(delay).toBeLessThan(250 + 500);
    }
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(40);
    client.destroy();
  });

  test('bandwidth caps throughput; a rate of 0 lets everything through', async ({ echoProxy }) => {
    await add(echoProxy, { type: 'bandwidth', attributes: { rate: 50 } });
    const client = await connectTo(echoProxy);
    const payload = randomBytes(100_000);
    const start = performance.now();
    client.socket.write(payload);
    const elapsed = (await client.waitFor(payload.length, 20_000)) - start;
    // 50 KB/s: 100 kB take ~1.9 s (the first 100 ms slice goes out at once).
    expect(elapsed).toBeGreaterThanOrEqual(1_700);
    expect(elapsed).toBeLessThan(6_000);
    expect(sha(client.received)).toBe(sha(payload));
    await echoProxy
      .getToxic('bandwidth_downstream')
      .then((toxic) => toxic.update({ attributes: { rate: 0 } } as never));
    const again = performance.now();
    client.socket.write(payload);
    expect((await client.waitFor(2 * payload.length)) - again).toBeLessThan(1_000);
    client.destroy();
  });

  test('slow_close holds the close back', async ({ toxiproxy }) => {
    // An upstream that answers once and hangs up.
    const upstream = await startTcpServer((socket) => socket.once('data', () => socket.end('bye')));
    try {
      const proxy = await toxiproxy.createProxy({
        name: 'bye',
        listen: '127.0.0.1:0',
        upstream: upstream.address,
      });
      const plain = await connectTo(proxy);
      plain.socket.write('hi');
      const plainGap = (await plain.closed).at - (await plain.waitFor(3));
      expect(plainGap).toBeLessThan(300);
      await add(proxy, { type: 'slow_close', attributes: { delay: 600 } });
      const slow = await connectTo(proxy);
      slow.socket.write('hi');
      const dataAt = await slow.waitFor(3);
      const closed = await slow.closed;
      expect(closed.how).toBe('end');
      expect(closed.at - dataAt).toBeGreaterThanOrEqual(550);
      expect(closed.at - dataAt).toBeLessThan(600 + 1_500);
      expect(slow.received.toString()).toBe('bye');
    } finally {
      await upstream.stop();
    }
  });

  test('timeout drops data and closes after the timeout', async ({ echoProxy }) => {
    await add(echoProxy, { type: 'timeout', attributes: { timeout: 400 } });
    const start = performance.now();
    const client = await connectTo(echoProxy);
    client.socket.write('lost');
    const closed = await client.closed;
    expect(closed.how).toBe('end');
    expect(closed.at - start).toBeGreaterThanOrEqual(390);
    expect(closed.at - start).toBeLessThan(400 + 1_500);
    expect(client.received.length).toBe(0);
  });

  test('timeout 0 black-holes the connection and keeps it open until the toxic goes', async ({
    echoProxy,
  }) => {
    const client = await connectTo(echoProxy);
    await add(echoProxy, { name: 'dead-zone', type: 'timeout', attributes: { timeout: 0 } });
    client.socket.write('into the void');
    expect(await within(client.closed, 800)).toBe('timeout');
    expect(client.received.length).toBe(0);
    await (await echoProxy.getToxic('dead-zone')).remove();
    // What was dropped stays dropped; what is sent now gets through.
    expect(await client.roundTrip('back')).toBeLessThan(1_000);
    expect(client.received.toString()).toBe('back');
    client.destroy();
  });

  test('reset_peer resets at once or after its timeout', async ({ echoProxy }) => {
    const resetToxic = await add(echoProxy, { type: 'reset_peer', attributes: { timeout: 0 } });
    const now = await connectTo(echoProxy);
    now.socket.write('x');
    expect(await now.closed).toMatchObject({ how: 'error', code: 'ECONNRESET' });
    await resetToxic.update({ attributes: { timeout: 500 } } as never);
    const start = performance.now();
    const later = await connectTo(echoProxy);
    expect(await later.roundTrip('still here')).toBeLessThan(400);
    const closed = await later.closed;
    expect(closed).toMatchObject({ how: 'error', code: 'ECONNRESET' });
    expect(closed.at - start).toBeGreaterThanOrEqual(480);
    expect(closed.at - start).toBeLessThan(500 + 1_500);
  });

  test('slicer delivers every byte, in many small writes', async ({ echoProxy }) => {
    await add(echoProxy, {
      type: 'slicer',
      attributes: { average_size: 10, size_variation: 4, delay: 3_000 },
    });
    const client = await connectTo(echoProxy);
    const payload = randomBytes(400);
    const start = performance.now();
    client.socket.write(payload);
    const elapsed = (await client.waitFor(payload.length)) - start;
    expect(client.received.equals(payload)).toBe(true);
    // ~40 slices 3 ms apart; one 400-byte write would otherwise arrive in one piece.
    const sizes = client.chunks.map((chunk) => chunk.data.length).sort((a, b) => a - b);
    expect(sizes.length).toBeGreaterThanOrEqual(10);
    expect(sizes[Math.floor(sizes.length / 2)]).toBeLessThanOrEqual(14);
    expect(elapsed).toBeGreaterThanOrEqual(80);
    client.destroy();
  });

  test('limit_data closes the connection after that many bytes', async ({ echoProxy, toxiproxy }) => {
    await add(echoProxy, { type: 'limit_data', attributes: { bytes: 1_000 } });
    const client = await connectTo(echoProxy);
    client.socket.write(randomBytes(3_000));
    expect((await client.closed).how).toBe('end');
    expect(client.received.length).toBe(1_000);

    // Upstream: the server gets exactly the limit, then the end of the stream.
    let got = 0;
    let ended!: () => void;
    const end = new Promise<void>((resolve) => (ended = resolve));
    const counting = await startTcpServer((socket) => {
      socket.on('data', (data: Buffer) => (got += data.length));
      socket.on('end', () => ended());
    });
    try {
      const proxy = await toxiproxy.createProxy({
        name: 'count',
        listen: '127.0.0.1:0',
        upstream: counting.address,
      });
      await add(proxy, { type: 'limit_data', stream: 'upstream', attributes: { bytes: 500 } });
      const sender = await connectTo(proxy);
      sender.socket.write(randomBytes(2_000));
      expect(await within(end, 5_000)).not.toBe('timeout');
      expect(got).toBe(500);
      sender.destroy();
    } finally {
      await counting.stop();
    }
  });

  test('toxicity 0 never applies, 1 always does', async ({ echoProxy }) => {
    const toxic = await add(echoProxy, { type: 'latency', toxicity: 0, attributes: { latency: 400 } });
    for (let i = 0; i < 3; i++) {
      const client = await connectTo(echoProxy);
      expect(await client.roundTrip()).toBeLessThan(300);
      client.destroy();
    }
    await toxic.update({ toxicity: 1 } as never);
    const client = await connectTo(echoProxy);
    expect(await client.roundTrip()).toBeGreaterThanOrEqual(399);
    client.destroy();
  });
});

test.describe('seeded randomness', () => {
  /** Per connection, in order: the round trip through a proxy with `toxic` on a fresh server. */
  async function roundTrips(seed: number, toxic: object, connections: number): Promise<number[]> {
    const echo = await startEcho();
    const server = await new ToxiproxyServer({ seed }).start();
    try {
      const proxy = await new Toxiproxy(server.url).createProxy({
        name: 'seeded',
        listen: '127.0.0.1:0',
        upstream: echo.address,
      });
      await add(proxy, toxic as { type: string });
      const delays: number[] = [];
      for (let i = 0; i < connections; i++) {
        const client = await connectTo(proxy);
        delays.push(await client.roundTrip());
        client.destroy();
      }
      return delays;
    } finally {
      await server.stop();
      await echo.stop();
    }
  }

  test('the same seed picks the same connections for a partial toxicity', async () => {
    const toxic = { type: 'latency', toxicity: 0.5, attributes: { latency: 300 } };
    const patterns = await Promise.all(
      [42, 42, 43].map(async (seed) => (await roundTrips(seed, toxic, 12)).map((delay) => delay > 150)),
    );
    const [a, b, c] = patterns as [boolean[], boolean[], boolean[]];
    expect(b).toEqual(a);
    expect(a).toContain(true);
    expect(a).toContain(false);
    expect(c).not.toEqual(a);
  });

  test('the same seed draws the same jitter', async () => {
    const toxic = { type: 'latency', attributes: { latency: 300, jitter: 250 } };
    const [a, b, c] = (await Promise.all([42, 42, 43].map((seed) => roundTrips(seed, toxic, 8)))) as [
      number[],
      number[],
      number[],
    ];
    for (const [index, delay] of a.entries()) expect(Math.abs(delay - b[index]!)).toBeLessThan(80);
    expect(Math.max(...a) - Math.min(...a)).toBeGreaterThan(150);
    expect(a.some((delay, index) => Math.abs(delay - c[index]!) > 100)).toBe(true);
  });
});
