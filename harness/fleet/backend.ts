import type { IssuedIdentity } from '../../reference/fleet-pki/index.ts';
import type { AgentSettings } from '../../reference/edge-agent/index.ts';
import type { OtaClientName } from '../../protocol/disk-layout.ts';
import type { ProgressProbe } from './readiness.ts';

/** What a backend needs to bring one robot up. */
export interface RobotSpec {
  /** Robot id, such as `r01`. */
  id: string;
  /** Position in the fleet, from 0; picks the spawn pose. */
  index: number;
  /** The robot's own seed, derived from the run's seed. */
  seed: number;
  /** Absolute path of the world file. */
  worldPath: string;
  /** Simulation real-time factor. */
  rtf: number;
  /** Run the edge agent on this robot, talking to the cloud at `cloudUrl` (the robot's radio link). */
  agent?: {
    cloudUrl: string;
    settings: AgentSettings;
    /** Its certificate, for an https:// cloud. */ identity?: IssuedIdentity;
  };
  /** What the robot boots: the factory image a fresh disk gets, and the bootloader's settings. */
  software: RobotSoftwareSpec;
  /** The robot runs in this network namespace (a VPN robot, harness/fleet/vpn.ts); embedded backend only. */
  netns?: RobotNetns;
}

/**
 * Where a VPN robot's host runs: its network namespace, the fixed rosbridge port it binds on
 * 127.0.0.1 inside it, and the root-namespace `host:port` that reaches that port.
 */
export interface RobotNetns {
  name: string;
  rosbridgePort: number;
  reach: string;
}

/** The robot's software and boot settings. */
export interface RobotSoftwareSpec {
  /** The signed artifact whose payload is installed into slot A of a fresh disk. */
  factoryArtifact: string;
  /** Boots a trial may take before the bootloader rolls back (U-Boot's bootlimit). */
  bootlimit: number;
  /** The watchdog: software not up within this many ms after boot is reset (a warm reboot). */
  bootDeadlineMs: number;
  /** Who updates the robot: fleetdrill's own OTA client, or a real one on a real disk. */
  otaClient: OtaClientName;
  /**
   * Makes the robot's disk before its first power-on (a real client's: partitions on loop devices,
   * the U-Boot environment, the factory image), and releases it when the robot is stopped.
   */
  prepareDisk?: (disk: string) => Promise<{ release(): Promise<void> }>;
}

/** How the outside world reaches a robot. */
export interface RobotEndpoints {
  /** rosbridge v2 WebSocket URL, as the harness reaches it directly (no fault on the way). */
  rosbridge: string;
  /** `host:port` of rosbridge as the fault layer reaches it: the upstream of the robot's proxy. */
  upstream: string;
}

/** How a robot host process ended. */
export interface RobotExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A part of a robot whose progress a wait follows: the robot host (its software, rosbridge), or its edge agent. */
export type RobotPart = 'host' | 'agent';

/**
 * One robot's hardware as the harness controls it: power and logs. A started host is powered on;
 * `stop()` powers it off for good and frees what it holds.
 */
