import createDebug from 'debug';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { onProcessExit } from '../../core/cleanup.ts';
import { ConfigError, runAll, TimeoutError } from '../../core/errors.ts';
import { isAlive } from '../../core/process-alive.ts';
import { deriveSeed } from '../../core/seed.ts';
import { UdpRelay, type UdpStreamStats } from '../udp/relay.ts';
import { planConditions, type ConditionPlan, type Mechanism, type NetnsPath } from './conditions.ts';
import type { UdpLinkConditions } from '../udp-profiles.ts';
import { listNetns, netnsName, sweepStaleNetns } from './sweep.ts';
import { kernelHasNetem, sh } from './system.ts';

const debug = createDebug('fleetdrill:netns');

/** What a DDS participant in one namespace needs to talk over the link. */
export interface NetnsEndpoint {
  /** Run the participant with `ip netns exec <netns> ...`. */
  netns: string;
  /** The address to bind (and the only interface address in the namespace). */
  bindAddress: string;
  /** Where to send to reach the other side. */
  peer: string;
  /** The address the other side must use to reach this endpoint (a DDS participant advertises it). */
  advertise: string;
}

export interface NetnsLinkOptions {
  /** The run's seed: the relay's drop pattern follows from it and `label`. */
  seed: number;
  path: NetnsPath;
  /** UDP ports the relay path forwards, each in both directions (DDS: discovery and data ports). */
  relayPorts?: readonly number[];
  /** Names the link in errors, logs and seeds; two links with the same seed and label drop alike. */
  label?: string;
}

export type NetnsDirection = 'robot→off-board' | 'off-board→robot';

/** Datagram counts one way; `mechanism` says who counted (the relay, or nft on the direct path). */
export interface NetnsDirectionStats extends UdpStreamStats {
  mechanism: 'relay' | 'nft';
}

/** Interface names inside the namespaces; only the root-side relay veths need unique names. */
const RELAY_IF = 'relay0';
const DIRECT_IF = 'direct0';
/** The direct path's /24 exists only inside the two namespaces, so it cannot clash with the host. */
const DIRECT_NET = '10.213.254';
/** Candidate /24s for the relay path's root-side addresses, taken in order when free. */
const RELAY_BASES = ['10.213', '10.214', '10.215', '172.29'];
/** Serialises subnet choice across concurrent runs; holds the owner's pid so a dead owner's lock is broken. */
const ALLOCATION_LOCK = '/run/fleetdrill-netns.lock';
const NFT_TABLE = 'fdl';

