import createDebug from 'debug';
import { parseProxyConfig, parseProxyPatch, type ProxyCollection } from './collection.ts';
import { ApiError, badBody } from './errors.ts';
import type { ProxyMetrics } from './metrics.ts';
import { toxicJson } from './toxic-spec.ts';

const log = createDebug('fleetdrill:toxiproxy');

/** The Toxiproxy release whose API this server speaks, marked as fleetdrill's. */
export const TOXIPROXY_VERSION = '2.12.0-fleetdrill';

/** Toxiproxy's content type for JSON, byte for byte. */
export const JSON_TYPE = 'application/json;charset=utf-8';

/** A response before it is written: JSON body, plain text, or nothing (204). */
export type ApiResponse =
  { status: number; json: unknown } | { status: number; text: string; contentType: string } | { status: 204 };

/** A request as the API sees it; `body` parses the JSON body on demand. */
export interface ApiRequest {
  method: string;
  path: string;
  body: () => unknown;
}

type Route = Partial<
  Record<string, (params: string[], request: ApiRequest) => ApiResponse | Promise<ApiResponse>>
>;

const ok = (json: unknown, status = 200): ApiResponse => ({ status, json });
const noContent: ApiResponse = { status: 204 };

/** Parses a JSON body; Toxiproxy answers 400 to anything that does not decode. */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badBody((error as Error).message);
  }
}

/**
 * The Toxiproxy HTTP API over a proxy collection. Requests are handled one at a time, so two
 * clients racing to create the same proxy get 201 and 409, never a half-made proxy.
 */
export class ToxiproxyApi {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly routes: Array<[RegExp, Route]>;

  constructor(
    private readonly proxies: ProxyCollection,
    private readonly metrics: ProxyMetrics,
  ) {
    const p = proxies;
    this.routes = [
      [
        /^\/proxies$/,
        {
          GET: () => ok(Object.fromEntries(p.all().map((proxy) => [proxy.name, proxy.json()]))),
          POST: async (_, request) => ok((await p.create(parseProxyConfig(request.body()))).json(), 201),
        },
      ],
      [
        /^\/populate$/,
        {
          POST: async (_, request) => {
            const result = await p.populate(request.body());
            const proxies = result.proxies.map((proxy) => proxy.json());
            if (!result.error) return ok({ proxies }, 201);
            const { status, message } = result.error;
            return ok({ proxies, error: message, status }, status);
          },
        },
      ],
      [/^\/reset$/, { POST: async () => (await p.reset(), noContent) }],
      [/^\/version$/, { GET: () => ok({ version: TOXIPROXY_VERSION }) }],
      [
        /^\/metrics$/,
        {
          GET: () => ({
            status: 200,
            text: this.metrics.render(),
            contentType: 'text/plain; version=0.0.4; charset=utf-8',
          }),
        },
      ],
      [
        /^\/proxies\/([^/]+)$/,
        {
          GET: ([name]) => ok(p.get(name!).json()),
          POST: (params, request) => this.updateProxy(params, request),
          PATCH: (params, request) => this.updateProxy(params, request),
          DELETE: async ([name]) => (await p.remove(name!), noContent),
        },
      ],
      [
        /^\/proxies\/([^/]+)\/toxics$/,
        {
          GET: ([name]) => ok(p.get(name!).toxics.map(toxicJson)),
          POST: ([name], request) => {
            const proxy = p.get(name!);
            const toxic = proxy.parseToxic(request.body());
            proxy.addToxic(toxic);
            return ok(toxicJson(toxic));
          },
        },
      ],
      [
        /^\/proxies\/([^/]+)\/toxics\/([^/]+)$/,
        {
          GET: ([name, toxic]) => ok(toxicJson(p.get(name!).toxic(toxic!))),
          POST: (params, request) => this.updateToxic(params, request),
          PATCH: (params, request) => this.updateToxic(params, request),
          DELETE: ([name, toxic]) => (p.get(name!).removeToxic(toxic!), noContent),
        },
      ],
    ];
  }

  /** Handles one request; never throws: failures become Toxiproxy's error bodies. */
  handle(request: ApiRequest): Promise<ApiResponse> {
    const result = this.queue.then(() => this.dispatch(request));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async dispatch(request: ApiRequest): Promise<ApiResponse> {
    try {
      for (const [pattern, route] of this.routes) {
        const match = pattern.exec(request.path);
        if (!match) continue;
        const handler = route[request.method];
        if (!handler) return errorResponse(new ApiError(405, 'method not allowed'));
        const params = match.slice(1).map((part) => {
          try {
            return decodeURIComponent(part);
          } catch {
            throw new ApiError(400, `bad path segment: ${part}`);
          }
        });
        return await handler(params, request);
      }
      return errorResponse(new ApiError(404, 'not found'));
    } catch (error) {
      if (error instanceof ApiError) return errorResponse(error);
      log('%s %s failed: %O', request.method, request.path, error);
      return errorResponse(new ApiError(500, (error as Error).message));
    }
  }

  private async updateProxy([name]: string[], request: ApiRequest): Promise<ApiResponse> {
    const proxy = this.proxies.get(name!);
    await proxy.update(parseProxyPatch(request.body()));
    return ok(proxy.json());
  }

  private updateToxic([name, toxic]: string[], request: ApiRequest): ApiResponse {
    const proxy = this.proxies.get(name!);
    proxy.toxic(toxic!);
    return ok(toxicJson(proxy.updateToxic(toxic!, request.body())));
  }
}

/** `{"error": ..., "status": ...}` with the status as the HTTP status. */
export function errorResponse(error: ApiError): ApiResponse {
  return { status: error.status, json: { error: error.message, status: error.status } };
}
