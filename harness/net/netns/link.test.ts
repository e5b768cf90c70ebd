/**
 * The namespace link for real: two network namespaces, real veths, the harness's relay, nftables
 * and tbf, with UDP probes running inside the namespaces. Needs root, ip, nft and tc.
 */
import { expect, test } from '@playwright/test';
import { ConfigError } from '../../core/errors.ts';
import { NetnsLink, type StartedNetnsLink } from './link.ts';
import { percentile, probe, transfer, type Pinged, type Received } from './probe.test-helpers.ts';
import { kernelHasNetem, netnsPrivileges, sh } from './system.ts';

const privileges = netnsPrivileges();
test.skip(!privileges.ok, `netns link needs ${privileges.ok ? '' : privileges.missing}`);
test.describe.configure({ mode: 'serial' });

const PORT = 7400;
const SEED = 1234;

/** Sequence numbers of 0..count-1 that did not arrive. */
function lost(received: Received, count: number): number[] {
  const got = new Set(received.seqs);
  return Array.from({ length: count }, (_, seq) => seq).filter((seq) => !got.has(seq));
}

/** Records a figure on the test (and prints it: the lead collects them for the bench page). */
function measured(description: string): void {
  test.info().annotations.push({ type: 'measured', description });
  console.log(`measured: ${description}`);
}

async function timed<T>(what: string, body: () => Promise<T>): Promise<T> {
  const began = performance.now();
  const value = await body();
  const ms = performance.now() - began;
  measured(`${what}: ${ms.toFixed(0)} ms`);
  return value;
}

async function relayLink(seed = SEED, label = 'test'): Promise<StartedNetnsLink> {
  return timed('start (relay)', () => NetnsLink.start({ seed, path: 'relay', relayPorts: [PORT], label }));
}

/** 2000 datagrams robot→off-board over the relay at 20 % loss; the sequence numbers lost. */
async function lossRun(seed: number): Promise<{ lost: number[]; link: StartedNetnsLink }> {
  const link = await relayLink(seed);
  try {
    await link.apply({ lossPct: 20 });
    const { received, sent } = await transfer(
      link.robot.netns,
      link.offboard.netns,
      link.robot.peer,
      link.offboard.bindAddress,
      PORT,
      2000,
    );
    expect(sent.errors, 'robot sender errors').toEqual({});
    const stats = (await link.stats())['robot→off-board'];
    // The relay's own count ties the receiver's view to injected loss, not loss elsewhere.
    expect(stats.received, 'datagrams the relay saw from the robot').toBe(2000);
    expect(received.seqs.length, 'datagrams delivered = relay sent').toBe(stats.sent);
    return { lost: lost(received, 2000), link };
  } finally {
    await timed('stop (relay)', () => link.stop());
  }
}

test('relay path: a datagram crosses each way, none while down, and nothing bypasses the relay', async () => {
  await using link = await relayLink();
  expect(link.robot.advertise).toBe(link.offboard.peer);
  expect(link.offboard.advertise).toBe(link.robot.peer);

  const there = await transfer(
    link.robot.netns,
    link.offboard.netns,
    link.robot.peer,
    link.offboard.bindAddress,
    PORT,
    5,
  );
  expect(there.received.seqs.sort()).toEqual([0, 1, 2, 3, 4]);
  const back = await transfer(
    link.offboard.netns,
    link.robot.netns,
    link.offboard.peer,
    link.robot.bindAddress,
    PORT,
    5,
  );
  expect(back.received.seqs.sort()).toEqual([0, 1, 2, 3, 4]);

  // The robot has no route to the off-board address: only the relay joins them.
  const bypass = await transfer(
    link.robot.netns,
    link.offboard.netns,
    link.offboard.bindAddress,
    link.offboard.bindAddress,
    PORT,
    5,
    { maxMs: 1500 },
  );
  expect(bypass.received.seqs).toEqual([]);
  expect(bypass.sent.errors.ENETUNREACH, 'robot → off-board address directly').toBe(5);

  await link.apply({ down: true });
  expect(link.mechanisms()).toEqual({ down: 'relay' });
  const down = await transfer(
    link.robot.netns,
    link.offboard.netns,
    link.robot.peer,
    link.offboard.bindAddress,
    PORT,
    5,
    { maxMs: 1500 },
  );
  expect(down.received.seqs).toEqual([]);
  expect((await link.stats())['robot→off-board']).toMatchObject({ received: 10, sent: 5, dropped: 5 });

  // Up again: the same link carries traffic once more, so "down" was the condition, not a break.
  await link.apply({});
  const up = await transfer(
    link.robot.netns,
    link.offboard.netns,
    link.robot.peer,
    link.offboard.bindAddress,
    PORT,
    5,
  );
  expect(up.received.seqs.sort()).toEqual([0, 1, 2, 3, 4]);
});

