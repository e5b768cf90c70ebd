import createDebug from 'debug';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Toxiproxy } from 'toxiproxy-node-client';
import { onProcessExit } from '../../core/cleanup.ts';
import { ConfigError, FleetdrillError, TimeoutError } from '../../core/errors.ts';
import { registerSecret } from '../../core/secrets.ts';
import { ipToInt, takenRanges, withAllocationLock } from '../netns/link.ts';
import { planConditions } from '../netns/conditions.ts';
import { sh } from '../netns/system.ts';
import type { UdpLinkConditions } from '../udp-profiles.ts';
import {
  killNetnsPids,
  SOCKET_DIR_PREFIX,
  sweepStaleVpn,
  vpnName,
  vpnPrivileges,
  WG_SOCKET_DIR,
} from './system.ts';

const debug = createDebug('fleetdrill:vpn');

const DOOR = fileURLToPath(new URL('./door.mjs', import.meta.url));
/** The tunnel's /24 exists only inside the hub's and robots' namespaces, so it clashes with nothing. */
const TUNNEL_NET = '10.77.0';
/**
 * The robot's site LAN behind its NAT, inside its own namespaces only: attachment `i` (the first,
 * then one per roam) is veth `lan<i>` on `192.168.<77+i>.0/24`, the NAT at `.1`, the robot at `.10`.
 */
function lan(i: number): { ifname: string; gateway: string; address: string } {
  const net = `192.168.${77 + (i % 170)}`;
  return { ifname: `lan${i % 170}`, gateway: `${net}.1`, address: `${net}.10` };
}
/** Candidate /24s for the underlay's root-side addresses (hub /30 first, then one /30 per robot). */
const UNDERLAY_BASES = ['10.217', '10.218', '172.30'];
const HUB_PORT = 51_820;
/** The interface names inside the namespaces; only the root-side veths need unique names. */
const WAN_IF = 'wan0';
const NFT_TABLE = 'fdv';
/** fleetdrill's own toxics on the underlay proxy carry this prefix; clear() removes only those. */
const TOXIC_PREFIX = 'fd-';
/** The longest unix socket path (sun_path is 108 bytes with its NUL), with room for a name. */
const MAX_SOCKET_DIR = 80;
const MAX_ROBOTS = 63;

/** Where the VPN's parts live; options of startVpnHub. */
export interface VpnHubOptions {
  /**
   * The run's seed. The VPN makes no random choice of its own (keys are random by nature); the
   * underlay's loss pattern follows the fault layer's seed and the proxy name, `vpn-<robot id>`,
   * so the same run seed drops the same datagrams.
   */
  seed: number;
  /** Keys, configs and unix sockets go under `<runDir>/vpn` (mode 0700); keys are registered secrets. */
  runDir: string;
  /**
   * The run's fault layer: each robot's underlay is one UDP proxy on it (`"protocol": "udp"`,
   * fleetdrill's extension, harness/net/toxiproxy/udp-proxy.ts). It must run in this process's
   * network namespace (the embedded server, or one on this machine): the proxy listens on the
   * robot's root-side WAN address.
   */
  faults: Toxiproxy;
  /** Root-namespace 127.0.0.1 ports that robots reach at `hub.tunnelAddress` with the same port numbers, and nowhere else. */
  expose: readonly number[];
}

export interface VpnRobotOptions {
  /** WireGuard PersistentKeepalive on the robot's side, seconds; 0/undefined = off. */
  keepaliveS?: number;
  /** The NAT's UDP mapping timeout, seconds (conntrack in the NAT namespace); default the kernel's. */
  natUdpTimeoutS?: number;
  /** Ports on the robot namespace's 127.0.0.1 the harness must reach (rosbridge). */
  robotPorts?: readonly number[];
}

/** What the hub's WireGuard believes about one peer (`wg show <if> dump`). */
export interface VpnPeerState {
  endpoint: string | undefined;
  /** Ms since epoch; 0 = never. */
  latestHandshakeMs: number;
  rxBytes: number;
  txBytes: number;
}

