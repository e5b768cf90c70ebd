export {
  RosClient,
  CallbackError,
  type RosClientOptions,
  type SubscribeOptions,
  type RosbridgeQos,
  type Subscription,
} from './client.ts';
export { TopicProbe, type TopicProbeOptions, type TopicStats, type StreamLimits } from './probe.ts';
export { forTopic, forAll, type WaitStrategy } from './wait.ts';
export { obstacleInCorridor, type Corridor } from './scan.ts';
export { stampOf, stampSeconds, type RosTime } from './time.ts';
export {
  ROBOT_TOPICS,
  ROBOT_SERVICES,
  yawOf,
  quaternionFromYaw,
  type Header,
  type Vector3,
  type Quaternion,
  type Twist,
  type Odometry,
  type LaserScan,
  type BatteryState,
  type PoseStamped,
  type Collision,
  type GoalStatus,
  type DiagnosticArray,
  type TriggerResponse,
  type GetVersionResponse,
  type TopicStatsReport,
} from './messages.ts';
