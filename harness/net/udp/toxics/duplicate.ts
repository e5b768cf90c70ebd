import { numberAttribute, type UdpToxicKind } from '../toxic.ts';

/** Each datagram is sent twice with `probability`, the copy `delay` ms after the original. */
export const duplicate: UdpToxicKind<{ probability: number; delay: number }> = {
  type: 'duplicate',
  parse: (a) => ({
    probability: numberAttribute(a, 'probability', 0.01, 0, 1),
    delay: numberAttribute(a, 'delay', 0, 0),
  }),
  start:
    ({ probability, delay }, random) =>
    (packet) =>
      random.next() < probability
        ? [packet, { data: packet.data, delayMs: packet.delayMs + delay }]
        : [packet],
};
