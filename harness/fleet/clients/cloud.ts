import type { EventBus } from '../../core/events.ts';
import type { StartedCloudHost } from '../backend.ts';
import type { OperatorIdentity } from '../pki.ts';
import { CloudClient } from './cloud-client.ts';
import { cloudFetch, tlsOptions, type CloudFetch } from './cloud-fetch.ts';

/**
 * The fleet cloud of a running fleet, as drills use it: its query API, its broker's address and
 * its power switch.
 */
export class StartedFleetCloud {
  /** The query API. */
  readonly api: CloudClient;

  /** `fetch` as the fleet's operator: over mutual TLS when the cloud runs with it. */
  readonly fetch: CloudFetch;

  constructor(
    private readonly host: StartedCloudHost,
    private readonly events: EventBus,
    /** The harness's certificate, when the cloud runs with TLS. */
    readonly operator?: OperatorIdentity,
  ) {
    this.fetch = cloudFetch(operator?.identity);
    this.api = new CloudClient(host.httpUrl, this.fetch);
  }

  /** Whether the cloud runs with TLS (https://, mqtts://). */
  get tls(): boolean {
    return this.operator !== undefined;
  }

  /**
   * Node TLS options for an MQTT (or other) client of the cloud as the operator; undefined when
   * the cloud runs without TLS. MQTT.js: `connectAsync(fleet.cloud.mqttUrl, { ...fleet.cloud.clientTls() })`.
   */
  clientTls(): ReturnType<typeof tlsOptions> | undefined {
    return this.operator && tlsOptions(this.operator.identity);
  }

  /** The cloud's HTTP API, straight (robots reach it through their own proxies). */
  get url(): string {
    return this.host.httpUrl;
  }

  /** The cloud's MQTT broker (mqtts:// with TLS: clients need {@link clientTls}). */
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
