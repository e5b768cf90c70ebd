import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Toxiproxy } from 'toxiproxy-node-client';
import { Fleet } from '../harness/fleet/index.ts';
import { createRunDir } from '../harness/fleet/run-dir.ts';
import { ToxiproxyServer } from '../harness/net/toxiproxy/index.ts';
import { startVpnHub } from '../harness/net/vpn/index.ts';
import { provisionRobots } from '../harness/ota/index.ts';
import { judgeVpnRecovery } from '../harness/telemetry/index.ts';
import { deriveSeed } from '../harness/core/seed.ts';
import { percentile } from './stats.ts';

const run = promisify(execFile);

/** The fault layer's HTTP API, spoken directly so `"protocol": "udp"` passes untouched. */
async function faultApi(url: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`fault layer ${method} ${path} answered ${response.status}: ${text}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/**
 * The robot's NAT forwards only its WireGuard datagrams: for the plain echo, one more accept in its
 * forward chain (the rule goes with the NAT namespace when the hub closes).
 */
async function openNatTo(nat: string, host: string, port: number): Promise<void> {
  const { stdout } = await run('ip', ['netns', 'exec', nat, 'nft', '-j', 'list', 'chains']);
  const chain = (
    JSON.parse(stdout) as {
      nftables: Array<{ chain?: { family: string; table: string; name: string; hook?: string } }>;
    }
  ).nftables
    .map((entry) => entry.chain)
    .find((candidate) => candidate?.hook === 'forward');
  if (!chain) throw new Error(`no forward chain in the robot's NAT namespace ${nat}`);
  await run('ip', [
    'netns',
    'exec',
    nat,
    'nft',
    'insert',
    'rule',
    chain.family,
    chain.table,
    chain.name,
    'ip',
    'daddr',
    host,
    'udp',
    'dport',
    String(port),
    'accept',
  ]);
}

/** Polls until `check` holds; throws naming `what` after `timeoutMs`. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * One robot behind a NAT sends telemetry through the WireGuard tunnel (metrics at 4 Hz); its
 * underlay goes silent for 30 s, as in the @vpn drill. Returns the time from the dead zone's end
 * to the cloud receiving the first record sampled after it (ms).
 */
export async function vpnRecoveryAfterDeadZoneMs(seed: number): Promise<number> {
  const fleet = await new Fleet({
    robots: 1,
    seed,
    vpn: true,
    provision: provisionRobots({ agent: { metricsHz: 4 } }),
  }).start();
  try {
    const robot = fleet.roster[0]!;
    const vpn = fleet.vpnRobot(robot.id);
    await robot.agent.waitUntilReady();
    const delivered = async (sinceMs: number) =>
      (await fleet.cloud.api.records(robot.id)).some((record) => record.capturedAt >= sinceMs);
    const upAt = Date.now();
    await until('telemetry through the tunnel', 20_000, () => delivered(upAt));
    await vpn.underlay.deadZone();
    const startMs = Date.now();
    await sleep(30_000);
    await vpn.underlay.clear();
    const endMs = Date.now();
    await until('telemetry after the dead zone', 60_000, () => delivered(endMs));
    const verdict = judgeVpnRecovery(
      { deadZone: { startMs, endMs }, records: await fleet.cloud.api.records(robot.id) },
      { minDeadZoneMs: 30_000, maxRecoveryMs: 60_000 },
    );
    if (verdict.verdict !== 'pass' || verdict.recoveryMs === undefined) {
      throw new Error(`robot ${robot.id}: ${verdict.verdict}: ${verdict.message}`);
    }
    return verdict.recoveryMs;
  } finally {
    await fleet.stop();
  }
}

/**
 * The round trip a robot sees, from inside its namespace, of a small message: over TCP through the
 * tunnel to an echo server the hub exposes, and over plain UDP through a second UDP proxy beside
 * the robot's underlay proxy (same fault layer, same listen address, same NAT) to an echo server,
 * interleaved in one run. `addedUs` is p50(tunnel) − p50(plain), in µs.
 */
