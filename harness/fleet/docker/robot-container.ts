import { mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import createDebug from 'debug';
import type Dockerode from 'dockerode';
import { RobotUnreachableError } from '../../core/errors.ts';
import type { RobotEndpoints, RobotExit, RobotSpec, StartedRobotHost } from '../backend.ts';
import { withLogTail } from '../embedded/service-process.ts';
import { routeRobotExit } from '../injected-cut.ts';
import { FleetContainer, ServiceContainer } from './service-container.ts';

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
  /** The image to run: the reference robot's, or the user's (--robot-image). */
  image: string;
  /** The run's Docker network; the robot's id is its name there. */
  network: string;
  /** Labels for the container (run, owner, role). */
  labels: Record<string, string>;
  /** This robot's folder in the run dir: disk, state and console log. */
  dir: string;
  /** Host port (loopback) that the container's rosbridge is published on. */
  hostPort: number;
  bootTimeoutMs: number;
  /** Environment for the robot host (DEBUG, FLEETDRILL_*), as the embedded one inherits it. */
  env: Record<string, string>;
}

interface ReadyLine {
  event: 'ready';
  rosbridgePort: number;
}

/**
 * One robot as a container. Power is the container's: a power cut is SIGKILL of the container
 * (docker kill), power-on starts the same container again, so its disk, a bind mount of the run
 * dir, survives as a robot's flash does. The harness reads the disk where it lies.
 */
export class DockerRobotHost implements StartedRobotHost {
  private readonly log;
  private readonly service: ServiceContainer<ReadyLine>;
  private stopped = false;
  private connected = true;
  readonly logPath: string;
  readonly diskPath: string;
  private readonly deathListeners = new Set<(exit: RobotExit) => void>();
  private readonly powerCutListeners = new Set<(where: string) => void>();

  private constructor(
    private readonly spec: RobotSpec,
    private readonly context: RobotContainerContext,
  ) {
    this.log = createDebug(`fleetdrill:robot:${spec.id}`);
    this.logPath = join(context.dir, 'console.log');
    this.diskPath = join(context.dir, 'disk');
    this.service = new ServiceContainer<ReadyLine>({
      docker: context.docker,
      container: this.definition(),
      logPath: this.logPath,
      bootTimeoutMs: context.bootTimeoutMs,
      validateReady: (line) => {
        const ready = line as ReadyLine;
        if (ready.event !== 'ready' || !Number.isInteger(ready.rosbridgePort))
          throw new Error('bad ready line');
        return ready;
      },
      startError: (message, tail) =>
        new RobotUnreachableError(
          this.id,
          withLogTail(`robot container (${context.image}) ${message}`, this.id, tail),
        ),
    });
    this.service.onUnexpectedExit((exit) =>
      routeRobotExit(exit, {
        diskPath: this.diskPath,
        note: (what) => this.service.note(what),
        log: this.log,
        onInjectedCut: this.powerCutListeners,
        onDeath: this.deathListeners,
      }),
    );
  }

  /** Creates the robot's disk and container and powers it on. */
  static async start(spec: RobotSpec, context: RobotContainerContext): Promise<DockerRobotHost> {
    await mkdir(join(context.dir, 'disk'), { recursive: true });
    await mkdir(join(context.dir, 'state'), { recursive: true });
    const host = new DockerRobotHost(spec, context);
    try {
      await host.powerOn();
    } catch (error) {
      await host.stop().catch(() => {});
      throw error;
    }
    return host;
  }

  get id(): string {
    return this.spec.id;
  }

  get powered(): boolean {
    return this.service.running;
  }

  get endpoints(): RobotEndpoints {
    return {
      rosbridge: `ws://127.0.0.1:${this.context.hostPort}`,
      upstream: `${this.spec.id}:${ROSBRIDGE_PORT}`,
    };
  }

  onUnexpectedExit(listener: (exit: RobotExit) => void): void {
    this.deathListeners.add(listener);
  }

  onInjectedPowerCut(listener: (where: string) => void): void {
    this.powerCutListeners.add(listener);
  }

