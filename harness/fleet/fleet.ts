import createDebug from 'debug';
import type { BackendName } from '../core/config.ts';
import { ConfigError, settleAll } from '../core/errors.ts';
import { EventBus } from '../core/events.ts';
import { parseListenAddress, warnListenAddress } from '../core/listen-address.ts';
import { deriveSeed } from '../core/seed.ts';
import { FleetNetwork, TOXIPROXY_URL_ENV } from '../net/network.ts';
import type { CustomProfileConfig } from '../net/profiles.ts';
import { LOOPBACK_ADDRESS } from '../../protocol/listen-address.ts';
import type { AgentSettings } from '../../reference/edge-agent/index.ts';
import type { RobotSoftwareSpec, RobotSpec } from './backend.ts';
import { backendFactory } from './backends.ts';
import { startCloudSide } from './cloud-side.ts';
import { emptyParts, tearDownParts } from './fleet-parts.ts';
import { BringUpProgress } from './readiness-progress.ts';
import { bringUpRobot } from './robot-bring-up.ts';
import { createRunDir } from './run-dir.ts';
import { StartedFleet } from './started-fleet.ts';
import { planVpn, type FleetVpnOption } from './vpn.ts';
import { resolveWorld } from './world.ts';

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
    const parts = emptyParts(await createRunDir());
    try {
      const startBackend = backendFactory(backendName);
      const { software, agent: agentSettings } = await options.provision();
      const backend = await startBackend({
        runDir: parts.runDir.path,
        robots: options.robots,
        seed: deriveSeed(options.seed, 'toxiproxy'),
        bootTimeoutMs: readyTimeoutMs,
        telemetry,
        robotImage: options.robotImage,
        otaClient: software.otaClient,
        dockerHosts: options.dockerHosts,
        listenAddress,
      });
      parts.backend = backend;
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
      const network = await new FleetNetwork({
        seed: options.seed,
        toxiproxyUrl: placement?.url ?? toxiproxyUrl,
        ownedByRun: placement !== undefined,
        listenAddress,
        profiles: options.profiles,
        events,
      }).start();
      parts.network = network;
      const started = { ...parts, backend, network };
      if (telemetry) {
        await startCloudSide(started, { tls: options.tls ?? true, vpnPlan, seed: options.seed, events });
      }
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
      const bootMs: Record<string, number> = {};
      const progress = new BringUpProgress(options.robots, (counts) =>
        events.emit({ kind: 'fleet-progress', ...counts }),
      );
      const context = {
        parts: started,
        placement,
        agentSettings,
        events,
        readyTimeoutMs,
        fleetSize: options.robots,
      };
      // Every robot boots at once, as a fleet powered up together does; every boot settles before
      // the first error is rethrown, so that everything that did start is torn down.
      await settleAll(
        specs.map(
          progress.track(async (spec) => {
            bootMs[spec.id] = await bringUpRobot(spec, context);
          }),
        ),
      ).finally(() => progress.finish());
      parts.robots.sort((a, b) => a.spec.index - b.spec.index);
      const readyMs = Math.round(performance.now() - startedAt);
      events.emit({ kind: 'fleet-ready', robots: parts.robots.length, ms: readyMs });
      log('fleet of %d ready in %d ms', parts.robots.length, readyMs);
      return new StartedFleet(started, events, {
        seed: options.seed,
        world,
        rtf,
        readyMs,
        bootMs,
        otaClient: software.otaClient,
        engines: Object.fromEntries(specs.map((spec) => [spec.id, backend.engineOf?.(spec) ?? backendName])),
      });
    } catch (error) {
      await tearDownParts(parts).catch((cleanupError: unknown) =>
        log('cleanup after failed start: %O', cleanupError),
      );
      throw error;
    }
  }
}
