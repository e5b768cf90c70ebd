/* The telemetry oracles as pure functions: a healthy robot's evidence passes each, and each broken variant fails the oracle that owns it, naming the robot and what broke. */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { writeBlackboxMcap, type RingEntry } from '../../../reference/edge-agent/blackbox/index.ts';
import type { AgentStatus } from '../../../protocol/agent-status.ts';
import {
  blackboxKey,
  toRanges,
  TIERS,
  type BlackboxInfo,
  type ManifestData,
  type RobotTelemetrySummary,
  type Tier,
  type TierSummary,
} from '../../../protocol/telemetry.ts';
import type { StoredRecord } from '../../fleet/index.ts';
import { inspectBlackbox, type BlackboxContents } from '../mcap.ts';
import {
  bandwidth,
  completeness,
  ingestLatency,
  mcapValidity,
  noDuplicates,
  perSeriesOrder,
  tierPolicy,
  type OracleVerdict,
  type TelemetryEvidence,
} from './index.ts';
import type { FleetEvent, RecordedEvent } from '../../core/events.ts';
import { disturbancesOf } from '../judge.ts';
import { defaultIngestCeilingMs } from './ingest-latency.ts';

const ROBOT = 'r07';
const S = 1_000_000_000n;
/** The collision that triggers the one blackbox: boot b1, seq 4, at sim time 100 s. */
const TRIGGER_SEQ = 4;
const TRIGGER_NS = 100n * S;
/** The window the reference blackbox covers around its trigger. */
const WINDOW = { preS: 2, postS: 1 };
const KEY = blackboxKey(ROBOT, 'b1', TRIGGER_SEQ);
const T0 = 1_700_000_000_000;

/** A real blackbox file for the trigger, read back once: /odom, /scan and /imu at 10 Hz over the window. */
let file: { contents: BlackboxContents; sha256: string; bytes: number };

