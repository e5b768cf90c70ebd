import { expect, test } from '@playwright/test';
import { parseQosContract, type TopicContract } from './contract.ts';
import {
  judgeCell,
  MIN_SAMPLES,
  summariseTopic,
  summariseTopics,
  wilsonUpper,
  type CellMeasured,
  type JudgedCell,
} from './judge.ts';
import { DEFAULT_QOS, SENSOR_DATA_QOS } from './policy.ts';

const contract = parseQosContract(
  {
    model: 'test-bot',
    topics: {
      '/cmd_vel': {
        type: 'geometry_msgs/msg/Twist',
        publisher: DEFAULT_QOS,
        subscriber: DEFAULT_QOS,
        sample: { bytes: 48, rateHz: 20 },
        expect: {
          'loss-10': { deliveryMin: 1, latencyP99MaxMs: 500 },
          'dead-zone-2s': { deliveryMin: 1, stallMaxMs: 3000 },
        },
      },
      '/scan': {
        type: 'sensor_msgs/msg/LaserScan',
        publisher: SENSOR_DATA_QOS,
        subscriber: DEFAULT_QOS,
        sample: { bytes: 1500, rateHz: 10 },
        expect: { 'loss-10': { deliveryMin: 0.75, ageP99MaxMs: 300 } },
      },
    },
  },
  'test-bot.json',
);
const cmdVel = contract.topics[0]!;
const scan = contract.topics[1]!;

/** A healthy cell: 200 of 200 delivered quickly; each test breaks one field. */
function healthy(over: Partial<CellMeasured> = {}): CellMeasured {
  return {
    published: 200,
    received: 200,
    deliveredRatio: 1,
    latencyMs: { p50: 2, p99: 40, max: 60 },
    longestGapMs: 80,
    ageP99Ms: 120,
    matched: true,
    retransmits: 3,
    ...over,
  };
}

test('a cell that meets every limit passes', () => {
  expect(judgeCell(cmdVel, 'loss-10', healthy())).toEqual({ verdict: 'pass', reasons: [] });
  expect(judgeCell(cmdVel, 'dead-zone-2s', healthy({ longestGapMs: 2400 }))).toEqual({
    verdict: 'pass',
    reasons: [],
  });
});

test('each broken limit fails with topic, profile, limit and measured value', () => {
  const cases: Array<[TopicContract, string, Partial<CellMeasured>, string]> = [
    [
      cmdVel,
      'loss-10',
      { received: 199, deliveredRatio: 199 / 200 },
      '/cmd_vel on loss-10: delivered 99.5 % (199 of 200), contract wants >= 100 %',
    ],
    [
      cmdVel,
      'loss-10',
      { latencyMs: { p50: 5, p99: 612.34, max: 900 } },
      '/cmd_vel on loss-10: latency p99 612.3 ms, contract allows <= 500 ms',
    ],
    [
      cmdVel,
      'dead-zone-2s',
      { longestGapMs: 4100 },
      '/cmd_vel on dead-zone-2s: longest stall 4100 ms, contract allows <= 3000 ms',
    ],
    [
      scan,
      'loss-10',
      { ageP99Ms: 450 },
      "/scan on loss-10: newest sample's age p99 450 ms, contract allows <= 300 ms",
    ],
    [
      scan,
      'loss-10',
      { received: 120, deliveredRatio: 0.6 },
      '/scan on loss-10: delivered 60 % (120 of 200), contract wants >= 75 %',
    ],
  ];
  for (const [topic, profile, over, reason] of cases) {
    expect(judgeCell(topic, profile, healthy(over)), reason).toEqual({ verdict: 'fail', reasons: [reason] });
  }
  // Several broken limits are all named.
  const both = judgeCell(
    cmdVel,
    'loss-10',
    healthy({ received: 190, deliveredRatio: 0.95, latencyMs: { p50: 5, p99: 700, max: 900 } }),
  );
  expect(both).toEqual({
    verdict: 'fail',
    reasons: [
      '/cmd_vel on loss-10: delivered 95 % (190 of 200), contract wants >= 100 %',
      '/cmd_vel on loss-10: latency p99 700 ms, contract allows <= 500 ms',
    ],
  });
});

test('an incompatibility is always a fail named as such, never a timeout or could-not-tell', () => {
  // Nothing matched and nothing arrived: still a fail, because the stack said why.
  const silent = healthy({
    matched: false,
    published: 3,
    received: 0,
    deliveredRatio: 0,
    incompatible: ['RELIABILITY'],
  });
  expect(judgeCell(scan, 'loss-10', silent)).toEqual({
    verdict: 'fail',
    reasons: [
      '/scan on loss-10: incompatible QoS: RELIABILITY (publisher offers best_effort, subscriber requests reliable)',
    ],
  });
  // A policy the contract does not explain is still named.
  expect(judgeCell(cmdVel, 'loss-10', healthy({ incompatible: ['durability'] })).reasons).toEqual([
    '/cmd_vel on loss-10: incompatible QoS: DURABILITY',
  ]);
});