let linkCounter = 0;

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** IPv4 ranges already in use in the root namespace, from its addresses and routes. */
export async function takenRanges(): Promise<Array<[number, number]>> {
  const text =
    (await sh('ip', ['-4', '-o', 'addr', 'show'])) +
    (await sh('ip', ['-4', 'route', 'show', 'table', 'all']));
  const ranges: Array<[number, number]> = [];
  for (const match of text.matchAll(/(\d+\.\d+\.\d+\.\d+)(?:\/(\d+))?/g)) {
    const bits = match[2] === undefined ? 32 : Number(match[2]);
    if (bits === 0) continue; // the default route overlaps everything and routes nowhere specific
    const size = 2 ** (32 - bits);
    const start = Math.floor(ipToInt(match[1]!) / size) * size;
    ranges.push([start, start + size - 1]);
  }
  return ranges;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `body` holding the machine-wide subnet lock, so two runs never pick the same /24. */
export async function withAllocationLock<T>(body: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      writeFileSync(ALLOCATION_LOCK, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    try {
      const owner = Number(readFileSync(ALLOCATION_LOCK, 'utf8'));
      const stale = owner > 0 ? !isAlive(owner) : Date.now() - statSync(ALLOCATION_LOCK).mtimeMs > 2_000;
      if (stale) unlinkSync(ALLOCATION_LOCK);
    } catch {
      // The owner released it between our looks: try again.
    }
    if (Date.now() > deadline)
      throw new TimeoutError(`netns link: ${ALLOCATION_LOCK} held by another run for over 10 s`);
    await sleep(10);
  }
  try {
    return await body();
  } finally {
    unlinkSync(ALLOCATION_LOCK);
  }
}

/** Two free /24 prefixes (`a.b.c`) in the root namespace, robot's first. */
async function freeRelayNets(): Promise<[string, string]> {
  const taken = await takenRanges();
  const free: string[] = [];
  for (const base of RELAY_BASES) {
    for (let octet = 0; octet < 254 && free.length < 2; octet++) {
      const start = ipToInt(`${base}.${octet}.0`);
      if (!taken.some(([lo, hi]) => lo <= start + 255 && start <= hi)) free.push(`${base}.${octet}`);
    }
    if (free.length === 2) return [free[0]!, free[1]!];
    free.length = 0;
  }
  throw new ConfigError('netns link', `no free /24 for the relay path in ${RELAY_BASES.join('.x, ')}.x`);
}

/**
 * Kills the processes `ip netns pids` listed: a process left inside a namespace keeps it (and its
 * veths) alive after `ip netns del`, and every process in these namespaces was started for the link.
 */
function killListed(pidList: string): void {
  for (const pid of pidList.split('\n').map(Number)) {
    if (!(pid > 0) || pid === process.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Deletes a root-namespace link; one already gone (never made, or swept) is fine. */
async function deleteLink(name: string): Promise<void> {
  await sh('ip', ['link', 'del', name]).catch((error: unknown) => {
    if (!/Cannot find device/.test((error as Error).message)) throw error;
  });
}

function checkOptions(options: NetnsLinkOptions): void {
  if (!Number.isInteger(options.seed) || options.seed < 0)
    throw new ConfigError('netns link seed', `must be a non-negative integer, got ${options.seed}`);
  if (options.path !== 'relay' && options.path !== 'direct')
    throw new ConfigError(
      'netns link path',
      `must be 'relay' or 'direct', got ${JSON.stringify(options.path)}`,
    );
  const ports = options.relayPorts ?? [];
  ports.forEach((port, i) => {
    if (!Number.isInteger(port) || port < 1 || port > 65_535)
      throw new ConfigError(`netns link relayPorts[${i}]`, `must be a port 1..65535, got ${port}`);
  });
  if (new Set(ports).size !== ports.length)
    throw new ConfigError('netns link relayPorts', `has duplicates: ${ports.join(', ')}`);
  if (options.path === 'relay' && ports.length === 0)
    throw new ConfigError('netns link relayPorts', 'must name at least one port on the relay path');
}

/**
 * A link between two network namespaces, "robot" and "off-board", for real DDS traffic. On the
 * relay path each namespace has a veth to the root namespace only, and every datagram crosses
 * the harness's seeded UdpRelay (loss, burst loss, delay, jitter, duplication, reordering); on the
 * direct path a veth joins the namespaces and the kernel impairs it (nftables drops, tbf rate).
 */
export class NetnsLink {
  static async start(options: NetnsLinkOptions): Promise<StartedNetnsLink> {
    checkOptions(options);
    const began = performance.now();
    await sweepStaleNetns();
    const existing = new Set(await listNetns());
    let k: number;
    do k = linkCounter++;
    while (existing.has(netnsName(process.pid, k, 'r')) || existing.has(netnsName(process.pid, k, 'o')));
    const r = netnsName(process.pid, k, 'r');
    const o = netnsName(process.pid, k, 'o');
    const label = options.label ?? `link${k}`;
    const created: string[] = [];
    // The Ctrl-C path: only synchronous work runs at exit, and the namespaces hold everything else.
    const unregister = onProcessExit(() => {
      for (const ns of created) {
        try {
          killListed(execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 5_000 }));
        } catch {
          /* best effort */
        }
        try {
          execFileSync('ip', ['link', 'del', ns], { stdio: 'ignore', timeout: 5_000 });
        } catch {
          /* the direct path has no root-side link of that name */
        }
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 5_000 });
      }
    });
    const relays: UdpRelay[] = [];
    try {
      for (const ns of [r, o]) {
        await sh('ip', ['netns', 'add', ns]);
        created.push(ns);
        await sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      }
      let robot: NetnsEndpoint;
      let offboard: NetnsEndpoint;
      if (options.path === 'direct') {
        await sh('ip', [
          'link',
          'add',
          'name',
          DIRECT_IF,
          'netns',
          r,
          'type',
          'veth',
          'peer',
          'name',
          DIRECT_IF,
          'netns',
          o,
        ]);
        const [ra, oa] = [`${DIRECT_NET}.1`, `${DIRECT_NET}.2`];
        for (const [ns, address] of [
          [r, ra],
          [o, oa],
        ] as const) {
          await sh(
            'ip',
            ['-n', ns, '-batch', '-'],
            `addr add ${address}/24 dev ${DIRECT_IF}\nlink set ${DIRECT_IF} up\n`,
          );
          // IPv4 only, as the link carries it. Named counters survive each apply(), so stats() counts
          // from start, as the relay does.
          await sh(
            'ip',
            ['netns', 'exec', ns, 'nft', '-f', '-'],
            [
              `table ip ${NFT_TABLE} {`,
              '  counter seen {}',
              '  counter dropped {}',
              '  chain out { type filter hook output priority 0; policy accept; }',
              '}',
            ].join('\n'),
          );
        }
        robot = { netns: r, bindAddress: ra, peer: oa, advertise: ra };
        offboard = { netns: o, bindAddress: oa, peer: ra, advertise: oa };
      } else {
        const [rn, on] = await withAllocationLock(async () => {
          const nets = await freeRelayNets();
          // The root-side veth takes the namespace's name: unique, and it dies with the namespace.
          for (const [ns, net] of [
            [r, nets[0]],
            [o, nets[1]],
          ] as const) {
            await sh('ip', [
              'link',
              'add',
              'name',
              ns,
              'type',
              'veth',
              'peer',
              'name',
              RELAY_IF,
              'netns',
              ns,
            ]);
            await sh('ip', ['-batch', '-'], `addr add ${net}.1/24 dev ${ns}\nlink set ${ns} up\n`);
          }
          return nets;
        });
        for (const [ns, net] of [
          [r, rn],
          [o, on],
        ] as const) {
          // No default route: the robot reaches only its root-side address, so nothing bypasses the relay.
          await sh(
            'ip',
            ['-n', ns, '-batch', '-'],
            `addr add ${net}.2/24 dev ${RELAY_IF}\nlink set ${RELAY_IF} up\n`,
          );
        }
        const seed = deriveSeed(options.seed, 'netns-link', label);
        for (const port of options.relayPorts ?? []) {
          relays.push(
            await UdpRelay.start({
              name: `robot→off-board:${port}`,
              listen: `${rn}.1:${port}`,
              upstream: `${on}.2:${port}`,
              seed,
            }),
            await UdpRelay.start({
              name: `off-board→robot:${port}`,
              listen: `${on}.1:${port}`,
              upstream: `${rn}.2:${port}`,
              seed,
            }),
          );
        }
        robot = { netns: r, bindAddress: `${rn}.2`, peer: `${rn}.1`, advertise: `${on}.1` };
        offboard = { netns: o, bindAddress: `${on}.2`, peer: `${on}.1`, advertise: `${rn}.1` };
      }
      const link = new StartedNetnsLink(label, options.path, robot, offboard, relays, created, unregister);
      debug(
        '%s: %s path up in %d ms (%s, %s)',
        label,
        options.path,
        Math.round(performance.now() - began),
        r,
        o,
      );
      return link;
    } catch (error) {
      debug('%s: start failed, cleaning up: %s', label, (error as Error).message);
      await runAll([
        ...relays.map((relay) => () => relay.stop()),
        ...created.map((ns) => () => deleteLink(ns)),
        ...created.map((ns) => () => sh('ip', ['netns', 'del', ns])),
      ]).catch(() => undefined);
      unregister();
      throw error;
    }
  }
}

