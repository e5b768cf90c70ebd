import { expect } from '@playwright/test';
import { netTest } from './test-fixtures.ts';
import { loadWorld } from '../../protocol/world.ts';
import { resolveWorldPath } from '../../reference/worlds/index.ts';
import { WifiCoverage, type TimedPose } from './wifi-coverage.ts';

const warehouse = loadWorld(resolveWorldPath('warehouse'));

/** A pose source the test drives by hand: the robot's ground truth, as the follower receives it. */
function poseFeed() {
  let listener: ((pose: TimedPose) => void) | undefined;
  return {
    subscribe: (l: (pose: TimedPose) => void) => {
      listener = l;
      return () => (listener = undefined);
    },
    at: (x: number, y: number) => listener?.({ x, y, receivedAt: performance.now() }),
    get subscribed() {
      return listener !== undefined;
    },
  };
}

const it = netTest.extend({
  network: async ({ network, echo }, use) => {
    await network.addLink('r01', 'rosbridge', echo.address);
    await use(network);
  },
});

it('the link follows the robot: good by an access point, dead behind the mezzanine, back after', async ({
  network,
  events,
}) => {
  const coverage = new WifiCoverage(warehouse, network, { events, minIntervalMs: 0 });
  const feed = poseFeed();
  coverage.follow('r01', feed.subscribe);
  feed.at(37, 10);
  await expect.poll(() => network.link('r01').profile).toBe('wifi-good');
  feed.at(45, 18);
  await expect.poll(() => network.link('r01').profile).toBe('dead');
  expect(coverage.deadZoneApplyLagsMs).toHaveLength(1);
  expect(coverage.deadZoneApplyLagsMs[0]).toBeLessThan(500);
  feed.at(45.5, 26.5);
  await expect.poll(() => network.link('r01').profile).toBe('wifi-good');
  // Events are emitted once the change is active on the proxy.
  const count = (kind: string) => events.since(0).filter((event) => event.kind === kind).length;
  await expect.poll(() => count('dead-zone-left')).toBe(1);
  expect(count('dead-zone-entered')).toBe(1);
  coverage.stop();
  expect(feed.subscribed).toBe(false);
});

it('poses faster than the minimum interval are not evaluated: the update rate is bounded', async ({
  network,
}) => {
  const coverage = new WifiCoverage(warehouse, network, { minIntervalMs: 10_000 });
  const feed = poseFeed();
  coverage.follow('r01', feed.subscribe);
  feed.at(37, 10);
  await expect.poll(() => coverage.tierOf('r01')).toBe('wifi-good');
  // Within the interval: ignored, even though this spot is dead.
  feed.at(45, 18);
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(coverage.tierOf('r01')).toBe('wifi-good');
  expect(network.link('r01').profile).toBe('wifi-good');
  coverage.stop();
});

it('a robot parked on a tier boundary does not flap', async ({ network, events }) => {
  const coverage = new WifiCoverage(warehouse, network, { events, minIntervalMs: 0 });
  const feed = poseFeed();
  coverage.follow('r01', feed.subscribe);
  // Walk east from ap-hall until the good/congested boundary, then jitter around it.
  let x = 37;
  feed.at(x, 10);
  await expect.poll(() => coverage.tierOf('r01')).toBe('wifi-good');
  const before = events.since(0).filter((e) => e.kind === 'fault-applied').length;
  for (let i = 0; i < 40; i++) {
    x = 37 + 5.2 + (i % 2 === 0 ? 0.15 : -0.15);
    feed.at(x, 10);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  const changes = events.since(0).filter((e) => e.kind === 'fault-applied').length - before;
  expect(changes).toBeLessThanOrEqual(1);
  coverage.stop();
});
