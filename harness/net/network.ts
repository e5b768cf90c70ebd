import createDebug from 'debug';
import { Toxiproxy, type Proxy } from 'toxiproxy-node-client';
import { ConfigError, runAll } from '../core/errors.ts';
import type { EventBus } from '../core/events.ts';
import { deriveSeed, SeededRandom } from '../core/seed.ts';
import { RobotLink } from './link.ts';
import { ProfileRegistry, type CustomProfileConfig, type LinkProfile, type ToxicSpec } from './profiles.ts';
import { ToxiproxyServer, type StartedToxiproxyServer } from './toxiproxy/index.ts';
import { LOOPBACK_ADDRESS } from '../../protocol/listen-address.ts';

const log = createDebug('fleetdrill:net');

/** Environment variable naming a real Toxiproxy server to use instead of the embedded one. */
export const TOXIPROXY_URL_ENV = 'TOXIPROXY_URL';

/** An error with its cause: fetch's own message ("fetch failed") says nothing by itself. */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return message + cause;
}

/** A one-off link state a drill spells out itself. */
export interface InlineProfile {
  name?: string;
  toxics: readonly ToxicSpec[];
  enabled?: boolean;
}

function isInline(profile: readonly string[] | InlineProfile): profile is InlineProfile {
  return !Array.isArray(profile);
}

/** How the fleet's links are faulted. */
export interface FleetNetworkOptions {
  /** The run's seed: jitter, toxicity and seeded profiles derive from it. */
  seed: number;
  /** A Toxiproxy API to use (a real toxiproxy-server); default: start the embedded one. */
  toxiproxyUrl?: string;
  /**
   * The API at `toxiproxyUrl` belongs to this run (the docker fleet's fault-layer container),
   * so its proxies go with it and need no removal.
   */
  ownedByRun?: boolean;
  /** Custom link profiles, by name. */
  profiles?: Readonly<Record<string, CustomProfileConfig>>;
  events?: EventBus;
  /**
   * The IPv4 address the embedded server's API and every proxy listen on (default 127.0.0.1);
   * the caller warns when it is not loopback (core/listen-address.ts).
   */
  listenAddress?: string;
}

/** The fault layer's configuration; `start()` returns a {@link StartedFleetNetwork}. */
export class FleetNetwork {
  constructor(private readonly options: FleetNetworkOptions) {}

  async start(): Promise<StartedFleetNetwork> {
    const { seed, toxiproxyUrl } = this.options;
    const profiles = new ProfileRegistry(this.options.profiles);
    let server: StartedToxiproxyServer | undefined;
    let url = toxiproxyUrl;
    if (!url) {
      server = await new ToxiproxyServer({
        host: this.options.listenAddress ?? LOOPBACK_ADDRESS,
        port: 0,
        seed: deriveSeed(seed, 'toxiproxy'),
      }).start();
      url = server.url;
    }
    const client = new Toxiproxy(url);
    try {
      await client.getVersion();
    } catch (error) {
      await server?.stop();
      throw new ConfigError(
        toxiproxyUrl ? TOXIPROXY_URL_ENV : 'toxiproxy',
        `cannot reach a Toxiproxy API at ${url}: ${(error as Error).message}`,
      );
    }
    log('fault layer at %s (%s)', url, server ? 'embedded' : 'external');
    return new StartedFleetNetwork(client, url, server, profiles, seed, this.options.events, {
      removeProxies: !server && !this.options.ownedByRun,
      listenAddress: this.options.listenAddress ?? LOOPBACK_ADDRESS,
    });
  }
}

/**
 * The running fault layer: one proxy per robot link, named `<robot>-<link>`, and the profiles
 * to put on them. Against a real Toxiproxy it removes exactly the proxies it made.
 */
