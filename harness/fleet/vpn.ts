import { Toxiproxy } from 'toxiproxy-node-client';
import { ConfigError } from '../core/errors.ts';
import { deriveSeed } from '../core/seed.ts';
import { LOOPBACK_ADDRESS } from '../../protocol/listen-address.ts';
import { TOXIPROXY_URL_ENV, type StartedFleetNetwork } from '../net/network.ts';
import type { EventBus } from '../core/events.ts';
import type { VpnHub, VpnRobot, VpnUnderlay } from '../net/vpn/index.ts';
import type { RobotNetns, RobotSpec, StartedCloudHost } from './backend.ts';

/**
 * The agent ↔ cloud link of some or all robots through a real WireGuard tunnel behind a NAT
 * (harness/net/vpn, docs/vpn.md): `true` for every robot, or which robots and how.
 */
export type FleetVpnOption =
  | boolean
  | {
      /** Robot ids that go through the tunnel (default all). */
      robots?: readonly string[];
      /** WireGuard PersistentKeepalive on the robots' side, seconds (default off). */
      keepaliveS?: number;
      /** The NAT's UDP mapping timeout, seconds (default the kernel's). */
      natUdpTimeoutS?: number;
    };

/** The VPN settings a fleet runs with, checked. */
export interface FleetVpnPlan {
  robots: ReadonlySet<string>;
  keepaliveS: number | undefined;
  natUdpTimeoutS: number | undefined;
}

/**
 * The port rosbridge binds inside a VPN robot's namespace (127.0.0.1 there): the namespace is the
 * robot's own, so a fixed port clashes with nothing; the harness reaches it through the hub.
 */
export const VPN_ROSBRIDGE_PORT = 9090;

/**
 * Checks the `vpn` option against the fleet; undefined when the fleet runs without a tunnel.
 * Bad input and a machine that cannot run WireGuard fail here, before anything starts.
 */
export function planVpn(
  option: FleetVpnOption | undefined,
  fleet: { robotIds: readonly string[]; backend: string; telemetry: boolean; listenAddress: string },
): FleetVpnPlan | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (typeof option !== 'object' || option === null || Array.isArray(option))) {
    throw new ConfigError(
      'vpn',
      `must be true, false or { robots, keepaliveS, natUdpTimeoutS }, got ${JSON.stringify(option)}`,
    );
  }
  const settings = option === true ? {} : option;
  const unknown = Object.keys(settings).filter(
    (key) => !['robots', 'keepaliveS', 'natUdpTimeoutS'].includes(key),
  );
  if (unknown.length)
    throw new ConfigError(`vpn.${unknown[0]}`, 'is not an option (robots, keepaliveS, natUdpTimeoutS)');
  if (fleet.backend !== 'embedded') {
    throw new ConfigError(
      'vpn',
      `runs on the embedded backend only, not on ${fleet.backend}: its robots' namespaces and NAT are made on this machine (docs/vpn.md)`,
    );
  }
  if (!fleet.telemetry) throw new ConfigError('vpn', 'tunnels the agent ↔ cloud link: it needs telemetry on');
  if (fleet.listenAddress !== LOOPBACK_ADDRESS) {
    throw new ConfigError(
      'vpn',
      `the hub exposes the cloud's ${LOOPBACK_ADDRESS} ports in the tunnel; it cannot run with listenAddress ${fleet.listenAddress}`,
    );
  }
  for (const key of ['keepaliveS', 'natUdpTimeoutS'] as const) {
    const value = settings[key];
    if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > 65_535)) {
      throw new ConfigError(
        `vpn.${key}`,
        `must be a whole number of seconds from 0 to 65535, got ${String(value)}`,
      );
    }
  }
  const robots: readonly string[] = settings.robots ?? fleet.robotIds;
  if (!(robots instanceof Array) || robots.length === 0) {
    throw new ConfigError('vpn.robots', 'must list at least one robot id (or leave it out for all)');
  }
  for (const id of robots) {
    if (!fleet.robotIds.includes(id)) {
      throw new ConfigError(
        'vpn.robots',
        `'${String(id)}' is not in this fleet (robots: ${fleet.robotIds.join(', ')})`,
      );
    }
  }
  return {
    robots: new Set(robots),
    keepaliveS: settings.keepaliveS,
    natUdpTimeoutS: settings.natUdpTimeoutS,
  };
}

/** The port of a `host:port` or of a URL's authority. */
function portOf(address: string, what: string): number {
  const port = Number(/:(\d+)$/.exec(address.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, ''))?.[1]);
  if (!Number.isInteger(port) || port <= 0) throw new Error(`${what} has no port: ${address}`);
  return port;
}

/**
 * A fleet's tunnel: the hub beside the cloud and one VPN robot per tunnelled robot. The agent of a
 * tunnelled robot reaches the cloud at the hub's tunnel address with the cloud's own ports; the
 * robot's radio is its underlay (a UDP proxy on the fault layer), not a TCP cloud proxy.
 */
export class FleetVpn {
  private readonly robots = new Map<string, VpnRobot>();

  private constructor(
    readonly plan: FleetVpnPlan,
    readonly hub: VpnHub,
    private readonly cloudPorts: { http: number; mqtt: number },
    private readonly events: EventBus,
  ) {}

