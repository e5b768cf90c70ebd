import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { ConfigError } from '../../core/errors.ts';
import type { FaultLayerPlacement, RobotSpec } from '../backend.ts';
import { withLogTail } from '../host/index.ts';
import { freePortsOn } from '../../core/ports.ts';
import { dialAddress } from '../../core/listen-address.ts';
import { FleetContainer, ServiceContainer } from './service-container.ts';

/** The fault layer's name on the run's network. */
export const TOXIPROXY_HOST = 'toxiproxy';
const API_PORT = 8474;
/**
 * Where each link's proxy listens inside the fault layer's container: robot index + base. The
 * rosbridge links are published to the host (the harness drives robots through them); the cloud
 * links are reached only by robots: on the run's network, or, from another engine, at a port
 * published for that robot alone (docs/docker-engines.md).
 */
const LINK_PORT_BASE: Record<string, number> = { rosbridge: 10_000, cloud: 20_000 };

interface ToxiproxyReadyLine {
  event: 'toxiproxy';
  url: string;
}

/** What the fault layer's container needs. */
export interface FaultLayerContext {
  docker: Dockerode;
  /** The engine's URL when it is not testcontainers' own (see ServiceContainerOptions). */
  engineUrl?: string;
  image: string;
  network: string;
  labels: Record<string, string>;
  /** Folder for its console log. */
  dir: string;
  /** How many robots: one published port per robot link the harness uses. */
  robots: number;
  /** The host address the API and the harness's links are published on (the run's listen address). */
  publishAddress: string;
  seed: number;
  bootTimeoutMs: number;
  /**
   * Robots on other engines (by index), which reach their cloud link not by name on the run's
   * network but at `address`: their cloud-link ports are published there, bound on `bind`.
   */
  crossing?: { robots: readonly number[]; bind: string; address: string };
}

/**
 * The docker fleet's fault layer: fleetdrill's Toxiproxy-compatible server in a container on the
 * run's network, so every robot link crosses it as a robot's radio traffic would: robots reach
 * the cloud through it, and the harness reaches robots through it.
 */
export class DockerFaultLayer implements FaultLayerPlacement {
  private constructor(
    private readonly service: ServiceContainer<ToxiproxyReadyLine>,
    private readonly apiPort: number,
    /** Where the harness dials what is published (loopback for a wildcard publish). */
    private readonly dialHost: string,
    /** Container port → host port, for the published links. */
    private readonly published: ReadonlyMap<number, number>,
    /** Container port → `address:port` for the cloud links of robots on other engines. */
    private readonly crossing: ReadonlyMap<number, string>,
  ) {}

  static async start(context: FaultLayerContext): Promise<DockerFaultLayer> {
    const ports = await freePortsOn(context.publishAddress, 1 + context.robots);
    const apiPort = ports[0]!;
    const published = new Map<number, number>();
    const container = new FleetContainer(context.image)
      .withName(`${context.network}-toxiproxy`)
      .withNetworkMode(context.network)
      .withNetworkAliases(TOXIPROXY_HOST)
      .withLabels(context.labels)
      .withCommand(['--host=0.0.0.0', `--port=${API_PORT}`, `--seed=${context.seed}`, '--json'])
      .publishOn(context.publishAddress, API_PORT, apiPort);
    for (let index = 0; index < context.robots; index++) {
      const port = LINK_PORT_BASE.rosbridge! + index;
      published.set(port, ports[1 + index]!);
      container.publishOn(context.publishAddress, port, ports[1 + index]!);
    }
    const crossing = new Map<number, string>();
    if (context.crossing?.robots.length) {
      const { robots, bind, address } = context.crossing;
      // On a remote host this machine cannot tell which ports are free there: a taken one fails the start, naming it.
      const hostPorts = await freePortsOn(bind, robots.length);
      robots.forEach((index, i) => {
        const port = LINK_PORT_BASE.cloud! + index;
        container.publishOn(bind, port, hostPorts[i]!);
        crossing.set(port, `${address}:${hostPorts[i]!}`);
      });
    }
    const service = new ServiceContainer<ToxiproxyReadyLine>({
      docker: context.docker,
      engineUrl: context.engineUrl,
      container,
      logPath: join(context.dir, 'toxiproxy.log'),
      bootTimeoutMs: context.bootTimeoutMs,
      readyText: (line) => (line.startsWith('{"event":"toxiproxy"') ? line : undefined),
      validateReady: (line) => line as ToxiproxyReadyLine,
      startError: (message, tail) =>
        new ConfigError('toxiproxy', withLogTail(`fault layer container ${message}`, 'toxiproxy', tail)),
    });
    const layer = new DockerFaultLayer(
      service,
      apiPort,
      dialAddress(context.publishAddress),
      published,
      crossing,
    );
    try {
      await service.start();
    } catch (error) {
      await layer.stop().catch(() => {});
      throw error;
    }
    return layer;
  }

  get url(): string {
    return `http://${this.dialHost}:${this.apiPort}`;
  }

  listenFor(spec: RobotSpec, link: string): string {
    const base = LINK_PORT_BASE[link];
    if (base === undefined) {
      throw new ConfigError('link', `the docker fault layer has no place for link '${link}' (${spec.id})`);
    }
    return `0.0.0.0:${base + spec.index}`;
  }

  harnessAddress(listen: string): string {
    const port = portOf(listen);
    const hostPort = this.published.get(port);
    if (hostPort === undefined) {
      throw new ConfigError('link', `proxy port ${port} is not published to the harness`);
    }
    return `${this.dialHost}:${hostPort}`;
  }

  robotAddress(listen: string): string {
    const port = portOf(listen);
    return this.crossing.get(port) ?? `${TOXIPROXY_HOST}:${port}`;
  }

  async stop(): Promise<void> {
    await this.service.remove();
  }
}

function portOf(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}
