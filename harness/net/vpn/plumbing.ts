/** The constants, processes, sockets and checks the hub and its robots share. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Toxiproxy } from 'toxiproxy-node-client';
import { ConfigError, TimeoutError } from '../../core/errors.ts';
import { ipToInt, takenRanges } from '../netns/link.ts';
import { registerSecret } from '../../core/secrets.ts';
import { sh } from '../netns/system.ts';
import { killNetnsPids, WG_SOCKET_DIR } from './system.ts';
import { VpnError, type VpnPeerState } from './types.ts';

export const DOOR = fileURLToPath(new URL('./door.mjs', import.meta.url));
/** The tunnel's /24 exists only inside the hub's and robots' namespaces, so it clashes with nothing. */
export const TUNNEL_NET = '10.77.0';
/**
 * The robot's site LAN behind its NAT, inside its own namespaces only: attachment `i` (the first,
 * then one per roam) is veth `lan<i>` on `192.168.<77+i>.0/24`, the NAT at `.1`, the robot at `.10`.
 */
export function lan(i: number): { ifname: string; gateway: string; address: string } {
  const net = `192.168.${77 + (i % 170)}`;
  return { ifname: `lan${i % 170}`, gateway: `${net}.1`, address: `${net}.10` };
}
/** Candidate /24s for the underlay's root-side addresses (hub /30 first, then one /30 per robot). */
export const UNDERLAY_BASES = ['10.217', '10.218', '172.30'];
export const HUB_PORT = 51_820;
/** The interface names inside the namespaces; only the root-side veths need unique names. */
export const WAN_IF = 'wan0';
export const NFT_TABLE = 'fdv';
/** fleetdrill's own toxics on the underlay proxy carry this prefix; clear() removes only those. */
export const TOXIC_PREFIX = 'fd-';
/** The longest unix socket path (sun_path is 108 bytes with its NUL), with room for a name. */
export const MAX_SOCKET_DIR = 80;
export const MAX_ROBOTS = 63;

export function checkPort(port: unknown, field: string): number {
  if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65_535)
    throw new ConfigError(field, `must be a port 1..65535, got ${JSON.stringify(port)}`);
  return port as number;
}

export function checkPorts(ports: unknown, field: string): number[] {
  if (ports === undefined) return [];
  if (!Array.isArray(ports))
    throw new ConfigError(field, `must be an array of ports, got ${JSON.stringify(ports)}`);
  const checked = ports.map((port, i) => checkPort(port, `${field}[${i}]`));
  if (new Set(checked).size !== checked.length)
    throw new ConfigError(field, `has duplicates: ${checked.join(', ')}`);
  return checked;
}

export function checkSeconds(value: unknown, field: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 65_535)
    throw new ConfigError(
      field,
      `must be a whole number of seconds ${min}..65535, got ${JSON.stringify(value)}`,
    );
  return value;
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

export async function inNs(
  netns: string,
  file: string,
  args: readonly string[],
  input?: string,
): Promise<string> {
  return sh('ip', ['netns', 'exec', netns, file, ...args], input);
}

/** One free /24 prefix (`a.b.c`) in the root namespace; call under the allocation lock. */
export async function freeUnderlayNet(): Promise<string> {
  const taken = await takenRanges();
  for (const base of UNDERLAY_BASES)
    for (let octet = 0; octet < 255; octet++) {
      const start = ipToInt(`${base}.${octet}.0`);
      if (!taken.some(([lo, hi]) => lo <= start + 255 && start <= hi)) return `${base}.${octet}`;
    }
  throw new ConfigError('vpn', `no free /24 for the underlay in ${UNDERLAY_BASES.join('.x, ')}.x`);
}

/**
 * Everything one hub created, for the process-exit path (synchronous) and close (asynchronous).
 * Children are SIGKILLed, namespaces and root-side links deleted, the socket directory removed.
 */
export class Owned {
  readonly children = new Set<ChildProcess>();
  readonly netns: string[] = [];
  readonly links: string[] = [];
  /** Directories and files (wireguard-go's control sockets, which a SIGKILLed wireguard-go leaves). */
  readonly dirs: string[] = [];

  syncCleanup(): void {
    for (const child of this.children) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const ns of this.netns) {
      killNetnsPids(ns);
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 5_000 });
      } catch {
        /* gone */
      }
    }
    for (const link of this.links) {
      try {
        execFileSync('ip', ['link', 'del', link], { stdio: 'ignore', timeout: 5_000 });
      } catch {
        /* gone with its namespace */
      }
    }
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }

  /**
   * Close's half once the children are stopped: namespaces (and what still runs in them), links and
   * directories go, and are forgotten. A failure goes to `errors` and the rest still goes; a link
   * already gone with its namespace is no failure.
   */
  async release(errors: unknown[]): Promise<void> {
    for (const ns of this.netns) {
      killNetnsPids(ns);
      await sh('ip', ['netns', 'del', ns]).catch((error: unknown) => errors.push(error));
    }
    for (const link of this.links)
      await sh('ip', ['link', 'del', link]).catch((error: unknown) => {
        if (!/Cannot find device/.test((error as Error).message)) errors.push(error);
      });
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
    this.netns.length = this.links.length = this.dirs.length = 0;
  }
}

