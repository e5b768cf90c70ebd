import { ConfigError } from '../core/errors.ts';
import { SeededRandom } from '../core/seed.ts';
import { BUILTIN_PROFILES, type ToxicSpec } from './profiles.ts';

/**
 * What a datagram link does, in both directions (a radio link degrades both ways). Percentages
 * are 0..100. Absent fields are unimpaired.
 */
export interface UdpLinkConditions {
  /** Independent (Bernoulli) loss per datagram. */
  lossPct?: number;
  /** Burst loss: a Gilbert–Elliott channel, as Wi-Fi fades produce. */
  burst?: { pGoodToBad: number; pBadToGood: number; lossInBadPct: number; lossInGoodPct?: number };
  delayMs?: number;
  jitterMs?: number;
  duplicatePct?: number;
  reorderPct?: number;
  /** Rate cap in kbit/s (1 kbit = 1000 bit). */
  rateKbit?: number;
  /** Nothing passes: a dead zone. */
  down?: boolean;
}

/**
 * A named datagram link condition: a steady state, and optionally a dead zone of `deadZoneMs`
 * that the runner places inside the measurement (so samples before, in and after it are seen).
 */
export interface UdpProfile {
  name: string;
  description: string;
  conditions: UdpLinkConditions;
  deadZoneMs?: number;
}

/** The grammar of profile names, for error messages and help. */
export const UDP_PROFILE_GRAMMAR =
  'clear, wifi-good, wifi-congested, wifi-edge, lte, dead, loss-<pct>, burst, dead-zone-<N>s, or several joined with +';

/**
 * The Gilbert–Elliott parameters of `burst`: bursts of about 3 datagrams (1 / 0.3) at 80 % loss,
 * entered 5 % of the time: about 11 % of datagrams lost, in clumps.
 */
const BURST = { pGoodToBad: 0.05, pBadToGood: 0.3, lossInBadPct: 80 } as const;

/**
 * The TCP link profiles (Toxiproxy toxics) in datagram terms, so a profile name means the same on
 * both kinds of link: `latency` becomes delay and jitter, the robot→harness `bandwidth` becomes
 * the rate cap of both directions (the heavier direction for sensor traffic), a `timeout` black
 * hole or a disabled proxy becomes a link that is down.
 */
function fromTcpProfile(name: string): UdpProfile | undefined {
  const tcp = BUILTIN_PROFILES.get(name);
  if (!tcp) return undefined;
  const phases = tcp.phases(new SeededRandom(0));
  // Profiles with several phases (a roaming handover) have no steady datagram equivalent.
  if (phases.length !== 1) return undefined;
  const phase = phases[0]!;
  const conditions: UdpLinkConditions = {};
  if (!phase.enabled) conditions.down = true;
  for (const toxic of phase.toxics) applyTcpToxic(conditions, toxic);
  return { name, description: tcp.description, conditions };
}

function applyTcpToxic(conditions: UdpLinkConditions, toxic: ToxicSpec): void {
  const a = toxic.attributes;
  if (toxic.type === 'latency') {
    conditions.delayMs = a.latency ?? 0;
    conditions.jitterMs = a.jitter ?? 0;
  } else if (toxic.type === 'bandwidth' && toxic.stream === 'downstream') {
    conditions.rateKbit = (a.rate ?? 0) * 8;
  } else if (toxic.type === 'timeout') {
    conditions.down = true;
  }
}

function parseOne(name: string): UdpProfile {
  const tcp = fromTcpProfile(name);
  if (tcp) return tcp;
  const loss = /^loss-(\d+(?:\.\d+)?)$/.exec(name);
  if (loss) {
    const pct = Number(loss[1]);
    if (pct > 100) throw new ConfigError('profile', `'${name}': loss is a percentage, at most 100`);
    return { name, description: `${pct} % random loss`, conditions: { lossPct: pct } };
  }
  if (name === 'burst') {
    return {
      name,
      description: 'burst loss (Gilbert–Elliott): bursts of ~3 datagrams at 80 %, ~11 % lost overall',
      conditions: { burst: { ...BURST } },
    };
  }
  const zone = /^dead-zone-(\d+(?:\.\d+)?)s$/.exec(name);
  if (zone) {
    const seconds = Number(zone[1]);
    if (seconds <= 0) throw new ConfigError('profile', `'${name}': a dead zone lasts more than 0 s`);
    return { name, description: `a ${seconds} s dead zone`, conditions: {}, deadZoneMs: seconds * 1000 };
  }
  throw new ConfigError('profile', `'${name}' is not a datagram link profile (${UDP_PROFILE_GRAMMAR})`);
}

/**
 * The profile a name stands for. `wifi-edge+loss-5` combines: later parts override the fields
 * they set, and a dead zone from any part applies.
 */
export function parseUdpProfile(name: string): UdpProfile {
  const parts = name.split('+').map((part) => parseOne(part.trim()));
  if (parts.length === 1) return parts[0]!;
  const combined: UdpProfile = {
    name,
    description: parts.map((part) => part.description).join('; plus '),
    conditions: Object.assign({}, ...parts.map((part) => part.conditions)) as UdpLinkConditions,
  };
  const zone = parts.find((part) => part.deadZoneMs !== undefined)?.deadZoneMs;
  if (zone !== undefined) combined.deadZoneMs = zone;
  return combined;
}

/** True when `name` parses; for validators that report their own path. */
export function isUdpProfileName(name: string): boolean {
  try {
    parseUdpProfile(name);
    return true;
  } catch {
    return false;
  }
}
