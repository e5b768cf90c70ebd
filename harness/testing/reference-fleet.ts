import { Fleet, type FleetOptions } from '../fleet/index.ts';
import { provisionRobots, type ProvisionOptions } from '../ota/index.ts';

/**
 * A fleet of the reference stack, provisioned as the drills' fleets are, for tests of the layers
 * below provisioning (fleet, ros, telemetry): they may not import harness/ota themselves, and a
 * fleet they start must boot what a drill's does, not a stand-in.
 */
export function referenceFleet(options: Omit<FleetOptions, 'provision'> & ProvisionOptions): Fleet {
  const { software, agent, ...fleet } = options;
  return new Fleet({ ...fleet, provision: provisionRobots({ software, agent }) });
}
