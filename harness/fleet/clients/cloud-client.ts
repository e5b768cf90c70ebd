import type {
  BlackboxInfo,
  CloudStats,
  RobotTelemetrySummary,
  TelemetryRecord,
  Tier,
} from '../../../protocol/telemetry.ts';
import type { CloudFetch } from './cloud-fetch.ts';
import { FleetdrillError } from '../../core/errors.ts';

/** A stored record with what the cloud added to it. */
export type StoredRecord = TelemetryRecord & { robotId: string; receivedAt: number; arrival: number };

/** The fleet cloud's query API answered with an error, or not at all. */
export class CloudQueryError extends FleetdrillError {}

/**
 * The harness's view of the fleet cloud: its query API, as any operator's tool would use it.
 * Straight to the cloud, never through a robot's proxy.
 */
export class CloudClient {
  constructor(
    /** The cloud's HTTP API. */
    readonly url: string,
    private readonly send: CloudFetch = (url, init) => fetch(url, init),
    private readonly timeoutMs = 10_000,
  ) {}

  /** What the cloud holds of one robot, per tier. */
  summary(robotId: string): Promise<RobotTelemetrySummary> {
    return this.json(`/v1/robots/${encodeURIComponent(robotId)}/telemetry`);
  }

  /** Stored records of one robot in arrival order, every page of them. */
  async records(robotId: string, filter: { tier?: Tier; boot?: string } = {}): Promise<StoredRecord[]> {
    const all: StoredRecord[] = [];
    let after: number | undefined;
    for (;;) {
      const query = new URLSearchParams({ limit: '1000' });
      if (filter.tier) query.set('tier', filter.tier);
      if (filter.boot) query.set('boot', filter.boot);
      if (after !== undefined) query.set('after', String(after));
      const page = await this.json<{ records: StoredRecord[] }>(
        `/v1/robots/${encodeURIComponent(robotId)}/records?${query.toString()}`,
      );
      all.push(...page.records);
      const last = page.records[page.records.length - 1];
      if (!last || page.records.length < 1000) return all;
      after = last.arrival;
    }
  }

  /** Blackbox files of one robot, finished or not. */
  async blackboxes(robotId: string): Promise<BlackboxInfo[]> {
    const listing = await this.json<{ blackboxes: BlackboxInfo[] }>(
      `/v1/blackbox?robot=${encodeURIComponent(robotId)}`,
    );
    return listing.blackboxes;
  }

  /** The bytes of a stored blackbox file. */
  async blackbox(key: string): Promise<Uint8Array> {
    const response = await this.fetch(`/v1/blackbox/${key}`);
    return new Uint8Array(await response.arrayBuffer());
  }

  stats(): Promise<CloudStats> {
    return this.json('/v1/stats');
  }

  health(): Promise<{ ok: boolean }> {
    return this.json('/health');
  }

  private async json<T>(path: string): Promise<T> {
    const response = await this.fetch(path);
    return (await response.json()) as T;
  }

  private async fetch(path: string): Promise<Response> {
    let response: Response;
    try {
      response = await this.send(`${this.url}${path}`, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      throw new CloudQueryError(
        `fleet cloud at ${this.url}: GET ${path} failed: ${(error as Error).message}${cause}`,
      );
    }
    if (!response.ok) {
      throw new CloudQueryError(
        `fleet cloud: GET ${path} answered ${response.status}: ${await response.text()}`,
      );
    }
    return response;
  }
}
