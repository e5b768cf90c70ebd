/**
 * A real WireGuard tunnel (wireguard-go, wg) from a robot namespace behind an nftables NAT to a
 * hub namespace, its underlay a UDP proxy on the embedded fault layer. Real processes, namespaces
 * and packets; the oracles are TCP round trips, probes and the hub's own `wg show` counters.
 */
import { expect, test } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Toxiproxy } from 'toxiproxy-node-client';
import { knownSecrets } from '../../core/secrets.ts';
import { sh } from '../netns/system.ts';
import { ToxiproxyServer, type StartedToxiproxyServer } from '../toxiproxy/index.ts';
import { startEcho, type TcpServer } from '../toxiproxy/test-helpers.ts';
import { startVpnHub, vpnPrivileges, type VpnHub } from './index.ts';
import { DOOR, doorProbe } from './plumbing.ts';
import { nsClient, vpnLeftovers } from './vpn.test-helpers.ts';

const privileges = vpnPrivileges();
test.skip(!privileges.ok, `the VPN needs ${privileges.ok ? '' : privileges.missing}`);

const it = test.extend<{ faults: StartedToxiproxyServer; cloud: TcpServer; hub: VpnHub }>({
  faults: async ({}, use) => {
    const server = await new ToxiproxyServer({ seed: 19 }).start();
    await use(server);
    await server.stop();
  },
  cloud: async ({}, use) => {
    const echo = await startEcho();
    await use(echo);
    await echo.stop();
  },
  hub: async ({ faults, cloud }, use) => {
    const runDir = mkdtempSync(join(tmpdir(), 'vpn-test-'));
    const hub = await startVpnHub({
      seed: 19,
      runDir,
      faults: new Toxiproxy(faults.url),
      expose: [cloud.port],
    });
    await use(hub);
    await hub.close();
    rmSync(runDir, { recursive: true, force: true });
  },
});

it('a robot reaches the cloud through the tunnel, and the harness reaches the robot', async ({
  hub,
  cloud,
}) => {
  const robot = await hub.addRobot('r1', { robotPorts: [7_411] });
  const client = await nsClient(robot.netns, hub.tunnelAddress, cloud.port);
  expect(await client.roundTrip('hello through the tunnel', 5_000)).toBe('hello through the tunnel');
  await client.close();
  // Something on the robot's 127.0.0.1, reached from root 127.0.0.1 through the robot's door.
  const inside = spawn('ip', [
    'netns',
    'exec',
    robot.netns,
    process.execPath,
    DOOR,
    'pipe',
    'test',
    'echo:127.0.0.1:7411',
  ]);
  await new Promise((resolve) => inside.stdout.once('data', resolve));
  try {
    const socket = connect({ host: '127.0.0.1', port: robot.robotPort(7_411) });
    const back = await new Promise<string>((resolve, reject) => {
      socket.once('data', (data) => resolve(data.toString()));
      socket.once('error', reject);
      socket.write('to the robot');
    });
    socket.destroy();
    expect(back).toBe('to the robot');
  } finally {
    inside.kill('SIGKILL');
  }
  expect(() => robot.robotPort(1)).toThrow(/1 is not one of robotPorts \(7411\)/);
  const peer = await robot.hubPeer();
  expect(peer.latestHandshakeMs).toBeGreaterThan(Date.now() - 60_000);
  expect(peer.rxBytes).toBeGreaterThan(0);
  // The hub heard the robot from the root namespace (the fault layer's relay), not from the NAT.
  const host = peer.endpoint?.split(':')[0] ?? 'none';
  expect(await sh('ip', ['-4', '-o', 'addr', 'show'])).toContain(`inet ${host}/30`);
  const natAddresses = await sh('ip', ['-n', robot.natNetns, '-4', '-o', 'addr', 'show']);
  expect(natAddresses).not.toContain(`inet ${host}/`);
});

