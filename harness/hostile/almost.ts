import fc from 'fast-check';
import { McapWriter, TempBuffer } from '@mcap/core';

/** Bytes made from a valid file, and how they were made: the report quotes `how`. */
export interface AlmostBytes {
  how: string;
  bytes: Uint8Array;
}

/** MCAP's leading magic is 8 bytes; the first record's opcode follows, then its 8-byte length. */
const MCAP_MAGIC_BYTES = 8;

/**
 * A small finalized blackbox as the edge agent writes one: a foxglove metadata record, one JSON
 * channel with its schema, and a few messages, so that mutations of it reach every record kind.
 */
export async function sampleBlackbox(robotId = 'keep01'): Promise<Uint8Array> {
  const buffer = new TempBuffer();
  const writer = new McapWriter({ writable: buffer });
  await writer.start({ profile: '', library: 'fleetdrill hostile-inputs' });
  await writer.addMetadata({
    name: 'foxglove',
    metadata: new Map([
      ['deviceId', robotId],
      ['deviceName', robotId],
    ]),
  });
  const schemaId = await writer.registerSchema({
    name: 'nav_msgs/msg/Odometry',
    encoding: 'jsonschema',
    data: new TextEncoder().encode('{"type":"object"}'),
  });
  const channelId = await writer.registerChannel({
    topic: '/odom',
    messageEncoding: 'json',
    schemaId,
    metadata: new Map(),
  });
  for (let i = 0; i < 5; i++) {
    const time = BigInt(i) * 100_000_000n;
    await writer.addMessage({
      channelId,
      sequence: i,
      logTime: time,
      publishTime: time,
      data: new TextEncoder().encode(JSON.stringify({ x: i / 10, y: 0 })),
    });
  }
  await writer.end();
  return buffer.get();
}

/** Little-endian uint64 written into a copy of `bytes` at `at` (clipped at the end). */
function withLength(bytes: Uint8Array, at: number, value: bigint): Uint8Array {
  const copy = Uint8Array.from(bytes);
  const field = new Uint8Array(8);
  new DataView(field.buffer).setBigUint64(0, value, true);
  copy.set(field.subarray(0, Math.max(0, Math.min(8, copy.length - at))), at);
  return copy;
}

/**
 * Bytes that are almost `valid`: the file itself, truncated, with its magic, one byte or a record
 * length broken, with garbage after it, or shuffled in halves. Meant for any length-prefixed
 * format (MCAP, artifacts): lengths that point past the end are the classic parser crash.
 */
export function almostValid(
  valid: Uint8Array,
  lengthFieldAt = MCAP_MAGIC_BYTES + 1,
): fc.Arbitrary<AlmostBytes> {
  const n = valid.length;
  const position = fc.nat({ max: Math.max(0, n - 1) });
  const hugeLength = fc.oneof(
    fc.constantFrom(0n, 1n, 0xffff_ffffn, 0xffff_ffff_ffff_ffffn, BigInt(n), BigInt(n) + 1n, 2n ** 53n),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  );
  return fc.oneof(
    fc.constant({ how: 'valid', bytes: valid }),
    fc.nat({ max: n }).map((cut) => ({ how: `truncated at ${cut}`, bytes: valid.subarray(0, cut) })),
    fc.uint8Array({ minLength: 1, maxLength: 8 }).map((magic) => {
      const copy = Uint8Array.from(valid);
      copy.set(magic.subarray(0, Math.min(magic.length, n)), 0);
      return { how: 'bad magic', bytes: copy };
    }),
    fc.tuple(position, fc.integer({ min: 1, max: 255 })).map(([at, xor]) => {
      const copy = Uint8Array.from(valid);
      copy[at] = copy[at]! ^ xor;
      return { how: `byte ${at} flipped`, bytes: copy };
    }),
    hugeLength.map((length) => ({
      how: `first record length ${length}`,
      bytes: withLength(valid, lengthFieldAt, length),
    })),
    fc.tuple(position, hugeLength).map(([at, length]) => ({
      how: `length ${length} written at ${at}`,
      bytes: withLength(valid, at, length),
    })),
    fc.uint8Array({ minLength: 1, maxLength: 512 }).map((tail) => ({
      how: `${tail.length} garbage bytes appended`,
      bytes: Buffer.concat([valid, tail]),
    })),
    fc.uint8Array({ maxLength: 2048 }).map((bytes) => ({ how: 'random bytes', bytes })),
  );
}
