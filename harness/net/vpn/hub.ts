import createDebug from 'debug';
import { type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onProcessExit } from '../../core/cleanup.ts';
import { ConfigError } from '../../core/errors.ts';
import { withAllocationLock } from '../netns/link.ts';
import { sh } from '../netns/system.ts';
import {
  HUB_PORT,
  MAX_ROBOTS,
  MAX_SOCKET_DIR,
  Owned,
  TUNNEL_NET,
  WAN_IF,
  checkPorts,
  checkSeconds,
  closeServers,
  freeUnderlayNet,
  inNs,
  keyPair,
  parseWgDump,
  startDoor,
  startWireguard,
  stopChild,
  unixToTcp,
} from './plumbing.ts';
import { StartedVpnRobot, type HubSide } from './robot.ts';
import { SOCKET_DIR_PREFIX, sweepStaleVpn, vpnName, vpnPrivileges } from './system.ts';
import {
  VpnError,
  type VpnHub,
  type VpnHubOptions,
  type VpnPeerState,
  type VpnRobot,
  type VpnRobotOptions,
} from './types.ts';

const debug = createDebug('fleetdrill:vpn');

/** Numbers the hub's and robots' names (`fdv<pid>x<k>…`) within this process. */
let counter = 0;

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

class StartedVpnHub implements VpnHub, HubSide {
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
      // A new namespace inherits the host's IPv4 forwarding (often on, for docker): the hub forwards
      // nothing, so robots reach neither one another nor the underlay through it.
      await inNs(name, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=0']);
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
    await this.owned.release(errors);
    rmSync(join(this.dir, `${this.name}.key`), { force: true });
    this.unregister();
    if (errors.length > 0) throw errors[0];
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