it('the cloud is reachable only through the tunnel', async ({ hub, cloud }) => {
  const robot = await hub.addRobot('r1');
  // A careless service on every root address (0.0.0.0): only the NAT's forward filter keeps it from the robot.
  const careless = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => careless.listen(0, '0.0.0.0', resolve));
  const carelessPort = (careless.address() as AddressInfo).port;
  try {
    // Every address the robot could try: all of the root namespace's, its NAT's, the hub's underlay.
    const addresses = new Set<string>(['127.0.0.1']);
    const mine = [
      robot.natNetns,
      ...(await sh('ip', ['netns', 'list']))
        .split('\n')
        .map((l) => l.split(' ')[0] ?? '')
        .filter((ns) => ns.startsWith(`fdv${process.pid}x`) && ns.endsWith('h')),
    ];
    for (const ns of [undefined, ...mine])
      for (const match of (await sh('ip', [...(ns ? ['-n', ns] : []), '-4', '-o', 'addr', 'show'])).matchAll(
        /inet (\d+\.\d+\.\d+\.\d+)/g,
      ))
        if (match[1] !== hub.tunnelAddress) addresses.add(match[1]!);
    const results = await Promise.all(
      [...addresses].flatMap((address) =>
        [cloud.port, carelessPort].map(
          async (port) => [`${address}:${port}`, await doorProbe(robot.netns, address, port, 500)] as const,
        ),
      ),
    );
    expect(results.filter(([, open]) => open).map(([where]) => where)).toEqual([]);
    expect(addresses.size).toBeGreaterThan(4);
    // The same probe can tell: from the NAT itself the careless service is one hop away and open…
    const nat = robot.natNetns;
    const wan = /inet (\d+\.\d+\.\d+)\.(\d+)\/30/.exec(
      await sh('ip', ['-n', nat, '-4', '-o', 'addr', 'show', 'dev', 'wan0']),
    )!;
    expect(await doorProbe(nat, `${wan[1]}.${Number(wan[2]) - 1}`, carelessPort)).toBe(true);
    // …and the cloud opens through the tunnel.
    expect(await doorProbe(robot.netns, hub.tunnelAddress, cloud.port)).toBe(true);
  } finally {
    careless.close();
  }
  // The root namespace has no path into the tunnel at all.
  const fromRoot = await sh(process.execPath, [
    DOOR,
    'probe',
    hub.tunnelAddress,
    String(cloud.port),
    '1000',
  ]).then(
    () => true,
    () => false,
  );
  expect(fromRoot).toBe(false);
});

it('a dead zone on the underlay stops the tunnel; clearing it brings the same connection back', async ({
  hub,
  cloud,
  faults,
}) => {
  test.setTimeout(60_000);
  const robot = await hub.addRobot('r1');
  const client = await nsClient(robot.netns, hub.tunnelAddress, cloud.port);
  try {
    expect(await client.roundTrip('before', 5_000)).toBe('before');
    const before = await robot.hubPeer();
    await robot.underlay.deadZone();
    const path = `${faults.url}/proxies/${robot.underlay.proxyName}/toxics`;
    const toxics = (await (await fetch(path)).json()) as Array<{ name: string; attributes: unknown }>;
    expect(toxics.map((t) => [t.name, t.attributes])).toEqual([
      ['fd-dead_upstream', { probability: 1 }],
      ['fd-dead_downstream', { probability: 1 }],
    ]);
    const lost = client.roundTrip('in the dead zone', 2_000);
    await expect(lost).rejects.toThrow(/no answer/);
    const during = await robot.hubPeer();
    expect(during.rxBytes, 'nothing reaches the hub in a dead zone').toBe(before.rxBytes);
    await robot.underlay.clear();
    // TCP retransmits the line lost in the dead zone, then carries the next one.
    const began = performance.now();
    expect(await client.roundTrip('after', 15_000)).toMatch(/after|in the dead zone/);
    test.info().annotations.push({
      type: 'recovery',
      description: `${Math.round(performance.now() - began)} ms from clear to the first echo`,
    });
    expect((await robot.hubPeer()).rxBytes).toBeGreaterThan(during.rxBytes);
  } finally {
    await client.close();
  }
});

it('a roam to a new underlay address keeps an open connection and moves the hub endpoint', async ({
  hub,
  cloud,
}) => {
  test.setTimeout(60_000);
  const robot = await hub.addRobot('r1');
  const client = await nsClient(robot.netns, hub.tunnelAddress, cloud.port);
  try {
    expect(await client.roundTrip('before the roam', 5_000)).toBe('before the roam');
    const before = (await robot.hubPeer()).endpoint;
    const { from, to } = await robot.roam();
    expect(to).not.toBe(from);
    expect(await client.roundTrip('after the roam', 10_000)).toBe('after the roam');
    const after = (await robot.hubPeer()).endpoint;
    expect(before).toBeDefined();
    expect(after, 'the NAT mapped the new address anew, so the hub sees a new endpoint').not.toBe(before);
    const lan = await sh('ip', ['-n', robot.netns, '-4', '-o', 'addr', 'show', 'dev', 'lan1']);
    expect(lan).toContain(to);
    expect(lan).not.toContain(`${from}/`);
  } finally {
    await client.close();
  }
});

