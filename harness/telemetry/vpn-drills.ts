/**
 * The VPN drills' oracles (scenarios/vpn.spec.ts, docs/vpn.md): what the tunnel must do across a
 * dead zone, a roam and a NAT mapping that expires, judged from what the cloud received and what
 * the robot's namespace and the hub showed. Each tells "wrong" (`fail`) from "could not tell"
 * (`inconclusive`: the evidence cannot show it either way, a busy machine, a fault that did not land).
 */

/** What a VPN oracle found. */
export interface VpnVerdict {
  verdict: 'pass' | 'fail' | 'inconclusive';
  message: string;
}

/** A record as the cloud stored it: when the robot sampled it and when the cloud received it (ms since the epoch). */
export interface DeliveredRecord {
  bootId: string;
  capturedAt: number;
  receivedAt: number;
}

/** One robot's records around a dead zone on its underlay. */
export interface VpnRecoveryEvidence {
  /** When the underlay went silent and when it was cleared (harness wall clock, ms since the epoch). */
  deadZone: { startMs: number; endMs: number };
  records: readonly DeliveredRecord[];
}

/** Limits of the recovery drill. */
export interface VpnRecoveryLimits {
  /** The dead zone must have lasted at least this long, or the drill did not do what it says. */
  minDeadZoneMs: number;
  /** The first record sampled after the dead zone must reach the cloud within this. */
  maxRecoveryMs: number;
  /** Records received this long after the dead zone began may have been on the way already. */
  inFlightMs?: number;
}

/**
 * Telemetry comes back through the tunnel after a dead zone: nothing crossed the silent underlay
 * (else the fault missed the tunnel), and the first record sampled after the dead zone reached the
 * cloud within `maxRecoveryMs`; `recoveryMs` is that delay.
 */
export function judgeVpnRecovery(
  evidence: VpnRecoveryEvidence,
  limits: VpnRecoveryLimits,
): VpnVerdict & { recoveryMs?: number } {
  const { startMs, endMs } = evidence.deadZone;
  const lengthMs = endMs - startMs;
  if (lengthMs < limits.minDeadZoneMs) {
    return {
      verdict: 'inconclusive',
      message: `the dead zone lasted ${lengthMs} ms, less than the ${limits.minDeadZoneMs} ms the drill needs`,
    };
  }
  const inFlightMs = limits.inFlightMs ?? 1_000;
  const through = evidence.records.filter(
    (record) => record.receivedAt > startMs + inFlightMs && record.receivedAt < endMs,
  );
  if (through.length) {
    return {
      verdict: 'fail',
      message: `${through.length} records reached the cloud during the dead zone (first sampled at ${new Date(through[0]!.capturedAt).toISOString()}): the underlay fault did not silence the tunnel`,
    };
  }
  const before = evidence.records.filter((record) => record.receivedAt <= startMs);
  if (!before.length) {
    return {
      verdict: 'inconclusive',
      message: 'no record reached the cloud before the dead zone: the tunnel was never shown working',
    };
  }
  const after = evidence.records
    .filter((record) => record.capturedAt >= endMs)
    .sort((a, b) => a.receivedAt - b.receivedAt);
  const first = after[0];
  if (!first) {
    return {
      verdict: 'fail',
      message:
        'no record sampled after the dead zone reached the cloud: telemetry did not come back through the tunnel',
    };
  }
  const recoveryMs = first.receivedAt - endMs;
  if (recoveryMs > limits.maxRecoveryMs) {
    return {
      verdict: 'fail',
      recoveryMs,
      message: `the first record sampled after the dead zone reached the cloud ${recoveryMs} ms after it ended, over the ${limits.maxRecoveryMs} ms limit`,
    };
  }
  return {
    verdict: 'pass',
    recoveryMs,
    message: `telemetry back ${recoveryMs} ms after a ${lengthMs} ms dead zone`,
  };
}

