import { basename } from 'node:path';
import type { EventBus } from '../core/events.ts';
import type { StartedFleetNetwork } from '../net/network.ts';
import { CLOUD_SERVER_NAME } from '../../reference/fleet-pki/index.ts';
import type { StartedRobotBackend } from './backend.ts';
import type { FleetParts } from './fleet-parts.ts';
import { FleetPki } from './pki.ts';
import { FleetVpn, type FleetVpnPlan } from './vpn.ts';

/**
 * Starts the fleet's cloud side: the run's CA (with `tls`), the fleet cloud as the CA's server,
 * and the WireGuard hub in front of it (with a VPN plan). Each part goes into `parts` as soon as
 * it runs, so a failure half-way is cleaned up with the rest of the fleet.
 */
export async function startCloudSide(
  parts: FleetParts & { backend: StartedRobotBackend; network: StartedFleetNetwork },
  options: { tls: boolean; vpnPlan: FleetVpnPlan | undefined; seed: number; events: EventBus },
): Promise<void> {
  const { runDir, backend, network } = parts;
  if (options.tls) parts.pki = await FleetPki.create(runDir.path, basename(runDir.path));
  const identity = await parts.pki?.issue({ kind: 'cloud', name: CLOUD_SERVER_NAME });
  const cloud = await backend.startCloud({ identity });
  parts.cloudHost = cloud;
  options.events.emit({ kind: 'cloud-ready', url: cloud.httpUrl, mqtt: cloud.mqttUrl });
  if (options.vpnPlan) {
    parts.vpn = await FleetVpn.start(options.vpnPlan, {
      seed: options.seed,
      runDir: runDir.path,
      network,
      cloud,
      events: options.events,
    });
  }
}
