import type { IssuedIdentity } from '../../../reference/fleet-pki/index.ts';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import createDebug from 'debug';
import type Dockerode from 'dockerode';
import { ConfigError, runAll } from '../../core/errors.ts';
import type { RobotSpec, StartedCloudHost, StartedRobotBackend, StartedRobotHost } from '../backend.ts';
import { RobotHost, robotFiles } from '../host/index.ts';
import { startDockerCloud } from './cloud-container.ts';
import { checkEngine, engineClient, LABELS, ownerLabel, removeLeftovers } from './engine.ts';
import {
  checkRemoteEngine,
  crossingsOf,
  placeRobots,
  resolveEngines,
  type Crossing,
  type EngineSpec,
} from './engines.ts';
import { DockerFaultLayer } from './fault-layer.ts';
import { copyImages, ensureImages, ImageBuildError } from './images.ts';
import { freePortsOn } from '../../core/ports.ts';
import { LOOPBACK_ADDRESS } from '../../../protocol/listen-address.ts';
import { ContainerSupply } from './container-supply.ts';

const log = createDebug('fleetdrill:docker');

/** Options of the docker backend. */
export interface DockerBackendOptions {
  /** The run dir: robots' disks and every console log live there. */
  runDir: string;
  /** How many robots the fleet has: the fault layer publishes a port for each. */
  robots: number;
  /** Seed of the fault layer's draws. */
  seed: number;
  /** How long a container's boot may go with a silent console (default 20 s); see readiness.ts. */
  bootTimeoutMs?: number;
  /** A robot image of the user's (the Gazebo robot, say) instead of the reference robot's. */
  robotImage?: string;
  /**
   * The engines to spread robots over (docs/docker-engines.md): `unix:///path`, `tcp://host:port`
   * or `ssh://user@host`, each optionally `=weight`. The first is home: the fault layer and the
   * cloud run there. Default: $FLEETDRILL_DOCKER_HOSTS, else the engine the docker CLI would use.
   */
  engines?: readonly string[];
  /**
   * The host address every port the harness uses is published on (default 127.0.0.1): Docker
   * would publish on all of them otherwise. Servers inside the containers listen on the
   * container's own interface, on the run's network.
   */
  listenAddress?: string;
}

/** One engine of a run: its client, its run network, and how links cross to it. */
interface RunEngine {
  spec: EngineSpec;
  docker: Dockerode;
  /** Set when the engine is not testcontainers' own: containers there are made through dockerode. */
  engineUrl: string | undefined;
  /** Undefined on a fleet of one engine, where nothing crosses. */
  crossing: Crossing | undefined;
}

/** Environment the containers get from the harness, as embedded processes inherit it. */
function passedEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && (entry[0] === 'DEBUG' || entry[0].startsWith('FLEETDRILL_')),
    ),
  );
}

/**
 * Robots, the fleet cloud and the fault layer as containers (testcontainers, dockerode where it
 * has no call or on another engine than its own) on a Docker network of the run's own, one per
 * engine when robots spread over several (docs/docker-engines.md). Every container and network
 * carries the run's labels; `stop()` removes them, and the next start removes those of runs that
 * died.
 */
export class DockerBackend {
  constructor(private readonly options: DockerBackendOptions) {}

