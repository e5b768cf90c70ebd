import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import createDebug from 'debug';
import { FleetdrillError } from '../../core/errors.ts';
import type { RobotExit, StartedCloudHost } from '../backend.ts';
import { describeExit } from '../backend.ts';
import { ServiceProcess, withLogTail } from './service-process.ts';

const log = createDebug('fleetdrill:cloud');

/** The fleet cloud could not start or stay up. */
export class CloudUnavailableError extends FleetdrillError {}

interface CloudReadyLine {
  event: 'ready';
  httpPort: number;
  mqttPort: number;
}

/**
 * The fleet cloud as a {@link ServiceProcess} with its data in the run dir. It keeps its ports
 * across restarts, because every robot's proxy points at them.
 */
export class EmbeddedCloudHost implements StartedCloudHost {
  private readonly process: ServiceProcess<CloudReadyLine>;
  private stopped = false;
  private ports = { http: 0, mqtt: 0 };
  readonly logPath: string;
  private readonly dataDir: string;

  private constructor(
    private readonly entry: string,
    dir: string,
    private readonly host: string,
    bootTimeoutMs: number,
  ) {
    this.logPath = join(dir, 'console.log');
    this.dataDir = join(dir, 'data');
    this.process = new ServiceProcess<CloudReadyLine>({
      logPath: this.logPath,
      bootTimeoutMs,
      validateReady: (line) => {
        const ready = line as CloudReadyLine;
        if (
          ready.event !== 'ready' ||
          !Number.isInteger(ready.httpPort) ||
          !Number.isInteger(ready.mqttPort)
        ) {
          throw new Error('bad ready line');
        }
        return ready;
      },
      startError: (message, tail) =>
        new CloudUnavailableError(withLogTail(`fleet cloud ${message}`, 'the fleet cloud', tail)),
    });
    this.process.onUnexpectedExit((exit) => log('died: %s', describeExit(exit)));
  }

  static async start(options: {
    entry: string;
    dir: string;
    host: string;
    bootTimeoutMs: number;
  }): Promise<EmbeddedCloudHost> {
    mkdirSync(options.dir, { recursive: true });
    const cloud = new EmbeddedCloudHost(options.entry, options.dir, options.host, options.bootTimeoutMs);
    try {
      await cloud.start();
    } catch (error) {
      await cloud.stop().catch(() => {});
      throw error;
    }
    return cloud;
  }

  get httpUrl(): string {
    return `http://${this.host}:${this.ports.http}`;
  }

  get upstream(): string {
    return `${this.host}:${this.ports.http}`;
  }

  get mqttUrl(): string {
    return `mqtt://${this.host}:${this.ports.mqtt}`;
  }

  get running(): boolean {
    return this.process.running;
  }

  onUnexpectedExit(listener: (exit: RobotExit) => void): void {
    this.process.onUnexpectedExit(listener);
  }

  async restart(options: { crash?: boolean } = {}): Promise<void> {
    if (options.crash) await this.process.kill('crash');
    else await this.process.shutdown();
    await this.start();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.process.shutdown();
  }

  logTail(lines = 20): string[] {
    return this.process.logTail(lines);
  }

  private async start(): Promise<void> {
    if (this.stopped) throw new CloudUnavailableError('fleet cloud: cannot start a stopped cloud');
    const ready = await this.process.start([
      this.entry,
      `--data=${this.dataDir}`,
      `--host=${this.host}`,
      // The same ports after a restart: every robot's proxy points at them.
      `--http-port=${this.ports.http}`,
      `--mqtt-port=${this.ports.mqtt}`,
    ]);
    this.ports = { http: ready.httpPort, mqtt: ready.mqttPort };
    log('fleet cloud up, pid %d, %s, %s', this.process.pid, this.httpUrl, this.mqttUrl);
  }
}
