export { bandwidth } from './bandwidth.ts';
export { completeness } from './completeness.ts';
export { ingestLatency } from './ingest-latency.ts';
export { mcapValidity } from './mcap-validity.ts';
export { noDuplicates } from './no-duplicates.ts';
export { perSeriesOrder } from './order.ts';
export { BLACKBOX_TRIGGERS, tierPolicy } from './tier-policy.ts';
export { defaultIngestCeilingMs } from './ingest-latency.ts';
export type {
  BlackboxEvidence,
  Disturbance,
  OracleVerdict,
  TelemetryEvidence,
  TelemetryOracle,
} from './oracle.ts';
