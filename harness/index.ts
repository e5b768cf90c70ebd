/**
 * fleetdrill's public surface: what scenarios import. Scenarios talk to robots only through
 * what is exported here.
 */
export { test, expect, type FleetWorkerOptions } from './fixtures.ts';
export {
  FleetdrillError,
  TimeoutError,
  ConfigError,
  RobotUnreachableError,
  RobotDiedError,
  GateFailedError,
  EventBus,
  deriveSeed,
  SeededRandom,
  loadConfig,
  type FleetEvent,
  type RecordedEvent,
  type FleetdrillConfig,
  type BackendName,
} from './core/index.ts';
export { Fleet, StartedFleet, Robot, type FleetOptions, type Pose2D } from './fleet/index.ts';
export {
  RosClient,
  CallbackError,
  TopicProbe,
  forTopic,
  forAll,
  ROBOT_TOPICS,
  ROBOT_SERVICES,
  yawOf,
  quaternionFromYaw,
  type TopicStats,
  type StreamLimits,
  type Odometry,
  type LaserScan,
  type BatteryState,
  type Collision,
  type GoalStatus,
  type DiagnosticArray,
  type TriggerResponse,
  type GetVersionResponse,
} from './ros/index.ts';
export {
  StartedFleetNetwork,
  RobotLink,
  BUILTIN_PROFILES,
  chaosSchedule,
  linkQuality,
  tierFor,
  WifiCoverage,
  type InlineProfile,
  type LinkProfile,
  type ToxicSpec,
  type FaultStep,
  type RunningSchedule,
  type TimelineEntry,
  type TierProfile,
} from './net/index.ts';
export {
  CloudClient,
  StartedFleetCloud,
  EdgeAgentHandle,
  judgeTelemetry,
  assertTelemetry,
  checkTelemetry,
  collectTelemetryEvidence,
  inspectBlackbox,
  coversWindow,
  McapInvalidError,
  BLACKBOX_TRIGGERS,
  type StoredRecord,
  type TelemetryJudgeOptions,
  type TelemetryVerdict,
  type OracleVerdict,
  type TelemetryEvidence,
  type BlackboxContents,
} from './telemetry/index.ts';
export {
  FleetOta,
  runOtaDrill,
  askVersion,
  describeVersionAnswer,
  inspectDisk,
  describeDisk,
  buildRobotVariant,
  nextPatch,
  type OtaDrill,
  type OtaDrillResult,
  type VersionAnswer,
  type DiskState,
} from './ota/index.ts';
export type { AgentSettings, AgentStatus } from '../fixtures/edge-agent/index.ts';
export type { RobotTelemetrySummary, Tier, TelemetryRecord } from '../fixtures/fleet-cloud/protocol.ts';
export { attachHilEvidence } from './report/hil.ts';
export {
  evaluateBudget,
  HIL_TARGET_ENV,
  latencyHistogramSvg,
  runHil,
  summaryLine,
  type HilBudget,
  type HilResult,
  type HilVerdict,
} from './hil/index.ts';