export interface StartedRobotHost {
  readonly id: string;
  readonly endpoints: RobotEndpoints;
  /** File that collects the robot's console output across power cycles. */
  readonly logPath: string;
  /** True between power-on and power-off (cut, shutdown or unexpected death). */
  readonly powered: boolean;
  /** Cuts power: SIGKILL of everything on the robot, no cleanup, disk as it is. */
  powerCut(): Promise<void>;
  /** Powers on again with the same disk and endpoints; resolves when the robot host is up. */
  powerOn(): Promise<void>;
  /** Orderly power-off: the robot's software gets SIGTERM and time to finish. */
  shutdown(): Promise<void>;
  /** Powers off for good and releases everything; idempotent. */
  stop(): Promise<void>;
  /** Called when the robot goes down without being asked to. */
  onUnexpectedExit(listener: (exit: RobotExit) => void): void;
  /** Called when a drill's injected power cut (protocol/power-cut.ts) took the robot down; not a death. */
  onInjectedPowerCut(listener: (where: string) => void): void;
  /** The robot's disk as the harness can read it: slots, boot environment, the agent's store. */
  readonly diskPath: string;
  /** The robot's hardware state outside its disk: pose, charge, its clock (protocol/robot-clock.ts). */
  readonly stateDir: string;
  /** The last lines of the robot's console log. */
  logTail(lines?: number): string[];
  /**
   * Counters that grow while `part` of the robot works (its console log; CPU time where the power
   * supply can read it), read afresh by each wait after the ready line (readiness.ts).
   */
  progressProbes(part: RobotPart): Readonly<Record<string, ProgressProbe>>;
  /** Freezes every process of the robot where it stands (a hung robot); `thaw()` lets it go on. */
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  /** The robot's own network cable, when its power supply has one (a container on the run's network). */
  readonly cable: NetworkCable | undefined;
}

/**
 * Takes a robot off its network and puts it back, as a pulled and re-plugged cable: every
 * connection of the robot ends and no new one gets through until `reconnect()`. A capability a
 * power supply may have (a container's network) and the fault layer has (every proxied link).
 */
export interface NetworkCable {
  disconnect(): Promise<void>;
  reconnect(): Promise<void>;
}

/** Whether `value` can pull a network cable. */
export function hasNetworkCable(value: object): value is NetworkCable {
  const cable = value as Partial<NetworkCable>;
  return typeof cable.disconnect === 'function' && typeof cable.reconnect === 'function';
}

/** The fleet cloud as the harness controls it. */
export interface StartedCloudHost {
  /** The cloud's HTTP API, straight (robots reach it through their own proxies). */
  readonly httpUrl: string;
  /** `host:port` of the HTTP API as the fault layer reaches it: the upstream of robots' cloud links. */
  readonly upstream: string;
  /** The cloud's MQTT broker. */
  readonly mqttUrl: string;
  readonly logPath: string;
  readonly running: boolean;
  /** Stops and starts the cloud with its data; `crash` kills it instead of stopping it. */
  restart(options?: { crash?: boolean }): Promise<void>;
  /** Stops for good; idempotent. */
  stop(): Promise<void>;
  onUnexpectedExit(listener: (exit: RobotExit) => void): void;
  logTail(lines?: number): string[];
}

/**
 * Where a backend's fault layer runs, when it brings its own: a Toxiproxy API, where each robot
 * link's proxy listens, and how the harness and the robots reach a proxy from where they are.
 */
export interface FaultLayerPlacement {
  /** The Toxiproxy API, as the harness reaches it. */
  readonly url: string;
  /** `host:port` a new proxy for this link listens on, in the fault layer's own terms. */
  listenFor(spec: RobotSpec, link: string): string;
  /** `host:port` at which the harness reaches the proxy that listens on `listen`. */
  harnessAddress(listen: string): string;
  /** `host:port` at which robots' software reaches it. */
  robotAddress(listen: string): string;
}

/** Starts robot hosts and the fleet cloud: embedded processes or containers. */
export interface StartedRobotBackend {
  readonly name: string;
  /** The backend's own fault layer; undefined: the fleet starts one on this machine. */
  readonly faultLayer?: FaultLayerPlacement;
  startRobot(spec: RobotSpec): Promise<StartedRobotHost>;
  /** Starts the cloud; with `identity`, over TLS (HTTPS, MQTT over TLS) as that certificate. */
  startCloud(options?: { identity?: IssuedIdentity }): Promise<StartedCloudHost>;
  /** Where the robot runs, for the report, when the backend has several places (Docker engines). */
  engineOf?(spec: RobotSpec): string;
  stop(): Promise<void>;
}

/** Describes an exit for messages: `exit code 3`, `signal SIGSEGV`. */
export function describeExit(exit: RobotExit): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${String(exit.code)}`;
}
