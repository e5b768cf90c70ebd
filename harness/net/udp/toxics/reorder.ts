import { numberAttribute, type UdpToxicKind } from '../toxic.ts';

/**
 * With `probability` a datagram is held back `delay` ms, so the ones behind it overtake it:
 * reordering without slowing the whole flow.
 */
export const reorder: UdpToxicKind<{ probability: number; delay: number }> = {
  type: 'reorder',
  parse: (a) => ({
    probability: numberAttribute(a, 'probability', 0.05, 0, 1),
    delay: numberAttribute(a, 'delay', 10, 0),
  }),
  start:
    ({ probability, delay }, random) =>
    (packet) =>
      random.next() < probability ? [{ data: packet.data, delayMs: packet.delayMs + delay }] : [packet],
};
