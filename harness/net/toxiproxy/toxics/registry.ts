import { bandwidth } from './bandwidth.ts';
import { latency } from './latency.ts';
import { limitData } from './limit-data.ts';
import { resetPeer } from './reset-peer.ts';
import { slicer } from './slicer.ts';
import { slowClose } from './slow-close.ts';
import { timeout } from './timeout.ts';
import type { ToxicType } from './types.ts';

/** Every toxic type the server knows, by the name the API uses. */
const TOXIC_TYPES: ReadonlyMap<string, ToxicType> = new Map(
  [latency, bandwidth, slowClose, timeout, resetPeer, slicer, limitData].map(
    (type) => [type.type, type as ToxicType] as const,
  ),
);

/** The toxic type with this name, if there is one. */
export function toxicType(name: string): ToxicType | undefined {
  return TOXIC_TYPES.get(name);
}

/** Names of every toxic type, for messages. */
export function toxicTypeNames(): string[] {
  return [...TOXIC_TYPES.keys()];
}
