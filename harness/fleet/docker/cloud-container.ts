import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import createDebug from 'debug';
import type Dockerode from 'dockerode';
import type { RobotExit, StartedCloudHost } from '../backend.ts';
import { CloudUnavailableError } from '../embedded/cloud-process.ts';
import { withLogTail } from '../embedded/service-process.ts';
import { FleetContainer, ServiceContainer } from './service-container.ts';

const log = createDebug('fleetdrill:cloud');

/** The cloud's name on the run's network, and its ports there. */
export const CLOUD_HOST = 'cloud';
const HTTP_PORT = 8080;
const MQTT_PORT = 1883;

/** What the cloud container needs. */
export interface CloudContainerContext {
  docker: Dockerode;
  image: string;
  network: string;
  labels: Record<string, string>;
  /** The cloud's folder in the run dir: data (a bind mount) and console log. */
  dir: string;
  /** Loopback host ports the HTTP API and MQTT are published on. */
  hostPorts: { http: number; mqtt: number };
  bootTimeoutMs: number;
  env: Record<string, string>;
}

interface CloudReadyLine {
  event: 'ready';
  httpPort: number;
  mqttPort: number;
}

/** The fleet cloud as a container; its data is a bind mount, so it survives a crash and restart. */
export class DockerCloudHost implements StartedCloudHost {
  private readonly service: ServiceContainer<CloudReadyLine>;
  private stopped = false;
  readonly logPath: string;

  private constructor(private readonly context: CloudContainerContext) {
    this.logPath = join(context.dir, 'console.log');
    const data = join(context.dir, 'data');
    mkdirSync(data, { recursive: true });
    this.service = new ServiceContainer<CloudReadyLine>({
      docker: context.docker,
      container: new FleetContainer(context.image)
        .withName(`${context.network}-cloud`)
        .withNetworkMode(context.network)
        .withNetworkAliases(CLOUD_HOST)
        .withHostname(CLOUD_HOST)
        .withLabels(context.labels)
        .withEnvironment({ ...context.env, FLEETDRILL_ROLE: 'fleet-cloud' })
        .withUser(`${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`)
        .withTmpFs({ '/tmp': 'rw' })
        .withBindMounts([{ source: data, target: '/fleetdrill/data', mode: 'rw' }])
        .publishOnLoopback(HTTP_PORT, context.hostPorts.http)
        .publishOnLoopback(MQTT_PORT, context.hostPorts.mqtt),
      logPath: this.logPath,
      bootTimeoutMs: context.bootTimeoutMs,
      validateReady: (line) => {
        const ready = line as CloudReadyLine;
        if (ready.event !== 'ready' || ready.httpPort !== HTTP_PORT) throw new Error('bad ready line');
        return ready;
      },
      startError: (message, tail) =>
        new CloudUnavailableError(
          withLogTail(`fleet cloud container (${context.image}) ${message}`, 'the fleet cloud', tail),
        ),
    });
  }

  static async start(context: CloudContainerContext): Promise<DockerCloudHost> {
    const cloud = new DockerCloudHost(context);
    try {
      await cloud.service.start();
    } catch (error) {
      await cloud.stop().catch(() => {});
      throw error;
    }
    log('fleet cloud container up: %s', cloud.httpUrl);
    return cloud;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.context.hostPorts.http}`;
  }

  get upstream(): string {
    return `${CLOUD_HOST}:${HTTP_PORT}`;
  }

  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.context.hostPorts.mqtt}`;
  }

  get running(): boolean {
    return this.service.running;
  }

  onUnexpectedExit(listener: (exit: RobotExit) => void): void {
    this.service.onUnexpectedExit(listener);
  }

  async restart(options: { crash?: boolean } = {}): Promise<void> {
    if (this.stopped) throw new CloudUnavailableError('fleet cloud: cannot start a stopped cloud');
    if (options.crash) await this.service.kill('crash');
    else await this.service.shutdown();
    await this.service.start('restart');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.service.shutdown().catch((error: unknown) => log('shutdown: %O', error));
    await this.service.remove();
  }

  logTail(lines = 20): string[] {
    return this.service.logTail(lines);
  }
}