test('relay path: 20 % loss delivers 80 % ± 3 %, the same seed drops the same datagrams, another seed others', async () => {
  test.setTimeout(120_000);
  const first = await lossRun(SEED);
  const again = await lossRun(SEED);
  const other = await lossRun(SEED + 1);
  const delivered = 1 - first.lost.length / 2000;
  measured(`delivered at 20 % loss: ${(delivered * 100).toFixed(1)} %`);
  expect(delivered).toBeGreaterThanOrEqual(0.77);
  expect(delivered).toBeLessThanOrEqual(0.83);
  expect(again.lost).toEqual(first.lost);
  expect(other.lost).not.toEqual(first.lost);
  expect(first.link.mechanisms()).toEqual({ lossPct: 'relay' });
});

test('direct path: a datagram crosses, nft drops about p and counts exactly what it dropped', async () => {
  await using link = await timed('start (direct)', () => NetnsLink.start({ seed: SEED, path: 'direct' }));
  expect(link.robot.advertise).toBe(link.robot.bindAddress);
  expect(link.robot.peer).toBe(link.offboard.bindAddress);
  const clean = await transfer(
    link.robot.netns,
    link.offboard.netns,
    link.robot.peer,
    link.offboard.bindAddress,
    PORT,
    5,
  );
  expect(clean.received.seqs.sort()).toEqual([0, 1, 2, 3, 4]);

  await link.apply({ lossPct: 20 });
  expect(link.mechanisms()).toEqual({ lossPct: 'nft' });
  const before = (await link.stats())['robot→off-board'];
  const { received } = await transfer(
    link.robot.netns,
    link.offboard.netns,
    link.robot.peer,
    link.offboard.bindAddress,
    PORT,
    2000,
  );
  const after = (await link.stats())['robot→off-board'];
  const delivered = received.seqs.length / 2000;
  measured(`direct nft 20 %: delivered ${(delivered * 100).toFixed(1)} %`);
  expect(delivered).toBeGreaterThanOrEqual(0.77);
  expect(delivered).toBeLessThanOrEqual(0.83);
  expect(after.received - before.received, 'nft saw every datagram').toBe(2000);
  expect(after.dropped - before.dropped, 'nft drops = datagrams missing at the receiver').toBe(
    2000 - received.seqs.length,
  );

  await link.apply({ down: true });
  const down = await transfer(
    link.robot.netns,
    link.offboard.netns,
    link.robot.peer,
    link.offboard.bindAddress,
    PORT,
    5,
    { maxMs: 1500 },
  );
  expect(down.received.seqs).toEqual([]);
  await timed('stop (direct)', () => link.stop());
});

/** Payload bytes/s the off-board side receives while the robot blasts 1000-byte datagrams for 2 s. */
async function throughput(link: StartedNetnsLink): Promise<number> {
  const receiver = probe<Received>(link.offboard.netns, [
    'recv',
    link.offboard.bindAddress,
    PORT,
    500,
    10_000,
  ]);
  await receiver.ready;
  await probe(link.robot.netns, ['blast', link.robot.peer, PORT, 1000, 2000]).result;
  const got = await receiver.result;
  return got.bytes / (((got.lastMs ?? 0) - (got.firstMs ?? 0)) / 1000);
}

