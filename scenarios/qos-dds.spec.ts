import {
  qosMatrixChart,
  arrivalProbability,
  contractForModel,
  findingsFor,
  fragmentsOf,
  parseQosContract,
  ddsDrillsAvailability,
  expect,
  measureDdsLink,
  plotCells,
  REDUCED_MATRIX_PROFILES,
  runQosMatrix,
  test,
  type DdsCellResult,
  type QosMatrixResult,
} from '../harness/index.ts';

// Real DDS: Eclipse Cyclone DDS participants "robot" and "off-board" in two network namespaces,
// their traffic through fleetdrill's seeded UDP relay (loss, bursts, delay) or a dead zone.
// Root and Cyclone DDS's development files are needed; without them the drills say what is missing.

const RELIABLE_ALL = {
  reliability: 'reliable',
  durability: 'volatile',
  history: { kind: 'keep_all' },
} as const;
const BEST_EFFORT = {
  reliability: 'best_effort',
  durability: 'volatile',
  history: { kind: 'keep_last', depth: 5 },
} as const;

function measured(result: DdsCellResult, what: string) {
  expect(result.incompatible, `${what}: incompatible QoS`).toEqual([]);
  expect(result.couldNotTell, `${what}: could not tell`).toBeUndefined();
  expect(result.measurement, `${what}: measured`).not.toBeNull();
  return result.measurement!;
}

/**
 * Attaches the matrix (plot and JSON) and judges it: a topic that broke its contract or an error
 * finding fails the drill; what could not be judged (a busy machine) skips it, saying what.
 */
async function judgeMatrix(result: QosMatrixResult, model: string, seed: number): Promise<void> {
  await test.info().attach('qos-matrix.svg', {
    body: await qosMatrixChart(plotCells(result), `QoS matrix: ${model}, seed ${seed}`),
    contentType: 'image/svg+xml',
  });
  await test.info().attach('qos-matrix.json', {
    body: JSON.stringify(result, null, 2),
    contentType: 'application/json',
  });
  const failed = result.topics.filter((topic) => topic.verdict === 'fail').flatMap((topic) => topic.reasons);
  expect(failed, 'topics that broke their contract').toEqual([]);
  const errors = result.findings.filter((finding) => finding.severity === 'error').map((f) => f.message);
  expect(errors, 'misconfigurations in the contract').toEqual([]);
  const unsure = result.topics.filter((topic) => topic.verdict === 'could-not-tell');
  test.skip(unsure.length > 0, `could not tell: ${unsure.flatMap((topic) => topic.reasons).join('; ')}`);
  expect(result.verdict).toBe('pass');
}

// Every drill here needs root and Cyclone DDS's development files; without them, each says what is missing.
test.beforeAll(async () => {
  const available = await ddsDrillsAvailability();
  test.skip(!available.ok, available.ok ? '' : `real DDS drills need: ${available.missing}`);
});

