import type { EventBus } from '../../core/events.ts';
import type { StartedCloudHost } from '../backend.ts';
import { CloudClient } from './cloud-client.ts';

/**
 * The fleet cloud of a running fleet, as drills use it: its query API, its broker's address and
 * its power switch.
 */
export class StartedFleetCloud {
  /** The query API. */
  readonly api: CloudClient;

  constructor(
    private readonly host: StartedCloudHost,
    private readonly events: EventBus,
  ) {
    this.api = new CloudClient(host.httpUrl);
  }

  /** The cloud's HTTP API, straight (robots reach it through their own proxies). */
  get url(): string {
    return this.host.httpUrl;
  }

  /** The cloud's MQTT broker: `mosquitto_sub -h HOST -p PORT -t 'fleetdrill/r01/metrics'`. */
  get mqttUrl(): string {
    return this.host.mqttUrl;
  }

  get logPath(): string {
    return this.host.logPath;
  }

  /**
   * Stops the cloud and starts it again on the same data and ports; with `crash` it is killed
   * (SIGKILL) instead of stopped. Resolves when it serves again.
   */
  async restart(options: { crash?: boolean } = {}): Promise<void> {
    const started = performance.now();
    await this.host.restart(options);
    this.events.emit({
      kind: 'cloud-restarted',
      crash: options.crash ?? false,
      downMs: Math.round(performance.now() - started),
    });
  }

  logTail(lines?: number): string[] {
    return this.host.logTail(lines);
  }
}