  async start(): Promise<StartedDockerBackend> {
    const specs = resolveEngines(this.options.engines);
    for (const spec of specs) checkRemoteEngine(spec, this.options.runDir);
    const engines: RunEngine[] = specs.map((spec) => ({
      spec,
      docker: engineClient(spec),
      engineUrl: spec.client ? spec.url : undefined,
      crossing: undefined,
    }));
    const home = engines[0]!;
    await Promise.all(
      engines.map(async (engine) => {
        await checkEngine(engine.docker, engine.spec.client ? engine.spec.url : undefined);
        await removeLeftovers(engine.docker);
      }),
    );
    const [images, robotImage] = await Promise.all([
      ensureImages(home.docker, home.spec.url),
      this.options.robotImage ? checkImage(home.docker, this.options.robotImage) : undefined,
    ]);
    const robotTag = robotImage ?? images.robot.tag;
    // Only robots run on the other engines; their image crosses from home.
    await Promise.all(engines.slice(1).map((engine) => copyImages(home.docker, engine.docker, [robotTag])));
    const run = `fd-${process.pid}-${randomBytes(3).toString('hex')}`;
    const labels = {
      [LABELS.managed]: 'true',
      [LABELS.run]: run,
      [LABELS.owner]: ownerLabel(),
    };
    const placement = placeRobots(
      this.options.robots,
      engines.map((engine) => engine.spec.weight),
    );
    const backend = new StartedDockerBackend(engines, placement, run, labels, this.options, {
      robot: robotTag,
      cloud: images.cloud.tag,
    });
    try {
      await Promise.all(
        engines.map((engine) => engine.docker.createNetwork({ Name: run, Driver: 'bridge', Labels: labels })),
      );
      if (engines.length > 1) await planCrossings(engines, run);
      await mkdir(this.options.runDir, { recursive: true });
      const crossing = home.crossing;
      backend.attachFaultLayer(
        await DockerFaultLayer.start({
          docker: home.docker,
          engineUrl: home.engineUrl,
          image: images.toxiproxy.tag,
          network: run,
          labels: { ...labels, [LABELS.role]: 'toxiproxy' },
          dir: this.options.runDir,
          robots: this.options.robots,
          publishAddress: this.options.listenAddress ?? LOOPBACK_ADDRESS,
          seed: this.options.seed,
          bootTimeoutMs: this.options.bootTimeoutMs ?? 20_000,
          crossing: crossing && {
            ...crossing,
            robots: placement.flatMap((engine, index) => (engine === 0 ? [] : [index])),
          },
        }),
      );
    } catch (error) {
      await backend.stop().catch(() => {});
      throw error;
    }
    log('run %s: network and fault layer up', run);
    return backend;
  }
}

/**
 * Sets how links cross between the run's engines (crossingsOf in engines.ts), from the run
 * networks' subnets when every engine is on this machine; warns when ports open to the LAN.
 */
async function planCrossings(engines: RunEngine[], run: string): Promise<void> {
  const local = engines.every((engine) => !engine.spec.remoteHost);
  const networks = local
    ? await Promise.all(
        engines.map(async (engine) => {
          const config = (await engine.docker.getNetwork(run).inspect()).IPAM?.Config?.[0];
          return { name: run, subnet: config?.Subnet, gateway: config?.Gateway };
        }),
      )
    : undefined;
  const crossings = crossingsOf(
    engines.map((engine, index) => ({ spec: engine.spec, network: networks?.[index] })),
    hostname(),
  );
  engines.forEach((engine, index) => {
    const crossing = crossings[index]!;
    engine.crossing = crossing;
    if (crossing.bind === '0.0.0.0') {
      console.warn(
        `fleetdrill: docker engine ${engine.spec.url}: ports that cross engines are published on all addresses of ${crossing.address}; ` +
          'keep the hosts on a private network (docs/docker-engines.md)',
      );
    }
  });
}

/** An image the user named must exist: no registry may be reachable to pull it from. */
async function checkImage(docker: Dockerode, image: string): Promise<string> {
  try {
    await docker.getImage(image).inspect();
    return image;
  } catch {
    throw new ImageBuildError(
      `robot image ${image}: not on this Docker engine. Build it first (see docker/robot-gazebo/README.md) ` +
        'or pull it where a registry is reachable.',
    );
  }
}

export class StartedDockerBackend implements StartedRobotBackend {
  readonly name = 'docker';
  private layer: DockerFaultLayer | undefined;
  private stopped = false;

