import { numberAttribute, type UdpToxicKind } from '../toxic.ts';

/** Independent (Bernoulli) loss: each datagram is dropped with `probability`. */
export const loss: UdpToxicKind<{ probability: number }> = {
  type: 'loss',
  parse: (a) => ({ probability: numberAttribute(a, 'probability', 0.01, 0, 1) }),
  start:
    ({ probability }, random) =>
    (packet) =>
      random.next() < probability ? [] : [packet],
};
