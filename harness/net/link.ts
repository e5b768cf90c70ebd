import createDebug from 'debug';
import type { Proxy } from 'toxiproxy-node-client';
import type { EventBus } from '../core/events.ts';
import type { SeededRandom } from '../core/seed.ts';
import { CLEAR, type LinkProfile, type LinkState, type ProfilePhase, type ToxicSpec } from './profiles.ts';

const log = createDebug('fleetdrill:net');

/** Prefix of the toxics fleetdrill owns, so it never touches toxics a user added by hand. */
const OWNED_PREFIX = 'fd-';

/**
 * Names toxics by type, stream and occurrence (`fd-latency-downstream-0`): a profile change that
 * keeps a latency toxic updates it in place instead of removing and re-adding it.
 */
function nameToxics(toxics: readonly ToxicSpec[]): Map<string, ToxicSpec> {
  const named = new Map<string, ToxicSpec>();
  const seen = new Map<string, number>();
  for (const toxic of toxics) {
    const key = `${toxic.type}-${toxic.stream}`;
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    named.set(`${OWNED_PREFIX}${key}-${n}`, toxic);
  }
  return named;
}

function sameToxic(a: ToxicSpec, b: ToxicSpec): boolean {
  return (
    a.type === b.type &&
    a.stream === b.stream &&
    (a.toxicity ?? 1) === (b.toxicity ?? 1) &&
    JSON.stringify(a.attributes) === JSON.stringify(b.attributes)
  );
}

/**
 * One robot link (say r02's rosbridge) behind its own proxy. The link applies profiles by
 * turning them into toxics on that proxy; multi-phase profiles advance on timers until
 * replaced. Works the same against the embedded server and a real Toxiproxy.
 */
export class RobotLink {
  private applied = new Map<string, ToxicSpec>();
  /** Whether the proxy is enabled now. */
  private enabled = true;
  /** Whether the profile's current phase wants the proxy enabled. */
  private profileEnabled = true;
  /** A pulled cable: the proxy stays disabled whatever profiles ask, until plugged in. */
  private unplugged = false;
  private phaseTimer: NodeJS.Timeout | undefined;
  /** Serialises changes: a phase timer firing mid-apply must wait its turn. */
  private queue: Promise<void> = Promise.resolve();
  private generation = 0;
  private current = 'clear';
  /** Where the link leads now: its own end, or where a drill redirected it. */
  private upstream: string;
  /** Where the link belongs: the robot's own service, or its cloud. */
  readonly home: string;

  constructor(
    readonly robot: string,
    readonly name: string,
    private readonly proxy: Proxy,
    /** Where clients connect: `host:port` of the proxy's listener. */
    readonly listen: string,
    private readonly events: EventBus | undefined,
  ) {
    this.home = proxy.upstream;
    this.upstream = proxy.upstream;
  }

  get proxyName(): string {
    return this.proxy.name;
  }

  /** Name of the profile last applied (`clear` at start). */
  get profile(): string {
    return this.current;
  }

  /**
   * Puts the link into a profile. Resolves when its first phase is active on the proxy; later
   * phases follow on timers. Replaces whatever profile was active.
   */
  async apply(profile: LinkProfile, random: SeededRandom, reason = 'drill'): Promise<void> {
    const generation = ++this.generation;
    this.clearTimer();
    const phases = profile.phases(random);
    this.current = profile.name;
    this.events?.emit({
      kind: 'fault-applied',
      robot: this.robot,
      link: this.name,
      profile: profile.name,
      reason,
    });
    await this.runPhases(phases, 0, generation);
  }

  /** Back to a clean link: no fleetdrill toxics, proxy enabled. */
  async clear(reason = 'drill'): Promise<void> {
    const generation = ++this.generation;
    this.clearTimer();
    const was = this.current;
    this.current = 'clear';
    await this.enqueue(() => this.setState(CLEAR));
    if (generation === this.generation && was !== 'clear') {
      this.events?.emit({ kind: 'fault-cleared', robot: this.robot, link: this.name, reason });
    }
  }

  /**
   * Pulls the link's cable: the proxy is disabled (Toxiproxy closes its connections and refuses
   * new ones) and stays so through any profile applied meanwhile, until {@link plugIn}.
   */
  async unplug(): Promise<void> {
    await this.enqueue(async () => {
      this.unplugged = true;
      await this.followProfile();
    });
  }

  /** Plugs the cable back in: the link is again what its profile makes it. */
  async plugIn(): Promise<void> {
    await this.enqueue(async () => {
      this.unplugged = false;
      await this.followProfile();
    });
  }

  /**
   * Leads the link somewhere else, as a rogue access point or a poisoned DNS answer would: open
   * connections are closed, new ones reach `upstream` (`host:port`). Faults on the link still
   * apply. {@link restore} leads it home again.
   */
  async redirect(upstream: string, reason = 'drill'): Promise<void> {
    await this.enqueue(() => this.setUpstream(upstream));
    this.events?.emit({ kind: 'link-redirected', robot: this.robot, link: this.name, upstream, reason });
  }

