import { expect } from '@playwright/test';
import { netTest as it } from './test-fixtures.ts';
import { connectTo, within } from './toxiproxy/test-helpers.ts';

/** Whether a new connection to a link gets through: a round trip, or how it failed. */
async function reachable(link: { listen: string }): Promise<boolean> {
  try {
    const client = await connectTo(link);
    const answered = await within(
      client
        .roundTrip('?', 1_000)
        .then(() => true)
        .catch(() => false),
      1_500,
    );
    client.destroy();
    return answered === true;
  } catch {
    return false;
  }
}

it('a pulled cable takes down every link of the robot and only that robot', async ({ echo, network }) => {
  const rosbridge = await network.addLink('r01', 'rosbridge', echo.address);
  const cloud = await network.addLink('r01', 'cloud', echo.address);
  const other = await network.addLink('r02', 'rosbridge', echo.address);
  const open = await connectTo(cloud);
  await open.roundTrip('a');
  await network.disconnect('r01');
  // Toxiproxy's disabled proxy: the open connection is closed, new ones are refused.
  expect((await within(open.closed, 2_000)) !== 'timeout', 'the open cloud connection closes').toBe(true);
  expect(await reachable(rosbridge), 'r01 rosbridge refused').toBe(false);
  expect(await reachable(cloud), 'r01 cloud refused').toBe(false);
  expect(await reachable(other), 'r02 untouched').toBe(true);
  await network.reconnect('r01');
  expect(await reachable(rosbridge), 'r01 rosbridge back').toBe(true);
  expect(await reachable(cloud), 'r01 cloud back').toBe(true);
});

it('a profile put on a disconnected robot does not plug its cable back in', async ({ echo, network }) => {
  const link = await network.addLink('r01', 'rosbridge', echo.address);
  await network.disconnect('r01');
  await network.apply('r01', 'wifi-good');
  expect(await reachable(link), 'still unplugged under wifi-good').toBe(false);
  await network.clear('r01');
  expect(await reachable(link), 'still unplugged after a clear').toBe(false);
  await network.reconnect('r01');
  // Back to what the profile says: wifi-good was replaced by the clear, so a clean link.
  expect(await reachable(link)).toBe(true);
});

it('reconnecting leaves a link the profile holds down, down', async ({ echo, network }) => {
  const link = await network.addLink('r01', 'rosbridge', echo.address);
  await network.apply('r01', 'down');
  await network.disconnect('r01');
  await network.reconnect('r01');
  expect(await reachable(link), 'the down profile still holds').toBe(false);
  await network.clear('r01');
  expect(await reachable(link)).toBe(true);
});

it('clearAll after a drill plugs every cable back in', async ({ echo, network }) => {
  const link = await network.addLink('r01', 'rosbridge', echo.address);
  await network.cableOf('r01').disconnect();
  expect(await reachable(link)).toBe(false);
  await network.clearAll();
  expect(await reachable(link)).toBe(true);
});

it('a robot without links has no cable to pull, and the error names it', async ({ network }) => {
  await expect(network.disconnect('r07')).rejects.toThrow('robot r07 has no links');
});