/** A running namespace link: its two endpoints, its conditions, its counts, and its teardown. */
export class StartedNetnsLink {
  private current: ConditionPlan['mechanisms'] = {};
  private stopping?: Promise<void>;

  /** @internal built by NetnsLink.start */
  constructor(
    readonly label: string,
    readonly path: NetnsPath,
    readonly robot: NetnsEndpoint,
    readonly offboard: NetnsEndpoint,
    private readonly relays: readonly UdpRelay[],
    private readonly namespaces: readonly string[],
    private readonly unregisterExit: () => void,
  ) {}

  private get linkIf(): string {
    return this.path === 'relay' ? RELAY_IF : DIRECT_IF;
  }

  /**
   * Replaces the link's conditions, the same both ways. Everything is validated before anything
   * changes; a condition the path cannot do throws a ConfigError naming the field.
   */
  async apply(conditions: UdpLinkConditions): Promise<void> {
    const delayed = (conditions.delayMs ?? 0) > 0 || (conditions.jitterMs ?? 0) > 0;
    const netem = this.path === 'direct' && delayed ? await kernelHasNetem(this.robot.netns) : false;
    const plan = planConditions(conditions, this.path, netem);
    for (const relay of this.relays) {
      relay.removeAllToxics();
      for (const toxic of plan.toxics) relay.addToxic(toxic);
      relay.enabled = plan.relayEnabled;
    }
    for (const ns of this.namespaces) {
      if (this.path === 'direct') {
        const match = `oifname "${DIRECT_IF}"`;
        const drop = plan.nft.down
          ? `add rule ip ${NFT_TABLE} out ${match} counter name dropped drop`
          : plan.nft.dropPpm > 0
            ? `add rule ip ${NFT_TABLE} out ${match} numgen random mod 1000000 < ${plan.nft.dropPpm} counter name dropped drop`
            : '';
        await sh(
          'ip',
          ['netns', 'exec', ns, 'nft', '-f', '-'],
          [
            `flush chain ip ${NFT_TABLE} out`,
            `add rule ip ${NFT_TABLE} out ${match} counter name seen`,
            drop,
          ].join('\n'),
        );
      }
      await this.setQdisc(ns, plan);
    }
    this.current = plan.mechanisms;
    debug('%s: applied %j via %j', this.label, conditions, plan.mechanisms);
  }

