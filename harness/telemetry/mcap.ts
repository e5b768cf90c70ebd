import { crc32 } from 'node:zlib';
import { McapIndexedReader, type IReadable } from '@mcap/core';
import { FleetdrillError } from '../core/errors.ts';

/** A blackbox that Foxglove or the cloud would reject: the message says what is wrong with it. */
export class McapInvalidError extends FleetdrillError {}

/** One channel of a blackbox and what it holds. `firstNs`/`lastNs` are log times, 0n when empty. */
export interface BlackboxChannel {
  topic: string;
  messageEncoding: string;
  schemaName: string;
  schemaEncoding: string;
  messages: number;
  firstNs: bigint;
  lastNs: bigint;
}

/** What {@link inspectBlackbox} found in a valid file. `startNs`/`endNs` are 0n when it has no messages. */
export interface BlackboxContents {
  profile: string;
  library: string;
  channels: BlackboxChannel[];
  /** Metadata records by name; a name written twice keeps the last record. */
  metadata: Record<string, Record<string, string>>;
  messageCount: number;
  startNs: bigint;
  endNs: bigint;
}

/** IReadable over bytes in memory; a read past the end is an error, not a short read. */
class BytesReadable implements IReadable {
  readonly #data: Uint8Array;

  constructor(data: Uint8Array) {
    this.#data = data;
  }