export class StartedFleetNetwork {
  private readonly links = new Map<string, RobotLink>();
  // Robots whose radio is a tunnel's underlay (harness/fleet/vpn.ts): no cloud link here.
  private readonly tunnels = new Map<string, { reason: string; clear: () => Promise<void> }>();
  private readonly randoms = new Map<string, SeededRandom>();
  private stopped = false;
  private creating: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: Toxiproxy,
    /** The Toxiproxy API URL. */
    readonly url: string,
    private readonly server: StartedToxiproxyServer | undefined,
    readonly profiles: ProfileRegistry,
    private readonly seed: number,
    private readonly events: EventBus | undefined,
    private readonly settings: { removeProxies: boolean; listenAddress: string } = {
      removeProxies: !server,
      listenAddress: LOOPBACK_ADDRESS,
    },
  ) {}

  /** True when the fault layer is the embedded server, false for a real Toxiproxy. */
  get embedded(): boolean {
    return this.server !== undefined;
  }

  /**
   * Puts a robot's link behind a new proxy listening on a free port of the fleet's listen address
   * (loopback unless told otherwise); `upstream` is the `host:port` the robot serves it on.
   * Clients connect to the returned link's `listen`.
   */
  async addLink(
    robot: string,
    name: string,
    upstream: string,
    listen = `${this.settings.listenAddress}:0`,
  ): Promise<RobotLink> {
    const proxyName = `${robot}-${name}`;
    let proxy: Proxy;
    // One at a time: a fleet of 100 booting at once would open 100 API connections in a burst,
    // and an HTTP server (ours or a real Toxiproxy) may refuse some of them.
    const turn = this.creating;
    let done!: () => void;
    this.creating = new Promise<void>((resolve) => (done = resolve));
    await turn;
    try {
      proxy = await this.client.createProxy({
        name: proxyName,
        listen,
        upstream,
        enabled: true,
      });
    } catch (error) {
      throw new ConfigError('', `robot ${robot}: cannot create proxy ${proxyName}: ${describe(error)}`);
    } finally {
      done();
    }
    const link = new RobotLink(robot, name, proxy, proxy.listen, this.events);
    this.links.set(proxyName, link);
    return link;
  }

  /**
   * Marks a robot whose agent ↔ cloud link runs through a VPN tunnel: its radio is a UDP underlay
   * the TCP profiles cannot shape, so asking for its cloud link, a profile on all its links or a
   * pulled cable fails with `reason`; `clear` (the underlay's) runs with every clear of the robot.
   */
  tunnelled(robot: string, tunnel: { reason: string; clear: () => Promise<void> }): void {
    this.tunnels.set(robot, tunnel);
  }

  /** The link of a robot; throws naming the links there are. */
  link(robot: string, name = 'rosbridge'): RobotLink {
    const link = this.links.get(`${robot}-${name}`);
    const tunnel = this.tunnels.get(robot);
    if (!link && tunnel && name === 'cloud') throw new ConfigError('vpn', tunnel.reason);
    if (!link) {
      throw new ConfigError(
        'link',
        `robot ${robot} has no link '${name}' (links: ${[...this.links.keys()].join(', ') || 'none'})`,
      );
    }
    return link;
  }

  /** Every link of a robot (its radio carries them all); throws naming the links there are. */
  linksOf(robot: string): RobotLink[] {
    const links = [...this.links.values()].filter((link) => link.robot === robot);
    if (!links.length) {
      throw new ConfigError(
        'link',
        `robot ${robot} has no links (links: ${[...this.links.keys()].join(', ') || 'none'})`,
      );
    }
    return links;
  }

  /**
   * Puts a robot's links (all of them, or `options.link`) into a named profile, several combined (`['lte', 'roaming-handover']`),
   * or an inline state (`{ toxics: [...] }`). Resolves once the first phase is active.
   */
  async apply(
    robot: string,
    profile: string | readonly string[] | InlineProfile,
    options: { link?: string; reason?: string } = {},
  ): Promise<void> {
    const resolved = this.resolve(profile);
    if (options.link === undefined) this.refuseTunnelled(robot);
    const links = options.link ? [this.link(robot, options.link)] : this.linksOf(robot);
    await Promise.all(
      links.map((link) => link.apply(resolved, this.random(robot, link.name), options.reason)),
    );
  }

  /** The profile a name, a list of names or an inline state stands for. */
  resolve(profile: string | readonly string[] | InlineProfile): LinkProfile {
    if (typeof profile === 'string') return this.profiles.get(profile);
    if (isInline(profile)) {
      const state = { toxics: profile.toxics, enabled: profile.enabled ?? true };
      return { name: profile.name ?? 'inline', description: 'inline profile', phases: () => [state] };
    }
    return this.profiles.combine(profile);
  }

  /** Clears a robot's links (all of them, or `options.link`): no faults, each leading home. */
  async clear(robot: string, options: { link?: string; reason?: string } = {}): Promise<void> {
    const links = options.link ? [this.link(robot, options.link)] : this.linksOf(robot);
    const tunnel = options.link ? undefined : this.tunnels.get(robot);
    await Promise.all([
      ...links.map(async (link) => {
        await link.clear(options.reason);
        await link.restore(options.reason);
      }),
      tunnel?.clear(),
    ]);
  }

  /**
   * Pulls a robot's cable in the fault layer: every link of the robot goes down like a pulled
   * cable (open connections closed, new ones refused) and stays down through any profile put on
   * meanwhile, until {@link reconnect} or {@link clearAll}.
   */
  async disconnect(robot: string): Promise<void> {
    this.refuseTunnelled(robot);
    await Promise.all(this.linksOf(robot).map((link) => link.unplug()));
  }

  /** Plugs a robot's cable back in: each link is again what its profile makes it. */
  async reconnect(robot: string): Promise<void> {
    await Promise.all(this.linksOf(robot).map((link) => link.plugIn()));
  }

  /** A robot's cable in this fault layer, for a robot whose power supply has none of its own. */
  cableOf(robot: string): { disconnect(): Promise<void>; reconnect(): Promise<void> } {
    return { disconnect: () => this.disconnect(robot), reconnect: () => this.reconnect(robot) };
  }

  /**
   * Bytes that crossed a robot's link so far, from the fault layer's Prometheus metrics
   * (Toxiproxy's `/metrics`): `toRobot` what the proxy delivered downstream, `fromRobot` upstream.
   * A black-holed byte is not counted until it passes.
   */
  async linkBytes(robot: string, name = 'rosbridge'): Promise<{ toRobot: number; fromRobot: number }> {
    const proxy = this.link(robot, name).proxyName;
    const response = await fetch(new URL('/metrics', this.url));
    if (!response.ok) throw new ConfigError('toxiproxy', `GET /metrics answered ${response.status}`);
    const bytes = { toRobot: 0, fromRobot: 0 };
    for (const line of (await response.text()).split('\n')) {
      const match = /^toxiproxy_proxy_sent_bytes_total\{(.*)\} (\d+(?:\.\d+)?(?:e\+?\d+)?)$/.exec(line);
      if (!match) continue;
      const labels = Object.fromEntries(
        [...match[1]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
      );
      if (labels.proxy !== proxy) continue;
      if (labels.direction === 'downstream') bytes.toRobot += Number(match[2]);
      if (labels.direction === 'upstream') bytes.fromRobot += Number(match[2]);
    }
    return bytes;
  }

  /** Clears every link and plugs every pulled cable back in: what the fixtures do after each drill. */
  async clearAll(reason = 'drill ended'): Promise<void> {
    await Promise.all([
      ...[...this.links.values()].map(async (link) => {
        await link.clear(reason);
        await link.plugIn();
        await link.restore(reason);
      }),
      ...[...this.tunnels.values()].map((tunnel) => tunnel.clear()),
    ]);
  }

  /**
   * Throws for a tunnelled robot, naming `vpn`: its whole radio is its underlay, which the fault
   * layer's TCP profiles cannot shape (Wi-Fi following, a profile on all its links, its cable).
   */
  refuseTunnelled(robot: string): void {
    const tunnel = this.tunnels.get(robot);
    if (tunnel) throw new ConfigError('vpn', tunnel.reason);
  }

  /** Removes every proxy this network made and stops the embedded server. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const link of this.links.values()) link.dispose();
    this.tunnels.clear();
    await runAll([
      // A real Toxiproxy outlives the run: leave it as found. The run's own just goes.
      ...(!this.settings.removeProxies
        ? []
        : [...this.links.keys()].map((name) => async () => (await this.client.get(name)).remove())),
      () => this.server?.stop(),
    ]);
    this.links.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /**
   * One random stream per robot link, derived from the run's seed, so what r02's faults draw
   * does not depend on how many faults r01 got.
   */
  private random(robot: string, link: string): SeededRandom {
    const key = `${robot}-${link}`;
    let random = this.randoms.get(key);
    if (!random) {
      random = new SeededRandom(deriveSeed(this.seed, 'link', key));
      this.randoms.set(key, random);
    }
    return random;
  }
}
