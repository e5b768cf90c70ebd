import { parseUdpProfile, type UdpLinkConditions, type UdpProfile } from '../net/index.ts';
import type { QosContract, TopicContract } from './contract.ts';
import type { LivelinessKind, Reliability, TopicQos } from './policy.ts';

/** What kind of misconfiguration a finding reports. */
export type FindingKind =
  | 'incompatible-reliability'
  | 'incompatible-durability'
  | 'incompatible-deadline'
  | 'incompatible-liveliness'
  | 'deadline-unkeepable'
  | 'best-effort-fragments'
  | 'keep-all-over-cap'
  | 'link-over-cap';

/** One misconfiguration, reported as its own verdict. */
export interface QosFinding {
  /** Unique within one `findingsFor` result: kind, topic and profile, such as `best-effort-fragments /map @loss-1`. */
  id: string;
  kind: FindingKind;
  /** The topic it concerns; `*` for a finding about the whole link. */
  topic: string;
  /** The link profile it concerns, for findings that depend on the link. */
  profile?: string;
  /** `error`: the contract cannot hold as written; `warning`: it can, but something suffers. */
  severity: 'error' | 'warning';
  message: string;
}

/** DDS policy names as Cyclone reports them in an incompatible-QoS status. */
export type QosPolicyName = 'RELIABILITY' | 'DURABILITY' | 'DEADLINE' | 'LIVELINESS';

/** One policy on which an offer does not satisfy a request. */
export interface Incompatibility {
  policy: QosPolicyName;
  offered: string;
  requested: string;
}

/**
 * Cyclone DDS's default fragment payload (`General/FragmentSize`: "1344 B" in the defaults table
 * of the installed libddsc 0.10.2). A larger sample goes out as DATA_FRAG submessages of this
 * size. Cyclone packs several into one datagram of up to `General/MaxMessageSize` (14720 B), and
 * IP splits that at the MTU, so what a link loses depends on where it drops: a kernel filter
 * drops IP packets (about this size), a relay that drops whole datagrams loses ~10 fragments at
 * once (pass `lossUnitBytes: 14720` for that path).
 */
export const CYCLONE_FRAGMENT_BYTES = 1344;

/**
 * Bytes on the wire per fragment besides its payload: IPv4 (20) + UDP (8) + RTPS header (20) +
 * INFO_TS and DATA_FRAG submessage headers (~36). Counted so a rate cap is compared with what the
 * link really carries, not with the payload alone.
 */
export const FRAGMENT_OVERHEAD_BYTES = 84;

const LIVELINESS_STRENGTH: Record<LivelinessKind, number> = {
  automatic: 0,
  manual_by_participant: 1,
  manual_by_topic: 2,
};

const durationText = (ms: number | undefined): string => (ms === undefined ? 'infinite' : `${ms} ms`);

/**
 * The policies on which `offered` (a publisher) fails `requested` (a subscriber), per the DDS
 * request-versus-offered rules: such a pair never matches and no data flows.
 */
export function incompatibilities(offered: TopicQos, requested: TopicQos): Incompatibility[] {
  const found: Incompatibility[] = [];
  if (offered.reliability === 'best_effort' && requested.reliability === 'reliable') {
    found.push({ policy: 'RELIABILITY', offered: offered.reliability, requested: requested.reliability });
  }
  if (offered.durability === 'volatile' && requested.durability === 'transient_local') {
    found.push({ policy: 'DURABILITY', offered: offered.durability, requested: requested.durability });
  }
  // An absent deadline is infinite: it satisfies no finite request.
  if (
    requested.deadlineMs !== undefined &&
    (offered.deadlineMs === undefined || offered.deadlineMs > requested.deadlineMs)
  ) {
    found.push({
      policy: 'DEADLINE',
      offered: durationText(offered.deadlineMs),
      requested: durationText(requested.deadlineMs),
    });
  }
  const offer = offered.liveliness ?? { kind: 'automatic' as const };
  const request = requested.liveliness ?? { kind: 'automatic' as const };
  const weaker = LIVELINESS_STRENGTH[offer.kind] < LIVELINESS_STRENGTH[request.kind];
  const longer =
    request.leaseMs !== undefined && (offer.leaseMs === undefined || offer.leaseMs > request.leaseMs);
  if (weaker || longer) {
    found.push({
      policy: 'LIVELINESS',
      offered: `${offer.kind}, lease ${durationText(offer.leaseMs)}`,
      requested: `${request.kind}, lease ${durationText(request.leaseMs)}`,
    });
  }
  return found;
}