  /** Leads the link to where it belongs again; nothing when it is already there. */
  async restore(reason = 'drill'): Promise<void> {
    if (this.upstream === this.home) return;
    await this.enqueue(() => this.setUpstream(this.home));
    this.events?.emit({
      kind: 'link-restored',
      robot: this.robot,
      link: this.name,
      upstream: this.home,
      reason,
    });
  }

  /** Where the link leads now. */
  get target(): string {
    return this.upstream;
  }

  /** Stops phase timers; the proxy itself is removed by the network. */
  dispose(): void {
    this.generation++;
    this.clearTimer();
  }

  private async runPhases(phases: ProfilePhase[], index: number, generation: number): Promise<void> {
    const phase = phases[index];
    if (!phase || generation !== this.generation) return;
    await this.enqueue(async () => {
      if (generation === this.generation) await this.setState(phase);
    });
    if (phase.forMs !== undefined && generation === this.generation) {
      this.phaseTimer = setTimeout(() => {
        this.runPhases(phases, index + 1, generation).catch((error: unknown) =>
          log('%s: phase %d of %s failed: %O', this.proxy.name, index + 1, this.current, error),
        );
      }, phase.forMs);
      this.phaseTimer.unref();
    }
  }

  private enqueue(change: () => Promise<void>): Promise<void> {
    const next = this.queue.then(change);
    // A failed change must not wedge the queue for the next one; the caller still sees it fail.
    this.queue = next.catch(() => undefined);
    return next;
  }

  private clearTimer(): void {
    if (this.phaseTimer) clearTimeout(this.phaseTimer);
    this.phaseTimer = undefined;
  }

  /** Moves the proxy from what was applied to `state` with as few API calls as it takes. */
  private async setState(state: LinkState): Promise<void> {
    const wanted = nameToxics(state.toxics);
    const calls: Promise<unknown>[] = [];
    this.profileEnabled = state.enabled;
    // Going down first: a dead link should stop passing data before anything else changes.
    if (!this.wantsEnabled && this.enabled) {
      await this.setEnabled(false);
    }
    // New toxics first, then the changes: a toxic taken away hands what it holds to the rest of
    // the chain, so a dead zone replacing a bandwidth cap must already be there to catch it.
    const additions: Promise<unknown>[] = [];
    for (const [name, spec] of wanted) {
      if (!this.applied.has(name)) {
        additions.push(
          this.proxy.addToxic({
            name,
            type: spec.type,
            stream: spec.stream,
            toxicity: spec.toxicity ?? 1,
            attributes: spec.attributes,
          }),
        );
      }
    }
    await Promise.all(additions);
    for (const [name, spec] of this.applied) {
      const target = wanted.get(name);
      if (!target) {
        calls.push(this.toxic(name, spec).remove());
      } else if (!sameToxic(spec, target)) {
        calls.push(
          this.toxic(name, spec).update({ attributes: target.attributes, toxicity: target.toxicity ?? 1 }),
        );
      }
    }
    await Promise.all(calls);
    this.applied = wanted;
    if (this.wantsEnabled && !this.enabled) {
      await this.setEnabled(true);
    }
    log('%s: %d toxics, %s', this.proxy.name, wanted.size, this.enabled ? 'enabled' : 'down');
  }

  private get wantsEnabled(): boolean {
    return this.profileEnabled && !this.unplugged;
  }

  private async followProfile(): Promise<void> {
    if (this.wantsEnabled !== this.enabled) await this.setEnabled(this.wantsEnabled);
  }

  private async setEnabled(enabled: boolean): Promise<void> {
    // The API takes the whole proxy; the same listen and upstream leave the listener alone.
    await this.proxy.update({ enabled, listen: this.proxy.listen, upstream: this.upstream });
    this.enabled = enabled;
  }

  private async setUpstream(upstream: string): Promise<void> {
    // A new upstream restarts the listener: the fault layer closes the connections it carried.
    await this.proxy.update({ enabled: this.enabled, listen: this.proxy.listen, upstream });
    this.upstream = upstream;
  }

  /** A handle on a toxic this link applied, for update and removal. */
  private toxic(name: string, spec: ToxicSpec): ToxicHandle {
    return new ToxicHandle(this.proxy, name, spec);
  }
}

/** Addresses one toxic of a proxy by name, through the proxy's own HTTP client. */
class ToxicHandle {
  private readonly path: string;

  constructor(
    private readonly proxy: Proxy,
    name: string,
    private readonly spec: ToxicSpec,
  ) {
    this.path = `${proxy.getPath()}/toxics/${encodeURIComponent(name)}`;
  }

  remove(): Promise<void> {
    return this.proxy.api.delete(this.path);
  }

  async update(body: { attributes: Record<string, number>; toxicity: number }): Promise<void> {
    await this.proxy.api.post(this.path, { ...body, stream: this.spec.stream, type: this.spec.type });
  }
}