/** What a roam showed: the address change, the hub's view of the peer, the robot's processes and sockets. */
export interface VpnRoamEvidence {
  /** The robot's underlay address before and after, and when the roam ran (ms since the epoch). */
  roam: { from: string; to: string; startMs: number; endMs: number };
  /** The peer's endpoint as the hub's WireGuard saw it before and after. */
  hubEndpoint: { before: string | undefined; after: string | undefined };
  /** wireguard-go's pids in the robot's namespace before and after. */
  wireguardPids: { before: readonly number[]; after: readonly number[] };
  /** The agent's established TCP connections to the cloud (`local-address:port`), before and after. */
  agentSockets: { before: readonly string[]; after: readonly string[] };
  /** The robot's records, sorted or not. */
  records: readonly DeliveredRecord[];
}

/**
 * A roam keeps the session: the underlay address and the hub's endpoint for the peer changed,
 * wireguard-go kept running (same pids), the agent's connection to the cloud survived (a socket
 * open before is still open after), no boot began, and telemetry never paused longer than
 * `maxGapMs` across the roam and went on after it.
 */
export function judgeVpnRoam(
  evidence: VpnRoamEvidence,
  limits: { maxGapMs: number },
): VpnVerdict & { gapMs?: number } {
  const { roam, hubEndpoint, wireguardPids, agentSockets } = evidence;
  if (roam.from === roam.to) {
    return {
      verdict: 'inconclusive',
      message: `the roam kept the underlay address ${roam.from}: nothing moved`,
    };
  }
  if (!hubEndpoint.after || hubEndpoint.after === hubEndpoint.before) {
    return {
      verdict: 'fail',
      message: `the hub's endpoint for the robot did not change across the roam (${String(hubEndpoint.before)} → ${String(hubEndpoint.after)})`,
    };
  }
  if (!wireguardPids.before.length) {
    return {
      verdict: 'inconclusive',
      message: "no wireguard-go ran in the robot's namespace before the roam",
    };
  }
  const samePids =
    wireguardPids.before.length === wireguardPids.after.length &&
    wireguardPids.before.every((pid) => wireguardPids.after.includes(pid));
  if (!samePids) {
    return {
      verdict: 'fail',
      message: `wireguard-go restarted across the roam (pids ${wireguardPids.before.join(',')} → ${wireguardPids.after.join(',') || 'none'})`,
    };
  }
  if (!agentSockets.before.length) {
    return {
      verdict: 'inconclusive',
      message: 'the agent had no connection to the cloud open before the roam',
    };
  }
  const kept = agentSockets.before.filter((socket) => agentSockets.after.includes(socket));
  if (!kept.length) {
    return {
      verdict: 'fail',
      message: `the agent's connections to the cloud were re-established across the roam (${agentSockets.before.join(', ')} → ${agentSockets.after.join(', ') || 'none'})`,
    };
  }
  const boots = new Set(evidence.records.map((record) => record.bootId));
  if (boots.size > 1) {
    return {
      verdict: 'fail',
      message: `the robot booted again around the roam (boots ${[...boots].join(', ')})`,
    };
  }
  const received = evidence.records.map((record) => record.receivedAt).sort((a, b) => a - b);
  const after = received.filter((t) => t > roam.endMs);
  if (!received.some((t) => t < roam.startMs) || !after.length) {
    return {
      verdict: 'fail',
      message: `telemetry did not flow on both sides of the roam (${received.length} records, ${after.length} after it)`,
    };
  }
  // The longest silence in the cloud that spans any part of the roam.
  let gapMs = 0;
  for (let i = 1; i < received.length; i++) {
    const [a, b] = [received[i - 1]!, received[i]!];
    if (b >= roam.startMs && a <= roam.endMs) gapMs = Math.max(gapMs, b - a);
  }
  if (gapMs > limits.maxGapMs) {
    return {
      verdict: 'fail',
      gapMs,
      message: `telemetry paused ${gapMs} ms across the roam, over the ${limits.maxGapMs} ms limit`,
    };
  }
  return {
    verdict: 'pass',
    gapMs,
    message: `roam ${roam.from} → ${roam.to}: hub endpoint ${hubEndpoint.before} → ${hubEndpoint.after}, wireguard-go and ${kept.length} agent connection(s) kept, longest pause ${gapMs} ms`,
  };
}

