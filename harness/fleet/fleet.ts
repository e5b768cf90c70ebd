import createDebug from 'debug';
import type { BackendName } from '../core/config.ts';
import { ConfigError, RobotDiedError, runAll, settleAll } from '../core/errors.ts';
import { EventBus } from '../core/events.ts';
import { deriveSeed } from '../core/seed.ts';
import { placePose, type Pose2D, type World } from '../../protocol/world.ts';
import { resolveWorld, type ResolvedWorld } from './world.ts';
import type {
  RobotSoftwareSpec,
  RobotSpec,
  StartedCloudHost,
  StartedRobotBackend,
  StartedRobotHost,
} from './backend.ts';
import { describeExit } from './backend.ts';
import { backendFactory } from './backends.ts';
import type { AgentSettings } from '../../reference/edge-agent/index.ts';
import { StartedFleetCloud } from './clients/cloud.ts';
import { FleetNetwork, TOXIPROXY_URL_ENV, type StartedFleetNetwork } from '../net/network.ts';
import type { CustomProfileConfig } from '../net/profiles.ts';
import { FleetOta } from './clients/fleet-ota.ts';
import type { OtaClientName } from '../../protocol/disk-layout.ts';
import { Robot } from './robot.ts';
import { FaultSession } from './fault-session.ts';
import type { CallbackError } from '../ros/client.ts';
import { createRunDir, type RunDir } from './run-dir.ts';
import { parseListenAddress, warnListenAddress } from '../core/listen-address.ts';
import { LOOPBACK_ADDRESS } from '../../protocol/listen-address.ts';
import { BringUpProgress } from './readiness-progress.ts';
import { basename } from 'node:path';
import { CLOUD_SERVER_NAME } from '../../reference/fleet-pki/index.ts';
import { FleetPki } from './pki.ts';
import { cloudFetch } from './clients/cloud-fetch.ts';
import { FleetVpn, planVpn, type FleetVpnOption } from './vpn.ts';
import type { VpnHub, VpnRobot } from '../net/vpn/index.ts';

const log = createDebug('fleetdrill:fleet');

/** What a fleet is made of. */
export interface FleetOptions {
  /** Number of robots (ids r01, r02, ...). */
  robots: number;
  /** The run's seed; each robot gets a seed derived from it and its id. */
  seed: number;
  /** World name (reference/worlds) or path to a world file. */
  world?: string;
  /** Simulation real-time factor. */
  rtf?: number;
  backend?: BackendName;
  /**
   * The idle window of a robot's boot (default 20 s): it is stuck, and the start fails naming it
   * with its log tail, when its console and CPU time show no progress for this long. A boot that
   * progresses may take longer, up to a total that grows with fleet size and machine load
   * (harness/fleet/readiness.ts). The wait for rosbridge and /odom after the ready line follows
   * progress the same way, with this as its idle window.
   */
  readyTimeoutMs?: number;
  /** The run's event bus; a private one is made when not given. */
  events?: EventBus;
  /** A real Toxiproxy API for the fault layer; default: $TOXIPROXY_URL, else the embedded server. */
  toxiproxyUrl?: string;
  /** Custom link profiles (config `net.profiles`). */
  profiles?: Readonly<Record<string, CustomProfileConfig>>;
  /** Run an edge agent on every robot and a fleet cloud (default true). */
  telemetry?: boolean;
  /**
   * Agents and the harness reach the cloud over mutual TLS, with certificates from a CA made for
   * the run (default true; docs/security.md). Off: plain HTTP and MQTT, open to anyone.
   */
  tls?: boolean;
  /**
   * What the robots boot and how their agents are set: the reference stack's is
   * `provisionRobots(...)` of harness/ota. The fleet only boots what it is given.
   */
  provision: ProvisionRobots;
  /** Docker backend: a robot image of the user's (the Gazebo robot) instead of the reference one. */
  robotImage?: string;
  /** Docker backend: the engines to spread robots over, home first (docs/docker-engines.md). */
  dockerHosts?: readonly string[];
  /**
   * The IPv4 address the run's servers listen on: the fault layer's API and proxies, each robot's
   * rosbridge, the fleet cloud (default 127.0.0.1, this machine only). Any other address is an
   * explicit choice, printed as a warning naming what listens there.
   */
  listenAddress?: string;
  /**
   * The agent ↔ cloud link through a real WireGuard tunnel behind a NAT (docs/vpn.md): `true` for
   * every robot, or `{ robots, keepaliveS, natUdpTimeoutS }`. Embedded backend only; needs root
   * and wireguard-go (`vpnPrivileges()`). Default off.
   */
  vpn?: FleetVpnOption;
}

