import { deriveSeed } from '../../core/seed.ts';
import { UdpRelay, UdpToxicError, type UdpToxic } from '../udp/index.ts';
import { parseAddress } from './address.ts';
import { ApiError, badBody, toxicExists, toxicNotFound } from './errors.ts';
import type { ProxyConfig, ProxyContext, ProxyPatch } from './proxy.ts';
import type { ToxicSpec } from './toxic-spec.ts';

function asApiError(error: unknown): ApiError {
  if (error instanceof UdpToxicError) return new ApiError(error.status, error.message);
  return error instanceof ApiError ? error : new ApiError(500, (error as Error).message);
}

/**
 * fleetdrill's extension to the Toxiproxy API: a proxy created with `"protocol": "udp"` is a UDP
 * relay, driven through the same endpoints with the UDP toxics (latency, loss, gilbert_elliott,
 * duplicate, reorder). The toxic list lives here, so it survives disabling the relay.
 */
export class UdpProxy {
  readonly protocol = 'udp';
  readonly name: string;
  listen: string;
  requestedListen: string;
  upstream: string;
  enabled = false;
  private toxicList: UdpToxic[] = [];
  private relay: UdpRelay | undefined;

  constructor(
    private readonly context: ProxyContext,
    config: ProxyConfig,
  ) {
    this.name = config.name;
    this.listen = this.requestedListen = config.listen;
    this.upstream = config.upstream;
  }

  get toxics(): readonly ToxicSpec[] {
    return this.toxicList;
  }

  async start(): Promise<void> {
    if (this.relay) return;
    try {
      this.relay = await UdpRelay.start({
        name: this.name,
        listen: this.listen,
        upstream: this.upstream,
        seed: deriveSeed(this.context.seed, 'udp', this.name),
      });
    } catch (error) {
      throw new ApiError(500, `proxy ${this.name}: listen ${this.listen}: ${(error as Error).message}`);
    }
    for (const toxic of this.toxicList) this.relay.addToxic(toxic);
    this.listen = this.relay.listen;
    this.enabled = true;
  }

  async stop(): Promise<void> {
    this.enabled = false;
    const relay = this.relay;
    this.relay = undefined;
    await relay?.stop();
  }

  async update(patch: ProxyPatch): Promise<void> {
    if (patch.listen !== undefined) parseAddress(patch.listen, 'listen');
    if (patch.upstream !== undefined) parseAddress(patch.upstream, 'upstream');
    const enabled = patch.enabled ?? this.enabled;
    if (patch.listen !== undefined && patch.listen !== this.listen) {
      await this.stop();
      this.listen = this.requestedListen = patch.listen;
    }
    if (patch.upstream !== undefined && patch.upstream !== this.upstream) {
      this.upstream = patch.upstream;
      this.relay?.setUpstream(patch.upstream);
    }
    if (enabled) await this.start();
    else await this.stop();
  }

  matches(config: ProxyConfig): boolean {
    return (
      config.protocol === 'udp' &&
      (config.listen === this.listen || config.listen === this.requestedListen) &&
      config.upstream === this.upstream
    );
  }

  /** Validates a new toxic against the UDP toxic types, with Toxiproxy's defaults. */
  parseToxic(body: unknown): ToxicSpec {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw badBody('a toxic must be a JSON object');
    const input = body as Record<string, unknown>;
    if (input.name !== undefined && typeof input.name !== 'string') throw badBody('name must be a string');
    const stream = typeof input.stream === 'string' ? input.stream.toLowerCase() : input.stream;
    // The same rules the live relay applies, checked before anything changes.
    try {
      return UdpProxy.validate({
        ...input,
        stream,
        name: input.name === '' ? undefined : input.name,
      });
    } catch (error) {
      throw asApiError(error);
    }
  }

  toxic(name: string): ToxicSpec {
    const toxic = this.toxicList.find((candidate) => candidate.name === name);
    if (!toxic) throw toxicNotFound();
    return toxic;
  }

  addToxic(toxic: ToxicSpec): void {
    if (this.toxicList.some((candidate) => candidate.name === toxic.name)) throw toxicExists();
    const udp = toxic as UdpToxic;
    this.toxicList = [...this.toxicList, udp];
    this.relay?.addToxic(udp);
  }

  updateToxic(name: string, body: unknown): ToxicSpec {
    const current = this.toxic(name) as UdpToxic;
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw badBody('a toxic update must be a JSON object');
    const input = body as { toxicity?: unknown; attributes?: unknown };
    let updated: UdpToxic;
    try {
      updated = UdpProxy.validate({
        ...current,
        toxicity: input.toxicity ?? current.toxicity,
        attributes: { ...current.attributes, ...(input.attributes ?? {}) },
      });
      this.relay?.updateToxic(name, updated);
    } catch (error) {
      throw asApiError(error);
    }
    this.toxicList = this.toxicList.map((toxic) => (toxic.name === name ? updated : toxic));
    return updated;
  }

  removeToxic(name: string): void {
    this.toxic(name);
    this.toxicList = this.toxicList.filter((toxic) => toxic.name !== name);
    this.relay?.removeToxic(name);
  }

  removeAllToxics(): void {
    this.toxicList = [];
    this.relay?.removeAllToxics();
  }

  json() {
    return {
      name: this.name,
      listen: this.listen,
      upstream: this.upstream,
      enabled: this.enabled,
      protocol: this.protocol,
      toxics: this.toxicList.map(({ name, type, stream, toxicity, attributes }) => ({
        name,
        type,
        stream,
        toxicity,
        attributes,
      })),
    };
  }

  /** Checks a toxic with the relay's own rules (types, ranges, defaults). */
  private static validate(input: Record<string, unknown>): UdpToxic {
    return UdpRelay.validateToxic(input);
  }
}
