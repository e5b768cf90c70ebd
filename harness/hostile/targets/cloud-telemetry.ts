import fc from 'fast-check';
import { MAX_BATCH_BYTES } from '../../../protocol/telemetry.ts';
import { brokenDocuments } from '../hostile-json.ts';
import type { HttpInput } from '../http.ts';
import { cloudTarget, FUZZ_ROBOTS, hostileSegment, keptBatch, KEPT_ROBOT } from './cloud-under-fuzz.ts';

/**
 * What protocol/telemetry.ts documents for the ingest and query routes: 200, 400 naming the
 * field, 413 past MAX_BATCH_BYTES, 415 for a body that is not JSON, 429 over a robot's rate, and
 * for any route 404 (no such path) and 405 (wrong method).
 */
export const TELEMETRY_STATUSES: ReadonlySet<number> = new Set([200, 400, 404, 405, 413, 415, 429]);

const batchFor = (robotId: string, seq: number) => ({
  robotId,
  sentAt: 1_700_000_000_000,
  records: [
    {
      bootId: 'b1',
      seq,
      tier: 'metrics',
      name: 'robot',
      capturedAt: 1_700_000_000_000,
      simTime: 1,
      data: { battery: 0.5 },
    },
    {
      bootId: 'b1',
      seq: seq + 1,
      tier: 'events',
      name: 'collision',
      capturedAt: 1_700_000_000_100,
      data: { x: 1 },
    },
  ],
});

/** Mostly JSON, as agents send; sometimes none or another type (415). */
const contentType: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', undefined) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', '*/*', 'application/jsonx'),
  },
);

const post = (body: Uint8Array | string, contentType?: string): HttpInput => ({
  method: 'POST',
  path: '/v1/telemetry',
  headers: contentType === undefined ? {} : { 'content-type': contentType },
  body: typeof body === 'string' ? Buffer.from(body) : body,
});

/** `POST /v1/telemetry` and the record queries, with bad bodies, ids and query strings. */
export const cloudTelemetryTarget = cloudTarget('cloud-telemetry', TELEMETRY_STATUSES, () => {
  const batches = fc
    .tuple(fc.constantFrom(...FUZZ_ROBOTS), fc.integer({ min: 1, max: 200 }))
    .chain(([robot, seq]) => brokenDocuments(batchFor(robot, seq)))
    .chain((doc) => contentType.map((type) => post(doc.text, type)));
  // Records the kept robot already holds, with other data: duplicates, which must change nothing.
  const keptAgain = fc.subarray(keptBatch().records, { minLength: 1 }).map((records) =>
    post(
      JSON.stringify({
        robotId: KEPT_ROBOT,
        records: records.map((r) => ({ ...(r as object), data: { forged: true } })),
      }),
      'application/json',
    ),
  );
  const oversized = fc.constant(post(Buffer.alloc(MAX_BATCH_BYTES + 1, 0x20), 'application/json'));
  const queries = fc
    .tuple(
      hostileSegment,
      fc.dictionary(
        fc.constantFrom('tier', 'boot', 'after', 'limit', 'x', 'tier[]', ''),
        fc.oneof(
          fc.constantFrom(
            'metrics',
            'events',
            'blackbox',
            '-1',
            '0',
            '1',
            '99999999999999999',
            'b1',
            '',
            '%zz',
          ),
          fc.string({ maxLength: 10 }),
        ),
        { maxKeys: 3 },
      ),
    )
    .map(([robot, query]): HttpInput => ({
      method: 'GET',
      path: `/v1/robots/${robot}/records?${new URLSearchParams(query).toString()}`,
    }));
  const others = fc
    .tuple(
      fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
      fc.constantFrom(
        '/v1/telemetry',
        '/v1/robots',
        '/v1/stats',
        '/health',
        '/v1/robots/x/telemetry',
        '/',
        '/v1',
        '//',
        '/v1/telemetry/',
      ),
      fc.uint8Array({ maxLength: 64 }),
    )
    .map(([method, path, body]): HttpInput => ({ method, path, body }));
  // A body past the limit costs 4 MiB a time: rare, but in every run.
  return {
    inputs: fc.oneof(
      { weight: 100, arbitrary: batches },
      { weight: 20, arbitrary: keptAgain },
      { weight: 30, arbitrary: queries },
      { weight: 20, arbitrary: others },
      {
        weight: 10,
        arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes) => post(bytes, 'application/json')),
      },
      { weight: 1, arbitrary: oversized },
    ),
  };
});
