import createDebug from 'debug';
import { rmSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import { onProcessExit } from '../../core/cleanup.ts';
import { ConfigError, TimeoutError } from '../../core/errors.ts';
import { ipToInt } from '../netns/link.ts';
import { planConditions } from '../netns/conditions.ts';
import { sh } from '../netns/system.ts';
import type { UdpLinkConditions } from '../udp-profiles.ts';
import {
  NFT_TABLE,
  Owned,
  TOXIC_PREFIX,
  TUNNEL_NET,
  WAN_IF,
  checkPort,
  closeServers,
  doorProbe,
  faultCall,
  inNs,
  keyPair,
  lan,
  startDoor,
  startWireguard,
  stopChild,
  tcpToUnix,
} from './plumbing.ts';
import { vpnName } from './system.ts';
import { VpnError, type VpnHubOptions, type VpnPeerState, type VpnRobot, type VpnUnderlay } from './types.ts';

const debug = createDebug('fleetdrill:vpn');

/** What a robot needs from its hub. */
export interface HubSide {
  readonly name: string;
  readonly options: VpnHubOptions;
  readonly tunnelAddress: string;
  /** The underlay /24 in the root namespace: the hub's /30 is `.0`, robot n's is `.4n`. */
  readonly underlayNet: string;
  /** Where keys go (`<runDir>/vpn`). */
  readonly dir: string;
  readonly socketDir: string;
  /** Where the robots' underlay proxies forward: the hub's WireGuard port on its veth. */
  readonly endpoint: string;
  readonly hubPublicKey: string;
  dump(): Promise<Map<string, VpnPeerState>>;
  forget(id: string): void;
}

export interface RobotSetup {
  keepaliveS: number;
  natUdpTimeoutS: number | undefined;
  robotPorts: number[];
}

export class StartedVpnRobot implements VpnRobot {
  readonly netns: string;
  readonly tunnelAddress: string;
  readonly underlay: VpnUnderlay;
  readonly natNetns: string;
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
    private readonly hub: HubSide,
    readonly id: string,
    host: number,
    private readonly block: number,
    k: number,
  ) {
    this.netns = vpnName(process.pid, k, 'r');
    this.natNetns = vpnName(process.pid, k, 'n');
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
      this.natNetns,
    ]);
    await sh(
      'ip',
      ['-n', this.natNetns, '-batch', '-'],
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
    const [r, n] = [this.netns, this.natNetns];
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
    await inNs(r, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=0']);
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
      await doorProbe(this.netns, this.hub.tunnelAddress, 9, 1_000);
      if ((await this.hubPeer()).latestHandshakeMs > 0) return;
    }
    throw new TimeoutError(
      `vpn robot ${this.id}: no WireGuard handshake with the hub within 10 s (underlay proxy ${this.proxyName})`,
    );
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
    return doorProbe(this.hub.name, this.tunnelAddress, port, timeoutMs);
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
      [[], this.natNetns],
      [['-n', this.natNetns], WAN_IF],
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
    await this.owned.release(errors);
    rmSync(join(this.hub.dir, `${this.netns}.key`), { force: true });
    for (const port of this.ports.keys())
      rmSync(join(this.hub.socketDir, `${this.netns}-${port}.sock`), { force: true });
    this.unregister();
    this.hub.forget(this.id);
    if (errors.length > 0) throw errors[0];
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
