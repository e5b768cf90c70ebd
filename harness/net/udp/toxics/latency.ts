import { numberAttribute, type UdpToxicKind } from '../toxic.ts';

/** Every datagram is held `latency` ± uniform `jitter` ms; jitter reorders, as on a real path. */
export const latency: UdpToxicKind<{ latency: number; jitter: number }> = {
  type: 'latency',
  parse: (a) => ({
    latency: numberAttribute(a, 'latency', 0, 0),
    jitter: numberAttribute(a, 'jitter', 0, 0),
  }),
  start:
    ({ latency: ms, jitter }, random) =>
    (packet) => [
      { data: packet.data, delayMs: packet.delayMs + Math.max(0, ms + (random.next() * 2 - 1) * jitter) },
    ],
};
