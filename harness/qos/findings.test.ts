import { expect, test } from '@playwright/test';
import { contractForModel, parseQosContract, type QosContract } from './contract.ts';
import {
  arrivalProbability,
  findingsFor,
  fragmentsOf,
  incompatibilities,
  CYCLONE_FRAGMENT_BYTES,
  type QosFinding,
} from './findings.ts';
import { DEFAULT_QOS, SENSOR_DATA_QOS, type TopicQos } from './policy.ts';

/** A one-topic contract; the topic's fields override a reliable 20 Hz default. */
function contractWith(topic: Record<string, unknown>): QosContract {
  return parseQosContract(
    {
      model: 'test-bot',
      topics: {
        '/t': {
          type: 'std_msgs/msg/String',
          publisher: DEFAULT_QOS,
          subscriber: DEFAULT_QOS,
          sample: { bytes: 100, rateHz: 20 },
          expect: { 'loss-1': { deliveryMin: 1 } },
          ...topic,
        },
      },
    },
    'test-bot.json',
  );
}

const kinds = (findings: readonly QosFinding[]) => findings.map((f) => f.kind);

test('the reference contract has no findings on its own profiles', () => {
  expect(findingsFor(contractForModel('fd-amr-1'))).toEqual([]);
});

test('each incompatible pair fires with both sides named, and a good pair stays quiet', () => {
  const reliable: TopicQos = { ...DEFAULT_QOS };
  expect(incompatibilities(reliable, reliable)).toEqual([]);
  // Offering more than requested is fine.
  expect(
    incompatibilities(
      {
        ...DEFAULT_QOS,
        durability: 'transient_local',
        deadlineMs: 50,
        liveliness: { kind: 'manual_by_topic', leaseMs: 100 },
      },
      { ...SENSOR_DATA_QOS, deadlineMs: 100, liveliness: { kind: 'automatic', leaseMs: 1000 } },
    ),
  ).toEqual([]);

  const cases: Array<[TopicQos, TopicQos, string, string]> = [
    [
      SENSOR_DATA_QOS,
      DEFAULT_QOS,
      'incompatible-reliability',
      'RELIABILITY: the publisher offers best_effort, the subscriber requests reliable',
    ],
    [
      DEFAULT_QOS,
      { ...DEFAULT_QOS, durability: 'transient_local' },
      'incompatible-durability',
      'DURABILITY: the publisher offers volatile, the subscriber requests transient_local',
    ],
    [
      { ...DEFAULT_QOS, deadlineMs: 200 },
      { ...DEFAULT_QOS, deadlineMs: 100 },
      'incompatible-deadline',
      'DEADLINE: the publisher offers 200 ms, the subscriber requests 100 ms',
    ],
    [
      DEFAULT_QOS,
      { ...DEFAULT_QOS, deadlineMs: 100 },
      'incompatible-deadline',
      'DEADLINE: the publisher offers infinite, the subscriber requests 100 ms',
    ],
    [
      DEFAULT_QOS,
      { ...DEFAULT_QOS, liveliness: { kind: 'manual_by_topic' } },
      'incompatible-liveliness',
      'LIVELINESS: the publisher offers automatic, lease infinite, the subscriber requests manual_by_topic, lease infinite',
    ],
    [
      { ...DEFAULT_QOS, liveliness: { kind: 'automatic', leaseMs: 3000 } },
      { ...DEFAULT_QOS, liveliness: { kind: 'automatic', leaseMs: 1000 } },
      'incompatible-liveliness',
      'LIVELINESS: the publisher offers automatic, lease 3000 ms',
    ],
  ];
  for (const [publisher, subscriber, kind, words] of cases) {
    const findings = findingsFor(contractWith({ publisher, subscriber }));
    expect(kinds(findings), kind).toEqual([kind]);
    expect(findings[0]).toMatchObject({ topic: '/t', severity: 'error' });
    expect(findings[0]!.message).toContain(`/t: incompatible QoS: ${words}`);
  }
});

test('a publisher whose rate cannot keep its own deadline', () => {
  const slow = findingsFor(
    contractWith({ publisher: { ...DEFAULT_QOS, deadlineMs: 40 }, subscriber: DEFAULT_QOS }),
  );
  expect(kinds(slow)).toEqual(['deadline-unkeepable']);
  expect(slow[0]!.message).toBe(
    '/t: published at 20 Hz (every 50 ms) but offers a deadline of 40 ms: every period misses it',
  );
  expect(findingsFor(contractWith({ publisher: { ...DEFAULT_QOS, deadlineMs: 50 } }))).toEqual([]);
});

