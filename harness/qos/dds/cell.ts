import createDebug from 'debug';
import { TimeoutError } from '../../core/errors.ts';
import type { StartedNetnsLink, UdpLinkConditions, UdpProfile } from '../../net/index.ts';
import type { SampleShape } from '../contract.ts';
import type { TopicQos } from '../policy.ts';
import { cycloneConfigXml, ddsPorts } from './cyclone-config.ts';
import { measureCell, type CellMeasurement, type ReceivedSample, type WrittenSample } from './measure.ts';
import { startDdsProbe, type DdsProbeReport, type StartedDdsProbe } from './probe.ts';

const debug = createDebug('fleetdrill:qos:cell');

/** The DDS domain the matrix runs in: its ports (17910/17911) sit below the ephemeral range. */
export const MATRIX_DOMAIN = 42;

/** The ports a link must relay for the matrix's participants (both use participant index 0). */
export function matrixRelayPorts(): number[] {
  const ports = ddsPorts(MATRIX_DOMAIN, 0);
  return [ports.discovery, ports.data];
}

/** One cell: one topic's publisher and subscriber QoS, its traffic, over one link profile. */
export interface DdsCellSpec {
  /** The contract topic the cell stands for, such as `/scan`. */
  topic: string;
  publisher: TopicQos;
  subscriber: TopicQos;
  sample: SampleShape;
  profile: UdpProfile;
  /** How long the judged window lasts on a steady profile (a dead zone sets its own). */
  measureMs: number;
  /** Unique within a run: the DDS topic is named after it so cells never see each other's samples. */
  index: number;
}

/** What a cell saw. `measurement` is null when the endpoints never exchanged data. */
export interface DdsCellResult {
  topic: string;
  profile: string;
  reliability: TopicQos['reliability'];
  /** `keep_last 10` or `keep_all`, as the publisher offered it. */
  history: string;
  /** Both ends matched (discovery completed and the QoS are compatible). */
  matched: boolean;
  /** The DDS stack's own incompatible-QoS reports from either end: policy names, once each. */
  incompatible: string[];
  /** ms from starting both ends until they matched or reported an incompatibility. */
  discoveryMs: number;
  measurement: CellMeasurement | null;
  /** Bytes the writer retransmitted (Cyclone's writer statistics), null where the stack has none. */
  retransmitBytes: number | null;
  /** Writes that failed because the writer was blocked too long (reliable keep_all behind a slow link). */
  writeTimeouts: number;
  longestWriteMs: number;
  /** Why the cell could not be measured, when it could not (the machine, not the product). */
  couldNotTell?: string;
  /** Which mechanism implemented each condition (relay, nft, tbf, netem). */
  mechanisms: Record<string, string>;
}

/**
 * One RTPS message per Ethernet frame (1500 B less IP and UDP headers). Cyclone packs up to
 * 14 720 B into a datagram by default, and a relay dropping that datagram would lose ten
 * radio frames' worth at once: the loss a Wi-Fi link inflicts is per frame.
 */
const MTU_MESSAGE_BYTES = 1472;

/** How long discovery may take on a clear link before the cell reads "could not tell". */
const DISCOVERY_TIMEOUT_MS = 10_000;
/** In a dead-zone cell: steady conditions this long before the zone, and this long after it. */
const ZONE_LEAD_MS = 1_000;
const ZONE_TAIL_MS = 2_000;

function historyLabel(qos: TopicQos): string {
  return qos.history.kind === 'keep_all' ? 'keep_all' : `keep_last ${qos.history.depth}`;
}

const nowNs = (): bigint => process.hrtime.bigint();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs one cell over a started link: both ends start on a clear link (discovery is not what is
 * measured), the profile's conditions go on once they matched, and the window is judged from
 * what the subscriber received against what the publisher wrote.
 */
