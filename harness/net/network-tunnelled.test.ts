/*
 * A robot whose agent ↔ cloud link runs through a VPN tunnel has no cloud link in the fault layer:
 * its radio is the tunnel's UDP underlay. Asking for the cloud link, a profile on all its links or a
 * pulled cable fails naming `vpn` and what to use instead; its own rosbridge link still takes
 * profiles; every clear of the robot also clears its underlay.
 */
import { expect } from '@playwright/test';
import { ConfigError } from '../core/errors.ts';
import { netTest as it } from './test-fixtures.ts';

const REASON =
  "robot r01 reaches the cloud through the VPN tunnel: fault its radio with fleet.vpnRobot('r01').underlay";

it('a tunnelled robot refuses its cloud link and whole-radio faults, and clears its underlay', async ({
  echo,
  network,
}) => {
  await network.addLink('r01', 'rosbridge', echo.address);
  await network.addLink('r02', 'rosbridge', echo.address);
  await network.addLink('r02', 'cloud', echo.address);
  let cleared = 0;
  network.tunnelled('r01', { reason: REASON, clear: () => Promise.resolve(void cleared++) });

  const refused = (action: () => unknown) => {
    try {
      action();
    } catch (error) {
      return error;
    }
    return undefined;
  };
  const linkError = refused(() => network.link('r01', 'cloud'));
  expect(linkError).toBeInstanceOf(ConfigError);
  expect((linkError as Error).message).toBe(`vpn ${REASON}`);
  await expect(network.apply('r01', 'dead')).rejects.toThrow(`vpn ${REASON}`);
  await expect(network.disconnect('r01')).rejects.toThrow(`vpn ${REASON}`);

  // The harness's own link to the robot, and robots without a tunnel, are as ever.
  await network.apply('r01', 'dead', { link: 'rosbridge' });
  expect(network.link('r01').profile).toBe('dead');
  await network.apply('r02', 'dead');
  expect(network.link('r02', 'cloud').profile).toBe('dead');

  await network.clear('r01');
  expect(cleared, 'a clear of the robot clears its underlay').toBe(1);
  expect(network.link('r01').profile).toBe('clear');
  await network.clear('r01', { link: 'rosbridge' });
  expect(cleared, 'a clear of one link leaves the underlay').toBe(1);
  await network.clearAll();
  expect(cleared, 'the end of a drill clears it').toBe(2);
});

it('refuseTunnelled names vpn for a tunnelled robot only', async ({ echo, network }) => {
  await network.addLink('r01', 'rosbridge', echo.address);
  await network.addLink('r02', 'rosbridge', echo.address);
  network.tunnelled('r01', { reason: REASON, clear: () => Promise.resolve() });
  expect(() => network.refuseTunnelled('r01')).toThrow(`vpn ${REASON}`);
  expect(() => network.refuseTunnelled('r02')).not.toThrow();
});