test('fragments and P(arrive): independent and burst loss', () => {
  expect(CYCLONE_FRAGMENT_BYTES).toBe(1344);
  expect(fragmentsOf(48)).toBe(1);
  expect(fragmentsOf(1344)).toBe(1);
  expect(fragmentsOf(1345)).toBe(2);
  expect(fragmentsOf(64 * 1024)).toBe(49);
  expect(arrivalProbability(49, { lossPct: 1 })).toBeCloseTo(0.99 ** 49, 12);
  expect(arrivalProbability(1, { lossPct: 20 })).toBeCloseTo(0.8, 12);
  expect(arrivalProbability(3, {})).toBe(1);
  expect(arrivalProbability(3, { down: true })).toBe(0);
  // Gilbert–Elliott, one fragment: the stationary keep rate. Stationary bad = 0.05 / 0.35.
  const burst = { pGoodToBad: 0.05, pBadToGood: 0.3, lossInBadPct: 80 };
  const bad = 0.05 / 0.35;
  expect(arrivalProbability(1, { burst })).toBeCloseTo(1 - bad * 0.8, 12);
  // Clumped loss spares a long sample more than the same mean loss spread evenly.
  expect(arrivalProbability(49, { burst })).toBeGreaterThan((1 - bad * 0.8) ** 49);
});

test('a large best-effort sample on a lossy link fires with the numbers; small or reliable does not', () => {
  const big = {
    publisher: SENSOR_DATA_QOS,
    subscriber: SENSOR_DATA_QOS,
    sample: { bytes: 64 * 1024, rateHz: 1 },
    expect: { 'loss-1': { deliveryMin: 0.95 }, clear: { deliveryMin: 0.95 } },
  };
  const findings = findingsFor(contractWith(big));
  expect(kinds(findings)).toEqual(['best-effort-fragments']);
  expect(findings[0]).toMatchObject({
    id: 'best-effort-fragments /t @loss-1',
    profile: 'loss-1',
    severity: 'error',
  });
  expect(findings[0]!.message).toBe(
    '/t: 64 KB in 49 fragments at 1 % loss (loss-1): 61 % arrive on best effort, contract wants 95 %',
  );
  expect(findingsFor(contractWith({ ...big, sample: { bytes: 1000, rateHz: 1 } }))).toEqual([]);
  // A path that drops whole 14720 B datagrams loses 5 units, not 49: 95 % arrive, enough.
  expect(findingsFor(contractWith(big), undefined, { lossUnitBytes: 14720 })).toEqual([]);
  // Best effort on either end makes delivery best effort; reliable on both repairs fragments.
  expect(kinds(findingsFor(contractWith({ ...big, publisher: DEFAULT_QOS })))).toEqual([
    'best-effort-fragments',
  ]);
  expect(findingsFor(contractWith({ ...big, publisher: DEFAULT_QOS, subscriber: DEFAULT_QOS }))).toEqual([]);
  // No deliveryMin for the profile: nothing to fall short of.
  expect(findingsFor(contractWith({ ...big, expect: { 'loss-1': { ageP99MaxMs: 5000 } } }))).toEqual([]);
});

test('reliable keep_all over a rate cap blocks the writer; keep_last or a wide link does not', () => {
  const keepAll: TopicQos = { ...DEFAULT_QOS, history: { kind: 'keep_all' } };
  // wifi-edge caps the link at 60 KB/s (480 kbit/s): 64 KB at 2 Hz cannot pass.
  const map = {
    publisher: keepAll,
    subscriber: keepAll,
    sample: { bytes: 64 * 1024, rateHz: 2 },
    expect: { 'wifi-edge': { deliveryMin: 1 } },
  };
  const findings = findingsFor(contractWith(map));
  expect(kinds(findings)).toEqual(['keep-all-over-cap', 'link-over-cap']);
  expect(findings[0]!.message).toBe(
    '/t: reliable keep_all offers 139 kB/s (64 KB at 2 Hz) over a 60 kB/s link (wifi-edge): unacknowledged samples pile up and the writer blocks',
  );
  expect(findings[1]).toMatchObject({ topic: '*', severity: 'warning', profile: 'wifi-edge' });
  expect(kinds(findingsFor(contractWith({ ...map, publisher: DEFAULT_QOS })))).toEqual(['link-over-cap']);
  expect(findingsFor(contractWith({ ...map, sample: { bytes: 1024, rateHz: 2 } }))).toEqual([]);
  // The caller can ask about profiles the contract does not list.
  expect(
    kinds(findingsFor(contractWith({ ...map, expect: { clear: { deliveryMin: 1 } } }), ['lte'])),
  ).toEqual([]);
  expect(
    kinds(findingsFor(contractWith({ ...map, expect: { clear: { deliveryMin: 1 } } }), ['wifi-edge'])),
  ).toEqual(['keep-all-over-cap', 'link-over-cap']);
});