export async function runDdsCell(
  link: StartedNetnsLink,
  spec: DdsCellSpec,
  options: { binary?: string } = {},
): Promise<DdsCellResult> {
  const base: DdsCellResult = {
    topic: spec.topic,
    profile: spec.profile.name,
    reliability: spec.publisher.reliability,
    history: historyLabel(spec.publisher),
    matched: false,
    incompatible: [],
    discoveryMs: 0,
    measurement: null,
    retransmitBytes: null,
    writeTimeouts: 0,
    longestWriteMs: 0,
    mechanisms: {},
  };
  await link.apply({});
  const ports = ddsPorts(MATRIX_DOMAIN, 0);
  // DDS topic names allow letters, digits, '_' and '/'; ROS 2 maps /scan to rt/scan.
  const ddsTopic = `rt${spec.topic.replace(/[^A-Za-z0-9_/]/g, '_')}_c${spec.index}`;
  const xml = (end: typeof link.robot) =>
    cycloneConfigXml({
      bindAddress: end.bindAddress,
      peers: [`${end.peer}:${ports.discovery}`],
      ...(end.advertise !== end.bindAddress && { externalAddress: end.advertise }),
      maxMessageSize: MTU_MESSAGE_BYTES,
    });
  const common = {
    topic: ddsTopic,
    domain: MATRIX_DOMAIN,
    ...(options.binary && { binary: options.binary }),
  };
  const started = performance.now();
  let sub: StartedDdsProbe | undefined;
  let pub: StartedDdsProbe | undefined;
  try {
    sub = await startDdsProbe({
      ...common,
      role: 'sub',
      qos: spec.subscriber,
      netns: link.offboard.netns,
      cycloneXml: xml(link.offboard),
      label: `off-board sub ${spec.topic} #${spec.index}`,
    });
    pub = await startDdsProbe({
      ...common,
      role: 'pub',
      qos: spec.publisher,
      rateHz: spec.sample.rateHz,
      sizeBytes: spec.sample.bytes,
      startAfterMatch: true,
      netns: link.robot.netns,
      cycloneXml: xml(link.robot),
      label: `robot pub ${spec.topic} #${spec.index}`,
    });
    const outcome = await discovery(pub, sub);
    base.discoveryMs = Math.round(performance.now() - started);
    if (outcome === 'incompatible') {
      // Give the other end a moment to report its side too: both names go into the finding.
      await sleep(300);
      base.incompatible = [
        ...new Set(
          [...pub.events, ...sub.events].flatMap((e) => (e.kind === 'incompatible' ? [e.policy] : [])),
        ),
      ];
      return base;
    }
    if (outcome === 'timeout') {
      base.couldNotTell = `the endpoints did not discover each other within ${DISCOVERY_TIMEOUT_MS} ms on a clear link`;
      return base;
    }
    base.matched = true;
    const window = await driveProfile(link, spec.profile, spec.measureMs);
    await drain(sub, spec, window.endNs);
    const pubReport = await pub.stop();
    const subReport = await sub.stop();
    const written = reconstructWrites(pubReport, subReport, spec.sample.rateHz);
    const received: ReceivedSample[] = subReport.samples.map((s) => ({
      seq: s.seq,
      sentNs: BigInt(s.sent),
      recvNs: BigInt(s.recv),
    }));
    base.measurement = measureCell(written, received, window);
    const summary = pubReport.summary?.role === 'pub' ? pubReport.summary : undefined;
    base.retransmitBytes = summary?.stats?.rexmit_bytes ?? null;
    base.writeTimeouts = summary?.write_timeouts ?? 0;
    base.longestWriteMs = Number(summary?.longest_write_ns ?? 0) / 1e6;
    base.mechanisms = { ...link.mechanisms() };
    if (!summary) base.couldNotTell = 'the publisher ended without its summary';
    debug('%s %s: %j', spec.topic, spec.profile.name, base.measurement);
    return base;
  } finally {
    await Promise.allSettled([pub?.stop(), sub?.stop()]);
    await link.apply({}).catch(() => undefined);
  }
}

/** Both ends matched, or either reported an incompatibility, or neither within the deadline. */
async function discovery(
  pub: StartedDdsProbe,
  sub: StartedDdsProbe,
): Promise<'matched' | 'incompatible' | 'timeout'> {
  const matched = Promise.all([
    pub.waitFor('matched', DISCOVERY_TIMEOUT_MS, (e) => e.current > 0),
    sub.waitFor('matched', DISCOVERY_TIMEOUT_MS, (e) => e.current > 0),
  ]).then(() => 'matched' as const);
  const incompatible = Promise.any([
    pub.waitFor('incompatible', DISCOVERY_TIMEOUT_MS),
    sub.waitFor('incompatible', DISCOVERY_TIMEOUT_MS),
  ]).then(() => 'incompatible' as const);
  try {
    return await Promise.any([matched, incompatible]);
  } catch (error) {
    // Every wait failed: a timeout is "could not tell"; a probe that died is a harness error.
    const reasons = (error as AggregateError).errors ?? [];
    if (
      reasons.every((reason: unknown) => reason instanceof TimeoutError || reason instanceof AggregateError)
    )
      return 'timeout';
    throw reasons.find((reason: unknown) => !(reason instanceof TimeoutError)) ?? error;
  }
}