test.describe('QoS over real DDS', { tag: ['@qos', '@nightly', '@release', '@QOS-002'] }, () => {
  test('at 20 % random loss reliable delivers everything, later, and best effort delivers 80 % ± 4 %', async ({
    seed,
  }) => {
    // 400 Hz for 4 s: 1600 samples put 80 % ± 4 % at four standard deviations.
    const sample = { bytes: 64, rateHz: 400 };
    const [clear, reliable, bestEffort] = await Promise.all([
      measureDdsLink({ seed, profile: 'clear', topic: '/reliable_clear', publisher: RELIABLE_ALL, sample }),
      measureDdsLink({ seed, profile: 'loss-20', topic: '/reliable_lossy', publisher: RELIABLE_ALL, sample }),
      measureDdsLink({
        seed,
        profile: 'loss-20',
        topic: '/best_effort_lossy',
        publisher: BEST_EFFORT,
        sample,
      }),
    ]);
    const base = measured(clear, 'reliable on a clear link');
    const lossy = measured(reliable, 'reliable at 20 % loss');
    const dropped = measured(bestEffort, 'best effort at 20 % loss');
    test.info().annotations.push({
      type: 'figures',
      description:
        `reliable p50/p99 ${base.latencyMs.p50.toFixed(1)}/${base.latencyMs.p99.toFixed(1)} ms clear, ` +
        `${lossy.latencyMs.p50.toFixed(1)}/${lossy.latencyMs.p99.toFixed(1)} ms at 20 % loss ` +
        `(${reliable.retransmitBytes ?? '?'} B retransmitted); best effort ${(dropped.deliveredRatio * 100).toFixed(1)} %`,
    });
    expect(base.deliveredRatio).toBe(1);
    // A publisher starved of CPU sends fewer samples: too few to judge is "could not tell", not wrong.
    test.skip(
      lossy.published <= 1000,
      `could not tell: the lossy publisher sent only ${lossy.published} samples (a busy machine)`,
    );
    expect(lossy.deliveredRatio, 'reliable repairs every loss').toBe(1);
    expect(lossy.latencyMs.p99, 'repairs cost latency').toBeGreaterThan(base.latencyMs.p99);
    expect(reliable.retransmitBytes ?? 1, 'the writer retransmitted').toBeGreaterThan(0);
    expect(dropped.published).toBeGreaterThan(1000);
    expect(dropped.deliveredRatio).toBeGreaterThanOrEqual(0.76);
    expect(dropped.deliveredRatio).toBeLessThanOrEqual(0.84);
  });

  test('a 2 s dead zone: reliable delivers everything after it, best effort resumes fresh and loses what fell inside', async ({
    seed,
  }) => {
    const sample = { bytes: 64, rateHz: 50 };
    const [reliable, bestEffort] = await Promise.all([
      measureDdsLink({
        seed,
        profile: 'dead-zone-2s',
        topic: '/zone_reliable',
        publisher: RELIABLE_ALL,
        sample,
      }),
      measureDdsLink({
        seed,
        profile: 'dead-zone-2s',
        topic: '/zone_best_effort',
        publisher: BEST_EFFORT,
        sample,
      }),
    ]);
    const held = measured(reliable, 'reliable through the zone');
    expect(held.deliveredRatio, 'reliable keep_all loses nothing').toBe(1);
    expect(held.longestGapMs, 'the stall is about the zone').toBeGreaterThan(1_800);
    expect(held.longestGapMs).toBeLessThan(3_500);
    expect(held.latencyMs.max, 'what was held arrived late').toBeGreaterThan(1_500);

    const fresh = measured(bestEffort, 'best effort through the zone');
    // The window is 1 s before, 2 s in and 2 s after the zone: about 2/5 of it falls inside.
    expect(fresh.deliveredRatio).toBeGreaterThan(0.5);
    expect(fresh.deliveredRatio).toBeLessThan(0.7);
    expect(fresh.longestGapMs).toBeGreaterThan(1_800);
    expect(fresh.longestGapMs).toBeLessThan(2_600);
    // Nothing from inside the zone was replayed: what arrived was fresh when it came.
    expect(fresh.latencyMs.max, 'best effort never delivers stale samples').toBeLessThan(200);
  });

  test('an incompatible QoS pair is reported as incompatible within 5 s, not as a timeout', async ({
    seed,
  }) => {
    const sample = { bytes: 64, rateHz: 20 };
    const [reliability, durability] = await Promise.all([
      measureDdsLink({
        seed,
        profile: 'clear',
        topic: '/mismatch_reliability',
        publisher: BEST_EFFORT,
        subscriber: { ...BEST_EFFORT, reliability: 'reliable' },
        sample,
      }),
      measureDdsLink({
        seed,
        profile: 'clear',
        topic: '/mismatch_durability',
        publisher: RELIABLE_ALL,
        subscriber: { ...RELIABLE_ALL, durability: 'transient_local' },
        sample,
      }),
    ]);
    for (const [result, policy] of [
      [reliability, 'RELIABILITY'],
      [durability, 'DURABILITY'],
    ] as const) {
      expect(result.incompatible, `${result.topic}`).toContain(policy);
      expect(result.matched).toBe(false);
      expect(result.discoveryMs).toBeLessThan(5_000);
      expect(result.couldNotTell).toBeUndefined();
    }
  });

  test('a large best-effort sample arrives only if every fragment does: (1 − p)^fragments', async ({
    seed,
  }) => {
    // 16 000 B in 1344 B fragments is 12 frames; at 5 % loss about 54 % of the samples arrive.
    const sample = { bytes: 16_000, rateHz: 100 };
    const [big, smallResult] = await Promise.all([
      measureDdsLink({ seed, profile: 'loss-5', topic: '/big_best_effort', publisher: BEST_EFFORT, sample }),
      // The same traffic in samples small enough for one frame each.
      measureDdsLink({
        seed,
        profile: 'loss-5',
        topic: '/small_best_effort',
        publisher: BEST_EFFORT,
        sample: { bytes: 1_000, rateHz: 100 },
      }),
    ]);
    const predicted = arrivalProbability(fragmentsOf(sample.bytes), { lossPct: 5 });
    const m = measured(big, 'a 16 KB best-effort sample at 5 % loss');
    test.info().annotations.push({
      type: 'figures',
      description: `predicted ${(predicted * 100).toFixed(1)} %, delivered ${(m.deliveredRatio * 100).toFixed(1)} % of ${m.published}`,
    });
    expect(m.published).toBeGreaterThan(300);
    // 400 samples: ± 0.1 is more than four standard deviations.
    expect(Math.abs(m.deliveredRatio - predicted)).toBeLessThan(0.1);
    // One frame per sample loses only the link's 5 %.
    const small = measured(smallResult, 'a 1 KB best-effort sample at 5 % loss');
    expect(small.deliveredRatio).toBeGreaterThan(m.deliveredRatio + 0.2);
  });

  test('reliable keep_all behind a rate cap blocks the writer, as the contract findings predict', async ({
    seed,
  }) => {
    // 1000 B at 200 Hz is 1.6 Mbit/s; wifi-edge carries 480 kbit/s.
    const sample = { bytes: 1_000, rateHz: 200 };
    const result = await measureDdsLink({
      seed,
      profile: 'wifi-edge',
      topic: '/keep_all_capped',
      publisher: RELIABLE_ALL,
      sample,
    });
    const m = measured(result, 'reliable keep_all over wifi-edge');
    expect(result.mechanisms.rateKbit, 'the cap was the kernel token bucket').toBe('tbf');
    expect(result.writeTimeouts, 'writes that blocked past max_blocking_time').toBeGreaterThan(0);
    expect(result.longestWriteMs).toBeGreaterThanOrEqual(90);
    expect(m.published, 'the writer was held to the link, far below 800 writes').toBeLessThan(400);
    expect(m.deliveredRatio, 'what was written still arrives').toBe(1);
    const contract = parseQosContract(
      {
        model: 'capped',
        topics: {
          '/keep_all_capped': {
            type: 'std_msgs/msg/ByteMultiArray',
            publisher: RELIABLE_ALL,
            subscriber: RELIABLE_ALL,
            sample,
            expect: { 'wifi-edge': { deliveryMin: 1 } },
          },
        },
      },
      'capped.json',
    );
    expect(findingsFor(contract).map((finding) => finding.kind)).toContain('keep-all-over-cap');
  });

  test("the reduced QoS matrix: the reference robot's /cmd_vel and /scan against its contract", async ({
    seed,
  }) => {
    test.setTimeout(120_000);
    const contract = contractForModel('fd-amr-1');
    const result = await runQosMatrix({
      contract,
      topics: ['/cmd_vel', '/scan'],
      profiles: REDUCED_MATRIX_PROFILES,
      seed,
      // 50 /scan samples per cell: enough for its delivery floor to tell loss from chance.
      measureMs: 5_000,
      // Cells mostly wait on the link: three at once fit two cores.
      lanes: 3,
    });
    expect(result.cells).toHaveLength(2 * REDUCED_MATRIX_PROFILES.length);
    await judgeMatrix(result, contract.model, seed);
  });
});

test.describe('QoS over real DDS: the full matrix', { tag: ['@qos-matrix', '@nightly'] }, () => {
  test("every topic of the reference robot's contract over loss 0–20 %, bursts and a 2 s dead zone", async ({
    seed,
  }) => {
    // 56 cells, three side by side; the 1 Hz topics need 25 s windows for a verdict.
    test.setTimeout(20 * 60_000);
    const contract = contractForModel('fd-amr-1');
    const result = await runQosMatrix({ contract, seed, lanes: 3 });
    await judgeMatrix(result, contract.model, seed);
  });
});