/** What every robot of a fleet boots, and how its edge agent is set. */
export interface ProvisionedRobots {
  software: RobotSoftwareSpec;
  /** Settings of every robot's edge agent, as the robots get them (OTA keys and client included). */
  agent: AgentSettings;
}

/**
 * Makes what the robots boot. The fleet calls it once, inside `start()`, so that building the
 * factory image counts in the start time and a failure cleans up as any other start failure does.
 */
export type ProvisionRobots = () => Promise<ProvisionedRobots>;

/** Robot ids are zero-padded to the fleet's width: r01..r50, r001..r100. */
export function robotId(index: number, count: number): string {
  const width = Math.max(2, String(count).length);
  return `r${String(index + 1).padStart(width, '0')}`;
}

/** A fleet as configured. `start()` brings it up and returns a {@link StartedFleet}. */
export class Fleet {
  constructor(private readonly options: FleetOptions) {}

  async start(): Promise<StartedFleet> {
    const options = this.options;
    if (!Number.isInteger(options.robots) || options.robots < 1) {
      throw new ConfigError('robots', `must be a whole number >= 1, got ${options.robots}`);
    }
    const world = resolveWorld(options.world ?? 'warehouse');
    const rtf = options.rtf ?? 1;
    const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
    const events = options.events ?? new EventBus();
    const backendName = options.backend ?? 'embedded';
    const telemetry = options.telemetry ?? true;
    const listenAddress = parseListenAddress(options.listenAddress ?? LOOPBACK_ADDRESS, 'listenAddress');
    warnListenAddress(
      `the fleet's fault layer API and proxies, robots' rosbridge${telemetry ? ' and the fleet cloud (HTTP API, MQTT broker)' : ''}`,
      listenAddress,
    );
    events.emit({
      kind: 'fleet-starting',
      robots: options.robots,
      backend: backendName,
      world: world.name,
      rtf,
    });
    const vpnPlan = planVpn(options.vpn, {
      robotIds: Array.from({ length: options.robots }, (_, index) => robotId(index, options.robots)),
      backend: backendName,
      telemetry,
      listenAddress,
    });
    const startedAt = performance.now();
    const runDir = await createRunDir();
    const hosts: StartedRobotHost[] = [];
    const robots: Robot[] = [];
    let backend: StartedRobotBackend | undefined;
    let network: StartedFleetNetwork | undefined;
    let cloudHost: StartedCloudHost | undefined;
    let pki: FleetPki | undefined;
    let vpn: FleetVpn | undefined;
    try {
      const startBackend = backendFactory(backendName);
      const { software, agent: agentSettings } = await options.provision();
      backend = await startBackend({
        runDir: runDir.path,
        robots: options.robots,
        seed: deriveSeed(options.seed, 'toxiproxy'),
        bootTimeoutMs: readyTimeoutMs,
        telemetry,
        robotImage: options.robotImage,
        otaClient: software.otaClient,
        dockerHosts: options.dockerHosts,
        listenAddress,
      });
      // A backend with its own fault layer (docker: a container on the run's network) says
      // where each link's proxy listens and how each side reaches it.
      const placement = backend.faultLayer;
      const toxiproxyUrl = options.toxiproxyUrl ?? (process.env[TOXIPROXY_URL_ENV] || undefined);
      if (placement && toxiproxyUrl) {
        throw new ConfigError(
          options.toxiproxyUrl ? 'toxiproxyUrl' : TOXIPROXY_URL_ENV,
          `the ${backendName} backend runs its own fault layer on the run's network; a Toxiproxy at ${toxiproxyUrl} cannot reach its robots (unset it)`,
        );
      }
      network = await new FleetNetwork({
        seed: options.seed,
        toxiproxyUrl: placement?.url ?? toxiproxyUrl,
        ownedByRun: placement !== undefined,
        listenAddress,
        profiles: options.profiles,
        events,
      }).start();
      const net = network;
      if (telemetry) {
        if (options.tls ?? true) pki = await FleetPki.create(runDir.path, basename(runDir.path));
        const identity = await pki?.issue({ kind: 'cloud', name: CLOUD_SERVER_NAME });
        cloudHost = await backend.startCloud({ identity });
        events.emit({ kind: 'cloud-ready', url: cloudHost.httpUrl, mqtt: cloudHost.mqttUrl });
        if (vpnPlan)
          vpn = await FleetVpn.start(vpnPlan, {
            seed: options.seed,
            runDir: runDir.path,
            network,
            cloud: cloudHost,
            events,
          });
      }
      const cloud = cloudHost;
      const tunnel = vpn;
      const runPki = pki;
      const specs: RobotSpec[] = Array.from({ length: options.robots }, (_, index) => {
        const id = robotId(index, options.robots);
        return {
          id,
          index,
          seed: deriveSeed(options.seed, 'robot', id),
          worldPath: world.path,
          rtf,
          software,
        };
      });
      const started = backend;
      const bootMs: Record<string, number> = {};
      const progress = new BringUpProgress(options.robots, (counts) =>
        events.emit({ kind: 'fleet-progress', ...counts }),
      );
      // Every robot boots at once, as a fleet powered up together does; failures are gathered so
      // that everything that did start is torn down before the first error is rethrown.
      const results = await Promise.allSettled(
        specs.map(
          progress.track(async (spec) => {
            const bootAt = performance.now();
            events.emit({ kind: 'robot-booting', robot: spec.id });
            if (cloud && tunnel?.tunnels(spec.id)) {
              // Through the tunnel: the robot runs in its namespace behind the NAT, and its radio
              // is the underlay (a UDP proxy on the fault layer), not a TCP proxy to the cloud.
              const placed = await tunnel.addRobot(spec, runPki ? 'https' : 'http');
              spec.netns = placed.netns;
              net.tunnelled(spec.id, {
                reason: `robot ${spec.id} reaches the cloud through the VPN tunnel: fault its radio with fleet.vpnRobot('${spec.id}').underlay`,
                clear: () => tunnel.robot(spec.id).underlay.clear(),
              });
              spec.agent = {
                cloudUrl: placed.cloudUrl,
                settings: agentSettings,
                identity: await runPki?.issue({ kind: 'robot', name: spec.id }),
              };
            } else if (cloud) {
              // The agent reaches the cloud over the robot's radio: its own proxy, so faults hit it too.
              const cloudLink = await net.addLink(
                spec.id,
                'cloud',
                cloud.upstream,
                placement?.listenFor(spec, 'cloud'),
              );
              const reach = placement ? placement.robotAddress(cloudLink.listen) : cloudLink.listen;
              spec.agent = {
                cloudUrl: `${runPki ? 'https' : 'http'}://${reach}`,
                settings: agentSettings,
                identity: await runPki?.issue({ kind: 'robot', name: spec.id }),
              };
            }
            const host = await started.startRobot(spec);
            hosts.push(host);
            // The harness talks to the robot through its own proxy, so any fault can hit any robot.
            const link = await net.addLink(
              spec.id,
              'rosbridge',
              host.endpoints.upstream,
              placement?.listenFor(spec, 'rosbridge'),
            );
            const robot = await Robot.attach(spec, host, {
              events,
              readyTimeoutMs,
              fleetSize: options.robots,
              rosbridge: `ws://${placement ? placement.harnessAddress(link.listen) : link.listen}`,
              cable: net.cableOf(spec.id),
            });
            robots.push(robot);
            const ms = Math.round(performance.now() - bootAt);
            bootMs[spec.id] = ms;
            events.emit({ kind: 'robot-ready', robot: spec.id, rosbridge: host.endpoints.rosbridge, ms });
          }),
        ),
      );
      progress.finish();
      const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failure) throw failure.reason;
      robots.sort((a, b) => a.spec.index - b.spec.index);
      const readyMs = Math.round(performance.now() - startedAt);
      events.emit({ kind: 'fleet-ready', robots: robots.length, ms: readyMs });
      log('fleet of %d ready in %d ms', robots.length, readyMs);
      return new StartedFleet(robots, hosts, backend, network, runDir, events, cloudHost, pki, vpn, {
        seed: options.seed,
        world,
        rtf,
        readyMs,
        bootMs,
        otaClient: software.otaClient,
        engines: Object.fromEntries(specs.map((spec) => [spec.id, started.engineOf?.(spec) ?? backendName])),
      });
    } catch (error) {
      await runAll([
        ...robots.map((robot) => () => robot.detach()),
        ...hosts.map((host) => () => host.stop()),
        () => vpn?.close(),
        () => cloudHost?.stop(),
        () => network?.stop(),
        () => backend?.stop(),
        () => runDir.remove(),
      ]).catch((cleanupError: unknown) => log('cleanup after failed start: %O', cleanupError));
      throw error;
    }
  }
}

