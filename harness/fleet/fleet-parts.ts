import { runAll, settleAll } from '../core/errors.ts';
import type { StartedFleetNetwork } from '../net/network.ts';
import type { StartedCloudHost, StartedRobotBackend, StartedRobotHost } from './backend.ts';
import type { FleetPki } from './pki.ts';
import type { Robot } from './robot.ts';
import type { RunDir } from './run-dir.ts';
import type { FleetVpn } from './vpn.ts';

/**
 * What a fleet has started so far. A start fills it in as it goes, so that one teardown serves
 * both a start that fails half-way and a fleet that stops: nothing started is ever forgotten.
 */
export interface FleetParts {
  readonly runDir: RunDir;
  readonly robots: Robot[];
  readonly hosts: StartedRobotHost[];
  backend?: StartedRobotBackend;
  network?: StartedFleetNetwork;
  cloudHost?: StartedCloudHost;
  /** The run's CA, when the cloud runs with TLS. */
  pki?: FleetPki;
  vpn?: FleetVpn;
}

/** Nothing started yet but the run's directory. */
export function emptyParts(runDir: RunDir): FleetParts {
  return { runDir, robots: [], hosts: [] };
}

/**
 * Stops every part in the reverse order of starting: `first` (the fleet's own sessions), robots'
 * links, robot hosts together (50 robots should not take 50 grace periods one after another), the
 * tunnel, the cloud, the fault layer, the backend, the run directory. Every step runs even when an
 * earlier one throws; the first error is rethrown at the end.
 */
export async function tearDownParts(
  parts: FleetParts,
  first: ReadonlyArray<() => unknown> = [],
): Promise<void> {
  const robots = [...parts.robots].reverse();
  await runAll([
    ...first,
    ...robots.map((robot) => () => robot.detach()),
    () => settleAll(parts.hosts.map((host) => host.stop())),
    () => parts.vpn?.close(),
    () => parts.cloudHost?.stop(),
    () => parts.network?.stop(),
    () => parts.backend?.stop(),
    () => parts.runDir.remove(),
  ]);
}
