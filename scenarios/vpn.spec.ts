import { setTimeout as sleep } from 'node:timers/promises';
import {
  checkTelemetry,
  connectFromNetns,
  establishedTo,
  expect,
  judgeNatKeepalive,
  judgeVpnRecovery,
  judgeVpnRoam,
  netnsPids,
  phase,
  recordFigure,
  test,
  vpnPrivileges,
  withDetail,
  type StartedFleet,
  type VpnVerdict,
} from '../harness/index.ts';

// Robots behind a NAT reach the cloud through a real WireGuard tunnel (wireguard-go, wg, nftables;
// docs/vpn.md). Metrics at 4 Hz make a pause in the cloud measurable to a quarter second.
test.use({ robots: 1, vpn: true, agent: { metricsHz: 4 } });

const privileges = vpnPrivileges();

/** Waits until `check` holds, polling; throws `what` after `timeoutMs`. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(250);
  }
}

/** Fails the drill on a wrong verdict; skips it, saying why, when the evidence could not tell. */
function expectVerdict(verdict: VpnVerdict): void {
  test.info().annotations.push({ type: `oracle ${verdict.verdict}`, description: verdict.message });
  test.skip(verdict.verdict === 'inconclusive', `could not tell: ${verdict.message}`);
  expect(verdict.verdict, verdict.message).toBe('pass');
}

/** Waits until the cloud holds a record of `robot` sampled at or after `sinceMs`. */
function deliveredSince(
  fleet: StartedFleet,
  robot: string,
  sinceMs: number,
  timeoutMs: number,
): Promise<void> {
  return until(
    `a record of ${robot} sampled after ${new Date(sinceMs).toISOString()} in the cloud`,
    timeoutMs,
    async () => (await fleet.cloud.api.records(robot)).some((record) => record.capturedAt >= sinceMs),
  );
}

