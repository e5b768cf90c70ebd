/**
 * ROS 2 / DDS QoS policies as fleetdrill speaks them: one shape for the contract file, the DDS
 * probe's command line and the compatibility findings. Durations are milliseconds; an absent
 * duration is DDS's "infinite".
 */
export type Reliability = 'reliable' | 'best_effort';
export type Durability = 'volatile' | 'transient_local';
export type History = { kind: 'keep_last'; depth: number } | { kind: 'keep_all' };
export type LivelinessKind = 'automatic' | 'manual_by_participant' | 'manual_by_topic';

export interface Liveliness {
  kind: LivelinessKind;
  /** Lease (ms); absent is infinite. */
  leaseMs?: number;
}

/** The QoS one endpoint (a publisher offers it, a subscriber requests it). */
export interface TopicQos {
  reliability: Reliability;
  durability: Durability;
  history: History;
  /** Longest allowed gap between samples (ms). */
  deadlineMs?: number;
  /** Samples older than this are not delivered (ms). */
  lifespanMs?: number;
  liveliness?: Liveliness;
}

/** ROS 2's defaults: reliable, volatile, keep_last 10. */
export const DEFAULT_QOS: TopicQos = {
  reliability: 'reliable',
  durability: 'volatile',
  history: { kind: 'keep_last', depth: 10 },
};

/** ROS 2's sensor-data profile: best effort, keep_last 5. */
export const SENSOR_DATA_QOS: TopicQos = {
  reliability: 'best_effort',
  durability: 'volatile',
  history: { kind: 'keep_last', depth: 5 },
};
