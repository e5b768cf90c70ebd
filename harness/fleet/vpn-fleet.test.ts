/*
 * A fleet with some robots in the tunnel: `vpn: { robots: ['r02'] }` puts r02 behind its NAT, its
 * agent's only connection to the cloud through the hub's tunnel address, while r01 keeps its TCP
 * cloud link on the fault layer. Both deliver telemetry, r02 again after a power cycle in its
 * namespace; the hub closes with the fleet.
 */
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, test } from '@playwright/test';
import { vpnPrivileges } from '../net/vpn/index.ts';
import { referenceFleet } from '../testing/reference-fleet.ts';
import { establishedTo } from './vpn-probes.ts';

const privileges = vpnPrivileges();

test('some robots through the tunnel, the others on their TCP cloud link', async () => {
  test.skip(!privileges.ok, `needs WireGuard: ${privileges.ok ? '' : privileges.missing}`);
  test.setTimeout(90_000);
  const fleet = await referenceFleet({
    robots: 2,
    seed: 19,
    vpn: { robots: ['r02'], keepaliveS: 25 },
    agent: { metricsHz: 4 },
  }).start();
  let netns: string | undefined;
  try {
    const tunnelled = fleet.vpnRobot('r02');
    netns = tunnelled.netns;
    expect(() => fleet.vpnRobot('r01')).toThrow(
      "robot 'r01' does not run through the tunnel (tunnelled: r02)",
    );
    expect(fleet.network.link('r01', 'cloud').proxyName).toBe('r01-cloud');
    expect(() => fleet.network.link('r02', 'cloud')).toThrow("fleet.vpnRobot('r02').underlay");
    const since = Date.now();
    const delivered = async (id: string, from = since) =>
      (await fleet.cloud.api.records(id)).some((record) => record.capturedAt >= from);
    for (let i = 0; i < 80 && !((await delivered('r01')) && (await delivered('r02'))); i++) await sleep(250);
    expect(await delivered('r01'), 'r01 delivers over its TCP cloud link').toBe(true);
    expect(await delivered('r02'), 'r02 delivers through the tunnel').toBe(true);
    const cloud = `${fleet.vpnHub.tunnelAddress}:${fleet.vpnCloudPorts.http}`;
    expect(
      await establishedTo(netns, cloud),
      "r02's agent is connected at the hub's tunnel address",
    ).not.toEqual([]);
    // A power cut kills the robot host in its namespace (and only it: the tunnel stays); power-on
    // starts it there again, and it delivers again.
    const r02 = fleet.robot('r02');
    await r02.powerCut();
    expect(fleet.robot('r01').powered).toBe(true);
    await r02.powerOn();
    const back = Date.now();
    for (let i = 0; i < 80 && !(await delivered('r02', back)); i++) await sleep(250);
    expect(await delivered('r02', back), 'r02 delivers through the tunnel after a power cycle').toBe(true);
  } finally {
    await fleet.stop();
  }
  const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  expect(left, 'the robot namespace goes with the fleet').not.toContain(netns);
});
