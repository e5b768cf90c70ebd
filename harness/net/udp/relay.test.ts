import { expect, test } from '@playwright/test';
import { createSocket, type Socket } from 'node:dgram';
import { UdpRelay, UdpToxicError } from './relay.ts';
import { exposedSockets, listeningSockets } from '../../testing/listening-sockets.ts';

/** Socket buffers large enough that a busy 2-core machine does not drop test traffic itself. */
const BUFFER_BYTES = 4 * 1024 * 1024;

/** A UDP echo server on loopback: what a DDS participant on the far side stands in for. */
async function echoServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const socket = createSocket('udp4');
  socket.on('message', (data, from) => socket.send(data, from.port, from.address));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

interface Echoes {
  /** Sequence numbers in arrival order (duplicates included). */
  arrivals: number[];
  /** Round-trip ms per first arrival of each sequence number. */
  rttMs: Map<number, number>;
}

/** Sends `count` numbered datagrams through the relay, paced, and collects the echoes. */
async function exchange(relay: UdpRelay, count: number, settleMs = 300): Promise<Echoes> {
  const client: Socket = createSocket('udp4');
  await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
  client.setRecvBufferSize(BUFFER_BYTES);
  const [host, port] = [relay.listen.split(':')[0]!, Number(relay.listen.split(':')[1])];
  const sentAt = new Map<number, number>();
  const echoes: Echoes = { arrivals: [], rttMs: new Map() };
  client.on('message', (data) => {
    const seq = data.readUInt32BE(0);
    echoes.arrivals.push(seq);
    if (!echoes.rttMs.has(seq)) echoes.rttMs.set(seq, performance.now() - sentAt.get(seq)!);
  });
  for (let seq = 0; seq < count; seq++) {
    const packet = Buffer.alloc(64);
    packet.writeUInt32BE(seq, 0);
    sentAt.set(seq, performance.now());
    client.send(packet, port, host);
    // Pace: a burst of thousands would overflow loopback socket buffers, which is not the relay's loss.
    if (seq % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  await new Promise<void>((resolve) => client.close(() => resolve()));
  return echoes;
}

async function withRelay(seed: number, body: (relay: UdpRelay) => Promise<void> | void): Promise<void> {
  const echo = await echoServer();
  const relay = await UdpRelay.start({
    name: 'dds',
    listen: '127.0.0.1:0',
    upstream: `127.0.0.1:${echo.port}`,
    seed,
  });
  try {
    await body(relay);
  } finally {
    await relay.stop();
    await echo.close();
  }
}

test('with no toxics every datagram makes the round trip', async () => {
  await withRelay(1, async (relay) => {
    const { arrivals } = await exchange(relay, 2_000);
    expect(new Set(arrivals).size).toBe(2_000);
    expect(relay.stats.upstream).toMatchObject({ received: 2_000, sent: 2_000, dropped: 0 });
  });
});

test('random loss drops the configured share, and the same seed drops the same datagrams', async () => {
  const lostWith = async (seed: number): Promise<number[]> => {
    let lost: number[] = [];
    await withRelay(seed, async (relay) => {
      relay.addToxic({ type: 'loss', stream: 'upstream', attributes: { probability: 0.2 } });
      const { arrivals } = await exchange(relay, 4_000);
      const got = new Set(arrivals);
      lost = Array.from({ length: 4_000 }, (_, i) => i).filter((seq) => !got.has(seq));
      expect(relay.stats.upstream.dropped).toBe(lost.length);
    });
    return lost;
  };
  const first = await lostWith(11);
  expect(first.length / 4_000).toBeGreaterThan(0.17);
  expect(first.length / 4_000).toBeLessThan(0.23);
  expect(await lostWith(11)).toEqual(first);
  expect(await lostWith(12)).not.toEqual(first);
});

test('Gilbert–Elliott loss comes in bursts of the configured mean length', async () => {
  await withRelay(5, async (relay) => {
    relay.addToxic({
      type: 'gilbert_elliott',
      stream: 'downstream',
      attributes: { p_good_bad: 0.02, p_bad_good: 0.25, loss_good: 0, loss_bad: 1 },
    });
    const { arrivals } = await exchange(relay, 6_000);
    const got = new Set(arrivals);
    const bursts: number[] = [];
    let run = 0;
    for (let seq = 0; seq < 6_000; seq++) {
      if (!got.has(seq)) run++;
      else if (run > 0) {
        bursts.push(run);
        run = 0;
      }
    }
    const lossRate = (6_000 - got.size) / 6_000;
    const meanBurst = bursts.reduce((a, b) => a + b, 0) / bursts.length;
    // Stationary loss p/(p+r) = 0.074; mean burst 1/r = 4 datagrams.
    expect(lossRate).toBeGreaterThan(0.04);
    expect(lossRate).toBeLessThan(0.11);
    expect(meanBurst).toBeGreaterThan(2.8);
    expect(meanBurst).toBeLessThan(5.5);
  });
});

test('latency delays each datagram, duplication copies, reordering lets later ones overtake', async () => {
  await withRelay(3, async (relay) => {
    relay.addToxic({ type: 'latency', stream: 'upstream', attributes: { latency: 40, jitter: 0 } });
    const { rttMs } = await exchange(relay, 200);
    const sorted = [...rttMs.values()].sort((a, b) => a - b);
    expect(sorted[0]!).toBeGreaterThanOrEqual(39);
    relay.removeAllToxics();

    relay.addToxic({ type: 'duplicate', stream: 'downstream', attributes: { probability: 0.1 } });
    const dup = await exchange(relay, 3_000);
    const extra = dup.arrivals.length - new Set(dup.arrivals).size;
    expect(extra / 3_000).toBeGreaterThan(0.07);
    expect(extra / 3_000).toBeLessThan(0.13);
    expect(relay.stats.downstream.duplicated).toBe(extra);
    relay.removeToxic('duplicate_downstream');

    relay.addToxic({ type: 'reorder', stream: 'upstream', attributes: { probability: 0.1, delay: 15 } });
    const re = await exchange(relay, 2_000);
    // A datagram is late if a higher sequence number arrived before it.
    let highest = -1;
    let late = 0;
    for (const seq of re.arrivals) {
      if (seq < highest) late++;
      highest = Math.max(highest, seq);
    }
    expect(new Set(re.arrivals).size).toBe(2_000);
    expect(late / 2_000).toBeGreaterThan(0.06);
    expect(late / 2_000).toBeLessThan(0.14);
  });
});

test('a disabled relay passes nothing; toxicity 0 never applies', async () => {
  await withRelay(2, async (relay) => {
    relay.enabled = false;
    expect((await exchange(relay, 100, 100)).arrivals).toHaveLength(0);
    relay.enabled = true;
    relay.addToxic({
      name: 'never',
      type: 'loss',
      stream: 'upstream',
      toxicity: 0,
      attributes: { probability: 1 },
    });
    expect(new Set((await exchange(relay, 500)).arrivals).size).toBe(500);
  });
});

test('bad toxics are refused with the status the API answers', async () => {
  await withRelay(2, (relay) => {
    const statusOf = (fn: () => unknown): number | undefined => {
      try {
        fn();
      } catch (error) {
        return error instanceof UdpToxicError ? error.status : undefined;
      }
      return undefined;
    };
    expect(statusOf(() => relay.addToxic({ type: 'packet_magic' }))).toBe(400);
    expect(statusOf(() => relay.addToxic({ type: 'loss', stream: 'sideways' }))).toBe(400);
    expect(statusOf(() => relay.addToxic({ type: 'loss', attributes: { probability: 2 } }))).toBe(400);
    expect(() => relay.addToxic({ type: 'loss', attributes: { probability: 'x' } })).toThrow(
      /attributes\.probability/,
    );
    relay.addToxic({ type: 'loss' });
    expect(relay.toxics[0]).toMatchObject({
      name: 'loss_downstream',
      stream: 'downstream',
      toxicity: 1,
      attributes: { probability: 0.01 },
    });
    expect(statusOf(() => relay.addToxic({ type: 'loss' }))).toBe(409);
    expect(statusOf(() => relay.removeToxic('nope'))).toBe(404);
  });
});

test('stop() frees the port', async () => {
  const echo = await echoServer();
  const relay = await UdpRelay.start({
    name: 'x',
    listen: '127.0.0.1:0',
    upstream: `127.0.0.1:${echo.port}`,
    seed: 1,
  });
  const port = Number(relay.listen.split(':')[1]);
  await exchange(relay, 10, 50);
  await relay.stop();
  await relay.stop();
  const again = await UdpRelay.start({
    name: 'y',
    listen: `127.0.0.1:${port}`,
    upstream: `127.0.0.1:${echo.port}`,
    seed: 1,
  });
  await again.stop();
  await echo.close();
});

test("a flow's socket to the upstream is no listener: bound where the upstream routes, it takes the upstream's datagrams alone", async () => {
  const before = new Set(listeningSockets().map((socket) => socket.inode));
  const bind = async (): Promise<Socket> => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return socket;
  };
  const [upstream, client, stranger] = await Promise.all([bind(), bind(), bind()]);
  const flowPort = new Promise<number>((resolve) =>
    upstream.once('message', (_data, from) => resolve(from.port)),
  );
  const relay = await UdpRelay.start({
    name: 'dds',
    listen: '127.0.0.1:0',
    upstream: `127.0.0.1:${upstream.address().port}`,
    seed: 1,
  });
  const received: string[] = [];
  client.on('message', (data) => received.push(data.toString()));
  try {
    client.send('hello', Number(relay.listen.split(':')[1]), '127.0.0.1');
    const port = await flowPort;
    const opened = listeningSockets().filter((socket) => !before.has(socket.inode));
    expect(exposedSockets(opened)).toEqual([]);
    expect(opened.map((socket) => socket.port)).not.toContain(port);
    stranger.send('forged', port, '127.0.0.1');
    upstream.send('reply', port, '127.0.0.1');
    await expect.poll(() => received).toEqual(['reply']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received).toEqual(['reply']);
  } finally {
    await relay.stop();
    for (const socket of [upstream, client, stranger]) socket.close();
  }
});
