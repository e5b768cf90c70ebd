import { expect, test } from '@playwright/test';
import { ConfigError } from '../../core/errors.ts';
import { parseUdpProfile } from '../udp-profiles.ts';
import { planConditions } from './conditions.ts';

test('the relay path runs every condition in the relay, both streams, and rate in tbf', () => {
  const plan = planConditions(
    {
      lossPct: 20,
      burst: { pGoodToBad: 0.05, pBadToGood: 0.3, lossInBadPct: 80 },
      delayMs: 30,
      rateKbit: 500,
    },
    'relay',
    false,
  );
  expect(plan.toxics.map((t) => `${String(t.type)}/${String(t.stream)}`)).toEqual([
    'loss/upstream',
    'loss/downstream',
    'gilbert_elliott/upstream',
    'gilbert_elliott/downstream',
    'latency/upstream',
    'latency/downstream',
  ]);
  expect(plan.toxics[0]!.attributes).toEqual({ probability: 0.2 });
  expect(plan.toxics[2]!.attributes).toEqual({
    p_good_bad: 0.05,
    p_bad_good: 0.3,
    loss_bad: 0.8,
    loss_good: 0,
  });
  expect(plan.tbfKbit).toBe(500);
  expect(plan.mechanisms).toEqual({ lossPct: 'relay', burst: 'relay', delayMs: 'relay', rateKbit: 'tbf' });
  expect(planConditions({ down: true }, 'relay', false)).toMatchObject({ relayEnabled: false, toxics: [] });
});

test('the direct path drops in nft, limits in tbf, and refuses what only the relay can do', () => {
  expect(planConditions({ lossPct: 12.5, rateKbit: 800 }, 'direct', false)).toMatchObject({
    nft: { dropPpm: 125_000, down: false },
    tbfKbit: 800,
    mechanisms: { lossPct: 'nft', rateKbit: 'tbf' },
  });
  expect(planConditions({ down: true }, 'direct', false).nft.down).toBe(true);
  expect(() => planConditions({ delayMs: 10 }, 'direct', false)).toThrow(
    'conditions.delayMs needs the relay path here: this kernel has no netem',
  );
  expect(() => planConditions({ jitterMs: 3 }, 'direct', false)).toThrow(/conditions\.jitterMs needs/);
  expect(() => planConditions(parseUdpProfile('burst').conditions, 'direct', false)).toThrow(
    /conditions\.burst needs the relay path/,
  );
  expect(() => planConditions({ duplicatePct: 1 }, 'direct', false)).toThrow(
    /duplicatePct needs the relay path/,
  );
  expect(() => planConditions({ reorderPct: 1 }, 'direct', false)).toThrow(/reorderPct needs the relay path/);
  // Where netem exists, it carries delay and (one root qdisc per device) the rate as well.
  expect(planConditions({ delayMs: 10, jitterMs: 2, rateKbit: 900 }, 'direct', true)).toMatchObject({
    netem: { delayMs: 10, jitterMs: 2, rateKbit: 900 },
    mechanisms: { delayMs: 'netem', jitterMs: 'netem', rateKbit: 'netem' },
  });
});

test('bad conditions are refused naming the field', () => {
  const cases: Array<[object, string]> = [
    [{ lossPct: 120 }, 'conditions.lossPct'],
    [{ lossPct: -1 }, 'conditions.lossPct'],
    [{ delayMs: Number.NaN }, 'conditions.delayMs'],
    [{ rateKbit: 0 }, 'conditions.rateKbit'],
    [{ down: 'yes' }, 'conditions.down'],
    [{ burst: { pGoodToBad: 2, pBadToGood: 0.3, lossInBadPct: 80 } }, 'conditions.burst.pGoodToBad'],
  ];
  for (const [conditions, path] of cases) {
    let error: unknown;
    try {
      planConditions(conditions, 'relay', false);
    } catch (e) {
      error = e;
    }
    expect(error, JSON.stringify(conditions)).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).path).toBe(path);
  }
});

test('every built-in datagram profile plans on the relay path', () => {
  for (const name of ['clear', 'wifi-good', 'wifi-edge', 'lte', 'dead', 'loss-20', 'burst', 'dead-zone-2s']) {
    const plan = planConditions(parseUdpProfile(name).conditions, 'relay', false);
    expect(
      Object.values(plan.mechanisms).every((m) => m === 'relay' || m === 'tbf'),
      name,
    ).toBe(true);
  }
});
