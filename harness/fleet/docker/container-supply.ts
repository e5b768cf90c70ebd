import { basename, dirname } from 'node:path';
import type Dockerode from 'dockerode';
import type { NetworkCable, RobotEndpoints, RobotSpec } from '../backend.ts';
import {
  robotHostArgs,
  robotHostBoot,
  robotHostEnv,
  type PowerSupply,
  type RobotFiles,
  type RobotReadyLine,
} from '../host/index.ts';
import { FleetContainer, ServiceContainer } from './service-container.ts';
import { dialAddress } from '../../core/listen-address.ts';

/** rosbridge inside every robot container. */
export const ROSBRIDGE_PORT = 9090;

/** Where the robot's files are inside its container (the robot image contract, docs/docker-backend.md). */
const IN_CONTAINER = {
  disk: '/fleetdrill/disk',
  state: '/fleetdrill/state',
  world: '/fleetdrill/world',
  factory: '/fleetdrill/factory',
  agent: '/app/edge-agent.mjs',
};

/** What every robot container of a run shares. */
export interface RobotContainerContext {
  docker: Dockerode;
  /** The engine's URL when it is not testcontainers' own (see ServiceContainerOptions). */
  engineUrl?: string;
  /**
   * Where rosbridge is published when the robot runs on another engine than the fault layer:
   * bound on `bind`, dialled at `address` (docs/docker-engines.md). Default: `publishAddress`,
   * and the fault layer dials the robot by name on the run's network.
   */
  published?: { bind: string; address: string };
  /** The host address rosbridge is published on for the harness (the run's listen address). */
  publishAddress: string;
  /** The image to run: the reference robot's, or the user's (--robot-image). */
  image: string;
  /** The run's Docker network; the robot's id is its name there. */
  network: string;
  /** Labels for the container (run, owner, role). */
  labels: Record<string, string>;
  /** Host port that the container's rosbridge is published on. */
  hostPort: number;
  /** How long a boot may go with a silent console until the robot is stuck. */
  bootTimeoutMs: number;
  /** Robots booting together, which stretches the total a boot may take. */
  fleetSize?: number;
  /** Environment for the robot host (DEBUG, FLEETDRILL_*), as the embedded one inherits it. */
  env: Record<string, string>;
}

/**
 * A robot's power as a container's: a power cut is SIGKILL of the container (docker kill),
 * power-on starts the same container again, so its disk, a bind mount of the run dir, survives
 * as a robot's flash does; a freeze is docker pause. The container sits on the run's network,
 * so its cable can be pulled for real.
 */
export class ContainerSupply implements PowerSupply, NetworkCable {
  readonly runtime: ServiceContainer<RobotReadyLine>;
  // Its disk is a bind-mounted folder, not loop devices: fleetdrill's own OTA client runs there.
  readonly realDisk = false;
  private connected = true;

  constructor(
    private readonly spec: RobotSpec,
    files: RobotFiles,
    private readonly context: RobotContainerContext,
  ) {
    this.runtime = new ServiceContainer<RobotReadyLine>({
      ...robotHostBoot(spec, {
        logPath: files.logPath,
        bootTimeoutMs: context.bootTimeoutMs,
        fleetSize: context.fleetSize,
        what: `robot container (${context.image})`,
      }),
      docker: context.docker,
      engineUrl: context.engineUrl,
      container: this.definition(files),
    });
  }

  endpoints(): RobotEndpoints {
    const { published, hostPort } = this.context;
    if (published) {
      return {
        rosbridge: `ws://${published.address}:${hostPort}`,
        upstream: `${published.address}:${hostPort}`,
      };
    }
    return {
      rosbridge: `ws://${dialAddress(this.context.publishAddress)}:${hostPort}`,
      upstream: `${this.spec.id}:${ROSBRIDGE_PORT}`,
    };
  }

  /** Takes the container off the run's network: no route to anything, as with a pulled cable. */
  async disconnect(): Promise<void> {
    const id = this.runtime.id;
    if (!this.connected || !id) return;
    await this.context.docker.getNetwork(this.context.network).disconnect({ Container: id, Force: true });
    this.connected = false;
    this.runtime.note('network disconnected');
  }

  async reconnect(): Promise<void> {
    const id = this.runtime.id;
    if (this.connected || !id) return;
    await this.context.docker.getNetwork(this.context.network).connect({
      Container: id,
      EndpointConfig: { Aliases: [this.spec.id] },
    });
    this.connected = true;
    this.runtime.note('network reconnected');
  }

  /** The container as testcontainers creates it: the robot host's flags, mounts and ports. */
  private definition(files: RobotFiles): FleetContainer {
    const { spec, context } = this;
    const command = robotHostArgs(spec, {
      world: `${IN_CONTAINER.world}/${basename(spec.worldPath)}`,
      factory: `${IN_CONTAINER.factory}/${basename(spec.software.factoryArtifact)}`,
      disk: IN_CONTAINER.disk,
      stateDir: IN_CONTAINER.state,
      host: '0.0.0.0',
      port: ROSBRIDGE_PORT,
      agentEntry: IN_CONTAINER.agent,
      realDisk: this.realDisk,
    });
    return (
      new FleetContainer(context.image)
        .withName(`${context.network}-${spec.id}`)
        .withNetworkMode(context.network)
        .withNetworkAliases(spec.id)
        .withHostname(spec.id)
        .withLabels(context.labels)
        .withCommand(command)
        .withEnvironment({ ...context.env, ...robotHostEnv(spec) })
        // As the harness's own user, so that the disk it reads and removes stays its own.
        .withUser(`${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`)
        .withTmpFs({ '/tmp': 'rw,exec' })
        .withBindMounts([
          { source: files.diskPath, target: IN_CONTAINER.disk, mode: 'rw' },
          { source: files.stateDir, target: IN_CONTAINER.state, mode: 'rw' },
          { source: dirname(spec.worldPath), target: IN_CONTAINER.world, mode: 'ro' },
          { source: dirname(spec.software.factoryArtifact), target: IN_CONTAINER.factory, mode: 'ro' },
        ])
        .publishOn(context.published?.bind ?? context.publishAddress, ROSBRIDGE_PORT, context.hostPort)
    );
  }
}
