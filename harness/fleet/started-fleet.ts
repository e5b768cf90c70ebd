import { ConfigError, RobotDiedError } from '../core/errors.ts';
import type { EventBus } from '../core/events.ts';
import type { StartedFleetNetwork } from '../net/network.ts';
import type { VpnHub, VpnRobot } from '../net/vpn/index.ts';
import type { OtaClientName } from '../../protocol/disk-layout.ts';
import { placePose, type Pose2D, type World } from '../../protocol/world.ts';
import type { CallbackError } from '../ros/client.ts';
import { describeExit, type StartedCloudHost, type StartedRobotBackend } from './backend.ts';
import { StartedFleetCloud } from './clients/cloud.ts';
import { cloudFetch } from './clients/cloud-fetch.ts';
import { FleetOta } from './clients/fleet-ota.ts';
import { FaultSession } from './fault-session.ts';
import { tearDownParts, type FleetParts } from './fleet-parts.ts';
import type { Robot } from './robot.ts';
import type { FleetVpn } from './vpn.ts';
import type { ResolvedWorld } from './world.ts';

/** A running fleet. `stop()` (or `await using`) tears everything down in reverse order. */
export class StartedFleet {
  private stopped = false;
  private readonly deathLog: Array<{ robot: string; error: RobotDiedError; t: number }> = [];
  // Sessions not closed yet: `stop()` closes them, so no follower or timer outlives the fleet.
  private readonly faultSessions = new Set<FaultSession>();
  private readonly fleetCloud: StartedFleetCloud | undefined;
  private fleetOta: FleetOta | undefined;

  /** Every robot, in id order, without counting as "used" by the current test. */
  readonly roster: readonly Robot[];
  /** The fault layer: one proxy per robot link, and the profiles to put on them. */
  readonly network: StartedFleetNetwork;
  private readonly backend: StartedRobotBackend;
  private readonly cloudHost: StartedCloudHost | undefined;
  private readonly vpn: FleetVpn | undefined;

  constructor(
    /** Everything the start brought up; `stop()` tears it down. */
    private readonly parts: FleetParts & { backend: StartedRobotBackend; network: StartedFleetNetwork },
    readonly events: EventBus,
    readonly info: {
      seed: number;
      world: ResolvedWorld;
      rtf: number;
      readyMs: number;
      /** Each robot's boot at start-up, power-on to ready (rosbridge through its proxy), by id. */
      bootMs: Readonly<Record<string, number>>;
      otaClient: OtaClientName;
      /** Where each robot ran, by id: its Docker engine's URL, or the backend's name. */
      engines: Readonly<Record<string, string>>;
    },
  ) {
    this.roster = parts.robots;
    this.network = parts.network;
    this.backend = parts.backend;
    this.cloudHost = parts.cloudHost;
    this.vpn = parts.vpn;
    for (const robot of this.roster) {
      robot.onDeath((error) => this.deathLog.push({ robot: robot.id, error, t: Date.now() }));
    }
    const cloudHost = parts.cloudHost;
    if (cloudHost) {
      this.fleetCloud = new StartedFleetCloud(cloudHost, events, parts.pki?.operator);
      // The cloud dying on its own fails the running drill, as a robot dying does.
      cloudHost.onUnexpectedExit((exit) => {
        events.emit({ kind: 'cloud-died', exit: describeExit(exit) });
        this.deathLog.push({
          robot: 'cloud',
          error: new RobotDiedError('cloud', describeExit(exit), cloudHost.logTail(15)),
          t: Date.now(),
        });
      });
    }
  }

  /** The fleet cloud: telemetry ingest, broker, blackbox store. Throws when telemetry is off. */
  get cloud(): StartedFleetCloud {
    if (!this.fleetCloud) throw new ConfigError('telemetry', 'is off: this fleet has no fleet cloud');
    return this.fleetCloud;
  }

  /** The fleet cloud's OTA API: artifacts and deployments. Throws when telemetry is off. */
  get ota(): FleetOta {
    if (!this.cloudHost) {
      throw new ConfigError('telemetry', "is off: OTA needs the fleet cloud and the robots' edge agents");
    }
    this.fleetOta ??= new FleetOta(
      this.cloudHost.httpUrl,
      this.events,
      cloudFetch(this.parts.pki?.operator.identity),
    );
    return this.fleetOta;
  }

  /** The fleet's WireGuard hub (`vpn` option); throws when the fleet runs without a tunnel. */
  get vpnHub(): VpnHub {
    if (!this.vpn) throw new ConfigError('vpn', 'is off: this fleet has no WireGuard tunnel');
    return this.vpn.hub;
  }

  /**
   * A tunnelled robot's end of the tunnel: its namespace, underlay (its radio), roam and what the
   * hub sees of it. Throws when the robot does not run through the tunnel.
   */
  vpnRobot(id: string): VpnRobot {
    if (!this.vpn) throw new ConfigError('vpn', 'is off: this fleet has no WireGuard tunnel');
    this.robot(id);
    return this.vpn.robot(id);
  }

  /** The cloud's ports as tunnelled robots reach them at `vpnHub.tunnelAddress`. */
  get vpnCloudPorts(): { http: number; mqtt: number } {
    if (!this.vpn) throw new ConfigError('vpn', 'is off: this fleet has no WireGuard tunnel');
    return this.vpn.ports;
  }

  /** Whether robots run edge agents and the fleet has a cloud. */
  get telemetry(): boolean {
    return this.fleetCloud !== undefined;
  }

  get seed(): number {
    return this.info.seed;
  }

  get backendName(): string {
    return this.backend.name;
  }

  /** The robot with this id; throws naming the ids that exist. */
  robot(id: string): Robot {
    const robot = this.roster.find((candidate) => candidate.id === id);
    if (!robot) {
      throw new ConfigError(
        'robot',
        `'${id}' is not in this fleet (robots: ${this.roster.map((r) => r.id).join(', ')})`,
      );
    }
    return robot;
  }

  /** The world the fleet runs in. */
  get world(): World {
    return this.info.world.world;
  }

  /** A named pose of the world (`dock`, `far-corner`, ...); throws naming the places it has. */
  place(name: string): Pose2D {
    try {
      return placePose(this.world, name);
    } catch (error) {
      throw new ConfigError('', (error as Error).message);
    }
  }

  /**
   * A fault session on this fleet: Wi-Fi following, schedules and chaos, ended by its `close()`.
   * The `faults` fixture opens one per drill.
   */
  openFaultSession(): FaultSession {
    const session = new FaultSession(this, () => this.faultSessions.delete(session));
    this.faultSessions.add(session);
    return session;
  }

  /** Robots that died unexpectedly since `since` (ms since the epoch). */
  deathsSince(since: number): RobotDiedError[] {
    return this.deathLog.filter((death) => death.t >= since).map((death) => death.error);
  }

  /**
   * Exceptions thrown by callbacks the harness installed on any robot's links that no probe or
   * wait has reported, oldest robot first; the list is emptied. The fixtures fail the drill with them.
   */
  takeUnreportedCallbackErrors(): CallbackError[] {
    return this.roster.flatMap((robot) => robot.takeUnreportedCallbackErrors());
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Sessions first, so no follower or timer outlives the robots it acts on.
    await tearDownParts(
      this.parts,
      [...this.faultSessions].map((session) => () => session.close()),
    );
    this.events.emit({ kind: 'fleet-stopped', robots: this.roster.length });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