test('thin or inconsistent evidence is could-not-tell, unless a limit clearly broke', () => {
  const cnt = (topic: TopicContract, profile: string, over: Partial<CellMeasured>) =>
    judgeCell(topic, profile, healthy(over));
  expect(cnt(cmdVel, 'loss-10', { published: MIN_SAMPLES - 1, received: 19, deliveredRatio: 1 })).toEqual({
    verdict: 'could-not-tell',
    reasons: ['/cmd_vel on loss-10: only 19 samples published, fewer than the 20 a verdict needs'],
  });
  expect(cnt(cmdVel, 'loss-10', { published: MIN_SAMPLES, received: 20, deliveredRatio: 1 }).verdict).toBe(
    'pass',
  );
  const unmatched = cnt(cmdVel, 'loss-10', { matched: false, received: 0, deliveredRatio: 0 });
  expect(unmatched.verdict).toBe('could-not-tell');
  expect(unmatched.reasons[0]).toContain('never matched and no incompatibility was reported');
  expect(cnt(cmdVel, 'loss-10', { received: 201, deliveredRatio: 1.005 }).reasons[0]).toContain(
    'inconsistent measurement',
  );
  expect(cnt(cmdVel, 'loss-10', { received: 150, deliveredRatio: 1 }).verdict).toBe('could-not-tell');
  expect(cnt(cmdVel, 'wifi-edge', {}).reasons).toEqual([
    '/cmd_vel on wifi-edge: the contract sets no expectation for wifi-edge',
  ]);
  // A freshness limit with no age measured cannot be told...
  expect(cnt(scan, 'loss-10', { ageP99Ms: undefined }).verdict).toBe('could-not-tell');
  // ...but a delivery that clearly failed still fails.
  expect(cnt(scan, 'loss-10', { ageP99Ms: undefined, received: 100, deliveredRatio: 0.5 }).verdict).toBe(
    'fail',
  );
  // Nothing arrived on a latency-limited cell: the delivery fail carries the verdict.
  expect(cnt(cmdVel, 'loss-10', { received: 0, deliveredRatio: 0 }).verdict).toBe('fail');
});

test('summariseTopic: any fail fails, any could-not-tell (or no cells) cannot tell, else pass', () => {
  const cell = (
    profile: string,
    verdict: JudgedCell['judgement']['verdict'],
    reason = `${profile} ${verdict}`,
  ): JudgedCell => ({
    topic: '/cmd_vel',
    profile,
    judgement: { verdict, reasons: verdict === 'pass' ? [] : [reason] },
  });
  expect(summariseTopic([cell('clear', 'pass'), cell('loss-10', 'pass')])).toMatchObject({
    verdict: 'pass',
    reasons: [],
  });
  expect(summariseTopic([cell('clear', 'pass'), cell('loss-10', 'could-not-tell')])).toMatchObject({
    verdict: 'could-not-tell',
    reasons: ['loss-10 could-not-tell'],
  });
  expect(
    summariseTopic([cell('clear', 'fail'), cell('loss-10', 'could-not-tell'), cell('burst', 'pass')]),
  ).toMatchObject({
    verdict: 'fail',
    counts: { pass: 1, fail: 1, 'could-not-tell': 1 },
  });
  expect(summariseTopic([]).verdict).toBe('could-not-tell');
  expect(() => summariseTopic([cell('clear', 'pass'), { ...cell('clear', 'pass'), topic: '/scan' }])).toThrow(
    /one topic's cells/,
  );
  const many = summariseTopics([cell('clear', 'pass'), { ...cell('clear', 'fail'), topic: '/scan' }]);
  expect(many.map((s) => [s.topic, s.verdict])).toEqual([
    ['/cmd_vel', 'pass'],
    ['/scan', 'fail'],
  ]);
});

test('delivery below the minimum fails only beyond chance; one loss on a must-deliver-all topic always fails', () => {
  // 70 % of 200 against 75 %: a best-effort coin could do that; 70 % of 2000 could not.
  const few = judgeCell(scan, 'loss-10', healthy({ received: 140, deliveredRatio: 0.7 }));
  expect(few.verdict).toBe('could-not-tell');
  expect(few.reasons[0]).toMatch(
    /^\/scan on loss-10: delivered 70 % \(140 of 200\), below the 75 % wanted but within chance at 200 samples \(99 % interval up to 7\d\.\d %\): more samples needed$/,
  );
  const many = judgeCell(scan, 'loss-10', healthy({ published: 2000, received: 1400, deliveredRatio: 0.7 }));
  expect(many).toEqual({
    verdict: 'fail',
    reasons: ['/scan on loss-10: delivered 70 % (1400 of 2000), contract wants >= 75 %'],
  });
  expect(
    judgeCell(cmdVel, 'loss-10', healthy({ published: 20, received: 19, deliveredRatio: 0.95 })).verdict,
  ).toBe('fail');
  expect(wilsonUpper(200, 200)).toBe(1);
  expect(wilsonUpper(199, 200)).toBeLessThan(1);
  expect(wilsonUpper(0, 0)).toBe(1);
  expect(wilsonUpper(160, 200)).toBeCloseTo(0.86, 2);
});