/** door.mjs probe inside `netns`: whether a TCP connection to host:port opens in time. */
export async function doorProbe(
  netns: string,
  host: string,
  port: number,
  timeoutMs = 1_000,
): Promise<boolean> {
  try {
    await sh('ip', [
      'netns',
      'exec',
      netns,
      process.execPath,
      DOOR,
      'probe',
      host,
      String(port),
      String(timeoutMs),
    ]);
    return true;
  } catch {
    return false;
  }
}

/** Ends a child: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 2_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Starts a process inside `netns`, owned (killed at close and at exit), stderr kept for errors. */
export function spawnIn(
  owned: Owned,
  netns: string,
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { child: ChildProcess; stderr: () => string } {
  const child = spawn('ip', ['netns', 'exec', netns, file, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  owned.children.add(child);
  child.once('exit', () => owned.children.delete(child));
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString()).slice(-2_000);
  });
  return { child, stderr: () => err.trim() };
}

/** A door process (door.mjs pipe) inside `netns`; resolves once every listener is up. */
export async function startDoor(
  owned: Owned,
  netns: string,
  marker: string,
  specs: string[],
): Promise<ChildProcess> {
  const { child, stderr } = spawnIn(owned, netns, process.execPath, [DOOR, 'pipe', marker, ...specs]);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new TimeoutError(`vpn ${marker}: door in ${netns} not listening after 10 s`)),
      10_000,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new VpnError(`vpn ${marker}: door in ${netns} ended (${code ?? signal}): ${stderr()}`));
    });
  });
  return child;
}

/** wireguard-go in the foreground inside `netns`, its interface named `ifname`; resolves once configurable. */
export async function startWireguard(owned: Owned, netns: string, ifname: string): Promise<ChildProcess> {
  const { child, stderr } = spawnIn(owned, netns, 'wireguard-go', ['-f', ifname], {
    ...process.env,
    // Without the kernel module wireguard-go is the only choice; it refuses on Linux unless told.
    WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1',
    LOG_LEVEL: 'error',
  });
  const socket = join(WG_SOCKET_DIR, `${ifname}.sock`);
  owned.dirs.push(socket);
  const deadline = Date.now() + 10_000;
  while (!existsSync(socket)) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new VpnError(
        `vpn ${ifname}: wireguard-go ended (${child.exitCode ?? child.signalCode}): ${stderr()}`,
      );
    if (Date.now() > deadline)
      throw new TimeoutError(`vpn ${ifname}: wireguard-go has no control socket after 10 s`);
    await sleep(20);
  }
  return child;
}

/** A fresh key pair; the private key is written to `file` (0600) and registered as a secret. */
export async function keyPair(file: string, label: string): Promise<string> {
  const privateKey = (await sh('wg', ['genkey'])).trim();
  registerSecret(privateKey, label);
  writeFileSync(file, `${privateKey}\n`, { mode: 0o600 });
  return (await sh('wg', ['pubkey'], privateKey)).trim();
}

/**
 * A server that pipes each connection to a fresh `connectUpstream()` and back; both ends are kept in
 * `sockets` until they close, and either end failing or closing ends the other.
 */
function pipingServer(connectUpstream: () => Socket, sockets: Set<Socket>): Server {
  return createServer((client) => {
    const upstream = connectUpstream();
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
}

/** A root-namespace unix socket server that pipes each connection to `target` (TCP). */
export async function unixToTcp(
  path: string,
  port: number,
  servers: Set<Server>,
  sockets: Set<Socket>,
): Promise<void> {
  const server = pipingServer(() => connect({ host: '127.0.0.1', port }), sockets);
  rmSync(path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  servers.add(server);
}

/** A root-namespace 127.0.0.1 listener that pipes each connection to the unix socket `path`. */
export async function tcpToUnix(path: string, servers: Set<Server>, sockets: Set<Socket>): Promise<number> {
  const server = pipingServer(() => connect({ path }), sockets);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  servers.add(server);
  return (server.address() as { port: number }).port;
}

export async function closeServers(servers: Set<Server>, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  await Promise.all(
    [...servers].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
  servers.clear();
}

/** The fault layer's HTTP API, spoken directly so `"protocol": "udp"` and toxics pass untouched. */
export async function faultCall(
  faults: Toxiproxy,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const response = await fetch(`${faults.host}${path}`, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok)
    throw new VpnError(`vpn: fault layer ${method} ${path} answered ${response.status}: ${text.trim()}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/** Parses `wg show <if> dump` (first line the interface, then one line per peer). */
export function parseWgDump(dump: string): Map<string, VpnPeerState> {
  const peers = new Map<string, VpnPeerState>();
  for (const line of dump.trim().split('\n').slice(1)) {
    const fields = line.split('\t');
    if (fields.length < 8) continue;
    const [publicKey, , endpoint, , handshake, rx, tx] = fields;
    peers.set(publicKey!, {
      endpoint: endpoint === '(none)' ? undefined : endpoint,
      latestHandshakeMs: Number(handshake) * 1000,
      rxBytes: Number(rx),
      txBytes: Number(tx),
    });
  }
  return peers;
}