it('a NAT mapping shorter than no keepalive hides a quiet robot; a keepalive below it keeps it reachable', async ({
  hub,
}) => {
  test.setTimeout(60_000);
  const NAT_S = 4;
  const [quiet, kept] = await Promise.all([
    hub.addRobot('quiet', { natUdpTimeoutS: NAT_S }),
    hub.addRobot('kept', { natUdpTimeoutS: NAT_S, keepaliveS: 1 }),
  ]);
  const PORT = 7_500;
  await Promise.all([quiet.listenInside(PORT), kept.listenInside(PORT)]);
  // The robot sends (here: a TCP probe to the hub through the tunnel); its NAT mapping is fresh.
  await doorProbe(quiet.netns, hub.tunnelAddress, 9, 1_000);
  expect(await quiet.reachableFromHub(PORT, 2_000), 'reachable while the mapping is fresh').toBe(true);
  expect(await kept.reachableFromHub(PORT, 2_000)).toBe(true);
  // The conntrack timeouts are the NAT namespace's own, not the machine's.
  const nat = quiet.natNetns;
  expect(
    await sh('ip', ['netns', 'exec', nat, 'sysctl', '-n', 'net.netfilter.nf_conntrack_udp_timeout_stream']),
  ).toBe(`${NAT_S}\n`);
  await new Promise((resolve) => setTimeout(resolve, (NAT_S + 2) * 1_000));
  const [quietNow, keptNow] = await Promise.all([
    quiet.reachableFromHub(PORT, 2_000),
    kept.reachableFromHub(PORT, 2_000),
  ]);
  expect(quietNow, 'the quiet robot mapping expired: the hub cannot reach it').toBe(false);
  expect(keptNow, 'keepalive 1 s < NAT 4 s: still reachable').toBe(true);
  // The quiet robot sends (any packet through the tunnel), the NAT maps it anew, the hub reaches it.
  await doorProbe(quiet.netns, hub.tunnelAddress, 9, 1_000);
  expect(await quiet.reachableFromHub(PORT, 2_000)).toBe(true);
});

it('close() leaves no namespace, tun device, veth, nft table, socket, key or process', async ({
  faults,
  cloud,
}) => {
  const runDir = mkdtempSync(join(tmpdir(), 'vpn-test-'));
  const hub = await startVpnHub({ seed: 3, runDir, faults: new Toxiproxy(faults.url), expose: [cloud.port] });
  const robot = await hub.addRobot('r1', { robotPorts: [7_411], natUdpTimeoutS: 10 });
  await robot.listenInside(7_500);
  const up = await vpnLeftovers(process.pid);
  // Proof the oracle sees them: hub netns + veth, robot and NAT netns, NAT veth, 3 doors, 2 wireguard-go, 2 sockets.
  expect(up.filter((x) => x.startsWith('netns'))).toHaveLength(3);
  expect(up.filter((x) => x.startsWith('process')).length).toBeGreaterThanOrEqual(5);
  expect(up.filter((x) => x.startsWith('socket'))).toHaveLength(2);
  // The per-run keys: private (0600), known to every redaction in this process.
  const keyFiles = readdirSync(join(runDir, 'vpn')).filter((name) => name.endsWith('.key'));
  expect(keyFiles).toHaveLength(2);
  const known = knownSecrets().map((secret) => secret.value);
  for (const file of keyFiles) {
    expect(statSync(join(runDir, 'vpn', file)).mode & 0o777).toBe(0o600);
    expect(known).toContain(readFileSync(join(runDir, 'vpn', file), 'utf8').trim());
  }
  await hub.close();
  await hub.close();
  expect(await vpnLeftovers(process.pid)).toEqual([]);
  expect(readdirSync(join(runDir, 'vpn')), 'keys and sockets removed').toEqual([]);
  const proxies = (await (await fetch(`${faults.url}/proxies`)).json()) as Record<string, unknown>;
  expect(Object.keys(proxies)).toEqual([]);
  rmSync(runDir, { recursive: true, force: true });
});

