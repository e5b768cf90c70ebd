export { Fleet, StartedFleet, robotId, type FleetOptions } from './fleet.ts';
export { Robot, odomReadiness, type Pose2D } from './robot.ts';
export { resolveWorld, type ResolvedWorld } from './world.ts';
export { createRunDir, sweepStaleRunDirs, type RunDir } from './run-dir.ts';
export type {
  RobotSpec,
  RobotEndpoints,
  RobotExit,
  StartedRobotHost,
  StartedRobotBackend,
} from './backend.ts';