export interface VpnUnderlay {
  /** The fault layer's UDP proxy name. */
  readonly proxyName: string;
  /** Every underlay datagram is dropped silently, both ways (a loss toxic at 1, as radio silence; no ICMP). */
  deadZone(): Promise<void>;
  /** Back to a clean underlay (fleetdrill's own toxics and rate caps removed). */
  clear(): Promise<void>;
  /**
   * Latency, jitter, loss, burst loss, duplication and reordering on the WireGuard datagrams (UDP
   * toxics on the proxy), `down` as a dead zone, `rateKbit` as a tbf qdisc on the NAT's WAN veth
   * both ways. Replaces the previous conditions.
   */
  setConditions(conditions: UdpLinkConditions): Promise<void>;
}

export interface VpnRobot extends AsyncDisposable {
  readonly id: string;
  /** The robot's network namespace: run its processes with `ip netns exec <netns> …`. */
  readonly netns: string;
  /** The robot's address inside the tunnel. */
  readonly tunnelAddress: string;
  /** A root-namespace 127.0.0.1 port that reaches 127.0.0.1:<port> inside the robot namespace. */
  robotPort(port: number): number;
  readonly underlay: VpnUnderlay;
  /** Moves the robot to a new underlay address (a new LAN IP, as after a roam); wireguard-go keeps running. */
  roam(): Promise<{ from: string; to: string }>;
  hubPeer(): Promise<VpnPeerState>;
  /** Whether the hub side can open a TCP connection to `tunnelAddress:port` within `timeoutMs`. */
  reachableFromHub(port: number, timeoutMs: number): Promise<boolean>;
  /**
   * A TCP echo server on `tunnelAddress:port` inside the robot namespace, owned by the robot
   * (stopped at close): something for reachableFromHub to find when the robot's own software
   * listens on 127.0.0.1 only.
   */
  listenInside(port: number): Promise<void>;
  close(): Promise<void>;
}

export interface VpnHub extends AsyncDisposable {
  /** The hub's address inside the tunnel. */
  readonly tunnelAddress: string;
  addRobot(id: string, options?: VpnRobotOptions): Promise<VpnRobot>;
  /** Removes every robot and the hub; idempotent. */
  close(): Promise<void>;
}

/** A VPN part failed to come up or answer; the message names the robot or hub and the command. */
export class VpnError extends FleetdrillError {}

let counter = 0;

function checkPort(port: unknown, field: string): number {
  if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65_535)
    throw new ConfigError(field, `must be a port 1..65535, got ${JSON.stringify(port)}`);
  return port as number;
}

function checkPorts(ports: unknown, field: string): number[] {
  if (ports === undefined) return [];
  if (!Array.isArray(ports))
    throw new ConfigError(field, `must be an array of ports, got ${JSON.stringify(ports)}`);
  const checked = ports.map((port, i) => checkPort(port, `${field}[${i}]`));
  if (new Set(checked).size !== checked.length)
    throw new ConfigError(field, `has duplicates: ${checked.join(', ')}`);
  return checked;
}

function checkSeconds(value: unknown, field: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > 65_535)
    throw new ConfigError(
      field,
      `must be a whole number of seconds ${min}..65535, got ${JSON.stringify(value)}`,
    );
  return value;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

async function inNs(netns: string, file: string, args: readonly string[], input?: string): Promise<string> {
  return sh('ip', ['netns', 'exec', netns, file, ...args], input);
}

