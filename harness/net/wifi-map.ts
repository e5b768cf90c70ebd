import type { AccessPoint, Attenuator, World } from '../../protocol/world.ts';

/**
 * Received signal strength below which a client cannot hold a link (dBm); an access point's
 * `range` in the world file is where its signal falls to this level in open space.
 */
export const SENSITIVITY_DBM = -85;

/** Log-distance path-loss exponent: 2 in free space, about 3 indoors among racks. */
export const PATH_LOSS_EXPONENT = 3;

/** The link tiers, best first, each with the weakest signal that still gets it. */
export const TIERS = [
  { profile: 'wifi-good', minDbm: -70 },
  { profile: 'wifi-congested', minDbm: -78 },
  { profile: 'wifi-edge', minDbm: SENSITIVITY_DBM },
  { profile: 'dead', minDbm: -Infinity },
] as const;

export type TierProfile = (typeof TIERS)[number]['profile'];

/** What a robot's radio sees at one spot. */
export interface LinkQuality {
  /** Strongest signal (dBm), or null where no access point is heard: a dead zone. */
  rssiDbm: number | null;
  /** The access point giving it. */
  ap: string | null;
}

/** True if the segment a→b passes through the rectangle (Liang–Barsky clipping). */
function segmentCrossesRect(ax: number, ay: number, bx: number, by: number, a: Attenuator): boolean {
  let t0 = 0;
  let t1 = 1;
  const dx = bx - ax;
  const dy = by - ay;
  const edges: Array<[number, number]> = [
    [-dx, ax - a.min[0]],
    [dx, a.max[0] - ax],
    [-dy, ay - a.min[1]],
    [dy, a.max[1] - ay],
  ];
  for (const [p, q] of edges) {
    if (p === 0) {
      if (q < 0) return false;
      continue;
    }
    const r = q / p;
    if (p < 0) t0 = Math.max(t0, r);
    else t1 = Math.min(t1, r);
    if (t0 > t1) return false;
  }
  return true;
}

/** Signal from one access point at (x, y), after every attenuator on the way; null if unheard. */
export function signalFrom(world: World, ap: AccessPoint, x: number, y: number): number | null {
  const [apx, apy] = ap.position;
  // Closer than a metre the model says nothing useful; clamp rather than divide by zero.
  const distance = Math.max(1, Math.hypot(x - apx, y - apy));
  if (distance > ap.range) return null;
  let rssi = SENSITIVITY_DBM + 10 * PATH_LOSS_EXPONENT * Math.log10(ap.range / distance);
  for (const attenuator of world.attenuators) {
    if (segmentCrossesRect(apx, apy, x, y, attenuator)) rssi -= attenuator.lossDb;
  }
  return rssi >= SENSITIVITY_DBM ? rssi : null;
}

/** The best link a robot at (x, y) can get. */
export function linkQuality(world: World, x: number, y: number): LinkQuality {
  let best: LinkQuality = { rssiDbm: null, ap: null };
  for (const ap of world.accessPoints) {
    const rssi = signalFrom(world, ap, x, y);
    if (rssi !== null && (best.rssiDbm === null || rssi > best.rssiDbm))
      best = { rssiDbm: rssi, ap: ap.name };
  }
  return best;
}

/** The tier a signal gets with no history. */
export function tierFor(rssiDbm: number | null): TierProfile {
  const signal = rssiDbm ?? -Infinity;
  return TIERS.find((tier) => signal >= tier.minDbm)?.profile ?? 'dead';
}

/**
 * The tier a signal gets when the link is in `current`: it moves only once the signal is
 * `hysteresisDb` past the boundary, so a robot parked on a boundary does not flap between
 * profiles.
 */
export function nextTier(current: TierProfile, rssiDbm: number | null, hysteresisDb = 3): TierProfile {
  const candidate = tierFor(rssiDbm);
  if (candidate === current) return current;
  const signal = rssiDbm ?? -Infinity;
  const index = (profile: TierProfile): number => TIERS.findIndex((tier) => tier.profile === profile);
  const from = index(current);
  const to = index(candidate);
  if (to < from) {
    // Better: the best tier whose floor the signal clears by the margin, if better than now.
    const better = TIERS.findIndex((tier, i) => i < from && signal >= tier.minDbm + hysteresisDb);
    return better >= 0 ? (TIERS[better]?.profile ?? current) : current;
  }
  // Worse: it must fall the margin below the current tier's floor; losing every AP always counts.
  const floor = TIERS[from]?.minDbm ?? -Infinity;
  return rssiDbm === null || signal < floor - hysteresisDb ? candidate : current;
}
