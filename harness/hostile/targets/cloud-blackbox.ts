import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { almostValid } from '../almost.ts';
import type { HttpInput } from '../http.ts';
import { cloudTarget, FUZZ_ROBOTS, hostileSegment, KEPT_BOOT, KEPT_ROBOT } from './cloud-under-fuzz.ts';

/**
 * What protocol/telemetry.ts documents for the blackbox routes: 200, 400 naming the header or
 * path part, 404 for a file not (fully) there, 405, 409 + Upload-Offset for a chunk not where the
 * upload stands, 413 past MAX_BLACKBOX_CHUNK_BYTES, 422 when the finished file's hash differs.
 */
export const BLACKBOX_STATUSES: ReadonlySet<number> = new Set([200, 400, 404, 405, 409, 413, 422]);

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Blackbox uploads of bytes that are almost MCAP (truncated, bad magic, bad record lengths), in
 * whole files and in chunks that overlap, skip or overrun, to fuzz keys and to the kept file.
 */
export const cloudBlackboxTarget = cloudTarget('cloud-blackbox', BLACKBOX_STATUSES, (under) => {
  const key = fc
    .oneof(
      {
        weight: 8,
        arbitrary: fc.tuple(
          fc.constantFrom(...FUZZ_ROBOTS),
          fc.constantFrom('b1', 'b2'),
          fc.integer({ min: 1, max: 4 }),
        ),
      },
      // The kept file is finished: nothing sent to its key may change it.
      { weight: 2, arbitrary: fc.constant([KEPT_ROBOT, KEPT_BOOT, 1] as [string, string, number]) },
    )
    .map(([robot, boot, seq]) => `/v1/blackbox/${robot}/${boot}/${seq}.mcap`);
  const uploads = fc
    .tuple(key, almostValid(under.blackboxBytes), fc.boolean(), fc.nat(), fc.nat())
    .map(([path, file, honestHash, a, b]): HttpInput => {
      const total = Math.max(1, file.bytes.length);
      const start = file.bytes.length ? a % total : 0;
      const end = file.bytes.length ? Math.max(start, start + (b % (total - start))) : 0;
      const body = file.bytes.subarray(start, end + 1);
      return {
        method: 'PUT',
        path,
        headers: {
          'content-range': `bytes ${start}-${end}/${total}`,
          'x-content-sha256': honestHash ? sha256(file.bytes) : sha256(under.blackboxBytes),
        },
        body,
      };
    });
  const wholeFiles = fc.tuple(key, almostValid(under.blackboxBytes)).map(([path, file]): HttpInput => ({
    method: 'PUT',
    path,
    headers: {
      'content-range': `bytes 0-${Math.max(0, file.bytes.length - 1)}/${Math.max(1, file.bytes.length)}`,
      'x-content-sha256': sha256(file.bytes),
    },
    body: file.bytes,
  }));
  const badHeaders = fc
    .tuple(
      key,
      fc.option(
        fc.oneof(
          fc.constantFrom(
            'bytes 0-0/0',
            'bytes 5-1/10',
            'bytes -1-2/3',
            'bytes 0-9/10',
            'bytes */10',
            'items 0-1/2',
            'bytes 0-99999999999999999/1',
          ),
          fc.stringMatching(/^bytes \d{1,3}-\d{1,3}\/\d{1,3}$/),
        ),
      ),
      fc.option(
        fc.oneof(
          fc.constantFrom('', 'zz', 'A'.repeat(64), '0'.repeat(63)),
          fc.stringMatching(/^[0-9a-f]{60,66}$/),
        ),
      ),
      fc.uint8Array({ maxLength: 64 }),
    )
    .map(([path, range, hash, body]): HttpInput => ({
      method: 'PUT',
      path,
      headers: {
        ...(range === null ? {} : { 'content-range': range }),
        ...(hash === null ? {} : { 'x-content-sha256': hash }),
      },
      body,
    }));
  const reads = fc
    .tuple(
      fc.constantFrom('GET', 'HEAD', 'DELETE', 'POST'),
      hostileSegment,
      hostileSegment,
      fc.oneof(
        fc.constantFrom(
          '1.mcap',
          '0.mcap',
          '01.mcap',
          '1.MCAP',
          '99999999999999999.mcap',
          'x.mcap',
          '1.mcap.part',
        ),
        hostileSegment,
      ),
    )
    .map(([method, robot, boot, file]): HttpInput => ({
      method,
      path: `/v1/blackbox/${robot}/${boot}/${file}`,
    }));
  const listings = fc.oneof(hostileSegment, fc.constant('')).map((robot): HttpInput => ({
    method: 'GET',
    path: `/v1/blackbox?${new URLSearchParams({ robot }).toString()}`,
  }));
  return {
    inputs: fc.oneof(
      { weight: 6, arbitrary: uploads },
      { weight: 4, arbitrary: wholeFiles },
      { weight: 3, arbitrary: badHeaders },
      { weight: 3, arbitrary: reads },
      { weight: 1, arbitrary: listings },
    ),
  };
});
