import fc from 'fast-check';
import { runAll } from '../../core/index.ts';
import { ToxiproxyServer, toxicTypeNames } from '../../net/toxiproxy/index.ts';
import { brokenDocuments } from '../hostile-json.ts';
import { describeRequest, exchange, type HttpInput } from '../http.ts';
import { expectIntact, judgeStatus } from '../oracles.ts';
import type { FuzzTarget } from '../runner.ts';
import { OracleViolation } from '../violation.ts';

/**
 * What docs/network-faults.md documents for the fault layer's API (Toxiproxy 2.12's): 200, 201,
 * 204, 400 for a bad body, path or field, 403 for a browser, 404 for an unknown proxy or toxic,
 * 405, 409 for a name taken, 413 past the body limit.
 */
export const FAULT_API_STATUSES: ReadonlySet<number> = new Set([200, 201, 204, 400, 403, 404, 405, 409, 413]);

/** The proxy and toxic made before fuzzing; nothing the fuzz sends may change them. */
const KEPT_PROXY = 'kept';
const KEPT_TOXIC = 'kept_latency';
/** Proxy names the fuzz creates, updates and deletes: a few, so it reaches existing proxies. */
const FUZZ_PROXIES = ['fz0', 'fz1', 'fz2', 'fz3'] as const;

/** A port nothing listens on: upstreams are never dialled, the fuzz sends no data. */
const UPSTREAM = '127.0.0.1:9';

/**
 * The fault layer's HTTP API: proxies and toxics created, updated and deleted with bodies one
 * field from valid, and garbage. `/reset` is left out: it removes every toxic, the kept one too,
 * as documented. Listen addresses are loopback port 0, an address of no interface here (400) or
 * malformed: never a port that may be taken, which is a 500 as in Toxiproxy (docs/network-faults.md).
 */
export const faultApiTarget: FuzzTarget<HttpInput> = {
  name: 'fault-api',
  async start() {
    const server = await new ToxiproxyServer({ seed: 1 }).start();
    const send = (input: HttpInput) => exchange(server.url, input);
    const json = (method: string, path: string, body?: unknown): HttpInput => ({
      method,
      path,
      ...(body === undefined ? {} : { body: Buffer.from(JSON.stringify(body)) }),
    });
    const setup = async (input: HttpInput, status: number): Promise<unknown> => {
      const answer = await send(input);
      if (answer.status !== status)
        throw new OracleViolation(`${describeRequest(input)}: answered ${answer.status}, expected ${status}`);
      return answer.body.length ? JSON.parse(answer.body.toString('utf8')) : undefined;
    };
    const kept = async () => ({
      proxy: await setup(json('GET', `/proxies/${KEPT_PROXY}`), 200),
      toxics: await setup(json('GET', `/proxies/${KEPT_PROXY}/toxics`), 200),
    });
    try {
      await setup(
        json('POST', '/proxies', { name: KEPT_PROXY, listen: '127.0.0.1:0', upstream: UPSTREAM }),
        201,
      );
      await setup(
        json('POST', `/proxies/${KEPT_PROXY}/toxics`, {
          name: KEPT_TOXIC,
          type: 'latency',
          stream: 'downstream',
          toxicity: 1,
          attributes: { latency: 100, jitter: 10 },
        }),
        200,
      );
    } catch (error) {
      await server.stop();
      throw error;
    }
    const before = await kept();

    const name = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...FUZZ_PROXIES) },
      { weight: 1, arbitrary: fc.constantFrom('', '%zz', '..', '%2F', 'a b', 'x'.repeat(300)) },
    );
    const proxyBody = fc
      .tuple(
        fc.constantFrom(...FUZZ_PROXIES),
        fc.constantFrom('127.0.0.1:0', '[::1]:0', '192.0.2.1:0', undefined),
        fc.boolean(),
      )
      .chain(([proxy, listen, enabled]) =>
        brokenDocuments({ name: proxy, ...(listen ? { listen } : {}), upstream: UPSTREAM, enabled }),
      );
    const toxicBody = fc
      .tuple(
        fc.constantFrom(...toxicTypeNames()),
        fc.constantFrom('upstream', 'downstream'),
        fc.double({ min: 0, max: 1, noNaN: true }),
      )
      .chain(([type, stream, toxicity]) =>
        brokenDocuments({
          name: `fz_${type}`,
          type,
          stream,
          toxicity,
          attributes: { latency: 10, jitter: 1, rate: 100, timeout: 100, bytes: 10 },
        }),
      );
    const raw = (method: string, path: string, text: string): HttpInput => ({
      method,
      path,
      body: Buffer.from(text),
    });
    const inputs = fc.oneof(
      { weight: 4, arbitrary: proxyBody.map((doc) => raw('POST', '/proxies', doc.text)) },
      {
        weight: 3,
        arbitrary: fc
          .tuple(name, fc.constantFrom('POST', 'PATCH'), proxyBody)
          .map(([proxy, method, doc]) => raw(method, `/proxies/${encodeURIComponent(proxy)}`, doc.text)),
      },
      {
        weight: 5,
        arbitrary: fc
          .tuple(name, toxicBody)
          .map(([proxy, doc]) => raw('POST', `/proxies/${encodeURIComponent(proxy)}/toxics`, doc.text)),
      },
      {
        weight: 3,
        arbitrary: fc
          .tuple(
            name,
            fc.constantFrom(...toxicTypeNames().map((type) => `fz_${type}`), 'nope'),
            fc.constantFrom('POST', 'PATCH', 'GET', 'DELETE'),
            toxicBody,
          )
          .map(([proxy, toxic, method, doc]) =>
            raw(method, `/proxies/${encodeURIComponent(proxy)}/toxics/${toxic}`, doc.text),
          ),
      },
      {
        weight: 1,
        arbitrary: fc
          .array(proxyBody, { maxLength: 3 })
          .map((docs) => raw('POST', '/populate', `[${docs.map((doc) => doc.text).join(',')}]`)),
      },
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            fc.constantFrom('GET', 'DELETE', 'PUT', 'OPTIONS'),
            name,
            fc.constantFrom('', '/toxics', '/toxics/x', '/x/y/z'),
          )
          .map(([method, proxy, rest]) => json(method, `/proxies/${encodeURIComponent(proxy)}${rest}`)),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            fc.constantFrom('GET', 'POST', 'HEAD'),
            fc.constantFrom('/version', '/metrics', '/proxies', '/', '/nope', '//proxies'),
            fc.string({ maxLength: 40 }),
          )
          .map(([method, path, body]) => raw(method, path, body)),
      },
    );

    const stop = () => runAll([() => server.stop()]);
    return {
      inputs,
      async send(input) {
        const answer = await send(input);
        return judgeStatus(answer.status, FAULT_API_STATUSES, describeRequest(input));
      },
      async check() {
        expectIntact(`proxy ${KEPT_PROXY} and its toxics`, before, await kept());
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  },
};