export async function vpnAddedLatencyP50Us(
  seed: number,
): Promise<{ addedUs: number; tunnelP50Us: number; plainP50Us: number; rounds: number }> {
  const ROUNDS = 2_000;
  const tcpEcho = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => tcpEcho.listen(0, '127.0.0.1', resolve));
  const udpEcho = createSocket('udp4');
  udpEcho.on('message', (message, from) => udpEcho.send(message, from.port, from.address));
  await new Promise<void>((resolve) => udpEcho.bind(0, '127.0.0.1', resolve));
  const tcpPort = (tcpEcho.address() as AddressInfo).port;
  const udpPort = udpEcho.address().port;
  const runDir = await createRunDir();
  const server = await new ToxiproxyServer({
    host: '127.0.0.1',
    port: 0,
    seed: deriveSeed(seed, 'toxiproxy'),
  }).start();
  const faults = new Toxiproxy(server.url);
  const hub = await startVpnHub({
    seed: deriveSeed(seed, 'vpn'),
    runDir: runDir.path,
    faults,
    expose: [tcpPort],
  });
  try {
    const robot = await hub.addRobot('r01');
    const underlay = (await faultApi(server.url, 'GET', `/proxies/${robot.underlay.proxyName}`)) as {
      listen: string;
    };
    const host = underlay.listen.slice(0, underlay.listen.lastIndexOf(':'));
    // The plain path: a second UDP proxy of the same fault layer beside the underlay's, on the same
    // address, so datagrams cross the robot's NAT and the same relay code, without WireGuard.
    const plain = (await faultApi(server.url, 'POST', '/proxies', {
      name: 'bench-plain-udp',
      listen: `${host}:0`,
      upstream: `127.0.0.1:${udpPort}`,
      protocol: 'udp',
      enabled: true,
    })) as { listen: string };
    await openNatTo(robot.natNetns, host, Number(plain.listen.slice(plain.listen.lastIndexOf(':') + 1)));
    const script = `
      const net = require('node:net'), dgram = require('node:dgram');
      const [tunnelHost, tunnelPort, plainHost, plainPort, rounds] = process.argv.slice(1);
      const tcp = net.connect(Number(tunnelPort), tunnelHost);
      tcp.setNoDelay(true);
      const udp = dgram.createSocket('udp4');
      const payload = Buffer.alloc(64, 7);
      const once = (emitter, event) => new Promise((resolve) => emitter.once(event, resolve));
      (async () => {
        await once(tcp, 'connect');
        const samples = { tunnel: [], plain: [] };
        for (let i = 0; i < Number(rounds) + 100; i++) {
          let t = process.hrtime.bigint();
          tcp.write(payload);
          let got = 0;
          while (got < payload.length) got += (await once(tcp, 'data')).length;
          const tunnel = Number(process.hrtime.bigint() - t) / 1000;
          t = process.hrtime.bigint();
          udp.send(payload, Number(plainPort), plainHost);
          await once(udp, 'message');
          const plain = Number(process.hrtime.bigint() - t) / 1000;
          if (i >= 100) { samples.tunnel.push(tunnel); samples.plain.push(plain); }
        }
        process.stdout.write(JSON.stringify(samples));
        process.exit(0);
      })();
      setTimeout(() => { process.stderr.write('no echo within 60 s'); process.exit(3); }, 60000).unref();
    `;
    const plainHost = plain.listen.slice(0, plain.listen.lastIndexOf(':'));
    const plainPort = plain.listen.slice(plain.listen.lastIndexOf(':') + 1);
    const { stdout } = await run(
      'ip',
      [
        'netns',
        'exec',
        robot.netns,
        process.execPath,
        '-e',
        script,
        hub.tunnelAddress,
        String(tcpPort),
        plainHost,
        plainPort,
        String(ROUNDS),
      ],
      { timeout: 90_000 },
    );
    const samples = JSON.parse(stdout) as { tunnel: number[]; plain: number[] };
    const tunnelP50Us = Math.round(percentile(samples.tunnel, 50));
    const plainP50Us = Math.round(percentile(samples.plain, 50));
    return { addedUs: tunnelP50Us - plainP50Us, tunnelP50Us, plainP50Us, rounds: ROUNDS };
  } finally {
    await hub.close();
    await server.stop();
    await runDir.remove();
    tcpEcho.close();
    udpEcho.close();
  }
}
