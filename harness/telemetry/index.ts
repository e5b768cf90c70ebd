export {
  assertTelemetry,
  checkTelemetry,
  collectTelemetryEvidence,
  judgeTelemetry,
  type TelemetryJudgeOptions,
  type TelemetryVerdict,
} from './judge.ts';
export { inspectBlackbox, coversWindow, McapInvalidError, type BlackboxContents } from './mcap.ts';
export {
  bandwidth,
  completeness,
  ingestLatency,
  mcapValidity,
  noDuplicates,
  perSeriesOrder,
  tierPolicy,
  BLACKBOX_TRIGGERS,
  type OracleVerdict,
  type TelemetryEvidence,
  type TelemetryOracle,
} from './oracles/index.ts';
export {
  judgeNatKeepalive,
  judgeVpnRecovery,
  judgeVpnRoam,
  type DeliveredRecord,
  type NatKeepaliveEvidence,
  type QuietPeerProbe,
  type VpnRecoveryEvidence,
  type VpnRoamEvidence,
  type VpnVerdict,
} from './vpn-drills.ts';
