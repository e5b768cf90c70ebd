import type { EventBus } from '../core/events.ts';
import type { StartedFleetNetwork } from '../net/network.ts';
import type { AgentSettings } from '../../reference/edge-agent/index.ts';
import type { FaultLayerPlacement, RobotSpec, StartedRobotBackend } from './backend.ts';
import type { FleetParts } from './fleet-parts.ts';
import { Robot } from './robot.ts';

/** What every robot's bring-up shares: the fleet's started parts and how robots are set. */
export interface BringUpContext {
  readonly parts: FleetParts & { backend: StartedRobotBackend; network: StartedFleetNetwork };
  /** The backend's own fault layer, or undefined when the fleet runs one on this machine. */
  readonly placement: FaultLayerPlacement | undefined;
  /** Every robot's edge agent settings; unused when the fleet has no cloud. */
  readonly agentSettings: AgentSettings;
  readonly events: EventBus;
  readonly readyTimeoutMs: number;
  readonly fleetSize: number;
}

/**
 * Powers a robot on and attaches the harness to it: its agent's way to the cloud first, then its
 * host, then the harness's own proxy to its rosbridge. Resolves, once the robot is ready, with its
 * boot time in ms. Every part started on the way is in `ctx.parts`, so a failure is cleaned up
 * with the rest of the fleet.
 */
export async function bringUpRobot(spec: RobotSpec, ctx: BringUpContext): Promise<number> {
  const { parts, placement, events } = ctx;
  const bootAt = performance.now();
  events.emit({ kind: 'robot-booting', robot: spec.id });
  await wireAgent(spec, ctx);
  const host = await parts.backend.startRobot(spec);
  parts.hosts.push(host);
  // The harness talks to the robot through its own proxy, so any fault can hit any robot.
  const link = await parts.network.addLink(
    spec.id,
    'rosbridge',
    host.endpoints.upstream,
    placement?.listenFor(spec, 'rosbridge'),
  );
  const robot = await Robot.attach(spec, host, {
    events,
    readyTimeoutMs: ctx.readyTimeoutMs,
    fleetSize: ctx.fleetSize,
    rosbridge: `ws://${placement ? placement.harnessAddress(link.listen) : link.listen}`,
    cable: parts.network.cableOf(spec.id),
  });
  parts.robots.push(robot);
  const ms = Math.round(performance.now() - bootAt);
  events.emit({ kind: 'robot-ready', robot: spec.id, rosbridge: host.endpoints.rosbridge, ms });
  return ms;
}

/**
 * Gives the robot's edge agent its way to the cloud, when the fleet has one: through the WireGuard
 * tunnel for a tunnelled robot, else over the robot's radio, a proxy of its own on the fault layer,
 * so that faults hit the agent's link too.
 */
async function wireAgent(spec: RobotSpec, ctx: BringUpContext): Promise<void> {
  const { cloudHost: cloud, vpn: tunnel, pki, network } = ctx.parts;
  if (!cloud) return;
  const scheme = pki ? 'https' : 'http';
  let cloudUrl: string;
  if (tunnel?.tunnels(spec.id)) {
    // The robot runs in its namespace behind the NAT, and its radio is the underlay (a UDP proxy
    // on the fault layer), not a TCP proxy to the cloud.
    const placed = await tunnel.addRobot(spec, scheme);
    spec.netns = placed.netns;
    network.tunnelled(spec.id, {
      reason: `robot ${spec.id} reaches the cloud through the VPN tunnel: fault its radio with fleet.vpnRobot('${spec.id}').underlay`,
      clear: () => tunnel.robot(spec.id).underlay.clear(),
    });
    cloudUrl = placed.cloudUrl;
  } else {
    const cloudLink = await network.addLink(
      spec.id,
      'cloud',
      cloud.upstream,
      ctx.placement?.listenFor(spec, 'cloud'),
    );
    const reach = ctx.placement ? ctx.placement.robotAddress(cloudLink.listen) : cloudLink.listen;
    cloudUrl = `${scheme}://${reach}`;
  }
  spec.agent = {
    cloudUrl,
    settings: ctx.agentSettings,
    identity: await pki?.issue({ kind: 'robot', name: spec.id }),
  };
}