/** A running fleet. `stop()` (or `await using`) tears everything down in reverse order. */
export class StartedFleet {
  private stopped = false;
  private readonly deathLog: Array<{ robot: string; error: RobotDiedError; t: number }> = [];
  // Sessions not closed yet: `stop()` closes them, so no follower or timer outlives the fleet.
  private readonly faultSessions = new Set<FaultSession>();
  private readonly fleetCloud: StartedFleetCloud | undefined;
  private fleetOta: FleetOta | undefined;

  constructor(
    /** Every robot, in id order, without counting as "used" by the current test. */
    readonly roster: readonly Robot[],
    private readonly hosts: readonly StartedRobotHost[],
    private readonly backend: StartedRobotBackend,
    /** The fault layer: one proxy per robot link, and the profiles to put on them. */
    readonly network: StartedFleetNetwork,
    private readonly runDir: RunDir,
    readonly events: EventBus,
    private readonly cloudHost: StartedCloudHost | undefined,
    /** The run's CA, when the cloud runs with TLS: the harness talks to it as its operator. */
    private readonly pki: FleetPki | undefined,
    /** The fleet's WireGuard tunnel, when it runs with `vpn`. */
    private readonly vpn: FleetVpn | undefined,
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
    for (const robot of roster) {
      robot.onDeath((error) => this.deathLog.push({ robot: robot.id, error, t: Date.now() }));
    }
    if (cloudHost) {
      this.fleetCloud = new StartedFleetCloud(cloudHost, events, pki?.operator);
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
      cloudFetch(this.pki?.operator.identity),
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
    const robots = [...this.roster].reverse();
    await runAll([
      ...[...this.faultSessions].map((session) => () => session.close()),
      ...robots.map((robot) => () => robot.detach()),
      // Shutdowns run together: a 50-robot fleet should not take 50 sequential grace periods.
      () => settleAll(this.hosts.map((host) => host.stop())),
      () => this.vpn?.close(),
      () => this.cloudHost?.stop(),
      () => this.network.stop(),
      () => this.backend.stop(),
      () => this.runDir.remove(),
    ]);
    this.events.emit({ kind: 'fleet-stopped', robots: this.roster.length });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