test.beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-oracles-'));
  try {
    const fromNs = TRIGGER_NS - BigInt(WINDOW.preS) * S;
    const toNs = TRIGGER_NS + BigInt(WINDOW.postS) * S;
    const entries: RingEntry[] = [];
    for (let ns = fromNs; ns <= toNs; ns += S / 10n) {
      const header = { stamp: { sec: Number(ns / S), nanosec: Number(ns % S) }, frame_id: 'base_link' };
      entries.push(
        { topic: '/odom', type: 'nav_msgs/msg/Odometry', message: { header }, stampNs: ns, receivedAtMs: T0 },
        {
          topic: '/scan',
          type: 'sensor_msgs/msg/LaserScan',
          message: { header, ranges: [1, 2] },
          stampNs: ns,
          receivedAtMs: T0,
        },
        { topic: '/imu', type: 'sensor_msgs/msg/Imu', message: { header }, stampNs: ns, receivedAtMs: T0 },
      );
    }
    const path = join(dir, 'box.mcap');
    const written = await writeBlackboxMcap(path, {
      robotId: ROBOT,
      bootId: 'b1',
      triggerSeq: TRIGGER_SEQ,
      trigger: { kind: 'collision', stampNs: TRIGGER_NS },
      fromNs,
      toNs,
      entries,
    });
    const bytes = await readFile(path);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(written.sha256);
    file = { contents: await inspectBlackbox(bytes), sha256: written.sha256, bytes: written.bytes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/**
 * Writes and reads back a blackbox for the b1 trigger with /odom, /scan and /imu at 10 Hz from
 * `dataFromNs` to trigger + post (/odom silent over `odomGap`), stating `fromNs` as its window start.
 */
async function writeFile(options: {
  dataFromNs: bigint;
  fromNs: bigint;
  odomGap?: [bigint, bigint];
  dataSinceNs?: Map<string, bigint>;
}): Promise<{ contents: BlackboxContents; sha256: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-oracles-'));
  try {
    const toNs = TRIGGER_NS + BigInt(WINDOW.postS) * S;
    const entries: RingEntry[] = [];
    for (let ns = options.dataFromNs; ns <= toNs; ns += S / 10n) {
      const header = { stamp: { sec: Number(ns / S), nanosec: Number(ns % S) }, frame_id: 'base_link' };
      const [gapFrom, gapTo] = options.odomGap ?? [0n, -1n];
      for (const topic of ['/odom', '/scan', '/imu']) {
        if (topic === '/odom' && ns >= gapFrom && ns < gapTo) continue;
        entries.push({ topic, type: 'unknown', message: { header }, stampNs: ns, receivedAtMs: T0 });
      }
    }
    const path = join(dir, 'box.mcap');
    const written = await writeBlackboxMcap(path, {
      robotId: ROBOT,
      bootId: 'b1',
      triggerSeq: TRIGGER_SEQ,
      trigger: { kind: 'collision', stampNs: TRIGGER_NS },
      fromNs: options.fromNs,
      toNs,
      requestedFromNs: TRIGGER_NS - BigInt(WINDOW.preS) * S,
      dataSinceNs: options.dataSinceNs,
      entries,
    });
    return { contents: await inspectBlackbox(await readFile(path)), sha256: written.sha256 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type Spec = { tier: Tier; name?: string; data?: Record<string, unknown>; simTime?: number };

function zero(): Record<Tier, number> {
  return { metrics: 0, events: 0, blackbox: 0 };
}

/**
 * Evidence of a healthy robot that went through two boots. Boot b1: seqs 1..10, a collision at
 * seq 4 with its blackbox and manifest (seq 9), metrics 5 and 6 evicted during an outage and
 * counted. Boot b2: seqs 1..4, no trigger. The cloud holds everything else once, each series in
 * order. `trigger: false` gives a robot with no trigger, blackbox or manifest at all.
 */
function healthy(options: { trigger?: boolean } = {}): TelemetryEvidence {
  const withTrigger = options.trigger ?? true;
  const manifest: ManifestData = {
    key: KEY,
    sha256: file.sha256,
    bytes: file.bytes,
    triggerSeq: TRIGGER_SEQ,
    trigger: 'collision',
    fromSimTime: 100 - WINDOW.preS,
    toSimTime: 100 + WINDOW.postS,
    triggerSimTime: 100,
  };
  const boots: Record<string, Spec[]> = {
    b1: [
      { tier: 'metrics' },
      { tier: 'metrics' },
      { tier: 'metrics' },
      withTrigger
        ? { tier: 'events', name: 'collision', data: { obstacle: 'shelf' }, simTime: 100 }
        : { tier: 'events', name: 'diagnostics-level', data: { to: 'warn' } },
      { tier: 'metrics' },
      { tier: 'metrics' },
      { tier: 'metrics' },
      { tier: 'metrics' },
      withTrigger
        ? { tier: 'blackbox', name: 'blackbox-manifest', data: { ...manifest }, simTime: 101 }
        : { tier: 'metrics' },
      { tier: 'metrics' },
    ],
    b2: [
      { tier: 'metrics' },
      { tier: 'events', name: 'estop-released' },
      { tier: 'metrics' },
      { tier: 'metrics' },
    ],
  };
  const evictedSeqs: Record<string, number[]> = { b1: [5, 6], b2: [] };

  const records: StoredRecord[] = [];
  const accounts: AgentStatus['accounts'] = [];
  let arrival = 0;
  for (const [bootId, specs] of Object.entries(boots)) {
    const produced = zero();
    const evicted = zero();
    const bootStart = T0 + (bootId === 'b1' ? 0 : 600_000);
    specs.forEach((spec, i) => {
      const seq = i + 1;
      produced[spec.tier]++;
      if (evictedSeqs[bootId]!.includes(seq)) {
        evicted[spec.tier]++;
        return;
      }
      const capturedAt = bootStart + seq * 1000;
      records.push({
        robotId: ROBOT,
        bootId,
        seq,
        tier: spec.tier,
        name: spec.name ?? 'robot',
        capturedAt,
        simTime: spec.simTime ?? seq,
        data: spec.data ?? { battery: 0.8 },
        receivedAt: capturedAt + 150,
        arrival: ++arrival,
      });
    });
    accounts.push({
      bootId,
      startedAt: bootStart,
      lastSeq: specs.length,
      produced,
      evicted,
      evictedSeqs: {
        metrics: toRanges(evictedSeqs[bootId]!),
        events: [],
        blackbox: [],
      },
    });
  }

  const info: BlackboxInfo = {
    key: KEY,
    robotId: ROBOT,
    bootId: 'b1',
    triggerSeq: TRIGGER_SEQ,
    offset: file.bytes,
    length: file.bytes,
    sha256: file.sha256,
    complete: true,
    bytesReceived: file.bytes,
    completedAt: T0 + 9_000,
  };
  const tiers = {} as Record<Tier, TierSummary>;
  for (const tier of TIERS) {
    const held = records.filter((record) => record.tier === tier);
    tiers[tier] = {
      stored: held.length,
      duplicates: tier === 'metrics' ? 2 : 0,
      boots: Object.fromEntries(
        Object.keys(boots).map((bootId) => [
          bootId,
          toRanges(held.filter((r) => r.bootId === bootId).map((r) => r.seq)),
        ]),
      ),
      ingestLatencyMs: held.length
        ? { count: held.length, p50: 150, p90: 150, p99: 150, max: 150 }
        : { count: 0, p50: null, p90: null, p99: null, max: null },
      bytesReceived: held.length * 200 + (tier === 'blackbox' && withTrigger ? file.bytes : 0),
      bytesStored: tier === 'blackbox' && withTrigger ? file.bytes : 0,
    };
  }
  const blackboxes = withTrigger
    ? [{ info, servedSha256: file.sha256, contents: structuredClone(file.contents) }]
    : [];
  const summary: RobotTelemetrySummary = {
    robotId: ROBOT,
    tiers,
    blackboxes: blackboxes.map((box) => box.info),
  };
  const counters = {
    pending: 0,
    usedBytes: 0,
    budgetBytes: 1_000_000,
    usedPct: 0,
    dropped: 0,
    oldestAgeS: 0,
  };
  const agent: AgentStatus = {
    robot_id: ROBOT,
    boot_id: 'b2',
    accounts,
    buffers: { metrics: { ...counters, dropped: 2 }, events: { ...counters }, blackbox: { ...counters } },
    bytes_sent: { metrics: 60_000, events: 6_000, blackbox: withTrigger ? file.bytes + 400 : 0 },
    uploader: {
      consecutiveFailures: 0,
      lastError: null,
      lastSuccessAt: T0 + 700_000,
      rejected: zero(),
    },
    capturing: 0,
    backlog: 0,
    drained: true,
  };
  return { robotId: ROBOT, agent, summary, records, blackboxes };
}

const find = (evidence: TelemetryEvidence, bootId: string, seq: number): StoredRecord =>
  evidence.records.find((record) => record.bootId === bootId && record.seq === seq)!;

/** The verdict must be a failure that names the robot and says every one of `specifics`. */
function expectFailure(verdict: OracleVerdict, ...specifics: string[]): void {
  expect(verdict.ok, verdict.message).toBe(false);
  expect(verdict.robotId).toBe(ROBOT);
  expect(verdict.message.startsWith(`${ROBOT}: `), verdict.message).toBe(true);
  for (const specific of specifics) expect(verdict.message).toContain(specific);
}

function expectPass(verdict: OracleVerdict): void {
  expect(verdict.ok, verdict.message).toBe(true);
  expect(verdict.robotId).toBe(ROBOT);
  expect(verdict.message.startsWith(`${ROBOT}: `), verdict.message).toBe(true);
}

test.describe('a healthy robot', () => {
  test('passes every oracle, with the counts measured', () => {
    const evidence = healthy();
    const window = { ...WINDOW, toleranceS: 0.05 };

    const complete = completeness.check(evidence, {});
    expectPass(complete);
    expect(complete.measured).toEqual({ produced: 14, evicted: 2, held: 12, boots: 2, late: 0 });
    expect(complete.message).toBe('r07: all 12 records held: 14 produced − 2 evicted');

    const duplicates = noDuplicates.check(evidence, {});
    expectPass(duplicates);
    // Seqs 1..4 exist in both boots: the same seq in another boot is not a duplicate.
    expect(duplicates.measured).toEqual({ distinct: 12, suppressed: 2 });

    const order = perSeriesOrder.check(evidence, {});
    expectPass(order);
    expect(order.measured).toEqual({ series: 5, outOfOrder: 0 });

    const latency = ingestLatency.check(evidence, { p99MaxMs: { metrics: 150, events: 500 } });
    expectPass(latency);
    expect(latency.measured).toMatchObject({ metrics_p99_ms: 150, events_p99_ms: 150 });

    const policy = tierPolicy.check(evidence, window);
    expectPass(policy);
    expect(policy.measured).toEqual({ triggers: 1, blackboxes: 1, blackboxBytesSent: file.bytes + 400 });

    const mcap = mcapValidity.check(evidence, WINDOW);
    expectPass(mcap);
    expect(mcap.measured).toEqual({ checked: 1, shortened: 0 });

    const link = bandwidth.check(evidence, {
      durationS: 60,
      budgetBytesPerS: { metrics: 1000, events: 100 },
    });
    expectPass(link);
    expect(link.measured).toMatchObject({ metrics_bytes_per_s: 1000, events_bytes_per_s: 100 });
  });

  test('with no trigger at all passes the tier policy and has nothing for the MCAP check', () => {
    const evidence = healthy({ trigger: false });
    expectPass(completeness.check(evidence, {}));
    expectPass(tierPolicy.check(evidence, WINDOW));
    const mcap = mcapValidity.check(evidence, WINDOW);
    expectPass(mcap);
    expect(mcap.measured).toEqual({ checked: 0, shortened: 0 });
  });
});

test.describe('completeness', () => {
  test('fails on a missing seq, naming the boot and the seq', () => {
    const evidence = healthy();
    evidence.records = evidence.records.filter((record) => !(record.bootId === 'b1' && record.seq === 7));
    expectFailure(
      completeness.check(evidence, {}),
      '1 seqs of boot b1 missing: 7',
      'metrics of boot b1: cloud holds 5, agent produced 8 and evicted 2',
    );
  });

  test('fails on a lost record of the last boot even when every other boot is whole', () => {
    const evidence = healthy();
    evidence.records = evidence.records.filter((record) => !(record.bootId === 'b2' && record.seq === 4));
    const verdict = completeness.check(evidence, {});
    expectFailure(verdict, '1 seqs of boot b2 missing: 4');
    expect(verdict.message).not.toContain('boot b1');
  });

  test('fails on a record stored that the agent counted as evicted', () => {
    const evidence = healthy();
    evidence.records.push({ ...find(evidence, 'b1', 7), seq: 5, arrival: 99 });
    expectFailure(
      completeness.check(evidence, {}),
      '1 seqs of boot b1 stored though counted evicted or never taken: 5',
    );
  });

  test('fails on a record stored past the last seq the agent took', () => {
    const evidence = healthy();
    evidence.records.push({ ...find(evidence, 'b2', 4), seq: 5, arrival: 99 });
    expectFailure(
      completeness.check(evidence, {}),
      'boot b2 stored though counted evicted or never taken: 5',
    );
  });

  test('a record the agent took while the cloud was read is neither counted nor missed', () => {
    const evidence = healthy();
    evidence.records.push({ ...find(evidence, 'b2', 4), seq: 5, arrival: 99 });
    const after = structuredClone(evidence.agent);
    after.accounts.find((a) => a.bootId === 'b2')!.lastSeq = 5;
    evidence.agentAfter = after;
    const verdict = completeness.check(evidence, {});
    expectPass(verdict);
    expect(verdict.measured).toMatchObject({ held: 12, late: 1 });
  });

  test('a record past even the second account of the agent fails', () => {
    const evidence = healthy();
    evidence.records.push({ ...find(evidence, 'b2', 4), seq: 6, arrival: 99 });
    const after = structuredClone(evidence.agent);
    after.accounts.find((a) => a.bootId === 'b2')!.lastSeq = 5;
    evidence.agentAfter = after;
    expectFailure(
      completeness.check(evidence, {}),
      '1 seqs of boot b2 stored though counted evicted or never taken: 6',
    );
  });

  test('fails when the per-tier counts disagree though every seq is there', () => {
    const evidence = healthy();
    // The agent counted seq 3 as an event; the cloud holds it as a metric.
    const account = evidence.agent.accounts.find((a) => a.bootId === 'b1')!;
    account.produced.metrics--;
    account.produced.events++;
    const verdict = completeness.check(evidence, {});
    expectFailure(
      verdict,
      'metrics of boot b1: cloud holds 6, agent produced 7 and evicted 2',
      'events of boot b1: cloud holds 1, agent produced 2 and evicted 0',
    );
    expect(verdict.message).not.toContain('missing');
  });

  test('fails on a boot the agent does not know', () => {
    const evidence = healthy();
    evidence.records.push({ ...find(evidence, 'b2', 1), bootId: 'b9', arrival: 99 });
    expectFailure(completeness.check(evidence, {}), 'cloud holds boots the agent does not know: b9');
  });

  test('fails when the cloud refused records, though everything else adds up', () => {
    const evidence = healthy();
    evidence.agent.uploader.rejected = { metrics: 2, events: 1, blackbox: 0 };
    expectFailure(completeness.check(evidence, {}), '3 records were refused by the cloud and never stored');
  });
});

test.describe('no-duplicates', () => {
  test('fails on a (bootId, seq) stored twice, naming it', () => {
    const evidence = healthy();
    evidence.records.push({ ...find(evidence, 'b1', 7), arrival: 99, receivedAt: T0 + 20_000 });
    const verdict = noDuplicates.check(evidence, {});
    expectFailure(verdict, '1 records stored twice: b1/7');
    expect(verdict.measured.distinct).toBe(12);
  });

  test('fails on the same seq twice even under another tier', () => {
    const evidence = healthy();
    evidence.records.push({ ...find(evidence, 'b2', 3), tier: 'events', arrival: 99 });
    expectFailure(noDuplicates.check(evidence, {}), 'stored twice: b2/3');
  });
});

test.describe('per-series-order', () => {
  test('fails on out-of-order arrival within a tier', () => {
    const evidence = healthy();
    const seven = evidence.records.indexOf(find(evidence, 'b1', 7));
    const eight = evidence.records.indexOf(find(evidence, 'b1', 8));
    [evidence.records[seven], evidence.records[eight]] = [evidence.records[eight]!, evidence.records[seven]!];
    const verdict = perSeriesOrder.check(evidence, {});
    expectFailure(verdict, 'b1/metrics: seq 7 arrived after seq 8');
    expect(verdict.measured.outOfOrder).toBe(1);
  });

  test('fails when capture time goes backwards within a series', () => {
    const evidence = healthy();
    find(evidence, 'b2', 4).capturedAt = find(evidence, 'b2', 3).capturedAt - 1;
    expectFailure(perSeriesOrder.check(evidence, {}), 'b2/metrics: seq 4 was captured before seq 3');
  });

  test('does not mind tiers and boots interleaving', () => {
    const evidence = healthy();
    // Events overtake metrics, and boot b2 arrives before the rest of b1: each series is still in order.
    const first = evidence.records.filter((r) => r.tier !== 'metrics' || r.bootId === 'b2');
    const rest = evidence.records.filter((r) => !first.includes(r));
    evidence.records = [...first, ...rest];
    expectPass(perSeriesOrder.check(evidence, {}));
  });
});

test.describe('ingest-latency', () => {
  const slow = (evidence: TelemetryEvidence, tier: Tier, ms: number) => {
    for (const record of evidence.records)
      if (record.tier === tier) record.receivedAt = record.capturedAt + ms;
  };

  test('fails on a p99 over its ceiling, naming the tier, the value and the ceiling', () => {
    const evidence = healthy();
    slow(evidence, 'events', 900);
    const verdict = ingestLatency.check(evidence, { p99MaxMs: { events: 500, metrics: 500 } });
    expectFailure(verdict, 'events ingest latency p99 900 ms over 2 undisturbed records, expected <= 500 ms');
    expect(verdict.message).not.toContain('metrics ingest');
    expect(verdict.measured.events_p99_ms).toBe(900);
  });

  test('over its ceiling while every core was taken: could not tell, not failed; on an idle machine, failed', () => {
    const busy = healthy();
    slow(busy, 'events', 900);
    busy.machine = { loadAverage: 3.4, cores: 2 };
    const untold = ingestLatency.check(busy, { p99MaxMs: { events: 500, metrics: 500 } });
    expectPass(untold);
    expect(untold.message).toContain('the load average was 3.4 on 2 cores: could not tell');
    expect(untold.measured.events_could_not_tell).toBe(1);

    const idle = healthy();
    slow(idle, 'events', 900);
    idle.machine = { loadAverage: 0.7, cores: 2 };
    expectFailure(
      ingestLatency.check(idle, { p99MaxMs: { events: 500, metrics: 500 } }),
      'events ingest latency p99 900 ms over 2 undisturbed records, expected <= 500 ms',
    );
  });

  test('a p99 right at its ceiling passes, one ms over fails', () => {
    const evidence = healthy();
    expectPass(ingestLatency.check(evidence, { p99MaxMs: { metrics: 150 } }));
    expectFailure(
      ingestLatency.check(evidence, { p99MaxMs: { metrics: 149 } }),
      'metrics ingest latency p99 150 ms over 9 undisturbed records, expected <= 149 ms',
    );
  });

  test('with no ceiling given, the one the agent settings imply applies and fires', () => {
    // Two request timeouts (3 s each by default) and the uploader's idle poll.
    expect(defaultIngestCeilingMs()).toBe(7_000);
    expect(defaultIngestCeilingMs({ upload: { requestTimeoutMs: 500 } })).toBe(2_000);
    const evidence = healthy();
    const fine = ingestLatency.check(evidence, {});
    expectPass(fine);
    expect(fine.measured.metrics_ceiling_ms).toBe(7_000);
    // Records stuck for a minute on a link nothing disturbed: the uploader is broken.
    slow(evidence, 'metrics', 60_000);
    expectFailure(
      ingestLatency.check(evidence, {}),
      'metrics ingest latency p99 60000 ms over 9 undisturbed records, expected <= 7000 ms',
    );
  });

  test('records whose trip crossed a disturbance are a figure, not judged; the others still are', () => {
    const evidence = healthy();
    slow(evidence, 'metrics', 60_000);
    const b1 = evidence.records.filter((record) => record.bootId === 'b1' && record.tier === 'metrics');
    // A dead zone over all of boot b1's metrics: their latency is the outage's, not the uploader's.
    evidence.disturbances = [{ from: b1[0]!.capturedAt, to: b1.at(-1)!.capturedAt, what: 'dead zone' }];
    const verdict = ingestLatency.check(evidence, {});
    expectFailure(verdict, 'metrics ingest latency p99 60000 ms over 3 undisturbed records');
    expect(verdict.measured.metrics_disturbed_records).toBe(b1.length);
    // Boot b2's metrics, long after the dead zone and as slow, pass once they are fast again.
    for (const record of evidence.records)
      if (record.bootId === 'b2') record.receivedAt = record.capturedAt + 150;
    const healed = ingestLatency.check(evidence, {});
    expectPass(healed);
    expect(healed.measured.metrics_disturbed_p99_ms).toBe(60_000);
  });

  test('disturbances come from the run events: faults on the cloud link, dead zones, power cuts, cloud restarts', () => {
    const at = (t: number, event: FleetEvent): RecordedEvent => ({ ...event, t });
    const spans = disturbancesOf(
      [
        at(10, { kind: 'fault-applied', robot: ROBOT, link: 'rosbridge', profile: 'dead', reason: 'drill' }),
        at(20, { kind: 'fault-applied', robot: ROBOT, link: 'cloud', profile: 'dead', reason: 'drill' }),
        at(30, { kind: 'fault-cleared', robot: ROBOT, link: 'cloud', reason: 'drill' }),
        at(40, { kind: 'dead-zone-entered', robot: 'r01', x: 0, y: 0, rssiDbm: null }),
        at(50, { kind: 'power-cut', robot: ROBOT }),
        at(60, { kind: 'power-on', robot: ROBOT }),
        at(100, { kind: 'cloud-restarted', crash: true, downMs: 20 }),
        at(110, { kind: 'dead-zone-entered', robot: ROBOT, x: 0, y: 0, rssiDbm: null }),
      ],
      ROBOT,
      200,
    );
    expect(spans).toEqual([
      { from: 20, to: 30, what: 'fault on cloud' },
      { from: 50, to: 60, what: 'down or booting' },
      { from: 80, to: 100, what: 'cloud restart' },
      { from: 110, to: 200, what: 'dead zone' },
    ]);
  });
});

test.describe('tier-policy', () => {
  test('fails on a blackbox without a trigger event', () => {
    const evidence = healthy();
    // The file claims b2 seq 2, which is an estop-released event: not a trigger.
    const stray = structuredClone(evidence.blackboxes[0]!);
    stray.info = { ...stray.info, key: blackboxKey(ROBOT, 'b2', 2), bootId: 'b2', triggerSeq: 2 };
    evidence.blackboxes.push(stray);
    expectFailure(
      tierPolicy.check(evidence, WINDOW),
      `blackbox ${ROBOT}/b2/2.mcap has no trigger event (b2 seq 2)`,
    );
  });

  test('fails on a blackbox whose trigger seq is a trigger of another boot', () => {
    const evidence = healthy();
    evidence.blackboxes[0]!.info.bootId = 'b2';
    expectFailure(tierPolicy.check(evidence, WINDOW), `has no trigger event (b2 seq ${TRIGGER_SEQ})`);
  });

  test('tells two records with the same seq apart by their boot: an OTA event of a later boot is no trigger', () => {
    // r07 rebooted (an OTA drill before this one): boot b2 has an `ota` event at seq 4, the seq
    // of b1's collision. Looked up by seq alone, the blackbox's trigger would be that `ota` event.
    const evidence = healthy();
    const ota = find(evidence, 'b2', TRIGGER_SEQ);
    Object.assign(ota, { tier: 'events', name: 'ota', data: { state: 'rebooting' } });
    expect(evidence.records.filter((record) => record.seq === TRIGGER_SEQ).map((r) => r.name)).toEqual([
      'collision',
      'ota',
    ]);
    expectPass(tierPolicy.check(evidence, WINDOW));
    expectPass(mcapValidity.check(evidence, WINDOW));
    // The same file claimed by b2 has no trigger: b2's seq 4 is the OTA event.
    evidence.blackboxes[0]!.info = { ...evidence.blackboxes[0]!.info, bootId: 'b2' };
    expectFailure(tierPolicy.check(evidence, WINDOW), `has no trigger event (b2 seq ${TRIGGER_SEQ})`);
    // And b1's collision alone, removed, is not stood in for by the b2 event of the same seq.
    const lost = healthy();
    Object.assign(find(lost, 'b2', TRIGGER_SEQ), { tier: 'events', name: 'collision' });
    lost.records = lost.records.filter((record) => !(record.bootId === 'b1' && record.seq === TRIGGER_SEQ));
    expectFailure(mcapValidity.check(lost, WINDOW), `blackbox ${KEY}: no trigger stamp`);
    expectFailure(tierPolicy.check(lost, WINDOW), `has no trigger event (b1 seq ${TRIGGER_SEQ})`);
  });

  test('fails on a manifest without its finished file', () => {
    const unfinished = healthy();
    unfinished.blackboxes[0]!.info.complete = false;
    expectFailure(tierPolicy.check(unfinished, WINDOW), `manifest ${KEY} arrived without its finished file`);

    const absent = healthy();
    absent.blackboxes = [];
    expectFailure(tierPolicy.check(absent, WINDOW), `manifest ${KEY} arrived without its finished file`);
  });

  test('fails on a manifest naming another SHA-256 than the stored file', () => {
    const evidence = healthy();
    (find(evidence, 'b1', 9).data as ManifestData).sha256 = 'ab'.repeat(32);
    expectFailure(
      tierPolicy.check(evidence, WINDOW),
      `manifest ${KEY} names another SHA-256 than the stored file`,
    );
  });

  test('fails on a manifest window off by more than the tolerance, not within it', () => {
    const early = healthy();
    (find(early, 'b1', 9).data as ManifestData).fromSimTime = 97.9;
    expectFailure(
      tierPolicy.check(early, { ...WINDOW, toleranceS: 0.05 }),
      `manifest ${KEY} covers 97.90–101.00 s, expected 98.00–101.00 s`,
    );

    const short = healthy();
    (find(short, 'b1', 9).data as ManifestData).toSimTime = 100.5;
    expectFailure(tierPolicy.check(short, { ...WINDOW, toleranceS: 0.05 }), 'covers 98.00–100.50 s');

    const close = healthy();
    (find(close, 'b1', 9).data as ManifestData).fromSimTime = 98.04;
    expectPass(tierPolicy.check(close, { ...WINDOW, toleranceS: 0.05 }));
  });

  test('fails on a malformed manifest', () => {
    const evidence = healthy();
    delete (find(evidence, 'b1', 9).data as Partial<ManifestData>).sha256;
    expectFailure(tierPolicy.check(evidence, WINDOW), 'manifest b1/9 is malformed');
  });

  test('fails on blackbox bytes sent with no trigger, from the agent or the cloud side', () => {
    const agentSide = healthy({ trigger: false });
    agentSide.agent.bytes_sent.blackbox = 1200;
    expectFailure(
      tierPolicy.check(agentSide, WINDOW),
      'no trigger happened, yet 1200 blackbox bytes were sent',
    );

    const cloudSide = healthy({ trigger: false });
    cloudSide.summary.tiers.blackbox.bytesReceived = 512;
    expectFailure(
      tierPolicy.check(cloudSide, WINDOW),
      'no trigger happened, yet 512 blackbox bytes were sent',
    );
  });
});

test.describe('bandwidth', () => {
  test('fails on a tier over its budget, naming the rate, the duration and the budget', () => {
    const evidence = healthy();
    evidence.agent.bytes_sent.metrics = 120_000;
    const verdict = bandwidth.check(evidence, {
      durationS: 60,
      budgetBytesPerS: { metrics: 1500, events: 1500 },
    });
    expectFailure(verdict, 'metrics used 2000 B/s over 60 s, budget 1500 B/s');
    expect(verdict.message).not.toContain('events used');
    expect(verdict.measured.metrics_bytes_per_s).toBe(2000);
  });

  test("counts from the drill's baseline, and a reboot in between fails instead of guessing", () => {
    const evidence = healthy();
    const budgetBytesPerS = { metrics: 500 };
    // 60 000 bytes over 60 s is 1000 B/s; 40 000 of them were sent before the drill began.
    expectFailure(bandwidth.check(evidence, { durationS: 60, budgetBytesPerS }), 'metrics used 1000 B/s');
    const baseline = { bootId: 'b2', bytesSent: { metrics: 40_000, events: 0, blackbox: 0 } };
    const ours = bandwidth.check(evidence, { durationS: 60, budgetBytesPerS, baseline });
    expectPass(ours);
    expect(ours.measured.metrics_bytes_per_s).toBe(333);
    expectFailure(
      bandwidth.check(evidence, { durationS: 60, budgetBytesPerS, baseline: { ...baseline, bootId: 'b1' } }),
      'cannot measure: the agent rebooted (boot b1 → b2)',
    );
  });

  test('a tier without a budget is not judged', () => {
    const evidence = healthy();
    evidence.agent.bytes_sent.blackbox = 10_000_000;
    expectPass(bandwidth.check(evidence, { durationS: 60, budgetBytesPerS: { metrics: 1500 } }));
    expectFailure(
      bandwidth.check(evidence, { durationS: 60, budgetBytesPerS: { blackbox: 100_000 } }),
      'blackbox used 166667 B/s over 60 s, budget 100000 B/s',
    );
  });
});

test.describe('mcap-validity', () => {
  test('fails on an unfinished file', () => {
    const evidence = healthy();
    const box = evidence.blackboxes[0]!;
    box.info = { ...box.info, complete: false, offset: 1024 };
    delete box.contents;
    delete box.servedSha256;
    expectFailure(
      mcapValidity.check(evidence, WINDOW),
      `blackbox ${KEY} is not finished (1024 of ${file.bytes} bytes)`,
    );
  });

  test('fails when the contents are missing, with the reason when there is one', () => {
    const unreadable = healthy();
    delete unreadable.blackboxes[0]!.contents;
    unreadable.blackboxes[0]!.error = 'not a finalized MCAP file';
    expectFailure(
      mcapValidity.check(unreadable, WINDOW),
      `blackbox ${KEY} does not read back: not a finalized MCAP file`,
    );

    const empty = healthy();
    delete empty.blackboxes[0]!.contents;
    expectFailure(mcapValidity.check(empty, WINDOW), `blackbox ${KEY} does not read back: no contents`);
  });

  test('fails on served bytes that do not match the SHA-256', () => {
    const evidence = healthy();
    evidence.blackboxes[0]!.servedSha256 = 'cd'.repeat(32);
    expectFailure(
      mcapValidity.check(evidence, WINDOW),
      `blackbox ${KEY} served bytes do not match its SHA-256`,
    );
  });

  test('fails on a wrong or missing foxglove deviceName', () => {
    const wrong = healthy();
    wrong.blackboxes[0]!.contents!.metadata.foxglove!.deviceName = 'r99';
    expectFailure(mcapValidity.check(wrong, WINDOW), `blackbox ${KEY}: foxglove deviceName is r99`);

    const missing = healthy();
    delete missing.blackboxes[0]!.contents!.metadata.foxglove;
    expectFailure(mcapValidity.check(missing, WINDOW), `blackbox ${KEY}: foxglove deviceName is missing`);
  });

  test('fails on a missing /imu channel, or one with no messages', () => {
    const missing = healthy();
    const contents = missing.blackboxes[0]!.contents!;
    contents.channels = contents.channels.filter((channel) => channel.topic !== '/imu');
    const verdict = mcapValidity.check(missing, WINDOW);
    expectFailure(verdict, `blackbox ${KEY} has no /imu messages`);
    expect(verdict.message).not.toContain('/odom messages');

    const silent = healthy();
    silent.blackboxes[0]!.contents!.channels.find((channel) => channel.topic === '/imu')!.messages = 0;
    expectFailure(mcapValidity.check(silent, WINDOW), `blackbox ${KEY} has no /imu messages`);
  });

  test('fails on a window the file does not cover, passes one within the tolerance', () => {
    const evidence = healthy();
    // The file holds 2 s before the trigger; 3 s are asked for.
    expectFailure(
      mcapValidity.check(evidence, { preS: 3, postS: 1 }),
      `blackbox ${KEY}: /odom starts at 98.000 s, after the start of the window 97.000 s..101.000 s`,
    );
    expectFailure(mcapValidity.check(evidence, { preS: 2, postS: 1.5 }), 'ends at 101.000 s, before the end');
    expectPass(mcapValidity.check(evidence, { preS: 2.2, postS: 1.2, toleranceS: 0.25 }));
    expectFailure(
      mcapValidity.check(evidence, { preS: 2.2, postS: 1, toleranceS: 0.1 }),
      'starts at 98.000 s',
    );

    // A sensor topic that stopped early fails even when /odom covers the window.
    const stopped = healthy();
    const scan = stopped.blackboxes[0]!.contents!.channels.find((channel) => channel.topic === '/scan')!;
    scan.lastNs = TRIGGER_NS;
    expectFailure(mcapValidity.check(stopped, WINDOW), '/scan ends at 100.000 s');
  });

  test('fails when there is no trigger stamp to check the window against', () => {
    const noMeta = healthy();
    delete noMeta.blackboxes[0]!.contents!.metadata.fleetdrill;
    expectFailure(
      mcapValidity.check(noMeta, WINDOW),
      `blackbox ${KEY}: no trigger stamp to check its window against`,
    );

    const noEvent = healthy();
    noEvent.records = noEvent.records.filter((record) => record.tier !== 'events' || record.bootId !== 'b1');
    expectFailure(mcapValidity.check(noEvent, WINDOW), 'no trigger stamp');
  });

  test.describe('the window contract: max(trigger − pre, first data of the boot)', () => {
    /** A b1 collision at 100 s whose recorder had sensor data only from 99.5 s on (booted late). */
    const BOOTED_NS = 99_500_000_000n;
    const since = (ns: bigint) => new Map(['/odom', '/scan', '/imu'].map((topic) => [topic, ns]));

    /** `healthy()` with the given file in place of the reference one, and metrics that saw /odom from `odomSeenS`. */
    async function bootedLate(
      options: {
        dataFromNs?: bigint;
        odomGap?: [bigint, bigint];
        statedFromNs?: bigint;
        odomSeenS?: number;
      } = {},
    ): Promise<TelemetryEvidence> {
      const box = await writeFile({
        dataFromNs: options.dataFromNs ?? BOOTED_NS,
        odomGap: options.odomGap,
        fromNs: options.statedFromNs ?? BOOTED_NS,
        dataSinceNs: since(BOOTED_NS),
      });
      const evidence = healthy();
      evidence.blackboxes[0] = {
        ...evidence.blackboxes[0]!,
        servedSha256: box.sha256,
        contents: box.contents,
      };
      evidence.blackboxes[0].info = { ...evidence.blackboxes[0].info, sha256: box.sha256 };
      // The agent's metrics carry the sim time of the newest /odom it had: from its first one on.
      const odomSeenS = options.odomSeenS ?? Number(BOOTED_NS) / 1e9;
      evidence.records
        .filter((record) => record.bootId === 'b1' && record.tier === 'metrics')
        .forEach((record, i) => (record.simTime = odomSeenS + i * 0.05));
      return evidence;
    }

    test('a trigger soon after boot passes with the shorter window it states, and is counted as such', async () => {
      const verdict = mcapValidity.check(await bootedLate(), WINDOW);
      expectPass(verdict);
      expect(verdict.measured).toEqual({ checked: 1, shortened: 1 });
      // The same file without the contract's excuse is the flake's failure (docker-all, seed 3821963928).
      const noExcuse = await bootedLate();
      const meta = noExcuse.blackboxes[0]!.contents!.metadata.fleetdrill!;
      for (const key of Object.keys(meta)) if (key.startsWith('dataSinceNs:')) delete meta[key];
      expectFailure(
        mcapValidity.check(noExcuse, WINDOW),
        'states its window starts at 99.500 s, the contract says 98.000 s',
        '/odom starts at 99.500 s, after the start of the window 98.000 s..101.000 s',
      );
    });

    test('data missing from inside the shortened window still fails', async () => {
      // /odom has nothing from 99.5 s to 100.2 s, though the recorder says it had it from 99.5 s.
      const gap = await bootedLate({ odomGap: [BOOTED_NS, 100_200_000_000n] });
      expectFailure(
        mcapValidity.check(gap, WINDOW),
        `blackbox ${KEY}: /odom starts at 100.200 s, after the start of the window 99.500 s..101.000 s`,
      );
      // So does a file that starts later than even the boot's first data.
      const late = await bootedLate({ dataFromNs: 100_000_000_000n, statedFromNs: 100_000_000_000n });
      expectFailure(
        mcapValidity.check(late, WINDOW),
        'states its window starts at 100.000 s, the contract says 99.500 s',
      );
    });

    test('a claimed late first /odom that the metrics of the boot disprove fails', async () => {
      // Metrics of b1 saw /odom at 98.9 s: the recorder lost 0.6 s and called it "before boot".
      const evidence = await bootedLate({ odomSeenS: 98.9 });
      expectFailure(
        mcapValidity.check(evidence, WINDOW),
        `blackbox ${KEY}: says its /odom data starts at 99.500 s, yet metrics seq 1 of boot b1 saw /odom at 98.900 s`,
      );
      // Metrics of another boot say nothing about this one.
      const otherBoot = await bootedLate();
      otherBoot.records.find((record) => record.bootId === 'b2' && record.tier === 'metrics')!.simTime = 1;
      expectPass(mcapValidity.check(otherBoot, WINDOW));
    });

    test('the tier policy takes the manifest window from the same contract', async () => {
      const evidence = await bootedLate();
      const manifest = find(evidence, 'b1', 9).data as ManifestData;
      manifest.sha256 = evidence.blackboxes[0]!.info.sha256;
      manifest.fromSimTime = 99.5;
      expectFailure(tierPolicy.check(evidence, WINDOW), 'covers 99.50–101.00 s, expected 98.00–101.00 s');
      manifest.dataSinceSimTime = 99.5;
      expectPass(tierPolicy.check(evidence, WINDOW));
      // Data since before trigger − pre changes nothing: the window is the full one.
      manifest.dataSinceSimTime = 50;
      expectFailure(tierPolicy.check(evidence, WINDOW), 'expected 98.00–101.00 s');
    });
  });
});
