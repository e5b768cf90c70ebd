import { expect, test } from '@playwright/test';
import { ConfigError } from '../core/errors.ts';
import { SeededRandom } from '../core/seed.ts';
import { BUILTIN_PROFILES, combinePhases, ProfileRegistry } from './profiles.ts';

test('the built-in profiles are there and steady ones are one phase', () => {
  expect([...BUILTIN_PROFILES.keys()]).toEqual(
    expect.arrayContaining([
      'wifi-good',
      'wifi-congested',
      'wifi-edge',
      'roaming-handover',
      'lte',
      'dead',
      'down',
    ]),
  );
  const random = new SeededRandom(1);
  const dead = BUILTIN_PROFILES.get('dead')!.phases(random);
  expect(dead).toHaveLength(1);
  expect(dead[0]!.toxics.map((t) => [t.type, t.stream, t.attributes.timeout])).toEqual([
    ['timeout', 'downstream', 0],
    ['timeout', 'upstream', 0],
  ]);
  expect(BUILTIN_PROFILES.get('down')!.phases(random)[0]).toEqual({ toxics: [], enabled: false });
  const edge = BUILTIN_PROFILES.get('wifi-edge')!.phases(random)[0]!;
  // A radio link degrades both ways.
  expect(new Set(edge.toxics.map((t) => t.stream))).toEqual(new Set(['upstream', 'downstream']));
});

test('a roaming handover black-holes for 50 ms to 2 s, drawn from the seed, then spikes', () => {
  const handover = BUILTIN_PROFILES.get('roaming-handover')!;
  const durations = Array.from({ length: 50 }, (_, i) => handover.phases(new SeededRandom(i))[0]!.forMs!);
  expect(Math.min(...durations)).toBeGreaterThanOrEqual(50);
  expect(Math.max(...durations)).toBeLessThanOrEqual(2_000);
  expect(new Set(durations).size).toBeGreaterThan(40);
  expect(handover.phases(new SeededRandom(7))).toEqual(handover.phases(new SeededRandom(7)));
  const [blackHole, spike, after] = handover.phases(new SeededRandom(7));
  expect(blackHole!.toxics.every((t) => t.type === 'timeout')).toBe(true);
  expect(spike!.toxics.find((t) => t.type === 'latency')!.attributes.latency).toBe(300);
  expect(after!.forMs).toBeUndefined();
});

test('combined profiles carry every current toxic and are down if any part is', () => {
  const registry = new ProfileRegistry();
  const [first, second, last] = registry.combine(['lte', 'roaming-handover']).phases(new SeededRandom(3));
  expect(first!.toxics.map((t) => t.type).sort()).toEqual(
    ['bandwidth', 'bandwidth', 'latency', 'latency', 'timeout', 'timeout'].sort(),
  );
  expect(second!.toxics.filter((t) => t.type === 'latency')).toHaveLength(4);
  expect(last!.forMs).toBeUndefined();
  const down = registry.combine(['lte', 'down']).phases(new SeededRandom(3));
  expect(down).toEqual([{ toxics: expect.any(Array), enabled: false }]);
});

test('phase lists that change at different times merge into steady stretches', () => {
  const a = { toxics: [], enabled: true };
  const b = { toxics: [], enabled: false };
  expect(
    combinePhases([
      [{ ...a, forMs: 100 }, { ...b }],
      [{ ...a, forMs: 50 }, { ...a, forMs: 100 }, { ...a }],
    ]).map((p) => [p.forMs, p.enabled]),
  ).toEqual([
    [50, true],
    [50, true],
    [50, false],
    [undefined, false],
  ]);
});

test('custom profiles come from config; unknown and shadowing names are clear errors', () => {
  const registry = new ProfileRegistry({
    satellite: {
      description: 'geo link',
      toxics: [{ type: 'latency', stream: 'downstream', attributes: { latency: 600, jitter: 50 } }],
    },
  });
  expect(registry.get('satellite').phases(new SeededRandom(1))[0]!.toxics).toHaveLength(1);
  expect(() => registry.get('wifi-bad')).toThrow(
    /'wifi-bad' is not a link profile \(profiles: clear, wifi-good/,
  );
  expect(() => new ProfileRegistry({ dead: {} })).toThrow(ConfigError);
  expect(() => new ProfileRegistry({ dead: {} })).toThrow('net.profiles.dead shadows a built-in profile');
});
