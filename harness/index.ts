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
  registerSecret,
  type FleetEvent,
  type RecordedEvent,
  type FleetdrillConfig,
  type BackendName,
  type HilBudget,
} from './core/index.ts';
export {
  Fleet,
  StartedFleet,
  Robot,
  CloudClient,
  StartedFleetCloud,
  EdgeAgentHandle,
  FleetOta,
  RobotClaims,
  ClaimError,
  FaultSession,
  type ClaimOptions,
  type ClaimState,
  type FleetOptions,
  type FleetVpnOption,
  type Pose2D,
  type StoredRecord,
  connectFromNetns,
  establishedTo,
  netnsPids,
} from './fleet/index.ts';
export { vpnPrivileges, type VpnHub, type VpnRobot, type VpnUnderlay } from './net/vpn/index.ts';
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
  type RosbridgeQos,
  type TopicStatsReport,
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
  startImpostorCloud,
  type ImpostorCloud,
  type InlineProfile,
  type LinkProfile,
  type ToxicSpec,
  type FaultStep,
  type RunningSchedule,
  type TimelineEntry,
  type TierProfile,
} from './net/index.ts';
export {
  judgeTelemetry,
  assertTelemetry,
  checkTelemetry,
  collectTelemetryEvidence,
  inspectBlackbox,
  coversWindow,
  McapInvalidError,
  BLACKBOX_TRIGGERS,
  type TelemetryJudgeOptions,
  type TelemetryVerdict,
  type OracleVerdict,
  type TelemetryEvidence,
  type BlackboxContents,
  judgeNatKeepalive,
  judgeVpnRecovery,
  judgeVpnRoam,
  type DeliveredRecord,
  type NatKeepaliveEvidence,
  type VpnRecoveryEvidence,
  type VpnRoamEvidence,
  type VpnVerdict,
} from './telemetry/index.ts';
export {
  runOtaDrill,
  askVersion,
  describeVersionAnswer,
  inspectDisk,
  describeDisk,
  buildRobotVariant,
  provisionRobots,
  nextPatch,
  type OtaDrill,
  type OtaDrillResult,
  type VersionAnswer,
  type DiskState,
  buildClientArtifact,
  realClientsAvailability,
  type BuiltClientArtifact,
} from './ota/index.ts';
export {
  ContainerOtaRig,
  containerOtaUnavailable,
  runContainerOtaDrill,
  type ContainerOtaDrill,
  type ContainerOtaResult,
} from './ota/container/index.ts';
export {
  OTA_CLIENTS,
  type AgentStatus,
  type OtaClientName,
  type RobotTelemetrySummary,
  type TelemetryRecord,
  type Tier,
} from '../protocol/index.ts';
export type { AgentSettings } from '../reference/edge-agent/index.ts';
export { attachHilEvidence } from './report/hil.ts';
export { attachFuzzOutcomes, type FuzzOutcomesSource } from './report/fuzz-evidence.ts';
export { phase, withDetail, type PhaseName } from './report/evidence.ts';
export { attachOtaDrill, expectedOutcome } from './report/ota-evidence.ts';
export { recordFigure } from './report/record-figure.ts';
export { qosMatrixChart } from './report/charts/index.ts';
export type { Figure } from './report/qualification/types.ts';
export {
  evaluateBudget,
  HIL_TARGET_ENV,
  latencyHistogramSvg,
  runHil,
  summaryLine,
  type HilResult,
  type HilVerdict,
} from './hil/index.ts';
export {
  TopicMeter,
  StartedTopicMeter,
  meterTopics,
  checkTopicMeter,
  type MeterTarget,
  type MeteredTopic,
  type TopicMeterReport,
  type TopicMeterResult,
  type TopicMeterLimits,
  contractForModel,
  type QosContract,
  type ProfileExpectation,
} from './qos/index.ts';
export {
  REDUCED_MATRIX_PROFILES,
  arrivalProbability,
  ddsDrillsAvailability,
  findingsFor,
  fragmentsOf,
  parseQosContract,
  measureDdsLink,
  plotCells,
  runQosMatrix,
  type DdsCellResult,
  type QosMatrixResult,
} from './qos/index.ts';
export {
  FUZZ_TARGETS,
  fuzzRuns,
  fuzzKpi,
  replayHint,
  type FuzzReport,
  type RunnableFuzzTarget,
} from './hostile/index.ts';
