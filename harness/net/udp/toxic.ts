import type { SeededRandom } from '../../core/seed.ts';

/** A datagram on its way through a relay, and how long it has been held so far (ms). */
export interface Datagram {
  data: Buffer;
  delayMs: number;
}

/**
 * One UDP impairment. `process` takes a datagram and returns what leaves: nothing (lost), the
 * datagram (perhaps held longer), or copies (duplicated). State that spans packets, such as a
 * Gilbert–Elliott channel's state, lives in the object `start` returns, one per flow and direction.
 */
export interface UdpToxicKind<A> {
  readonly type: string;
  /** Validates and fills in attributes; throws a message naming the bad attribute. */
  parse(attributes: Record<string, unknown>): A;
  start(attributes: A, random: SeededRandom): (packet: Datagram) => Datagram[];
}

/** Reads a number attribute in [min, max], or the default when absent. */
export function numberAttribute(
  attributes: Record<string, unknown>,
  name: string,
  fallback: number,
  min: number,
  max = Number.POSITIVE_INFINITY,
): number {
  const value = attributes[name] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(
      `attributes.${name} must be a number in ${min}..${max}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}