  /** Starts the hub, exposing the cloud's HTTP(S) and MQTT ports in the tunnel. */
  static async start(
    plan: FleetVpnPlan,
    options: {
      seed: number;
      runDir: string;
      network: StartedFleetNetwork;
      cloud: StartedCloudHost;
      events: EventBus;
    },
  ): Promise<FleetVpn> {
    const cloudPorts = {
      http: portOf(options.cloud.upstream, 'the cloud'),
      mqtt: portOf(options.cloud.mqttUrl, "the cloud's broker"),
    };
    // Loaded only by fleets that ask for a tunnel.
    const { startVpnHub, vpnPrivileges } = await import('../net/vpn/index.ts');
    const ready = vpnPrivileges();
    if (!ready.ok) throw new ConfigError('vpn', `cannot run WireGuard on this machine: ${ready.missing}`);
    if (!options.network.embedded) {
      throw new ConfigError(
        'vpn',
        `needs the embedded fault layer (its UDP proxies carry the underlay, in this machine's namespace), not the Toxiproxy at ${options.network.url}: unset ${TOXIPROXY_URL_ENV}`,
      );
    }
    const hub = await startVpnHub({
      seed: deriveSeed(options.seed, 'vpn'),
      runDir: options.runDir,
      faults: new Toxiproxy(options.network.url),
      expose: [cloudPorts.http, cloudPorts.mqtt],
    });
    return new FleetVpn(plan, hub, cloudPorts, options.events);
  }

  /** Whether `id` runs through the tunnel. */
  tunnels(id: string): boolean {
    return this.plan.robots.has(id);
  }

  /**
   * Puts a robot behind the NAT and into the tunnel: its namespace, where its host will run, and
   * the cloud URL its agent gets (the hub's tunnel address, the cloud's port).
   */
  async addRobot(
    spec: RobotSpec,
    scheme: 'http' | 'https',
  ): Promise<{ netns: RobotNetns; cloudUrl: string }> {
    const robot = await this.hub.addRobot(spec.id, {
      keepaliveS: this.plan.keepaliveS,
      natUdpTimeoutS: this.plan.natUdpTimeoutS,
      robotPorts: [VPN_ROSBRIDGE_PORT],
    });
    this.robots.set(spec.id, withUnderlayEvents(robot, this.events));
    return {
      netns: {
        name: robot.netns,
        rosbridgePort: VPN_ROSBRIDGE_PORT,
        reach: `${LOOPBACK_ADDRESS}:${robot.robotPort(VPN_ROSBRIDGE_PORT)}`,
      },
      // The agent checks the cloud's certificate by its server name (CLOUD_SERVER_NAME), not by
      // this address: the tunnel changes where the cloud is, not who it is.
      cloudUrl: `${scheme}://${this.hub.tunnelAddress}:${this.cloudPorts.http}`,
    };
  }

  /** The tunnel end of a robot; throws naming the robots that have one. */
  robot(id: string): VpnRobot {
    const robot = this.robots.get(id);
    if (!robot) {
      throw new ConfigError(
        'vpn',
        `robot '${id}' does not run through the tunnel (tunnelled: ${[...this.robots.keys()].join(', ') || 'none'})`,
      );
    }
    return robot;
  }

  /** The cloud's ports as tunnelled robots reach them at the hub's tunnel address. */
  get ports(): { http: number; mqtt: number } {
    return { ...this.cloudPorts };
  }

  /** Removes every robot's tunnel end and the hub; idempotent. */
  close(): Promise<void> {
    return this.hub.close();
  }
}

/**
 * The robot's tunnel end with its underlay faults on the run's events (`fault-applied` and
 * `fault-cleared` on link `underlay`), so the telemetry oracles know when its uploads could not
 * flow, as they know of a fault on a robot's cloud link.
 */
export function withUnderlayEvents(robot: VpnRobot, events: EventBus): VpnRobot {
  const reason = 'vpn underlay';
  let faulted = false;
  const applied = async (profile: string, apply: () => Promise<void>) => {
    faulted = true;
    events.emit({ kind: 'fault-applied', robot: robot.id, link: 'underlay', profile, reason });
    await apply();
  };
  const underlay: VpnUnderlay = {
    proxyName: robot.underlay.proxyName,
    deadZone: () => applied('dead', () => robot.underlay.deadZone()),
    setConditions: (conditions) =>
      applied(conditions.down ? 'dead' : 'udp conditions', () => robot.underlay.setConditions(conditions)),
    clear: async () => {
      await robot.underlay.clear();
      if (!faulted) return;
      faulted = false;
      events.emit({ kind: 'fault-cleared', robot: robot.id, link: 'underlay', reason });
    },
  };
  return {
    id: robot.id,
    netns: robot.netns,
    natNetns: robot.natNetns,
    tunnelAddress: robot.tunnelAddress,
    underlay,
    robotPort: (port) => robot.robotPort(port),
    roam: () => robot.roam(),
    hubPeer: () => robot.hubPeer(),
    reachableFromHub: (port, timeoutMs) => robot.reachableFromHub(port, timeoutMs),
    listenInside: (port) => robot.listenInside(port),
    close: () => robot.close(),
    [Symbol.asyncDispose]: () => robot.close(),
  };
}