/** One quiet peer's reachability from the hub side, probed at three moments. */
export interface QuietPeerProbe {
  keepaliveS: number;
  /** Reachable once the peer had just sent (the start: the mapping is fresh). */
  reachableFresh: boolean;
  /** How long the peer was quiet before the next probe. */
  quietMs: number;
  reachableAfterQuiet: boolean;
  /** Reachable after the peer sent again (only probed for the peer expected to be unreachable). */
  reachableAfterSend?: boolean;
}

/** The NAT drill: one peer with a keepalive longer than the NAT's timeout (or none), one with a shorter one. */
export interface NatKeepaliveEvidence {
  natUdpTimeoutS: number;
  slow: QuietPeerProbe;
  fast: QuietPeerProbe;
}

/**
 * A NAT mapping shorter than the keepalive: the slow peer, quiet past the timeout, cannot be
 * reached from the hub until it sends, and then can; the fast peer (keepalive below the timeout)
 * stays reachable through the same quiet time.
 */
export function judgeNatKeepalive(evidence: NatKeepaliveEvidence): VpnVerdict {
  const { natUdpTimeoutS, slow, fast } = evidence;
  const timeoutMs = natUdpTimeoutS * 1_000;
  if (slow.keepaliveS !== 0 && slow.keepaliveS * 1_000 <= slow.quietMs) {
    return {
      verdict: 'inconclusive',
      message: `the slow peer's keepalive (${slow.keepaliveS} s) fires within its quiet time (${slow.quietMs} ms): it was not quiet`,
    };
  }
  if (fast.keepaliveS === 0 || fast.keepaliveS >= natUdpTimeoutS) {
    return {
      verdict: 'inconclusive',
      message: `the fast peer's keepalive (${fast.keepaliveS} s) is not below the NAT timeout (${natUdpTimeoutS} s)`,
    };
  }
  for (const [name, peer] of [
    ['slow', slow],
    ['fast', fast],
  ] as const) {
    if (peer.quietMs <= timeoutMs) {
      return {
        verdict: 'inconclusive',
        message: `the ${name} peer was quiet ${peer.quietMs} ms, not past the ${timeoutMs} ms NAT timeout`,
      };
    }
    if (!peer.reachableFresh) {
      return {
        verdict: 'fail',
        message: `the ${name} peer was not reachable from the hub even with a fresh mapping`,
      };
    }
  }
  if (slow.reachableAfterQuiet) {
    return {
      verdict: 'fail',
      message: `the slow peer (keepalive ${slow.keepaliveS || 'off'}) stayed reachable after ${slow.quietMs} ms quiet: the ${natUdpTimeoutS} s NAT mapping did not expire`,
    };
  }
  if (slow.reachableAfterSend !== true) {
    return {
      verdict: 'fail',
      message: 'the slow peer stayed unreachable after it sent: sending did not open the NAT again',
    };
  }
  if (!fast.reachableAfterQuiet) {
    return {
      verdict: 'fail',
      message: `the fast peer (keepalive ${fast.keepaliveS} s) became unreachable after ${fast.quietMs} ms: its keepalive did not hold the ${natUdpTimeoutS} s mapping`,
    };
  }
  return {
    verdict: 'pass',
    message: `NAT timeout ${natUdpTimeoutS} s: keepalive ${slow.keepaliveS || 'off'} lost the robot until it sent, keepalive ${fast.keepaliveS} s kept it`,
  };
}