test.describe('robots behind a NAT over a WireGuard tunnel', { tag: ['@vpn', '@nightly'] }, () => {
  test.skip(!privileges.ok, `VPN drills need WireGuard: ${privileges.ok ? '' : privileges.missing}`);
  test.skip(
    ({ backend }) => backend !== 'embedded',
    'the VPN runs on the embedded backend only (docs/vpn.md)',
  );

  test('a tunnelled robot refuses the TCP cloud faults, naming its underlay', async ({
    fleet,
    claim,
    faults,
  }) => {
    const robot = await claim.one();
    const underlay = `fleet.vpnRobot('${robot.id}').underlay`;
    expect(() => fleet.network.link(robot.id, 'cloud')).toThrow(underlay);
    await expect(fleet.network.apply(robot.id, 'dead')).rejects.toThrow(underlay);
    expect(() => faults.followWifi([robot])).toThrow(underlay);
    // The harness's own link to the robot still takes a profile.
    await fleet.network.apply(robot.id, 'lte', { link: 'rosbridge' });
    expect(fleet.network.link(robot.id).profile).toBe('lte');
  });

  test('after a 30 s dead zone on the underlay, telemetry flows again through the tunnel', async ({
    fleet,
    claim,
  }) => {
    // 30 s of silence, the figure: the drill stays well under a minute with it.
    const DEAD_ZONE_MS = 30_000;
    test.setTimeout(150_000);
    const robot = await claim.one();
    const vpn = fleet.vpnRobot(robot.id);
    await phase('set-up', { robot: robot.id, underlay: vpn.underlay.proxyName }, async () => {
      await robot.agent.waitUntilReady();
      await deliveredSince(fleet, robot.id, Date.now(), 20_000);
    });
    const deadZone = await phase(
      'fault',
      { 'dead zone ms': DEAD_ZONE_MS, on: 'the underlay, both ways' },
      async () => {
        await vpn.underlay.deadZone();
        const startMs = Date.now();
        await sleep(DEAD_ZONE_MS);
        await vpn.underlay.clear();
        return { startMs, endMs: Date.now() };
      },
    );
    await phase('observe', { robot: robot.id }, () =>
      deliveredSince(fleet, robot.id, deadZone.endMs, 60_000),
    );
    await phase('verdict', { 'recovery limit ms': 30_000 }, async () => {
      // Nothing lost or duplicated, by the telemetry oracles; then the tunnel's own verdict.
      const telemetry = await checkTelemetry(fleet, [robot.id], { drainTimeoutMs: 60_000 });
      const verdict = judgeVpnRecovery(
        { deadZone, records: telemetry.evidence[0]!.records },
        { minDeadZoneMs: DEAD_ZONE_MS, maxRecoveryMs: 30_000 },
      );
      await test.info().attach('vpn recovery', {
        body: JSON.stringify({ ...verdict, deadZone }, null, 2),
        contentType: 'application/json',
      });
      if (verdict.recoveryMs !== undefined) {
        await recordFigure(test.info(), {
          id: 'vpn/dead-zone-30s/recovery_ms',
          value: verdict.recoveryMs,
          unit: 'ms',
          better: 'lower',
          valid: verdict.verdict === 'pass',
          note: 'dead zone end to the first record sampled after it reaching the cloud',
        });
      }
      expectVerdict(verdict);
    });
  });

  test('a roam to a new underlay address keeps the session without a restart', async ({ fleet, claim }) => {
    test.setTimeout(120_000);
    const robot = await claim.one();
    const vpn = fleet.vpnRobot(robot.id);
    const cloud = `${fleet.vpnHub.tunnelAddress}:${fleet.vpnCloudPorts.http}`;
    const before = await phase('set-up', { robot: robot.id, netns: vpn.netns, cloud }, async () => {
      await robot.agent.waitUntilReady();
      await deliveredSince(fleet, robot.id, Date.now(), 20_000);
      // The agent's keep-alive connection to the cloud, through the tunnel (it sends every second).
      let sockets: string[] = [];
      await until('an agent connection to the cloud', 10_000, async () => {
        sockets = await establishedTo(vpn.netns, cloud);
        return sockets.length > 0;
      });
      return {
        sockets,
        pids: await netnsPids(vpn.netns, 'wireguard-go'),
        endpoint: (await vpn.hubPeer()).endpoint,
      };
    });
    const roam = await phase('fault', { what: 'roam to a new underlay address' }, async () => {
      const startMs = Date.now();
      const moved = await vpn.roam();
      return { ...moved, startMs, endMs: Date.now() };
    });
    const after = await phase('observe', { 'telemetry after the roam s': 5 }, async () => {
      await sleep(5_000);
      let endpoint: string | undefined;
      // The hub learns the new endpoint from the robot's next authenticated datagram.
      await until("the hub's endpoint for the robot to change", 10_000, async () => {
        endpoint = (await vpn.hubPeer()).endpoint;
        return endpoint !== undefined && endpoint !== before.endpoint;
      }).catch(() => undefined);
      return {
        sockets: await establishedTo(vpn.netns, cloud),
        pids: await netnsPids(vpn.netns, 'wireguard-go'),
        endpoint,
      };
    });
    await phase('verdict', { 'longest pause ms': 3_000 }, async () => {
      const telemetry = await checkTelemetry(fleet, [robot.id], { drainTimeoutMs: 30_000 });
      const records = telemetry.evidence[0]!.records.filter(
        (record) => record.receivedAt > roam.startMs - 10_000 && record.receivedAt < roam.endMs + 5_000,
      );
      // Beyond the agent's request timeout (3 s) a request was given up: the session broke.
      const verdict = judgeVpnRoam(
        {
          roam,
          hubEndpoint: { before: before.endpoint, after: after.endpoint },
          wireguardPids: { before: before.pids, after: after.pids },
          agentSockets: { before: before.sockets, after: after.sockets },
          records,
        },
        { maxGapMs: 3_000 },
      );
      await test.info().attach('vpn roam', {
        body: JSON.stringify({ verdict, roam, before, after }, null, 2),
        contentType: 'application/json',
      });
      expect(
        records.every((record) => record.bootId === telemetry.evidence[0]!.records.at(-1)!.bootId),
        withDetail('one boot across the roam', JSON.stringify([...new Set(records.map((r) => r.bootId))])),
      ).toBe(true);
      expectVerdict(verdict);
    });
  });

  test('a NAT mapping shorter than the keepalive loses a quiet robot until it sends; a shorter keepalive keeps it', async ({
    fleet,
  }) => {
    test.setTimeout(90_000);
    // Quiet robots are two peers this drill adds to the fleet's hub, each behind its own real NAT
    // with a 3 s UDP mapping: a fleet robot's agent uploads every second and so never goes quiet,
    // and a peer with nothing but a listener is what a robot with its software idle looks like on
    // the wire. One keeps alive every 25 s (past the mapping), one every 1 s (within it).
    const NAT_S = 3;
    const QUIET_MS = 6_000;
    // Short, so the hub's SYN retries cannot meet the slow peer's passive keepalive (10 s after
    // the last data it got) and see a mapping the robot reopened on its own.
    const PROBE_MS = 1_500;
    const PORT = 7_070;
    const hub = fleet.vpnHub;
    const { http } = fleet.vpnCloudPorts;
    await using slow = await hub.addRobot('qslow', { keepaliveS: 25, natUdpTimeoutS: NAT_S });
    await using fast = await hub.addRobot('qfast', { keepaliveS: 1, natUdpTimeoutS: NAT_S });
    // Something to reach inside each: a listener on the peer's tunnel address.
    await Promise.all([slow.listenInside(PORT), fast.listenInside(PORT)]);
    const probe = async (peer: typeof slow) => {
      // The robot sends first (a connection to the cloud through the tunnel), then is reached.
      expect(
        await connectFromNetns(peer.netns, hub.tunnelAddress, http, 5_000),
        `${peer.id} reaches the cloud`,
      ).toBe(true);
      const reachableFresh = await peer.reachableFromHub(PORT, 5_000);
      const quietFrom = Date.now();
      await sleep(QUIET_MS);
      const quietMs = Date.now() - quietFrom;
      const reachableAfterQuiet = await peer.reachableFromHub(PORT, PROBE_MS);
      return { reachableFresh, quietMs, reachableAfterQuiet };
    };
    const [slowProbe, fastProbe] = await phase(
      'fault',
      { 'NAT UDP timeout s': NAT_S, 'quiet ms': QUIET_MS, keepalives: '25 s, 1 s' },
      () => Promise.all([probe(slow), probe(fast)]),
    );
    const reachableAfterSend = await phase('observe', { peer: slow.id, what: 'it sends again' }, async () => {
      await connectFromNetns(slow.netns, hub.tunnelAddress, http, 5_000);
      return slow.reachableFromHub(PORT, 5_000);
    });
    await phase('verdict', {}, async () => {
      const evidence = {
        natUdpTimeoutS: NAT_S,
        slow: { keepaliveS: 25, ...slowProbe, reachableAfterSend },
        fast: { keepaliveS: 1, ...fastProbe },
      };
      const verdict = judgeNatKeepalive(evidence);
      await test.info().attach('nat keepalive', {
        body: JSON.stringify({ verdict, evidence }, null, 2),
        contentType: 'application/json',
      });
      expectVerdict(verdict);
    });
  });
});
