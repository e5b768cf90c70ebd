import { expect, test } from '@playwright/test';
import { ConfigError } from '../../core/errors.ts';
import { parseQosContract } from '../contract.ts';
import { ddsDrillsAvailability, planMatrix, runQosMatrix } from './matrix.ts';

const RELIABLE = {
  reliability: 'reliable',
  durability: 'volatile',
  history: { kind: 'keep_last', depth: 10 },
};
const BEST_EFFORT = {
  reliability: 'best_effort',
  durability: 'volatile',
  history: { kind: 'keep_last', depth: 5 },
};

/** A one-topic contract; `expect` and the subscriber's QoS are what each test breaks. */
function contract(expectations: Record<string, object>, subscriber: object = BEST_EFFORT) {
  return parseQosContract(
    {
      model: 'm',
      topics: {
        '/scan': {
          type: 'sensor_msgs/msg/LaserScan',
          publisher: BEST_EFFORT,
          subscriber,
          sample: { bytes: 200, rateHz: 100 },
          expect: expectations,
        },
        '/cmd_vel': {
          type: 'geometry_msgs/msg/Twist',
          publisher: RELIABLE,
          subscriber: RELIABLE,
          sample: { bytes: 48, rateHz: 20 },
          expect: { clear: { deliveryMin: 1 } },
        },
      },
    },
    'm.json',
  );
}

test.describe('planning a QoS matrix', () => {
  test('contract cells per topic and profile, then the sweep without repeating the contract QoS', () => {
    const plan = planMatrix({
      contract: contract({ clear: { deliveryMin: 0.9 } }),
      profiles: ['clear', 'loss-5'],
      sweepTopics: ['/cmd_vel'],
    });
    const contractCells = plan.filter((cell) => cell.variant === 'contract');
    expect(contractCells.map((cell) => `${cell.topic.name} ${cell.profile}`)).toEqual([
      '/scan clear',
      '/scan loss-5',
      '/cmd_vel clear',
      '/cmd_vel loss-5',
    ]);
    // 2 reliabilities × 3 depths, less the contract's own (reliable keep_last 10), × 2 profiles.
    const sweep = plan.filter((cell) => cell.variant === 'sweep');
    expect(sweep).toHaveLength(5 * 2);
    expect(sweep.every((cell) => cell.publisher.reliability === cell.subscriber.reliability)).toBe(true);
  });

  test('an unknown topic or profile is refused with the flag and the choices', () => {
    const c = contract({ clear: { deliveryMin: 0.9 } });
    expect(() => planMatrix({ contract: c, topics: ['/odom'] })).toThrow(ConfigError);
    expect(() => planMatrix({ contract: c, topics: ['/odom'] })).toThrow(
      "--topics '/odom' is not a topic of m.json (topics: /scan, /cmd_vel)",
    );
    expect(() => planMatrix({ contract: c, sweepTopics: ['/odom'] })).toThrow(/^--sweep '\/odom'/);
    expect(() => planMatrix({ contract: c, profiles: ['wifi-great'] })).toThrow(
      /not a datagram link profile/,
    );
  });
});

test.describe('the QoS matrix judges real DDS against the contract', () => {
  test.beforeAll(async () => {
    const available = await ddsDrillsAvailability();
    test.skip(!available.ok, available.ok ? '' : `real DDS needs: ${available.missing}`);
  });

  test('a contract the link cannot meet fails, naming topic, profile, limit and figure; one it can meet passes', async () => {
    // Best effort at 20 % loss delivers about 80 %: a 95 % floor is broken, a 60 % floor holds.
    const [broken, kept] = await Promise.all([
      runQosMatrix({
        contract: contract({ 'loss-20': { deliveryMin: 0.95 } }),
        topics: ['/scan'],
        profiles: ['loss-20'],
        seed: 1,
        measureMs: 2_000,
      }),
      runQosMatrix({
        contract: contract({ 'loss-20': { deliveryMin: 0.6 } }),
        topics: ['/scan'],
        profiles: ['loss-20'],
        seed: 1,
        measureMs: 2_000,
      }),
    ]);
    expect(broken.verdict).toBe('fail');
    expect(broken.topics[0]!.reasons.join('\n')).toMatch(
      /\/scan on loss-20: delivered \d+(\.\d)? % \(\d+ of \d+\)/,
    );
    expect(kept.verdict).toBe('pass');
    expect(kept.cells[0]!.measurement!.published).toBeGreaterThanOrEqual(100);
  });

  test('an incompatible pair in the contract fails as incompatible QoS, with what each side asked for', async () => {
    const result = await runQosMatrix({
      contract: contract({ clear: { deliveryMin: 0.9 } }, { ...BEST_EFFORT, reliability: 'reliable' }),
      topics: ['/scan'],
      profiles: ['clear'],
      seed: 1,
    });
    expect(result.verdict).toBe('fail');
    expect(result.cells[0]!.matched).toBe(false);
    expect(result.topics[0]!.reasons).toContain(
      '/scan on clear: incompatible QoS: RELIABILITY (publisher offers best_effort, subscriber requests reliable)',
    );
    expect(result.findings.map((finding) => finding.kind)).toContain('incompatible-reliability');
  });
});