test('tbf limits the rate on the direct path, and only while applied', async () => {
  await using link = await NetnsLink.start({ seed: SEED, path: 'direct' });
  await link.apply({ rateKbit: 800 });
  expect(link.mechanisms()).toEqual({ rateKbit: 'tbf' });
  const limited = await throughput(link);
  // 800 kbit/s on the wire; each 1000-byte payload is 1042 bytes with Ethernet, IP and UDP headers.
  const expected = ((800_000 / 8) * 1000) / 1042;
  await link.apply({});
  const open = await throughput(link);
  measured(
    `tbf 800 kbit: ${(limited / 1000).toFixed(1)} kB/s payload (expected ${(expected / 1000).toFixed(1)}), unlimited ${(open / 1000).toFixed(0)} kB/s`,
  );
  expect(limited).toBeGreaterThan(expected * 0.85);
  expect(limited).toBeLessThan(expected * 1.15);
  expect(open).toBeGreaterThan(expected * 3);
});

test('mechanisms() names what ran; delay on the direct path needs netem, which this kernel may lack', async () => {
  {
    await using link = await relayLink();
    await link.apply({
      lossPct: 1,
      burst: { pGoodToBad: 0.01, pBadToGood: 0.3, lossInBadPct: 50 },
      delayMs: 20,
      jitterMs: 5,
      duplicatePct: 1,
      reorderPct: 1,
      rateKbit: 10_000,
    });
    expect(link.mechanisms()).toEqual({
      lossPct: 'relay',
      burst: 'relay',
      delayMs: 'relay',
      jitterMs: 'relay',
      duplicatePct: 'relay',
      reorderPct: 'relay',
      rateKbit: 'tbf',
    });
    expect(await sh('tc', ['-n', link.robot.netns, 'qdisc', 'show', 'dev', 'relay0'])).toContain('tbf');
  }
  await using direct = await NetnsLink.start({ seed: SEED, path: 'direct' });
  await direct.apply({ lossPct: 5 });
  if (await kernelHasNetem(direct.robot.netns)) {
    await direct.apply({ delayMs: 10 });
    expect(direct.mechanisms()).toEqual({ delayMs: 'netem' });
  } else {
    const error = await direct.apply({ delayMs: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      'conditions.delayMs needs the relay path here: this kernel has no netem',
    );
    // A refused apply leaves the previous conditions in place.
    expect(direct.mechanisms()).toEqual({ lossPct: 'nft' });
  }
  await expect(
    direct.apply({ burst: { pGoodToBad: 0.1, pBadToGood: 0.5, lossInBadPct: 80 } }),
  ).rejects.toThrow(/conditions\.burst needs the relay path/);
});

test('start and stop leave nothing behind, and stop is idempotent', async () => {
  const link = await relayLink();
  const names = [link.robot.netns, link.offboard.netns];
  expect(await sh('ip', ['netns', 'list'])).toContain(names[0]);
  expect(await sh('ip', ['-o', 'link', 'show'])).toContain(names[0]);
  await Promise.all([link.stop(), link.stop()]);
  await link.stop();
  const netns = await sh('ip', ['netns', 'list']);
  const links = await sh('ip', ['-o', 'link', 'show']);
  for (const name of names) {
    expect(netns).not.toContain(name);
    expect(links).not.toContain(name);
  }
});

test('relay adds little latency over the direct path (UDP ping-pong, 1000 round trips)', async () => {
  test.setTimeout(120_000);
  const p50 = async (path: 'relay' | 'direct'): Promise<number> => {
    await using link = await NetnsLink.start({ seed: SEED, path, relayPorts: [PORT] });
    const pong = probe(link.offboard.netns, ['pong', link.offboard.bindAddress, PORT]);
    await pong.ready;
    try {
      const { rttUs, lost: missing } = await probe<Pinged>(link.robot.netns, [
        'ping',
        link.robot.peer,
        PORT,
        1000,
      ]).result;
      expect(missing, `${path}: round trips unanswered`).toBe(0);
      return percentile(rttUs, 50);
    } finally {
      pong.child.kill('SIGKILL');
    }
  };
  const direct = await p50('direct');
  const relay = await p50('relay');
  const added = relay - direct;
  measured(
    `RTT p50 direct ${direct.toFixed(0)} µs, relay ${relay.toFixed(0)} µs: relay adds ${added.toFixed(0)} µs per round trip (${(added / 2).toFixed(0)} µs per crossing)`,
  );
  // Loose bound: a shared 2-core machine is no bench; docs/benchmarks.md holds the target.
  expect(added).toBeLessThan(5_000);
});