it('conditions shape the WireGuard datagrams: latency on both streams, a rate cap as tbf, bad input named', async ({
  hub,
  cloud,
  faults,
}) => {
  const robot = await hub.addRobot('r1');
  const client = await nsClient(robot.netns, hub.tunnelAddress, cloud.port);
  const rtt = async (): Promise<number> => {
    const began = performance.now();
    await client.roundTrip('x', 10_000);
    return performance.now() - began;
  };
  try {
    await rtt();
    const clean = await rtt();
    await robot.underlay.setConditions({ delayMs: 150, rateKbit: 2_000 });
    const toxics = (await (
      await fetch(`${faults.url}/proxies/${robot.underlay.proxyName}/toxics`)
    ).json()) as Array<{
      name: string;
    }>;
    expect(toxics.map((t) => t.name).sort()).toEqual(['fd-latency_downstream', 'fd-latency_upstream']);
    const nat = robot.natNetns;
    expect(await sh('tc', ['qdisc', 'show', 'dev', nat])).toContain('tbf');
    const slow = await rtt();
    expect(slow, `clean ${Math.round(clean)} ms`).toBeGreaterThanOrEqual(300);
    await robot.underlay.clear();
    expect(await (await fetch(`${faults.url}/proxies/${robot.underlay.proxyName}/toxics`)).json()).toEqual(
      [],
    );
    expect(await sh('tc', ['qdisc', 'show', 'dev', nat])).not.toContain('tbf');
    expect(await rtt()).toBeLessThan(300);
    await expect(robot.underlay.setConditions({ lossPct: 140 })).rejects.toThrow(
      /conditions\.lossPct must be a number/,
    );
  } finally {
    await client.close();
  }
});

it('bad options name the field', async ({ hub, faults }) => {
  await expect(hub.addRobot('bad id!')).rejects.toThrow(/vpn robot id must be/);
  await expect(hub.addRobot('r1', { keepaliveS: -1 })).rejects.toThrow(/vpn robot r1 keepaliveS must be/);
  await expect(hub.addRobot('r1', { robotPorts: [80, 80] })).rejects.toThrow(/robotPorts has duplicates/);
  await expect(
    startVpnHub({ seed: 1, runDir: tmpdir(), faults: new Toxiproxy(faults.url), expose: [0] }),
  ).rejects.toThrow(/vpn expose\[0\] must be a port/);
});

it('a robot that cannot get its underlay says why and leaves nothing behind', async ({ cloud }) => {
  const runDir = mkdtempSync(join(tmpdir(), 'vpn-test-'));
  // Nothing listens on port 1: the fault layer is unreachable.
  const hub = await startVpnHub({
    seed: 3,
    runDir,
    faults: new Toxiproxy('http://127.0.0.1:1'),
    expose: [cloud.port],
  });
  try {
    const hubOnly = await vpnLeftovers(process.pid);
    await expect(hub.addRobot('r9')).rejects.toThrow(
      /vpn robot r9: the fault layer at http:\/\/127\.0\.0\.1:1 made no UDP proxy/,
    );
    expect(await vpnLeftovers(process.pid)).toEqual(hubOnly);
  } finally {
    await hub.close();
    rmSync(runDir, { recursive: true, force: true });
  }
  expect(await vpnLeftovers(process.pid)).toEqual([]);
});

it('robots do not reach one another through the hub, even ones that route the whole tunnel range', async ({
  hub,
}) => {
  const [a, b] = await Promise.all([hub.addRobot('a'), hub.addRobot('b')]);
  await b.listenInside(7_500);
  expect(await b.reachableFromHub(7_500, 2_000), 'the control: the hub reaches b').toBe(true);
  expect(await doorProbe(a.netns, b.tunnelAddress, 7_500)).toBe(false);
  // Both widen their WireGuard peer and route to the tunnel's /24, as many configs do.
  for (const robot of [a, b]) {
    const hubKey = (
      await sh('ip', ['netns', 'exec', robot.netns, 'wg', 'show', robot.netns, 'peers'])
    ).trim();
    await sh('ip', [
      'netns',
      'exec',
      robot.netns,
      'wg',
      'set',
      robot.netns,
      'peer',
      hubKey,
      'allowed-ips',
      '10.77.0.0/24',
    ]);
    await sh('ip', ['-n', robot.netns, 'route', 'replace', '10.77.0.0/24', 'dev', robot.netns]);
  }
  expect(await doorProbe(a.netns, b.tunnelAddress, 7_500, 1_500), 'the hub forwards nothing').toBe(false);
  // Proof the check can fail: with forwarding on in the hub's namespace, a does reach b.
  const hubNs = (await sh('ip', ['netns', 'list']))
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .find((ns) => new RegExp(`^fdv${process.pid}x\\d+h$`).test(ns))!;
  await sh('ip', ['netns', 'exec', hubNs, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  expect(await doorProbe(a.netns, b.tunnelAddress, 7_500, 1_500)).toBe(true);
});
