import { join } from 'node:path';
import createDebug from 'debug';
import { FleetdrillError } from '../../core/errors.ts';
import { describeExit, type RobotExit, type StartedCloudHost } from '../backend.ts';
import { withLogTail, type ServiceBoot, type ServiceRuntime } from './service-runtime.ts';

const log = createDebug('fleetdrill:cloud');

/** The fleet cloud could not start or stay up. */
export class CloudUnavailableError extends FleetdrillError {}

/** The ready line the fleet cloud (reference/fleet-cloud/main.ts) writes once it listens. */
export interface CloudReadyLine {
  event: 'ready';
  httpPort: number;
  mqttPort: number;
}

/** Checks a parsed cloud ready line; throws on anything else. */
export function parseCloudReady(line: unknown): CloudReadyLine {
  const ready = line as CloudReadyLine;
  if (ready.event !== 'ready' || !Number.isInteger(ready.httpPort) || !Number.isInteger(ready.mqttPort)) {
    throw new Error('bad ready line');
  }
  return ready;
}

/** The cloud's files in its run-dir folder. */
export interface CloudFiles {
  logPath: string;
  /** Its database and objects: they survive a crash and restart. */
  dataDir: string;
  /** Its certificate, key and the fleet CA, when it runs with TLS (`--tls-dir`). */
  identityDir: string;
}

export function cloudFiles(dir: string): CloudFiles {
  return {
    logPath: join(dir, 'console.log'),
    dataDir: join(dir, 'data'),
    identityDir: join(dir, 'identity'),
  };
}

/** http or https, mqtt or mqtts: the cloud's URL schemes with and without TLS. */
export function cloudSchemes(tls: boolean): { http: string; mqtt: string } {
  return tls ? { http: 'https', mqtt: 'mqtts' } : { http: 'http', mqtt: 'mqtt' };
}

/** How the fleet cloud boots under any runtime; `what` names the runtime in errors. */
export function cloudBoot(options: {
  logPath: string;
  bootTimeoutMs: number;
  what: string;
}): ServiceBoot<CloudReadyLine> {
  return {
    logPath: options.logPath,
    bootTimeoutMs: options.bootTimeoutMs,
    validateReady: parseCloudReady,
    startError: (message, tail) =>
      new CloudUnavailableError(withLogTail(`${options.what} ${message}`, 'the fleet cloud', tail)),
  };
}

/** How the harness and the robots' proxies reach the cloud. */
export interface CloudAddresses {
  httpUrl: string;
  upstream: string;
  mqttUrl: string;
}

/** Where the fleet cloud runs: a runtime, and its addresses from a boot's ready line. */
export interface CloudSupply {
  readonly runtime: ServiceRuntime<CloudReadyLine>;
  addresses(ready: CloudReadyLine): CloudAddresses;
}

/**
 * The fleet cloud over a runtime, the same for every backend. It keeps its addresses across
 * restarts, because every robot's proxy points at them.
 */
export class CloudHost implements StartedCloudHost {
  private stopped = false;
  private ready: CloudReadyLine;

  private constructor(
    private readonly supply: CloudSupply,
    readonly logPath: string,
    ready: CloudReadyLine,
  ) {
    this.ready = ready;
    supply.runtime.onUnexpectedExit((exit) => log('died: %s', describeExit(exit)));
  }

  /** Starts the cloud; a failed start leaves nothing behind. */
  static async start(supply: CloudSupply, logPath: string): Promise<CloudHost> {
    let ready: CloudReadyLine;
    try {
      ready = await supply.runtime.start();
    } catch (error) {
      await supply.runtime.shutdown().catch(() => {});
      await supply.runtime.remove().catch(() => {});
      throw error;
    }
    const cloud = new CloudHost(supply, logPath, ready);
    log('fleet cloud up, %s, %s, %s', supply.runtime.where, cloud.httpUrl, cloud.mqttUrl);
    return cloud;
  }

  get httpUrl(): string {
    return this.addresses.httpUrl;
  }

  get upstream(): string {
    return this.addresses.upstream;
  }

  get mqttUrl(): string {
    return this.addresses.mqttUrl;
  }

  get running(): boolean {
    return this.supply.runtime.running;
  }

  onUnexpectedExit(listener: (exit: RobotExit) => void): void {
    this.supply.runtime.onUnexpectedExit(listener);
  }

  async restart(options: { crash?: boolean } = {}): Promise<void> {
    if (this.stopped) throw new CloudUnavailableError('fleet cloud: cannot start a stopped cloud');
    const { runtime } = this.supply;
    if (options.crash) await runtime.kill('crash');
    else await runtime.shutdown();
    this.ready = await runtime.start('restart');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.supply.runtime.shutdown().catch((error: unknown) => log('shutdown: %O', error));
    await this.supply.runtime.remove();
  }

  logTail(lines = 20): string[] {
    return this.supply.runtime.logTail(lines);
  }

  private get addresses(): CloudAddresses {
    return this.supply.addresses(this.ready);
  }
}