  async powerOn(): Promise<void> {
    if (this.stopped) throw new RobotUnreachableError(this.id, 'cannot power on a stopped robot');
    if (this.service.running) return;
    await this.service.start('power on');
    this.log('powered on, container %s', this.service.id?.slice(0, 12));
  }

  async powerCut(): Promise<void> {
    await this.service.kill('power cut');
  }

  async shutdown(): Promise<void> {
    await this.service.shutdown();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.service.shutdown().catch((error: unknown) => this.log('shutdown: %O', error));
    await this.service.remove();
  }

  logTail(lines = 20): string[] {
    return this.service.logTail(lines);
  }

  /** docker pause: the cgroup freezer stops every process of the robot. */
  async freeze(): Promise<void> {
    await this.service.pause();
  }

  async thaw(): Promise<void> {
    await this.service.unpause();
  }

  /** Takes the container off the run's network: no route to anything, as with a pulled cable. */
  async disconnect(): Promise<void> {
    if (!this.connected) return;
    const id = this.service.id;
    if (!id) return;
    await this.context.docker.getNetwork(this.context.network).disconnect({ Container: id, Force: true });
    this.connected = false;
    this.service.note('network disconnected');
  }

  async reconnect(): Promise<void> {
    if (this.connected) return;
    const id = this.service.id;
    if (!id) return;
    await this.context.docker.getNetwork(this.context.network).connect({
      Container: id,
      EndpointConfig: { Aliases: [this.spec.id] },
    });
    this.connected = true;
    this.service.note('network reconnected');
  }

  /** The container as testcontainers creates it: the robot host's flags, mounts and ports. */
  private definition(): FleetContainer {
    const { spec, context } = this;
    const worldFile = `${IN_CONTAINER.world}/${basename(spec.worldPath)}`;
    const factoryFile = `${IN_CONTAINER.factory}/${basename(spec.software.factoryArtifact)}`;
    const command = [
      `--id=${spec.id}`,
      `--world=${worldFile}`,
      `--seed=${spec.seed}`,
      `--rtf=${spec.rtf}`,
      `--spawn-index=${spec.index}`,
      `--disk=${IN_CONTAINER.disk}`,
      `--state-file=${IN_CONTAINER.state}/physics.json`,
      '--host=0.0.0.0',
      `--port=${ROSBRIDGE_PORT}`,
      `--factory=${factoryFile}`,
      `--bootlimit=${spec.software.bootlimit}`,
      `--boot-deadline-ms=${spec.software.bootDeadlineMs}`,
      '--reset=power-on',
      ...(spec.agent
        ? [
            `--agent-entry=${IN_CONTAINER.agent}`,
            `--agent=${JSON.stringify({ ...spec.agent.settings, cloudUrl: spec.agent.cloudUrl })}`,
          ]
        : []),
    ];
    return (
      new FleetContainer(context.image)
        .withName(`${context.network}-${spec.id}`)
        .withNetworkMode(context.network)
        .withNetworkAliases(spec.id)
        .withHostname(spec.id)
        .withLabels(context.labels)
        .withCommand(command)
        .withEnvironment({
          ...context.env,
          FLEETDRILL_ROBOT_ID: spec.id,
          FLEETDRILL_ROLE: 'robot-host',
        })
        // As the harness's own user, so that the disk it reads and removes stays its own.
        .withUser(`${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`)
        .withTmpFs({ '/tmp': 'rw,exec' })
        .withBindMounts([
          { source: join(context.dir, 'disk'), target: IN_CONTAINER.disk, mode: 'rw' },
          { source: join(context.dir, 'state'), target: IN_CONTAINER.state, mode: 'rw' },
          { source: dirname(spec.worldPath), target: IN_CONTAINER.world, mode: 'ro' },
          { source: dirname(spec.software.factoryArtifact), target: IN_CONTAINER.factory, mode: 'ro' },
        ])
        .publishOnLoopback(ROSBRIDGE_PORT, context.hostPort)
    );
  }
}
