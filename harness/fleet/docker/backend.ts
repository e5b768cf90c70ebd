import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import createDebug from 'debug';
import type Dockerode from 'dockerode';
import { runAll } from '../../core/errors.ts';
import type { RobotSpec, StartedCloudHost, StartedRobotBackend, StartedRobotHost } from '../backend.ts';
import { RobotHost, robotFiles } from '../host/index.ts';
import { startDockerCloud } from './cloud-container.ts';
import { checkEngine, dockerClient, LABELS, ownerLabel, removeLeftovers } from './engine.ts';
import { DockerFaultLayer } from './fault-layer.ts';
import { ensureImages, ImageBuildError } from './images.ts';
import { freeLoopbackPorts } from './ports.ts';
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
 * has no call) on a Docker network of the run's own. Every container and the network carry the
 * run's labels; `stop()` removes them, and the next start removes those of runs that died.
 */
export class DockerBackend {
  constructor(private readonly options: DockerBackendOptions) {}

  async start(): Promise<StartedDockerBackend> {
    const docker = dockerClient();
    await checkEngine(docker);
    await removeLeftovers(docker);
    const [images, robotImage] = await Promise.all([
      ensureImages(docker),
      this.options.robotImage ? checkImage(docker, this.options.robotImage) : undefined,
    ]);
    const run = `fd-${process.pid}-${randomBytes(3).toString('hex')}`;
    const labels = {
      [LABELS.managed]: 'true',
      [LABELS.run]: run,
      [LABELS.owner]: ownerLabel(),
    };
    await docker.createNetwork({ Name: run, Driver: 'bridge', Labels: labels });
    const backend = new StartedDockerBackend(docker, run, labels, this.options, {
      robot: robotImage ?? images.robot.tag,
      cloud: images.cloud.tag,
    });
    try {
      await mkdir(this.options.runDir, { recursive: true });
      backend.attachFaultLayer(
        await DockerFaultLayer.start({
          docker,
          image: images.toxiproxy.tag,
          network: run,
          labels: { ...labels, [LABELS.role]: 'toxiproxy' },
          dir: this.options.runDir,
          robots: this.options.robots,
          seed: this.options.seed,
          bootTimeoutMs: this.options.bootTimeoutMs ?? 20_000,
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
    private readonly docker: Dockerode,
    /** The run's id: its network's name and every object's `fleetdrill.run` label. */
    readonly run: string,
    private readonly labels: Record<string, string>,
    private readonly options: DockerBackendOptions,
    readonly images: { robot: string; cloud: string },
  ) {}

  get faultLayer(): DockerFaultLayer | undefined {
    return this.layer;
  }

  attachFaultLayer(layer: DockerFaultLayer): void {
    this.layer = layer;
  }

  async startRobot(spec: RobotSpec): Promise<StartedRobotHost> {
    const [hostPort] = await freeLoopbackPorts(1);
    const files = robotFiles(join(this.options.runDir, spec.id));
    const supply = new ContainerSupply(spec, files, {
      docker: this.docker,
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

  async startCloud(): Promise<StartedCloudHost> {
    const [http, mqtt] = await freeLoopbackPorts(2);
    return startDockerCloud({
      docker: this.docker,
      image: this.images.cloud,
      network: this.run,
      labels: { ...this.labels, [LABELS.role]: 'cloud' },
      dir: join(this.options.runDir, 'cloud'),
      hostPorts: { http: http!, mqtt: mqtt! },
      bootTimeoutMs: this.options.bootTimeoutMs ?? 20_000,
      env: passedEnv(),
    });
  }

  /** Removes the fault layer, anything of the run still there, and the network. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const filters = { label: [`${LABELS.run}=${this.run}`] };
    await runAll([
      () => this.layer?.stop(),
      // Robots and the cloud are stopped by the fleet; whatever a failed start left goes here.
      async () => {
        const left = await this.docker.listContainers({ all: true, filters });
        await Promise.all(
          left.map((info) => this.docker.getContainer(info.Id).remove({ force: true, v: true })),
        );
      },
      () => this.docker.getNetwork(this.run).remove(),
    ]);
    log('run %s: removed', this.run);
  }
}