/** One free /24 prefix (`a.b.c`) in the root namespace; call under the allocation lock. */
async function freeUnderlayNet(): Promise<string> {
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
class Owned {
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
}

/** Ends a child: SIGTERM, then SIGKILL after `graceMs`. */
async function stopChild(child: ChildProcess, graceMs = 2_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Starts a process inside `netns`, owned (killed at close and at exit), stderr kept for errors. */
function spawnIn(
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
async function startDoor(
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
async function startWireguard(owned: Owned, netns: string, ifname: string): Promise<ChildProcess> {
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
async function keyPair(file: string, label: string): Promise<string> {
  const privateKey = (await sh('wg', ['genkey'])).trim();
  registerSecret(privateKey, label);
  writeFileSync(file, `${privateKey}\n`, { mode: 0o600 });
  return (await sh('wg', ['pubkey'], privateKey)).trim();
}

/** A root-namespace unix socket server that pipes each connection to `target` (TCP). */
async function unixToTcp(
  path: string,
  port: number,
  servers: Set<Server>,
  sockets: Set<Socket>,
): Promise<void> {
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port });
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
  rmSync(path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  servers.add(server);
}

/** A root-namespace 127.0.0.1 listener that pipes each connection to the unix socket `path`. */
async function tcpToUnix(path: string, servers: Set<Server>, sockets: Set<Socket>): Promise<number> {
  const server = createServer((client) => {
    const upstream = connect({ path });
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  servers.add(server);
  return (server.address() as { port: number }).port;
}

async function closeServers(servers: Set<Server>, sockets: Set<Socket>): Promise<void> {
  for (const socket of sockets) socket.destroy();
  await Promise.all(
    [...servers].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
  servers.clear();
}

/** The fault layer's HTTP API, spoken directly so `"protocol": "udp"` and toxics pass untouched. */
async function faultCall(faults: Toxiproxy, method: string, path: string, body?: unknown): Promise<unknown> {
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

/**
 * Starts a hub: its namespace with a veth to the root namespace (the underlay), wireguard-go on
 * `10.77.0.1`, and one door per exposed port from the tunnel to root 127.0.0.1.
 */
export async function startVpnHub(options: VpnHubOptions): Promise<VpnHub> {
  if (!Number.isInteger(options.seed) || options.seed < 0)
    throw new ConfigError('vpn seed', `must be a non-negative integer, got ${options.seed}`);
  if (typeof options.runDir !== 'string' || !options.runDir)
    throw new ConfigError('vpn runDir', `must be a directory path, got ${JSON.stringify(options.runDir)}`);
  if (typeof options.faults?.host !== 'string')
    throw new ConfigError('vpn faults', 'must be the run fault layer (a toxiproxy-node-client Toxiproxy)');
  const expose = checkPorts(options.expose, 'vpn expose');
  const privileges = vpnPrivileges();
  if (!privileges.ok) throw new VpnError(`vpn: needs ${privileges.missing}`);
  await sweepStaleVpn();
  return StartedVpnHub.start(options, expose);
}

class StartedVpnHub implements VpnHub {
  readonly tunnelAddress = `${TUNNEL_NET}.1`;
  private readonly robots = new Map<string, StartedVpnRobot>();
  private readonly servers = new Set<Server>();
  private readonly sockets = new Set<Socket>();
  private wg: ChildProcess | undefined;
  private door: ChildProcess | undefined;
  private closing: Promise<void> | undefined;
  private nextHost = 2;
  private nextBlock = 1;
  private publicKey = '';

  private constructor(
    readonly options: VpnHubOptions,
    readonly name: string,
    readonly owned: Owned,
    readonly unregister: () => void,
    /** The underlay /24 in the root namespace: the hub's /30 is `.0`, robot n's is `.4n`. */
    readonly underlayNet: string,
    readonly dir: string,
    readonly socketDir: string,
  ) {}

  static async start(options: VpnHubOptions, expose: number[]): Promise<StartedVpnHub> {
    const began = performance.now();
    const k = counter++;
    const name = vpnName(process.pid, k, 'h');
    const owned = new Owned();
    const unregister = onProcessExit(() => owned.syncCleanup());
    try {
      const dir = join(options.runDir, 'vpn');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      let socketDir = join(dir, name);
      if (socketDir.length > MAX_SOCKET_DIR)
        socketDir = mkdtempSync(join(tmpdir(), `${SOCKET_DIR_PREFIX}${process.pid}x${k}-`));
      else mkdirSync(socketDir, { recursive: true, mode: 0o700 });
      owned.dirs.push(socketDir);
      const underlayNet = await withAllocationLock(async () => {
        const net = await freeUnderlayNet();
        await sh('ip', ['netns', 'add', name]);
        owned.netns.push(name);
        await sh('ip', ['link', 'add', 'name', name, 'type', 'veth', 'peer', 'name', WAN_IF, 'netns', name]);
        owned.links.push(name);
        await sh('ip', ['-batch', '-'], `addr add ${net}.1/30 dev ${name}\nlink set ${name} up\n`);
        return net;
      });
      await sh(
        'ip',
        ['-n', name, '-batch', '-'],
        `link set lo up\naddr add ${underlayNet}.2/30 dev ${WAN_IF}\nlink set ${WAN_IF} up\n`,
      );
      const hub = new StartedVpnHub(options, name, owned, unregister, underlayNet, dir, socketDir);
      // A failed start cleans up what it started (the harness's own listeners too) and rethrows.
      await hub.up(expose).catch(async (error: unknown) => {
        await hub.close().catch(() => undefined);
        throw error;
      });
      debug(
        'hub %s up in %d ms (underlay %s.0/24)',
        name,
        Math.round(performance.now() - began),
        underlayNet,
      );
      return hub;
    } catch (error) {
      owned.syncCleanup();
      unregister();
      throw error;
    }
  }

  private async up(expose: number[]): Promise<void> {
    const keyFile = join(this.dir, `${this.name}.key`);
    this.publicKey = await keyPair(keyFile, `vpn hub ${this.name} private key`);
    this.wg = await startWireguard(this.owned, this.name, this.name);
    await inNs(this.name, 'wg', ['set', this.name, 'listen-port', String(HUB_PORT), 'private-key', keyFile]);
    await sh(
      'ip',
      ['-n', this.name, '-batch', '-'],
      `addr add ${this.tunnelAddress}/24 dev ${this.name}\nlink set ${this.name} up\n`,
    );
    if (expose.length === 0) return;
    const specs: string[] = [];
    for (const port of expose) {
      const path = join(this.socketDir, `h${port}.sock`);
      await unixToTcp(path, port, this.servers, this.sockets);
      specs.push(`tcp:${this.tunnelAddress}:${port}=unix:${path}`);
    }
    this.door = await startDoor(this.owned, this.name, this.name, specs);
  }

  /** Where the robots' underlay proxies forward: the hub's WireGuard port on its veth. */
  get endpoint(): string {
    return `${this.underlayNet}.2:${HUB_PORT}`;
  }

  get hubPublicKey(): string {
    return this.publicKey;
  }

  async dump(): Promise<Map<string, VpnPeerState>> {
    return parseWgDump(await inNs(this.name, 'wg', ['show', this.name, 'dump']));
  }

  async addRobot(id: string, options: VpnRobotOptions = {}): Promise<VpnRobot> {
    if (this.closing) throw new VpnError(`vpn robot ${id}: the hub is closed`);
    if (typeof id !== 'string' || !/^[\w.-]{1,64}$/.test(id))
      throw new ConfigError(
        'vpn robot id',
        `must be 1..64 letters, digits, '.', '_' or '-', got ${JSON.stringify(id)}`,
      );
    if (this.robots.has(id)) throw new ConfigError(`vpn robot ${id}`, 'is already on this hub');
    const keepaliveS = checkSeconds(options.keepaliveS, `vpn robot ${id} keepaliveS`, 0);
    const natUdpTimeoutS = checkSeconds(options.natUdpTimeoutS, `vpn robot ${id} natUdpTimeoutS`, 1);
    const robotPorts = checkPorts(options.robotPorts, `vpn robot ${id} robotPorts`);
    if (this.nextBlock > MAX_ROBOTS)
      throw new ConfigError(`vpn robot ${id}`, `a hub takes at most ${MAX_ROBOTS} robots`);
    const host = this.nextHost++;
    const block = this.nextBlock++;
    const robot = new StartedVpnRobot(this, id, host, block, counter++);
    this.robots.set(id, robot);
    try {
      await robot.up({ keepaliveS: keepaliveS ?? 0, natUdpTimeoutS, robotPorts });
    } catch (error) {
      await robot.close().catch(() => undefined);
      throw error;
    }
    return robot;
  }

  forget(id: string): void {
    this.robots.delete(id);
  }

  close(): Promise<void> {
    this.closing ??= this.teardown();
    return this.closing;
  }

  private async teardown(): Promise<void> {
    const errors: unknown[] = [];
    for (const robot of [...this.robots.values()])
      await robot.close().catch((error: unknown) => errors.push(error));
    for (const child of [this.door, this.wg]) if (child) await stopChild(child);
    await closeServers(this.servers, this.sockets);
    for (const ns of this.owned.netns) {
      killNetnsPids(ns);
      await sh('ip', ['netns', 'del', ns]).catch((error: unknown) => errors.push(error));
    }
    for (const link of this.owned.links)
      await sh('ip', ['link', 'del', link]).catch((error: unknown) => {
        if (!/Cannot find device/.test((error as Error).message)) errors.push(error);
      });
    rmSync(join(this.dir, `${this.name}.key`), { force: true });
    for (const dir of this.owned.dirs) rmSync(dir, { recursive: true, force: true });
    this.owned.netns.length = this.owned.links.length = this.owned.dirs.length = 0;
    this.unregister();
    if (errors.length > 0) throw errors[0];
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

interface RobotSetup {
  keepaliveS: number;
  natUdpTimeoutS: number | undefined;
  robotPorts: number[];
}

class StartedVpnRobot implements VpnRobot {
  readonly netns: string;
  readonly tunnelAddress: string;
  readonly underlay: VpnUnderlay;
  private readonly nat: string;
  private readonly owned = new Owned();
  private readonly unregister: () => void;
  private readonly servers = new Set<Server>();
  private readonly sockets = new Set<Socket>();
  private readonly ports = new Map<number, number>();
  private readonly listeners = new Set<number>();
  private publicKey = '';
  private proxyName = '';
  /** The current LAN attachment (see lan()). */
  private attachment = 0;
  private rateKbit: number | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly hub: StartedVpnHub,
    readonly id: string,
    host: number,
    private readonly block: number,
    k: number,
  ) {
    this.netns = vpnName(process.pid, k, 'r');
    this.nat = vpnName(process.pid, k, 'n');
    this.tunnelAddress = `${TUNNEL_NET}.${host}`;
    this.unregister = onProcessExit(() => this.owned.syncCleanup());
    this.proxyName = `vpn-${id}`;
    this.underlay = {
      proxyName: this.proxyName,
      deadZone: () => this.setConditions({ down: true }),
      clear: () => this.setConditions({}),
      setConditions: (conditions) => this.setConditions(conditions),
    };
  }

  /** The root-side WAN address (where the underlay proxy listens) and the NAT's WAN address. */
  private get wan(): { root: string; nat: string } {
    const base = ipToInt(`${this.hub.underlayNet}.0`) + this.block * 4;
    const text = (n: number): string => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
    return { root: text(base + 1), nat: text(base + 2) };
  }

  /** A new veth between the robot and its NAT, addressed and routed: a (re)association with an access point. */
  private async attach(i: number): Promise<void> {
    const { ifname, gateway, address } = lan(i);
    await sh('ip', [
      'link',
      'add',
      'name',
      ifname,
      'netns',
      this.netns,
      'type',
      'veth',
      'peer',
      'name',
      ifname,
      'netns',
      this.nat,
    ]);
    await sh(
      'ip',
      ['-n', this.nat, '-batch', '-'],
      `addr add ${gateway}/24 dev ${ifname}\nlink set ${ifname} up\n`,
    );
    await sh(
      'ip',
      ['-n', this.netns, '-batch', '-'],
      `addr add ${address}/24 dev ${ifname}\nlink set ${ifname} up\nroute replace default via ${gateway} dev ${ifname}\n`,
    );
  }

  async up(setup: RobotSetup): Promise<void> {
    const began = performance.now();
    const { root, nat } = this.wan;
    const [r, n] = [this.netns, this.nat];
    for (const ns of [r, n]) {
      await sh('ip', ['netns', 'add', ns]);
      this.owned.netns.push(ns);
    }
    await sh('ip', ['link', 'add', 'name', n, 'type', 'veth', 'peer', 'name', WAN_IF, 'netns', n]);
    this.owned.links.push(n);
    await sh('ip', ['-batch', '-'], `addr add ${root}/30 dev ${n}\nlink set ${n} up\n`);
    const proxy = (await faultCall(this.hub.options.faults, 'POST', '/proxies', {
      name: this.proxyName,
      listen: `${root}:0`,
      upstream: this.hub.endpoint,
      protocol: 'udp',
      enabled: true,
    }).catch((error: unknown) => {
      throw new VpnError(
        `vpn robot ${this.id}: the fault layer at ${this.hub.options.faults.host} made no UDP proxy on ${root} ` +
          `(it must be fleetdrill's server, which has "protocol": "udp", in this machine's root namespace): ${(error as Error).message}`,
      );
    })) as { listen: string };
    const proxyPort = Number(proxy.listen.slice(proxy.listen.lastIndexOf(':') + 1));
    await sh(
      'ip',
      ['-n', n, '-batch', '-'],
      ['link set lo up', `addr add ${nat}/30 dev ${WAN_IF}`, `link set ${WAN_IF} up`, ''].join('\n'),
    );
    // The NAT forwards one thing: the robot's datagrams to the underlay proxy (and their replies).
    await inNs(
      n,
      'nft',
      ['-f', '-'],
      [
        `table ip ${NFT_TABLE} {`,
        '  chain forward {',
        '    type filter hook forward priority 0; policy drop;',
        '    ct state established,related accept',
        `    oifname "${WAN_IF}" ip daddr ${root} udp dport ${proxyPort} accept`,
        '  }',
        '  chain postrouting {',
        '    type nat hook postrouting priority 100; policy accept;',
        `    oifname "${WAN_IF}" masquerade`,
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    const sysctls = ['net.ipv4.ip_forward=1'];
    if (setup.natUdpTimeoutS !== undefined)
      sysctls.push(
        `net.netfilter.nf_conntrack_udp_timeout=${setup.natUdpTimeoutS}`,
        `net.netfilter.nf_conntrack_udp_timeout_stream=${setup.natUdpTimeoutS}`,
      );
    await inNs(n, 'sysctl', ['-q', '-w', ...sysctls]);
    await sh('ip', ['-n', r, 'link', 'set', 'lo', 'up']);
    await this.attach(this.attachment);
    const keyFile = join(this.hub.dir, `${r}.key`);
    this.publicKey = await keyPair(keyFile, `vpn robot ${this.id} private key`);
    await startWireguard(this.owned, r, r);
    await inNs(r, 'wg', [
      'set',
      r,
      'private-key',
      keyFile,
      'peer',
      this.hub.hubPublicKey,
      'endpoint',
      `${root}:${proxyPort}`,
      'allowed-ips',
      `${this.hub.tunnelAddress}/32`,
      'persistent-keepalive',
      setup.keepaliveS > 0 ? String(setup.keepaliveS) : 'off',
    ]);
    await inNs(this.hub.name, 'wg', [
      'set',
      this.hub.name,
      'peer',
      this.publicKey,
      'allowed-ips',
      `${this.tunnelAddress}/32`,
    ]);
    await sh(
      'ip',
      ['-n', r, '-batch', '-'],
      [
        `addr add ${this.tunnelAddress}/32 dev ${r}`,
        `link set ${r} up`,
        `route add ${this.hub.tunnelAddress}/32 dev ${r}`,
        '',
      ].join('\n'),
    );
    if (setup.robotPorts.length > 0) {
      const specs: string[] = [];
      for (const port of setup.robotPorts) {
        const path = join(this.hub.socketDir, `${r}-${port}.sock`);
        specs.push(`unix:${path}=tcp:127.0.0.1:${port}`);
      }
      await startDoor(this.owned, r, r, specs);
      for (const port of setup.robotPorts)
        this.ports.set(
          port,
          await tcpToUnix(join(this.hub.socketDir, `${r}-${port}.sock`), this.servers, this.sockets),
        );
    }
    await this.handshake();
    debug('robot %s up in %d ms (%s, NAT %s)', this.id, Math.round(performance.now() - began), r, n);
  }

  /** The robot sends first (a TCP probe to the hub through the tunnel), as a robot behind NAT must. */
  private async handshake(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      await this.probe(this.netns, this.hub.tunnelAddress, 9, 1_000);
      if ((await this.hubPeer()).latestHandshakeMs > 0) return;
    }
    throw new TimeoutError(
      `vpn robot ${this.id}: no WireGuard handshake with the hub within 10 s (underlay proxy ${this.proxyName})`,
    );
  }

  /** door.mjs probe inside `netns`: whether a TCP connection to host:port opens in time. */
  private async probe(netns: string, host: string, port: number, timeoutMs: number): Promise<boolean> {
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

  robotPort(port: number): number {
    const local = this.ports.get(port);
    if (local === undefined)
      throw new ConfigError(
        `vpn robot ${this.id} robotPort`,
        `${port} is not one of robotPorts (${[...this.ports.keys()].join(', ') || 'none'})`,
      );
    return local;
  }

  async roam(): Promise<{ from: string; to: string }> {
    // A new link and subnet, then the old link goes: wireguard-go keeps a sticky source address per
    // peer and lets go of it only when the route to the endpoint leaves its interface, as on a real
    // roam to another access point (an address change on the same link would strand it).
    const old = lan(this.attachment);
    this.attachment++;
    await this.attach(this.attachment);
    await sh('ip', ['-n', this.netns, 'link', 'del', old.ifname]);
    const to = lan(this.attachment).address;
    debug('robot %s roamed %s → %s', this.id, old.address, to);
    return { from: old.address, to };
  }

  async hubPeer(): Promise<VpnPeerState> {
    const peer = (await this.hub.dump()).get(this.publicKey);
    if (!peer) throw new VpnError(`vpn robot ${this.id}: not a peer of hub ${this.hub.name}`);
    return peer;
  }

  async reachableFromHub(port: number, timeoutMs: number): Promise<boolean> {
    checkPort(port, `vpn robot ${this.id} reachableFromHub port`);
    return this.probe(this.hub.name, this.tunnelAddress, port, timeoutMs);
  }

  async listenInside(port: number): Promise<void> {
    checkPort(port, `vpn robot ${this.id} listenInside port`);
    if (this.listeners.has(port)) return;
    await startDoor(this.owned, this.netns, this.netns, [`echo:${this.tunnelAddress}:${port}`]);
    this.listeners.add(port);
  }

  private async setConditions(conditions: UdpLinkConditions): Promise<void> {
    const plan = planConditions(conditions, 'relay', false);
    const faults = this.hub.options.faults;
    const path = `/proxies/${encodeURIComponent(this.proxyName)}/toxics`;
    const current = (await faultCall(faults, 'GET', path)) as Array<{ name: string }>;
    for (const toxic of current)
      if (toxic.name.startsWith(TOXIC_PREFIX))
        await faultCall(faults, 'DELETE', `${path}/${encodeURIComponent(toxic.name)}`);
    const toxics = conditions.down
      ? (['upstream', 'downstream'] as const).map((stream) => ({
          name: `dead_${stream}`,
          type: 'loss',
          stream,
          attributes: { probability: 1 },
        }))
      : plan.toxics;
    for (const toxic of toxics)
      await faultCall(faults, 'POST', path, { ...toxic, name: `${TOXIC_PREFIX}${toxic.name}` });
    await this.setRate(plan.tbfKbit);
  }

  /** A tbf qdisc on both ends of the NAT's WAN veth: the rate cap the proxy cannot apply. */
  private async setRate(kbit: number | undefined): Promise<void> {
    if (kbit === this.rateKbit) return;
    const devices: Array<[string[], string]> = [
      [[], this.nat],
      [['-n', this.nat], WAN_IF],
    ];
    for (const [ns, dev] of devices) {
      if (kbit === undefined)
        await sh('tc', [...ns, 'qdisc', 'del', 'dev', dev, 'root']).catch(() => undefined);
      else
        await sh('tc', [
          ...ns,
          'qdisc',
          'replace',
          'dev',
          dev,
          'root',
          'tbf',
          'rate',
          `${kbit}kbit`,
          'burst',
          '32kbit',
          'latency',
          '400ms',
        ]);
    }
    this.rateKbit = kbit;
  }

  close(): Promise<void> {
    this.closing ??= this.teardown();
    return this.closing;
  }

  private async teardown(): Promise<void> {
    const errors: unknown[] = [];
    for (const child of [...this.owned.children]) await stopChild(child);
    await closeServers(this.servers, this.sockets);
    if (this.publicKey)
      await inNs(this.hub.name, 'wg', ['set', this.hub.name, 'peer', this.publicKey, 'remove']).catch(
        () => undefined,
      );
    await faultCall(
      this.hub.options.faults,
      'DELETE',
      `/proxies/${encodeURIComponent(this.proxyName)}`,
    ).catch((error: unknown) => {
      if (!/answered 404/.test((error as Error).message)) errors.push(error);
    });
    for (const ns of this.owned.netns) {
      killNetnsPids(ns);
      await sh('ip', ['netns', 'del', ns]).catch((error: unknown) => errors.push(error));
    }
    for (const link of this.owned.links)
      await sh('ip', ['link', 'del', link]).catch((error: unknown) => {
        if (!/Cannot find device/.test((error as Error).message)) errors.push(error);
      });
    rmSync(join(this.hub.dir, `${this.netns}.key`), { force: true });
    for (const port of this.ports.keys())
      rmSync(join(this.hub.socketDir, `${this.netns}-${port}.sock`), { force: true });
    for (const path of this.owned.dirs) rmSync(path, { recursive: true, force: true });
    this.owned.netns.length = this.owned.links.length = this.owned.dirs.length = 0;
    this.unregister();
    this.hub.forget(this.id);
    if (errors.length > 0) throw errors[0];
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
