import { expect } from '@playwright/test';
import { netTest } from './test-fixtures.ts';
import { Toxiproxy } from 'toxiproxy-node-client';
import { FleetNetwork, type StartedFleetNetwork } from './network.ts';
import { ToxiproxyServer } from './toxiproxy/index.ts';
import { connectTo, sleep, within } from './toxiproxy/test-helpers.ts';

/** The toxics on a proxy as the API reports them: name → type/stream/attributes. */
async function toxicsOf(network: StartedFleetNetwork, proxy: string) {
  const response = await fetch(`${network.url}/proxies/${proxy}/toxics`);
  const toxics = (await response.json()) as Array<{
    name: string;
    type: string;
    stream: string;
    attributes: object;
  }>;
  return toxics.sort((a, b) => a.name.localeCompare(b.name));
}

const it = netTest;

it('a robot link is a proxy named <robot>-<link> that passes data untouched', async ({ echo, network }) => {
  const link = await network.addLink('r01', 'rosbridge', echo.address);
  expect(link.proxyName).toBe('r01-rosbridge');
  expect(network.embedded).toBe(true);
  const client = await connectTo(link);
  expect(await client.roundTrip('hello')).toBeLessThan(50);
  client.destroy();
  expect(() => network.link('r09')).toThrow("robot r09 has no link 'rosbridge' (links: r01-rosbridge)");
});

it('dead black-holes the link in both directions and clear brings it back', async ({
  echo,
  network,
  events,
}) => {
  const link = await network.addLink('r01', 'rosbridge', echo.address);
  const client = await connectTo(link);
  await client.roundTrip('a');
  await network.apply('r01', 'dead');
  expect((await toxicsOf(network, 'r01-rosbridge')).map((t) => `${t.type}/${t.stream}`)).toEqual([
    'timeout/downstream',
    'timeout/upstream',
  ]);
  client.socket.write('lost');
  expect(
    await within(
      client.waitFor(client.receivedBytes + 4, 600).catch(() => 'nothing'),
      1_000,
    ),
  ).toBe('nothing');
  await network.clear('r01');
  expect(await toxicsOf(network, 'r01-rosbridge')).toEqual([]);
  // Timeout drops what it swallowed, as Toxiproxy does; the connection itself is still open.
  expect(await client.roundTrip('back')).toBeLessThan(200);
  client.destroy();
  const kinds = events.since(0).map((e) => e.kind);
  expect(kinds).toEqual(expect.arrayContaining(['fault-applied', 'fault-cleared']));
});

it('down closes live connections and refuses new ones until cleared', async ({ echo, network }) => {
  const link = await network.addLink('r02', 'rosbridge', echo.address);
  const client = await connectTo(link);
  await network.apply('r02', 'down');
  expect((await within(client.closed, 2_000)) !== 'timeout').toBe(true);
  await expect(connectTo(link)).rejects.toThrow(/ECONNREFUSED/);
  await network.clear('r02');
  const again = await connectTo(link);
  await again.roundTrip('up');
  again.destroy();
});

it('changing profile updates toxics in place and leaves toxics a user added by hand', async ({
  echo,
  network,
}) => {
  await network.addLink('r01', 'rosbridge', echo.address);
  const proxy = await new Toxiproxy(network.url).get('r01-rosbridge');
  await proxy.addToxic({
    name: 'mine',
    type: 'latency',
    stream: 'upstream',
    toxicity: 1,
    attributes: { latency: 1, jitter: 0 },
  });
  await network.apply('r01', 'wifi-congested');
  const congested = await toxicsOf(network, 'r01-rosbridge');
  expect(congested.map((t) => t.name)).toContain('mine');
  expect(congested.filter((t) => t.name.startsWith('fd-'))).toHaveLength(4);
  await network.apply('r01', 'wifi-edge');
  const edge = await toxicsOf(network, 'r01-rosbridge');
  expect(edge.find((t) => t.name === 'fd-latency-downstream-0')?.attributes).toEqual({
    latency: 120,
    jitter: 100,
  });
  await network.clear('r01');
  expect((await toxicsOf(network, 'r01-rosbridge')).map((t) => t.name)).toEqual(['mine']);
});

it('a multi-phase profile advances on its own, and a new profile cancels the rest', async ({
  echo,
  network,
}) => {
  await network.addLink('r01', 'rosbridge', echo.address);
  await network.apply('r01', 'roaming-handover');
  const types = async () => (await toxicsOf(network, 'r01-rosbridge')).map((t) => t.type);
  expect(await types()).toEqual(['timeout', 'timeout']);
  // The black hole lasts at most 2 s, then a 2 s latency spike, then a good link.
  await expect.poll(types, { timeout: 3_000, intervals: [50] }).toEqual(['latency', 'latency']);
  const spike = await toxicsOf(network, 'r01-rosbridge');
  expect(spike[0]!.attributes).toEqual({ latency: 300, jitter: 100 });
  await expect
    .poll(async () => (await toxicsOf(network, 'r01-rosbridge'))[0]?.attributes, { timeout: 3_000 })
    .toEqual({
      latency: 5,
      jitter: 2,
    });

  await network.apply('r01', 'roaming-handover');
  await network.apply('r01', 'lte');
  await sleep(2_200);
  // The handover's timers died with it: still LTE, no spike.
  expect((await toxicsOf(network, 'r01-rosbridge')).find((t) => t.type === 'latency')?.attributes).toEqual({
    latency: 60,
    jitter: 20,
  });
});

it('against an outside Toxiproxy it removes exactly the proxies it made', async ({ echo }) => {
  const outside = await new ToxiproxyServer({ port: 0 }).start();
  try {
    const client = new Toxiproxy(outside.url);
    await client.createProxy({
      name: 'someone-else',
      listen: '127.0.0.1:0',
      upstream: echo.address,
      enabled: true,
    });
    const network = await new FleetNetwork({ seed: 1, toxiproxyUrl: outside.url }).start();
    expect(network.embedded).toBe(false);
    await network.addLink('r01', 'rosbridge', echo.address);
    expect(Object.keys(await client.getAll()).sort()).toEqual(['r01-rosbridge', 'someone-else']);
    await network.stop();
    expect(Object.keys(await client.getAll())).toEqual(['someone-else']);
  } finally {
    await outside.stop();
  }
});

it('an unreachable Toxiproxy URL is a clear error', async () => {
  await expect(new FleetNetwork({ seed: 1, toxiproxyUrl: 'http://127.0.0.1:9' }).start()).rejects.toThrow(
    /TOXIPROXY_URL cannot reach a Toxiproxy API at http:\/\/127\.0\.0\.1:9/,
  );
});
