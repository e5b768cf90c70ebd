import { z } from 'zod';
import type { ToxicName } from '../../../core/toxic-names.ts';

/** What a toxic gets when it reads its input. */
export type ToxicInput =
  /** A chunk, with the time (ms, `stub.now()` clock) it reached this toxic. */
  | { kind: 'data'; data: Buffer; arrivedAt: number }
  /** The sender closed its side: pass it on with `stub.end()` (or hold it, as slow_close does). */
  | { kind: 'end' }
  /** The deadline given to `read()` passed with nothing to read. */
  | { kind: 'deadline' }
  /**
   * The toxic is being removed or updated, or the connection is gone: write out any chunk held
   * back (unless dropping it is the point) and return.
   */
  | { kind: 'interrupt' };

/**
 * One toxic at work on one connection and one direction: its input, the next stage of the chain
 * and the connection. Modelled on Toxiproxy's ToxicStub, with promises in place of channels.
 */
export interface ToxicStub {
  /** The next input; with a deadline (`now()` clock), resolves `deadline` when it passes first. */
  read(deadline?: number): Promise<ToxicInput>;
  /** Passes data on to the next toxic, or the socket when this is the last. */
  write(data: Buffer): void;
  /** Passes the end of the stream on. */
  end(): void;
  /** Closes the whole connection (both sockets, FIN) once written data is flushed. */
  close(): void;
  /** Closes the whole connection with a TCP RST. */
  reset(): void;
  /** Waits until `time` (`now()` clock); false when interrupted first. */
  sleepUntil(time: number): Promise<boolean>;
  /** Monotonic milliseconds. */
  now(): number;
  /** Uniform in [0, 1), from the server's seed. */
  random(): number;
  /** Bytes this toxic has written on this connection, across updates. */
  readonly bytesWritten: number;
}

/**
 * A toxic type: its name, the schema of its attributes (with defaults) and what it does to one
 * direction of one connection. One file per type, registered in `registry.ts`.
 */
export interface ToxicType<A extends object = object> {
  /** Its name in the API; one of core's TOXIC_NAMES, which the config and profiles accept. */
  readonly type: ToxicName;
  readonly attributes: z.ZodType<A>;
  /** Runs until the stream ends, the connection closes or the stub interrupts. */
  pipe(stub: ToxicStub, attributes: A): Promise<void>;
}

/** A whole number >= 0 (Toxiproxy's attributes are int64 fields), 0 when left out. */
export const count = () =>
  z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(0, { error: 'must be >= 0' })
    .default(0);

/** A whole number of either sign, 0 when left out. */
export const signedCount = () =>
  z.number({ error: 'must be a number' }).int({ error: 'must be a whole number' }).default(0);