/** Reliability as delivered: reliable only when both ends are. */
export function effectiveReliability(topic: Pick<TopicContract, 'publisher' | 'subscriber'>): Reliability {
  return topic.publisher.reliability === 'reliable' && topic.subscriber.reliability === 'reliable'
    ? 'reliable'
    : 'best_effort';
}

/** How many fragments a sample of `bytes` takes (1 when it fits one). */
export function fragmentsOf(bytes: number, fragmentBytes = CYCLONE_FRAGMENT_BYTES): number {
  return Math.max(1, Math.ceil(bytes / fragmentBytes));
}

/**
 * The chance that all `fragments` fragments of a sample, sent back to back, cross a link: losing
 * any one loses the sample on best effort. Independent loss gives (1 − p)^n; a Gilbert–Elliott
 * burst channel is followed state by state from its stationary distribution (its losses clump,
 * so a many-fragment sample fares better than the same mean loss spread evenly).
 */
export function arrivalProbability(fragments: number, link: UdpLinkConditions): number {
  if (link.down) return 0;
  const keep = 1 - (link.lossPct ?? 0) / 100;
  let all = keep ** fragments;
  if (link.burst) {
    const { pGoodToBad, pBadToGood, lossInBadPct, lossInGoodPct = 0 } = link.burst;
    const keepGood = 1 - lossInGoodPct / 100;
    const keepBad = 1 - lossInBadPct / 100;
    let bad = pGoodToBad / (pGoodToBad + pBadToGood);
    let good = 1 - bad;
    for (let i = 0; i < fragments; i++) {
      good *= keepGood;
      bad *= keepBad;
      if (i < fragments - 1) {
        [good, bad] = [
          good * (1 - pGoodToBad) + bad * pBadToGood,
          good * pGoodToBad + bad * (1 - pBadToGood),
        ];
      }
    }
    all *= good + bad;
  }
  return all;
}

/** Mean datagram loss of a link (0..1), for messages. */
function meanLoss(link: UdpLinkConditions): number {
  let keep = 1 - (link.lossPct ?? 0) / 100;
  if (link.burst) {
    const { pGoodToBad, pBadToGood, lossInBadPct, lossInGoodPct = 0 } = link.burst;
    const bad = pGoodToBad / (pGoodToBad + pBadToGood);
    keep *= 1 - (bad * lossInBadPct + (1 - bad) * lossInGoodPct) / 100;
  }
  return 1 - keep;
}

/** Bytes per second a topic puts on the wire, headers included. */
export function offeredLoad(topic: Pick<TopicContract, 'sample'>): number {
  const { bytes, rateHz } = topic.sample;
  return (bytes + fragmentsOf(bytes) * FRAGMENT_OVERHEAD_BYTES) * rateHz;
}

const pct = (x: number): string => `${Math.round(x * 100)} %`;
const lossPct = (x: number): string => `${Number((x * 100).toFixed(1))} %`;
const size = (bytes: number): string => (bytes >= 1024 ? `${Math.round(bytes / 1024)} KB` : `${bytes} B`);
const rate = (bytesPerS: number): string => `${Math.round(bytesPerS / 1000)} kB/s`;

function finding(
  kind: FindingKind,
  topic: string,
  severity: QosFinding['severity'],
  message: string,
  profile?: string,
): QosFinding {
  const id = `${kind} ${topic}${profile ? ` @${profile}` : ''}`;
  return profile === undefined
    ? { id, kind, topic, severity, message }
    : { id, kind, topic, profile, severity, message };
}

/** Findings that depend on the topic alone: incompatible pairs and a deadline the rate cannot keep. */
function topicFindings(topic: TopicContract): QosFinding[] {
  const out: QosFinding[] = [];
  for (const bad of incompatibilities(topic.publisher, topic.subscriber)) {
    out.push(
      finding(
        `incompatible-${bad.policy.toLowerCase()}` as FindingKind,
        topic.name,
        'error',
        `${topic.name}: incompatible QoS: ${bad.policy}: the publisher offers ${bad.offered}, the subscriber requests ${bad.requested}; they never match and no data flows`,
      ),
    );
  }
  const periodMs = 1000 / topic.sample.rateHz;
  const deadline = topic.publisher.deadlineMs;
  if (deadline !== undefined && periodMs > deadline) {
    out.push(
      finding(
        'deadline-unkeepable',
        topic.name,
        'error',
        `${topic.name}: published at ${topic.sample.rateHz} Hz (every ${Number(periodMs.toFixed(1))} ms) but offers a deadline of ${deadline} ms: every period misses it`,
      ),
    );
  }
  return out;
}