  size(): Promise<bigint> {
    return Promise.resolve(BigInt(this.#data.byteLength));
  }

  read(offset: bigint, size: bigint): Promise<Uint8Array> {
    if (offset < 0n || size < 0n || offset + size > BigInt(this.#data.byteLength)) {
      return Promise.reject(
        new RangeError(
          `read of ${size} bytes at ${offset} is outside the ${this.#data.byteLength}-byte file`,
        ),
      );
    }
    return Promise.resolve(this.#data.subarray(Number(offset), Number(offset + size)));
  }
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Opens a blackbox MCAP file the way the cloud should before accepting it: the file must be
 * finalized (summary and index written by `end()`), every chunk's CRC and the data section CRC
 * must match, every channel must have a schema, every JSON-encoded message must parse, and a
 * `foxglove` metadata record must name the device. Returns what the file holds; throws
 * {@link McapInvalidError} otherwise.
 */
export async function inspectBlackbox(data: Uint8Array): Promise<BlackboxContents> {
  let reader: McapIndexedReader;
  try {
    reader = await McapIndexedReader.Initialize({ readable: new BytesReadable(data) });
  } catch (error) {
    throw new McapInvalidError(
      `not a finalized MCAP file (truncated, never closed, or not MCAP; ${data.byteLength} bytes): ${messageOf(error)}`,
      { cause: error },
    );
  }

  // The reader checks chunk CRCs only; metadata and message indexes sit outside chunks, and the
  // data section CRC is the only thing that catches a flipped byte there.
  let dataSectionProblem: string | undefined;
  if (reader.dataSectionCrc !== undefined) {
    const actual = crc32(data.subarray(0, Number(reader.dataEndOffset)));
    if (actual !== reader.dataSectionCrc) {
      dataSectionProblem = `data section CRC mismatch: computed ${actual}, DataEnd records ${reader.dataSectionCrc}`;
    }
  }

  const channels = new Map<number, BlackboxChannel>();
  for (const channel of reader.channelsById.values()) {
    const schema = reader.schemasById.get(channel.schemaId);
    if (channel.schemaId === 0 || !schema) {
      throw new McapInvalidError(
        `channel ${channel.topic} (id ${channel.id}) has no schema` +
          (channel.schemaId === 0 ? '' : `: schema id ${channel.schemaId} is not in the file`),
      );
    }
    channels.set(channel.id, {
      topic: channel.topic,
      messageEncoding: channel.messageEncoding,
      schemaName: schema.name,
      schemaEncoding: schema.encoding,
      messages: 0,
      firstNs: 0n,
      lastNs: 0n,
    });
  }

  const decoder = new TextDecoder('utf-8', { fatal: true });
  let messageCount = 0;
  let startNs: bigint | undefined;
  let endNs: bigint | undefined;
  try {
    for await (const message of reader.readMessages({ validateCrcs: true })) {
      const channel = channels.get(message.channelId);
      if (!channel) {
        throw new McapInvalidError(
          `message at ${message.logTime} ns refers to channel id ${message.channelId}, which is not in the file`,
        );
      }
      if (channel.messageEncoding === 'json') {
        try {
          JSON.parse(decoder.decode(message.data));
        } catch (error) {
          throw new McapInvalidError(
            `message ${message.sequence} on ${channel.topic} at ${message.logTime} ns is not valid JSON: ${messageOf(error)}`,
          );
        }
      }
      if (channel.messages === 0 || message.logTime < channel.firstNs) channel.firstNs = message.logTime;
      if (channel.messages === 0 || message.logTime > channel.lastNs) channel.lastNs = message.logTime;
      channel.messages++;
      messageCount++;
      if (startNs === undefined || message.logTime < startNs) startNs = message.logTime;
      if (endNs === undefined || message.logTime > endNs) endNs = message.logTime;
    }
  } catch (error) {
    if (error instanceof McapInvalidError) throw error;
    const also = dataSectionProblem ? ` (and ${dataSectionProblem})` : '';
    throw new McapInvalidError(`cannot read messages: ${messageOf(error)}${also}`, { cause: error });
  }
  if (dataSectionProblem) {
    throw new McapInvalidError(`${dataSectionProblem}; corruption outside the chunks (metadata or indexes)`);
  }

  const stated = reader.statistics?.messageCount;
  if (stated !== undefined && stated !== BigInt(messageCount)) {
    throw new McapInvalidError(
      `statistics record ${stated} messages but the chunk indexes lead to ${messageCount}`,
    );
  }

  const metadata: Record<string, Record<string, string>> = {};
  try {
    for await (const record of reader.readMetadata()) {
      metadata[record.name] = Object.fromEntries(record.metadata);
    }
  } catch (error) {
    throw new McapInvalidError(`cannot read metadata: ${messageOf(error)}`, { cause: error });
  }
  const foxglove = metadata.foxglove;
  if (!foxglove) {
    const names = Object.keys(metadata);
    throw new McapInvalidError(
      `no metadata record named foxglove (Foxglove's uploader skips the file); found ${names.length ? names.join(', ') : 'none'}`,
    );
  }
  if (!foxglove.deviceName) {
    throw new McapInvalidError(
      'metadata record foxglove has no deviceName (Foxglove cannot attribute the file)',
    );
  }

  return {
    profile: reader.header.profile,
    library: reader.header.library,
    channels: [...channels.values()],
    metadata,
    messageCount,
    startNs: startNs ?? 0n,
    endNs: endNs ?? 0n,
  };
}

/** Options of {@link coversWindow}. */
export interface CoversWindowOptions {
  /** Topics that must cover the window. Default: every channel in the file, and /odom must be one. */
  topics?: readonly string[];
}

const seconds = (ns: bigint): string => `${(Number(ns) / 1e9).toFixed(3)} s`;

/**
 * Whether the blackbox holds the window it claims: each required topic must have messages from
 * at most `fromNs + toleranceNs` through at least `toNs - toleranceNs` (log times, sim ns). The
 * tolerance absorbs the sample period, since a 10 Hz topic cannot have a message exactly at `from`.
 */
export function coversWindow(
  contents: BlackboxContents,
  fromNs: bigint,
  toNs: bigint,
  toleranceNs: bigint,
  options: CoversWindowOptions = {},
): { ok: boolean; reason?: string } {
  const byTopic = new Map<string, { messages: number; firstNs: bigint; lastNs: bigint }>();
  for (const channel of contents.channels) {
    if (channel.messages === 0) continue;
    const seen = byTopic.get(channel.topic);
    if (!seen) {
      byTopic.set(channel.topic, { ...channel });
      continue;
    }
    seen.messages += channel.messages;
    if (channel.firstNs < seen.firstNs) seen.firstNs = channel.firstNs;
    if (channel.lastNs > seen.lastNs) seen.lastNs = channel.lastNs;
  }
  const required = options.topics ?? [
    ...new Set(['/odom', ...contents.channels.map((channel) => channel.topic)]),
  ];
  const window = `window ${seconds(fromNs)}..${seconds(toNs)} (tolerance ${seconds(toleranceNs)})`;
  for (const topic of required) {
    const seen = byTopic.get(topic);
    if (!seen) return { ok: false, reason: `${topic} has no messages; ${window}` };
    if (seen.firstNs > fromNs + toleranceNs) {
      return {
        ok: false,
        reason: `${topic} starts at ${seconds(seen.firstNs)}, after the start of the ${window}`,
      };
    }
    if (seen.lastNs < toNs - toleranceNs) {
      return {
        ok: false,
        reason: `${topic} ends at ${seconds(seen.lastNs)}, before the end of the ${window}`,
      };
    }
  }
  return { ok: true };
}
