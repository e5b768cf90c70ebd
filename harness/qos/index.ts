export {
  DEFAULT_QOS,
  SENSOR_DATA_QOS,
  type Durability,
  type History,
  type Liveliness,
  type LivelinessKind,
  type Reliability,
  type TopicQos,
} from './policy.ts';
// The contract, its findings, the cell judge and the matrix plot.
export {
  QOS_CONTRACT_DIR,
  contractForModel,
  listQosContracts,
  loadQosContract,
  parseQosContract,
  type ProfileExpectation,
  type QosContract,
  type SampleShape,
  type TopicContract,
} from './contract.ts';
export {
  CYCLONE_FRAGMENT_BYTES,
  FRAGMENT_OVERHEAD_BYTES,
  arrivalProbability,
  effectiveReliability,
  findingsFor,
  fragmentsOf,
  incompatibilities,
  offeredLoad,
  type FindingKind,
  type FindingsOptions,
  type Incompatibility,
  type QosFinding,
  type QosPolicyName,
} from './findings.ts';
export {
  MIN_SAMPLES,
  judgeCell,
  summariseTopic,
  summariseTopics,
  wilsonUpper,
  type CellJudgement,
  type CellMeasured,
  type JudgedCell,
  type QosVerdict,
  type TopicSummary,
} from './judge.ts';
export type { MatrixCell } from './matrix-plot.ts';
// Over rosbridge: per-topic delivery, freshness and stalls measured from the client side.
export {
  TopicMeter,
  StartedTopicMeter,
  meterTopics,
  checkTopicMeter,
  type MeterTarget,
  type MeteredTopic,
  type TopicMeterOptions,
  type TopicMeterResult,
  type TopicMeterReport,
  type TopicMeterLimits,
  type TopicMeterVerdict,
} from './rosbridge-meter.ts';
// Over real DDS (Cyclone DDS between network namespaces): one trial, and the matrix.
export {
  FULL_MATRIX_PROFILES,
  REDUCED_MATRIX_PROFILES,
  ddsDrillsAvailability,
  measureDdsLink,
  planMatrix,
  plotCells,
  runQosMatrix,
  type DdsLinkTrial,
  type JudgedDdsCell,
  type QosMatrixOptions,
  type QosMatrixResult,
} from './dds/matrix.ts';
export { MATRIX_DOMAIN, type DdsCellResult } from './dds/cell.ts';
export { ddsProbeAvailability } from './dds/build.ts';
