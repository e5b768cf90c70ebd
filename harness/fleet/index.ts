export { Fleet, robotId, type FleetOptions, type ProvisionRobots, type ProvisionedRobots } from './fleet.ts';
export { StartedFleet } from './started-fleet.ts';
export { Robot, odomReadiness, ROBOT_CAPABILITIES, type Pose2D, type RobotCapability } from './robot.ts';
export { CloudUnavailableError } from './host/index.ts';
export { StartedFleetCloud } from './clients/cloud.ts';
export { CloudClient, CloudQueryError, type StoredRecord } from './clients/cloud-client.ts';
export { EdgeAgentHandle } from './clients/agent.ts';
export { FleetOta, OtaApiError, reportedStates, type DeploymentRequest } from './clients/fleet-ota.ts';
export { resolveWorld, type ResolvedWorld } from './world.ts';
export { RobotClaims, ClaimError, type ClaimOptions, type ClaimState } from './claims.ts';
export { FaultSession } from './fault-session.ts';
export { createRunDir, sweepStaleRunDirs, type RunDir } from './run-dir.ts';
export type {
  RobotSpec,
  RobotSoftwareSpec,
  RobotEndpoints,
  RobotExit,
  RobotPart,
  NetworkCable,
  StartedRobotHost,
  StartedRobotBackend,
} from './backend.ts';
export { FleetVpn, planVpn, VPN_ROSBRIDGE_PORT, type FleetVpnOption, type FleetVpnPlan } from './vpn.ts';
export { connectFromNetns, establishedTo, netnsPids, parseSs } from './vpn-probes.ts';
