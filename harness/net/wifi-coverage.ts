import createDebug from 'debug';
import type { World } from '../../protocol/world.ts';
import type { EventBus } from '../core/events.ts';
import type { StartedFleetNetwork } from './network.ts';
import { linkQuality, nextTier, tierFor, type TierProfile } from './wifi-map.ts';

const log = createDebug('fleetdrill:wifi');

/** A pose as the coverage follower needs it, with when it was received (performance.now()). */
export interface TimedPose {
  x: number;
  y: number;
  receivedAt: number;
}

/** Subscribes to a robot's ground-truth pose; returns the unsubscribe function. */
export type PoseSubscription = (listener: (pose: TimedPose) => void) => () => void;

/** How the coverage follower behaves. */
export interface WifiCoverageOptions {
  /** At most one evaluation per robot per this many ms: bounds the rate of toxic updates. */
  minIntervalMs?: number;
  /** How far past a tier boundary the signal must go before the profile changes. */
  hysteresisDb?: number;
  events?: EventBus;
}

interface Follow {
  tier: TierProfile | undefined;
  lastEvalAt: number;
  busy: boolean;
  pending: TimedPose | undefined;
  deadSince: number | undefined;
  unsubscribe: () => void;
}

/**
 * Follows robots around the world's Wi-Fi map: from each robot's pose it computes the signal
 * of the best access point, maps it to a link profile (wifi-good, wifi-congested, wifi-edge,
 * dead) and puts that profile on the robot's links. Dead zones are where no access point is
 * heard. The pose comes from a ground-truth channel that is not itself behind the proxy; a
 * robot in a dead zone could not report where it is over the link that is dead.
 */
export class WifiCoverage {
  private readonly follows = new Map<string, Follow>();
  private readonly lags: number[] = [];
  private stopped = false;

  constructor(
    private readonly world: World,
    private readonly network: StartedFleetNetwork,
    private readonly options: WifiCoverageOptions = {},
  ) {}

  /** Starts following one robot; its links get the profile of where it stands now. */
  follow(robot: string, poses: PoseSubscription): void {
    if (this.follows.has(robot)) return;
    const follow: Follow = {
      tier: undefined,
      lastEvalAt: -Infinity,
      busy: false,
      pending: undefined,
      deadSince: undefined,
      unsubscribe: () => undefined,
    };
    this.follows.set(robot, follow);
    follow.unsubscribe = poses((pose) => this.onPose(robot, follow, pose));
  }

  /** The profile a robot's link is in (undefined before its first pose). */
  tierOf(robot: string): TierProfile | undefined {
    return this.follows.get(robot)?.tier;
  }

  /**
   * Milliseconds from receiving the first pose inside a dead zone to the dead profile being
   * active on the proxy, one sample per entry.
   */
  get deadZoneApplyLagsMs(): readonly number[] {
    return this.lags;
  }

  /** Stops following; leaves the links as they are (the fixtures clear them). Idempotent. */
  stop(): void {
    this.stopped = true;
    for (const follow of this.follows.values()) follow.unsubscribe();
    this.follows.clear();
  }

  private onPose(robot: string, follow: Follow, pose: TimedPose): void {
    if (this.stopped) return;
    if (follow.busy) {
      // Keep only the newest pose; it is evaluated as soon as the current change lands.
      follow.pending = pose;
      return;
    }
    if (pose.receivedAt - follow.lastEvalAt < (this.options.minIntervalMs ?? 100)) return;
    follow.lastEvalAt = pose.receivedAt;
    const quality = linkQuality(this.world, pose.x, pose.y);
    const tier =
      follow.tier === undefined
        ? tierFor(quality.rssiDbm)
        : nextTier(follow.tier, quality.rssiDbm, this.options.hysteresisDb ?? 3);
    if (tier === follow.tier) return;
    const previous = follow.tier;
    follow.tier = tier;
    follow.busy = true;
    const events = this.options.events;
    this.network
      .apply(robot, tier, { reason: 'wifi-map' })
      .then(() => {
        const at = performance.now();
        events?.emit({
          kind: 'link-quality',
          robot,
          profile: tier,
          rssiDbm: quality.rssiDbm,
          ap: quality.ap,
        });
        if (tier === 'dead') {
          follow.deadSince = at;
          if (previous !== undefined) this.lags.push(at - pose.receivedAt);
          events?.emit({ kind: 'dead-zone-entered', robot, x: pose.x, y: pose.y, rssiDbm: quality.rssiDbm });
        } else if (previous === 'dead') {
          const afterMs = Math.round(at - (follow.deadSince ?? at));
          follow.deadSince = undefined;
          events?.emit({
            kind: 'dead-zone-left',
            robot,
            x: pose.x,
            y: pose.y,
            rssiDbm: quality.rssiDbm ?? Number.NaN,
            afterMs,
          });
        }
      })
      .catch((error: unknown) => {
        // The next pose retries from the tier the link was in.
        follow.tier = previous;
        if (!this.stopped) log('robot %s: cannot apply %s: %O', robot, tier, error);
      })
      .finally(() => {
        follow.busy = false;
        const pending = follow.pending;
        follow.pending = undefined;
        if (pending) this.onPose(robot, follow, pending);
      });
  }
}
