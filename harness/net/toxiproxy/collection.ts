import { parseAddress } from './address.ts';
import { ApiError, badBody, missingField, proxyExists, proxyNotFound } from './errors.ts';
import { Proxy, type ProxyConfig, type ProxyContext, type ProxyPatch } from './proxy.ts';
import { UdpProxy } from './udp-proxy.ts';

/** A TCP proxy (Toxiproxy's own) or a UDP relay (fleetdrill's extension), behind one API. */
export type AnyProxy = Proxy | UdpProxy;

/** Where a proxy listens when the request names no address: loopback, any free port. */
export const DEFAULT_LISTEN = '127.0.0.1:0';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads an optional field; JSON null counts as absent, as Go's decoder reads it. */
function optional<T>(
  body: Record<string, unknown>,
  field: string,
  type: 'string' | 'boolean',
): T | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== type) throw badBody(`${field} must be a ${type}`);
  return value as T;
}

/** Validates a proxy as `POST /proxies` and `/populate` take it. */
export function parseProxyConfig(body: unknown): ProxyConfig {
  if (!isObject(body)) throw badBody('a proxy must be a JSON object');
  const name = optional<string>(body, 'name', 'string');
  if (!name) throw missingField('name');
  const upstream = optional<string>(body, 'upstream', 'string');
  if (!upstream) throw missingField('upstream');
  const listen = optional<string>(body, 'listen', 'string') || DEFAULT_LISTEN;
  parseAddress(listen, 'listen');
  parseAddress(upstream, 'upstream');
  const protocol = optional<string>(body, 'protocol', 'string') ?? 'tcp';
  if (protocol !== 'tcp' && protocol !== 'udp')
    throw badBody(`protocol must be "tcp" or "udp", got "${protocol}"`);
  return { name, listen, upstream, enabled: optional<boolean>(body, 'enabled', 'boolean'), protocol };
}

/** Validates the body of `PATCH /proxies/{p}`. */
export function parseProxyPatch(body: unknown): ProxyPatch {
  if (!isObject(body)) throw badBody('a proxy update must be a JSON object');
  return {
    listen: optional<string>(body, 'listen', 'string') || undefined,
    upstream: optional<string>(body, 'upstream', 'string') || undefined,
    enabled: optional<boolean>(body, 'enabled', 'boolean'),
  };
}

/** What `/populate` did: the proxies it left in place, and the first failure if any. */
export interface PopulateResult {
  proxies: AnyProxy[];
  error?: ApiError;
  /** Index in the request of the entry that failed. */
  index?: number;
}

/** Every proxy of one server, by name. */
export class ProxyCollection {
  private readonly proxies = new Map<string, AnyProxy>();

  constructor(private readonly context: ProxyContext) {}

  all(): AnyProxy[] {
    return [...this.proxies.values()];
  }

  get(name: string): AnyProxy {
    const proxy = this.proxies.get(name);
    if (!proxy) throw proxyNotFound();
    return proxy;
  }

  async create(config: ProxyConfig): Promise<AnyProxy> {
    if (this.proxies.has(config.name)) throw proxyExists();
    const proxy =
      config.protocol === 'udp' ? new UdpProxy(this.context, config) : new Proxy(this.context, config);
    if (config.enabled ?? true) await proxy.start();
    this.proxies.set(proxy.name, proxy);
    return proxy;
  }

  /**
   * Creates the proxies in the list; one that exists with the same listen address and upstream
   * is left alone (its `enabled` follows the list when given), one that differs is recreated.
   * Every entry is validated before anything changes.
   */
  async populate(body: unknown): Promise<PopulateResult> {
    if (!Array.isArray(body))
      return { proxies: [], error: badBody('populate takes a JSON array of proxies') };
    const configs: ProxyConfig[] = [];
    for (const [index, entry] of (body as unknown[]).entries()) {
      try {
        configs.push(parseProxyConfig(entry));
      } catch (error) {
        return { proxies: [], error: asApiError(error), index };
      }
    }
    const proxies: AnyProxy[] = [];
    for (const [index, config] of configs.entries()) {
      try {
        const existing = this.proxies.get(config.name);
        if (existing?.matches(config)) {
          if (config.enabled !== undefined) await existing.update({ enabled: config.enabled });
          proxies.push(existing);
          continue;
        }
        if (existing) await this.remove(config.name);
        proxies.push(await this.create(config));
      } catch (error) {
        return { proxies, error: asApiError(error), index };
      }
    }
    return { proxies };
  }

  async remove(name: string): Promise<void> {
    const proxy = this.get(name);
    this.proxies.delete(name);
    await proxy.stop();
  }

  /** Enables every proxy and removes every toxic. */
  async reset(): Promise<void> {
    let failure: Error | undefined;
    for (const proxy of this.proxies.values()) {
      proxy.removeAllToxics();
      // One proxy whose port was taken meanwhile must not stop the others from coming back.
      await proxy.start().catch((error: Error) => (failure ??= error));
    }
    if (failure) throw failure;
  }

  async stopAll(): Promise<void> {
    const proxies = this.all();
    this.proxies.clear();
    await Promise.all(proxies.map((proxy) => proxy.stop()));
  }
}

function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(500, (error as Error).message);
}