/**
 * Puts the profile on the link and returns the judged window. A dead zone is placed inside the
 * window (steady before, down, steady after) so what happens around it is seen.
 */
async function driveProfile(
  link: StartedNetnsLink,
  profile: UdpProfile,
  measureMs: number,
): Promise<{ startNs: bigint; endNs: bigint }> {
  const conditions: UdpLinkConditions = profile.conditions;
  await link.apply(conditions);
  const startNs = nowNs();
  if (profile.deadZoneMs === undefined) {
    await sleep(measureMs);
    return { startNs, endNs: nowNs() };
  }
  await sleep(ZONE_LEAD_MS);
  await link.apply({ ...conditions, down: true });
  await sleep(profile.deadZoneMs);
  await link.apply(conditions);
  // A slow topic's window is longer than the zone's frame: the rest goes after the zone.
  await sleep(Math.max(ZONE_TAIL_MS, measureMs - ZONE_LEAD_MS - profile.deadZoneMs));
  return { startNs, endNs: nowNs() };
}

/**
 * Waits, past the window, for what is still on its way. A reliable reader delivers in order, so
 * once a sample written after the window has arrived, every earlier one has arrived or was given
 * up by the writer (overwritten in its history). Best effort gets only the link's own delay.
 */
async function drain(sub: StartedDdsProbe, spec: DdsCellSpec, endNs: bigint): Promise<void> {
  const conditions = spec.profile.conditions;
  const delayMs = (conditions.delayMs ?? 0) + 2 * (conditions.jitterMs ?? 0);
  if (spec.publisher.reliability !== 'reliable' || spec.subscriber.reliability !== 'reliable') {
    await sleep(300 + delayMs);
    return;
  }
  const deadline = performance.now() + 3_000 + 4 * delayMs;
  while (performance.now() < deadline) {
    if (sub.events.some((e) => e.kind === 'sample' && BigInt(e.sent) >= endNs)) return;
    await sleep(50);
  }
}

/**
 * The publisher's writes with their times. The probe reports how many it wrote; each write's
 * time is known exactly for the samples that arrived (they carry it) and, for the others, lies
 * between its neighbours' on the probe's fixed-rate schedule, so it is interpolated.
 */
export function reconstructWrites(pub: DdsProbeReport, sub: DdsProbeReport, rateHz: number): WrittenSample[] {
  const summary = pub.summary?.role === 'pub' ? pub.summary : undefined;
  const known = new Map<number, bigint>();
  for (const s of sub.samples) if (!known.has(s.seq)) known.set(s.seq, BigInt(s.sent));
  const count = summary?.published ?? (known.size === 0 ? 0 : Math.max(...known.keys()) + 1);
  const periodNs = BigInt(Math.round(1e9 / rateHz));
  const matchedAt = pub.matched.find((m) => m.current > 0)?.t;
  const start = matchedAt === undefined ? undefined : BigInt(matchedAt);
  const seqs = [...known.keys()].sort((a, b) => a - b);
  const written: WrittenSample[] = [];
  let below = -1; // index into seqs of the nearest known seq below
  for (let seq = 0; seq < count; seq++) {
    while (below + 1 < seqs.length && seqs[below + 1]! <= seq) below++;
    const exact = known.get(seq);
    if (exact !== undefined) {
      written.push({ seq, sentNs: exact });
      continue;
    }
    const lo = below >= 0 ? seqs[below]! : undefined;
    const hi = seqs[below + 1];
    let sentNs: bigint;
    if (lo !== undefined && hi !== undefined) {
      const span = known.get(hi)! - known.get(lo)!;
      sentNs = known.get(lo)! + (span * BigInt(seq - lo)) / BigInt(hi - lo);
    } else if (lo !== undefined) sentNs = known.get(lo)! + periodNs * BigInt(seq - lo);
    else if (hi !== undefined) sentNs = known.get(hi)! - periodNs * BigInt(hi - seq);
    else sentNs = (start ?? 0n) + periodNs * BigInt(seq);
    written.push({ seq, sentNs });
  }
  return written;
}
