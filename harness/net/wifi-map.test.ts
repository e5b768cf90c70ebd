import { expect, test } from '@playwright/test';
import { loadWorld, parseWorld } from '../../protocol/world.ts';
import { resolveWorldPath } from '../../reference/worlds/index.ts';
import { linkQuality, nextTier, SENSITIVITY_DBM, signalFrom, tierFor } from './wifi-map.ts';

const warehouse = loadWorld(resolveWorldPath('warehouse'));

/** A 40 × 20 m hall with one access point in the middle of the west half and a steel wall zone. */
const hall = parseWorld({
  name: 'hall',
  bounds: { min: [0, 0], max: [40, 20] },
  dock: { pose: { x: 38, y: 18, yaw: 0 }, radius: 0.6 },
  spawnArea: { min: [1, 1], max: [5, 5] },
  accessPoints: [{ name: 'ap-1', position: [10, 10], range: 20 }],
  attenuators: [{ name: 'steel', min: [14, 0], max: [15, 20], lossDb: 30 }],
});

test('signal falls with distance and reaches the sensitivity floor at the range', () => {
  const ap = hall.accessPoints[0]!;
  const near = signalFrom(hall, ap, 11, 10)!;
  const mid = signalFrom(hall, ap, 10, 15)!;
  expect(near).toBeGreaterThan(mid);
  // 20 m west is past the wall-free side's bounds; go north-west within the range instead.
  expect(signalFrom(hall, ap, 10 - 19.99, 10)).toBeCloseTo(SENSITIVITY_DBM, 1);
  expect(signalFrom(hall, ap, 10, 10 + 25)).toBeNull();
});

test('an attenuator between robot and access point weakens the link, one beside it does not', () => {
  const ap = hall.accessPoints[0]!;
  // Same distance (4 m), one through the steel zone at x 14–15 and one away from it.
  const through = signalFrom(hall, ap, 14.5, 10);
  const clear = signalFrom(hall, ap, 5.5, 10)!;
  expect(through === null || through < clear - 29).toBe(true);
  // Behind the zone at 8 m the 30 dB loss pushes the signal under the floor: a dead zone.
  expect(linkQuality(hall, 18, 10)).toEqual({ rssiDbm: null, ap: null });
});

test('the warehouse has good coverage near its access points and a dead band behind the mezzanine', () => {
  expect(tierFor(linkQuality(warehouse, 37, 10).rssiDbm)).toBe('wifi-good');
  expect(linkQuality(warehouse, 47, 27.5).ap).toBe('ap-dock');
  expect(tierFor(linkQuality(warehouse, 45, 18).rssiDbm)).toBe('dead');
  expect(tierFor(linkQuality(warehouse, 30, 28).rssiDbm)).toBe('dead');
  // Every route from the hall to the dock crosses the dead band: sample a north-bound line.
  const tiers = [14, 16, 18, 20, 22, 24, 26].map((y) => tierFor(linkQuality(warehouse, 46, y).rssiDbm));
  expect(tiers[0]).not.toBe('dead');
  expect(tiers).toContain('dead');
  expect(tiers.at(-1)).not.toBe('dead');
});

test('tiers follow the signal, and hysteresis keeps a robot on a boundary from flapping', () => {
  expect(tierFor(-60)).toBe('wifi-good');
  expect(tierFor(-75)).toBe('wifi-congested');
  expect(tierFor(-84)).toBe('wifi-edge');
  expect(tierFor(null)).toBe('dead');

  // Just below the good/congested boundary (-70): a good link stays good...
  expect(nextTier('wifi-good', -71)).toBe('wifi-good');
  // ...until the signal is 3 dB past the boundary.
  expect(nextTier('wifi-good', -73.5)).toBe('wifi-congested');
  // Coming back up needs the same margin above the boundary.
  expect(nextTier('wifi-congested', -69)).toBe('wifi-congested');
  expect(nextTier('wifi-congested', -66)).toBe('wifi-good');
  // Losing every access point is dead at once; leaving a dead zone needs a usable signal plus margin.
  expect(nextTier('wifi-good', null)).toBe('dead');
  expect(nextTier('dead', -84)).toBe('dead');
  expect(nextTier('dead', -81)).toBe('wifi-edge');
  expect(nextTier('wifi-edge', -60)).toBe('wifi-good');
  // Out of a dead zone straight into a good spot, but just under its margin: the next tier down.
  expect(nextTier('dead', -69)).toBe('wifi-congested');
});

test('the corridor world has a 74 m radio shadow between its fire doors, reachable at both ends', () => {
  const corridor = loadWorld(resolveWorldPath('corridor'));
  expect(linkQuality(corridor, 13.5, 5).ap).toBe('ap-west');
  for (const x of [14.5, 30, 50, 70, 87.5]) expect(linkQuality(corridor, x, 5).rssiDbm, `x=${x}`).toBeNull();
  expect(linkQuality(corridor, 88.5, 5).ap).toBe('ap-east');
  expect(tierFor(linkQuality(corridor, 100, 5).rssiDbm)).toBe('wifi-good');
});