/** Findings that depend on the link: fragment loss on best effort, a keep_all writer over the rate cap. */
function linkFindings(topic: TopicContract, profile: UdpProfile, lossUnitBytes: number): QosFinding[] {
  const out: QosFinding[] = [];
  const link = profile.conditions;
  const reliability = effectiveReliability(topic);
  const wanted = topic.expect[profile.name]?.deliveryMin;
  const loss = meanLoss(link);
  if (reliability === 'best_effort' && wanted !== undefined && loss > 0 && !link.down) {
    const fragments = fragmentsOf(topic.sample.bytes, lossUnitBytes);
    const arrive = arrivalProbability(fragments, link);
    if (arrive < wanted) {
      const pieces = fragments === 1 ? 'in 1 fragment' : `in ${fragments} fragments`;
      out.push(
        finding(
          'best-effort-fragments',
          topic.name,
          'error',
          `${topic.name}: ${size(topic.sample.bytes)} ${pieces} at ${lossPct(loss)} loss (${profile.name}): ${pct(arrive)} arrive on best effort, contract wants ${pct(wanted)}`,
          profile.name,
        ),
      );
    }
  }
  const capBytesPerS = link.rateKbit === undefined ? undefined : (link.rateKbit * 1000) / 8;
  if (
    capBytesPerS !== undefined &&
    reliability === 'reliable' &&
    topic.publisher.history.kind === 'keep_all' &&
    offeredLoad(topic) > capBytesPerS
  ) {
    out.push(
      finding(
        'keep-all-over-cap',
        topic.name,
        'error',
        `${topic.name}: reliable keep_all offers ${rate(offeredLoad(topic))} (${size(topic.sample.bytes)} at ${topic.sample.rateHz} Hz) over a ${rate(capBytesPerS)} link (${profile.name}): unacknowledged samples pile up and the writer blocks`,
        profile.name,
      ),
    );
  }
  return out;
}

/** How `findingsFor` models the link. */
export interface FindingsOptions {
  /**
   * Bytes per unit the link loses independently (default: Cyclone's fragment size, as a kernel
   * packet filter drops). A sample of n units arrives with probability (1 − p)^n.
   */
  lossUnitBytes?: number;
}

/**
 * Every misconfiguration of a contract: incompatible pairs and unkeepable deadlines per topic,
 * then per link profile (the contract's own profiles unless `profiles` names others) the
 * best-effort samples too large to arrive as often as the contract wants, reliable keep_all
 * writers a rate cap will block, and a warning when all topics together exceed the cap.
 */
export function findingsFor(
  contract: QosContract,
  profiles?: readonly string[],
  options: FindingsOptions = {},
): QosFinding[] {
  const unit = options.lossUnitBytes ?? CYCLONE_FRAGMENT_BYTES;
  const names = profiles ?? [...new Set(contract.topics.flatMap((t) => Object.keys(t.expect)))];
  const parsed = names.map((name) => parseUdpProfile(name));
  const out = contract.topics.flatMap(topicFindings);
  for (const profile of parsed) {
    for (const topic of contract.topics) {
      // A pair that never matches carries nothing: what the link would do to it is beside the point.
      if (incompatibilities(topic.publisher, topic.subscriber).length > 0) continue;
      out.push(...linkFindings(topic, profile, unit));
    }
    const rateKbit = profile.conditions.rateKbit;
    if (rateKbit === undefined) continue;
    const cap = (rateKbit * 1000) / 8;
    const total = contract.topics.reduce((sum, t) => sum + offeredLoad(t), 0);
    if (total > cap) {
      out.push(
        finding(
          'link-over-cap',
          '*',
          'warning',
          `${contract.model}: its ${contract.topics.length} topics offer ${rate(total)} together over a ${rate(cap)} link (${profile.name}): reliable topics queue and best-effort ones drop`,
          profile.name,
        ),
      );
    }
  }
  return out;
}