  constructor(
    private readonly engines: readonly RunEngine[],
    /** Index into `engines` of each robot's engine, by robot index. */
    private readonly placement: readonly number[],
    /** The run's id: its networks' name and every object's `fleetdrill.run` label. */
    readonly run: string,
    private readonly labels: Record<string, string>,
    private readonly options: DockerBackendOptions,
    readonly images: { robot: string; cloud: string },
  ) {}

  /** Where ports the harness uses are published on this machine. */
  private get publishAddress(): string {
    return this.options.listenAddress ?? LOOPBACK_ADDRESS;
  }

  get faultLayer(): DockerFaultLayer | undefined {
    return this.layer;
  }

  attachFaultLayer(layer: DockerFaultLayer): void {
    this.layer = layer;
  }

  /** The URL of the engine a robot runs on. */
  engineOf(spec: RobotSpec): string {
    return this.engineFor(spec).spec.url;
  }

  private engineFor(spec: RobotSpec): RunEngine {
    const engine = this.engines[this.placement[spec.index] ?? 0];
    if (!engine) throw new ConfigError('robots', `${spec.id}: index ${spec.index} is outside the fleet`);
    return engine;
  }

  async startRobot(spec: RobotSpec): Promise<StartedRobotHost> {
    const engine = this.engineFor(spec);
    // A robot away from home publishes rosbridge where the home fault layer can dial it.
    const crossing = engine === this.engines[0] ? undefined : engine.crossing;
    // On another host this machine cannot tell a free port: one free here is the best guess.
    const [hostPort] =
      crossing && !engine.spec.remoteHost
        ? await freePortsOn(crossing.bind, 1)
        : await freePortsOn(this.publishAddress, 1);
    const files = robotFiles(join(this.options.runDir, spec.id));
    const supply = new ContainerSupply(spec, files, {
      docker: engine.docker,
      engineUrl: engine.engineUrl,
      published: crossing,
      publishAddress: this.publishAddress,
      image: this.images.robot,
      network: this.run,
      labels: { ...this.labels, [LABELS.role]: 'robot', [LABELS.robot]: spec.id },
      hostPort: hostPort!,
      bootTimeoutMs: this.options.bootTimeoutMs ?? 20_000,
      fleetSize: this.options.robots,
      env: passedEnv(),
    });
    return RobotHost.start(spec, files, supply);
  }

  async startCloud(options: { identity?: IssuedIdentity } = {}): Promise<StartedCloudHost> {
    const [http, mqtt] = await freePortsOn(this.publishAddress, 2);
    const home = this.engines[0]!;
    return startDockerCloud({
      docker: home.docker,
      engineUrl: home.engineUrl,
      image: this.images.cloud,
      network: this.run,
      labels: { ...this.labels, [LABELS.role]: 'cloud' },
      dir: join(this.options.runDir, 'cloud'),
      hostPorts: { http: http!, mqtt: mqtt! },
      publishAddress: this.publishAddress,
      bootTimeoutMs: this.options.bootTimeoutMs ?? 20_000,
      env: passedEnv(),
      identity: options.identity,
    });
  }

  /** Removes the fault layer, anything of the run still there, and the networks, on every engine. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const filters = { label: [`${LABELS.run}=${this.run}`] };
    await runAll([
      () => this.layer?.stop(),
      // Robots and the cloud are stopped by the fleet; whatever a failed start left goes here.
      ...this.engines.map(({ docker }) => async () => {
        const left = await docker.listContainers({ all: true, filters });
        await Promise.all(left.map((info) => docker.getContainer(info.Id).remove({ force: true, v: true })));
      }),
      ...this.engines.map(({ docker }) => async () => {
        // A start that failed before every network was made leaves some engines without one.
        const networks = await docker.listNetworks({ filters });
        await Promise.all(networks.map((info) => docker.getNetwork(info.Id).remove()));
      }),
    ]);
    log('run %s: removed', this.run);
  }
}
