/*
 * The VPN drills' oracles on evidence as the drills gather it: a drill that held passes, and each
 * way the tunnel can be wrong (or the evidence too thin to tell) fires its own verdict.
 */
import { expect, test } from '@playwright/test';
import {
  judgeNatKeepalive,
  judgeVpnRecovery,
  judgeVpnRoam,
  type DeliveredRecord,
  type NatKeepaliveEvidence,
  type VpnRecoveryEvidence,
  type VpnRoamEvidence,
} from './vpn-drills.ts';

const T0 = 1_800_000_000_000;

/** Records sampled every `everyMs` from `from` to `to`, each received `delayMs` later (or as `receive` says). */
function records(
  from: number,
  to: number,
  everyMs: number,
  receive = (t: number) => t + 50,
): DeliveredRecord[] {
  const out: DeliveredRecord[] = [];
  for (let t = from; t < to; t += everyMs) out.push({ bootId: 'b1', capturedAt: t, receivedAt: receive(t) });
  return out;
}

test.describe('judgeVpnRecovery', () => {
  const start = T0 + 10_000;
  const end = start + 30_000;
  // Samples inside the dead zone are buffered and arrive 2 s after it ends; later ones at once.
  const held: VpnRecoveryEvidence = {
    deadZone: { startMs: start, endMs: end },
    records: records(T0, T0 + 60_000, 250, (t) => (t >= start && t < end + 2_000 ? end + 2_000 : t + 50)),
  };
  const limits = { minDeadZoneMs: 30_000, maxRecoveryMs: 15_000 };

  test('a tunnel that comes back passes, with its recovery time', () => {
    const verdict = judgeVpnRecovery(held, limits);
    expect(verdict.verdict, verdict.message).toBe('pass');
    expect(verdict.recoveryMs).toBe(2_000);
  });

  test('records that crossed the dead zone fail: the fault missed the tunnel', () => {
    const leaky = { ...held, records: records(T0, T0 + 60_000, 250) };
    const verdict = judgeVpnRecovery(leaky, limits);
    expect(verdict.verdict).toBe('fail');
    expect(verdict.message).toContain('during the dead zone');
  });

  test('nothing sampled after the dead zone arriving fails', () => {
    const stuck = { ...held, records: held.records.filter((record) => record.capturedAt < end) };
    expect(judgeVpnRecovery(stuck, limits).verdict).toBe('fail');
  });

  test('a slow recovery fails, naming the delay', () => {
    const slow = {
      ...held,
      records: records(T0, T0 + 60_000, 250, (t) => (t >= start ? Math.max(t, end + 20_000) : t + 50)),
    };
    const verdict = judgeVpnRecovery(slow, limits);
    expect(verdict.verdict).toBe('fail');
    expect(verdict.recoveryMs).toBe(20_000);
  });

  test('a short dead zone, or no telemetry before it, cannot tell', () => {
    expect(
      judgeVpnRecovery({ ...held, deadZone: { startMs: start, endMs: start + 5_000 } }, limits).verdict,
    ).toBe('inconclusive');
    const late = { ...held, records: held.records.filter((record) => record.receivedAt > start) };
    expect(judgeVpnRecovery(late, limits).verdict).toBe('inconclusive');
  });
});

test.describe('judgeVpnRoam', () => {
  const roam = { from: '10.78.1.2', to: '10.78.1.3', startMs: T0 + 10_000, endMs: T0 + 10_300 };
  const held: VpnRoamEvidence = {
    roam,
    hubEndpoint: { before: '127.0.0.1:40001', after: '127.0.0.1:40002' },
    wireguardPids: { before: [4242], after: [4242] },
    agentSockets: { before: ['10.77.0.2:51000'], after: ['10.77.0.2:51000'] },
    records: records(T0, T0 + 20_000, 250),
  };

  test('a roam that keeps the session passes', () => {
    const verdict = judgeVpnRoam(held, { maxGapMs: 3_000 });
    expect(verdict.verdict, verdict.message).toBe('pass');
    expect(verdict.gapMs).toBe(250);
  });

  test('each way of losing the session fails', () => {
    const cases: Array<[string, Partial<VpnRoamEvidence>]> = [
      ['endpoint', { hubEndpoint: { before: '127.0.0.1:40001', after: '127.0.0.1:40001' } }],
      ['wireguard-go restarted', { wireguardPids: { before: [4242], after: [4300] } }],
      ['re-established', { agentSockets: { before: ['10.77.0.2:51000'], after: ['10.77.0.2:51002'] } }],
      [
        'booted again',
        { records: [...held.records, { bootId: 'b2', capturedAt: T0 + 15_000, receivedAt: T0 + 15_050 }] },
      ],
      [
        'paused',
        {
          records: records(T0, T0 + 20_000, 250, (t) =>
            t >= T0 + 9_000 && t < T0 + 15_000 ? T0 + 15_000 : t,
          ),
        },
      ],
      ['both sides', { records: records(T0, T0 + 9_000, 250) }],
    ];
    for (const [what, broken] of cases) {
      const verdict = judgeVpnRoam({ ...held, ...broken }, { maxGapMs: 3_000 });
      expect(verdict.verdict, what).toBe('fail');
      expect(verdict.message, what).toContain(what);
    }
  });

  test('a roam that moved nothing, or an agent with no connection, cannot tell', () => {
    expect(judgeVpnRoam({ ...held, roam: { ...roam, to: roam.from } }, { maxGapMs: 3_000 }).verdict).toBe(
      'inconclusive',
    );
    expect(
      judgeVpnRoam({ ...held, agentSockets: { before: [], after: [] } }, { maxGapMs: 3_000 }).verdict,
    ).toBe('inconclusive');
  });
});

test.describe('judgeNatKeepalive', () => {
  const held: NatKeepaliveEvidence = {
    natUdpTimeoutS: 5,
    slow: {
      keepaliveS: 25,
      reachableFresh: true,
      quietMs: 9_000,
      reachableAfterQuiet: false,
      reachableAfterSend: true,
    },
    fast: { keepaliveS: 2, reachableFresh: true, quietMs: 9_000, reachableAfterQuiet: true },
  };

  test('the slow peer lost until it sends, the fast one kept: pass', () => {
    const verdict = judgeNatKeepalive(held);
    expect(verdict.verdict, verdict.message).toBe('pass');
  });

  test('each way the NAT or the keepalive can be wrong fails', () => {
    const cases: Array<[string, NatKeepaliveEvidence]> = [
      ['did not expire', { ...held, slow: { ...held.slow, reachableAfterQuiet: true } }],
      ['sending did not open', { ...held, slow: { ...held.slow, reachableAfterSend: false } }],
      ['did not hold', { ...held, fast: { ...held.fast, reachableAfterQuiet: false } }],
      ['fresh mapping', { ...held, fast: { ...held.fast, reachableFresh: false } }],
    ];
    for (const [what, evidence] of cases) {
      const verdict = judgeNatKeepalive(evidence);
      expect(verdict.verdict, what).toBe('fail');
      expect(verdict.message, what).toContain(what);
    }
  });

  test('evidence that cannot show it is inconclusive', () => {
    expect(judgeNatKeepalive({ ...held, slow: { ...held.slow, quietMs: 4_000 } }).verdict).toBe(
      'inconclusive',
    );
    expect(judgeNatKeepalive({ ...held, slow: { ...held.slow, keepaliveS: 3 } }).verdict).toBe(
      'inconclusive',
    );
    expect(judgeNatKeepalive({ ...held, fast: { ...held.fast, keepaliveS: 5 } }).verdict).toBe(
      'inconclusive',
    );
  });
});
