import fc from 'fast-check';
import { almostValid } from '../almost.ts';
import type { HttpInput } from '../http.ts';
import { cloudTarget, hostileSegment } from './cloud-under-fuzz.ts';
import { ARTIFACT_PREAMBLE_BYTES } from '../../../protocol/artifact.ts';

/**
 * What protocol/ota-cloud.ts documents for the artifact routes: 200 and 201, 206 for a range, 400
 * naming the header field or id, 404 for an artifact it does not hold, 405, 413 past the size
 * limit, 416 for a range it cannot serve.
 */
export const ARTIFACT_STATUSES: ReadonlySet<number> = new Set([200, 201, 206, 400, 404, 405, 413, 416]);

/** Artifact uploads of almost-valid files (header length, magic, JSON, manifest broken) and ranged reads. */
export const cloudArtifactsTarget = cloudTarget('cloud-artifacts', ARTIFACT_STATUSES, (under) => {
  const uploads = almostValid(under.artifactBytes, ARTIFACT_PREAMBLE_BYTES - 4).map((file): HttpInput => ({
    method: 'POST',
    path: '/v1/artifacts',
    body: file.bytes,
  }));
  const range = fc.oneof(
    fc.constantFrom(
      'bytes=0-0',
      'bytes=0-',
      'bytes=-1',
      'bytes=-0',
      'bytes=5-1',
      'bytes=0-99999999999',
      'bytes=99999999-',
      'bytes=0-1,3-4',
      'items=0-1',
      'bytes=',
      'bytes=-',
    ),
    fc.tuple(fc.nat({ max: 10_000 }), fc.nat({ max: 10_000 })).map(([a, b]) => `bytes=${a}-${b}`),
  );
  const reads = fc
    .tuple(
      fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE'),
      fc.oneof(
        { weight: 3, arbitrary: fc.constant(under.artifactId) },
        { weight: 1, arbitrary: fc.oneof(hostileSegment, fc.stringMatching(/^[0-9a-f]{64}$/)) },
      ),
      fc.option(range),
      fc.option(
        fc.oneof(
          fc.constantFrom('"x"', `"${under.artifactId}"`, 'W/"1"'),
          fc.stringMatching(/^[ -~]{0,20}$/),
        ),
      ),
      fc.option(hostileSegment),
      fc.constantFrom('', '/downloads', '/x'),
    )
    .map(([method, id, range, ifRange, robot, suffix]): HttpInput => ({
      method,
      path: `/v1/artifacts/${id}${suffix}`,
      headers: {
        ...(range === null ? {} : { range }),
        ...(ifRange === null ? {} : { 'if-range': ifRange }),
        ...(robot === null ? {} : { 'x-robot-id': robot }),
      },
    }));
  return {
    inputs: fc.oneof({ weight: 3, arbitrary: uploads }, { weight: 2, arbitrary: reads }),
  };
});