  private async setQdisc(ns: string, plan: ConditionPlan): Promise<void> {
    const dev = ['-n', ns, 'qdisc', 'replace', 'dev', this.linkIf, 'root'];
    if (plan.netem) {
      const { delayMs, jitterMs, rateKbit } = plan.netem;
      await sh('tc', [
        ...dev,
        'netem',
        'delay',
        `${delayMs}ms`,
        `${jitterMs}ms`,
        ...(rateKbit ? ['rate', `${rateKbit}kbit`] : []),
      ]);
    } else if (plan.tbfKbit) {
      // A 20 ms bucket (at least a few frames) keeps the rate honest over any window longer than that.
      const burst = Math.max(3_200, Math.ceil((plan.tbfKbit * 1000) / 8 / 50));
      await sh('tc', [
        ...dev,
        'tbf',
        'rate',
        `${plan.tbfKbit}kbit`,
        'burst',
        String(burst),
        'latency',
        '100ms',
      ]);
    } else {
      // Back to the default qdisc; "nothing to delete" is already the wanted state.
      await sh('tc', ['-n', ns, 'qdisc', 'del', 'dev', this.linkIf, 'root']).catch(() => undefined);
    }
  }

  /** Which mechanism carries each condition of the last apply(). */
  mechanisms(): Partial<Record<keyof UdpLinkConditions, Mechanism>> {
    return { ...this.current };
  }

  /** Datagrams per direction since start: the relay's counts, or nft's on the direct path. */
  async stats(): Promise<Record<NetnsDirection, NetnsDirectionStats>> {
    if (this.path === 'relay') {
      const sum = (parts: UdpStreamStats[]): NetnsDirectionStats => ({
        mechanism: 'relay',
        received: parts.reduce((n, s) => n + s.received, 0),
        sent: parts.reduce((n, s) => n + s.sent, 0),
        dropped: parts.reduce((n, s) => n + s.dropped, 0),
        duplicated: parts.reduce((n, s) => n + s.duplicated, 0),
      });
      const ro = this.relays.filter((relay) => relay.name.startsWith('robot→'));
      const or = this.relays.filter((relay) => relay.name.startsWith('off-board→'));
      return {
        // A reply to a relayed datagram goes back through the same relay's downstream.
        'robot→off-board': sum([...ro.map((x) => x.stats.upstream), ...or.map((x) => x.stats.downstream)]),
        'off-board→robot': sum([...or.map((x) => x.stats.upstream), ...ro.map((x) => x.stats.downstream)]),
      };
    }
    const [fromRobot, fromOffboard] = await Promise.all(this.namespaces.map((ns) => this.nftCounters(ns)));
    return { 'robot→off-board': fromRobot!, 'off-board→robot': fromOffboard! };
  }

  private async nftCounters(ns: string): Promise<NetnsDirectionStats> {
    const out = await sh('ip', [
      'netns',
      'exec',
      ns,
      'nft',
      '-j',
      'list',
      'counters',
      'table',
      'ip',
      NFT_TABLE,
    ]);
    const counters = new Map<string, number>();
    for (const item of (
      JSON.parse(out) as { nftables: Array<{ counter?: { name: string; packets: number } }> }
    ).nftables) {
      if (item.counter) counters.set(item.counter.name, item.counter.packets);
    }
    const seen = counters.get('seen') ?? 0;
    const dropped = counters.get('dropped') ?? 0;
    return { mechanism: 'nft', received: seen, sent: seen - dropped, dropped, duplicated: 0 };
  }

  /** Stops the relays and deletes both namespaces (their veths, rules and qdiscs with them). Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const began = performance.now();
      await runAll([
        ...this.relays.map((relay) => () => relay.stop()),
        ...this.namespaces.map((ns) => async () => killListed(await sh('ip', ['netns', 'pids', ns]))),
        // The kernel tears a deleted namespace down in the background, root-side veths too; deleting
        // them first means the host is clean when stop() returns.
        ...(this.path === 'relay' ? this.namespaces.map((ns) => () => deleteLink(ns)) : []),
        ...this.namespaces.map((ns) => () => sh('ip', ['netns', 'del', ns])),
        () => this.unregisterExit(),
      ]);
      debug('%s: stopped in %d ms', this.label, Math.round(performance.now() - began));
    })();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
