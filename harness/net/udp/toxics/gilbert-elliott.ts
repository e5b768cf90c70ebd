import { numberAttribute, type UdpToxicKind } from '../toxic.ts';

interface GilbertElliott {
  /** Chance per datagram of going from the good state to the bad one. */
  p_good_bad: number;
  /** Chance per datagram of recovering; mean burst length is 1 / p_bad_good datagrams. */
  p_bad_good: number;
  /** Loss probability in each state. */
  loss_good: number;
  loss_bad: number;
}

/**
 * Burst loss, as Wi-Fi fades and interference produce: a two-state Markov channel (good/bad),
 * each state with its own loss probability. The state is kept per flow and direction.
 */
export const gilbertElliott: UdpToxicKind<GilbertElliott> = {
  type: 'gilbert_elliott',
  parse: (a) => ({
    p_good_bad: numberAttribute(a, 'p_good_bad', 0.01, 0, 1),
    p_bad_good: numberAttribute(a, 'p_bad_good', 0.3, 0, 1),
    loss_good: numberAttribute(a, 'loss_good', 0, 0, 1),
    loss_bad: numberAttribute(a, 'loss_bad', 1, 0, 1),
  }),
  start: (g, random) => {
    let bad = false;
    return (packet) => {
      bad = bad ? random.next() >= g.p_bad_good : random.next() < g.p_good_bad;
      return random.next() < (bad ? g.loss_bad : g.loss_good) ? [] : [packet];
    };
  },
};
