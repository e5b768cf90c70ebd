import type { Toxiproxy } from 'toxiproxy-node-client';
import { FleetdrillError } from '../../core/errors.ts';
import type { UdpLinkConditions } from '../udp-profiles.ts';

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
  /** The namespace of the NAT box in front of the robot, which holds its masquerade and forward rules. */
  readonly natNetns: string;
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
