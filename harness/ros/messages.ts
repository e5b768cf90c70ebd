import type { RosTime } from './time.ts';

/** ROS 2 message shapes the harness reads and writes, as rosbridge carries them in JSON. */
export interface Header {
  stamp: RosTime;
  frame_id: string;
}
export interface Vector3 {
  x: number;
  y: number;
  z: number;
}
export interface Quaternion extends Vector3 {
  w: number;
}
export interface Twist {
  linear: Vector3;
  angular: Vector3;
}
export interface Odometry {
  header: Header;
  child_frame_id: string;
  pose: { pose: { position: Vector3; orientation: Quaternion }; covariance: number[] };
  twist: { twist: Twist; covariance: number[] };
}
export interface LaserScan {
  header: Header;
  angle_min: number;
  angle_max: number;
  angle_increment: number;
  range_min: number;
  range_max: number;
  ranges: number[];
}
export interface BatteryState {
  header: Header;
  voltage: number;
  current: number;
  percentage: number;
  power_supply_status: number;
}
export interface PoseStamped {
  header: Header;
  pose: { position: Vector3; orientation: Quaternion };
}
export interface Collision {
  header: Header;
  obstacle: string;
  position: Vector3;
  speed: number;
}
export interface GoalStatus {
  header: Header;
  goal_id: number;
  status: 'active' | 'succeeded' | 'aborted' | 'canceled';
  reason: string;
  distance_remaining: number;
}
export interface DiagnosticArray {
  header: Header;
  status: Array<{
    level: number;
    name: string;
    message: string;
    hardware_id: string;
    values: Array<{ key: string; value: string }>;
  }>;
}
export interface TriggerResponse {
  success: boolean;
  message: string;
}
export interface GetVersionResponse {
  version: string;
  model: string;
  robot_id: string;
}

/** The reference robot's interface: topic and service names, types and nominal rates. */
export const ROBOT_TOPICS = {
  odom: { name: '/odom', type: 'nav_msgs/msg/Odometry', hz: 20 },
  scan: { name: '/scan', type: 'sensor_msgs/msg/LaserScan', hz: 10 },
  imu: { name: '/imu', type: 'sensor_msgs/msg/Imu', hz: 50 },
  battery: { name: '/battery_state', type: 'sensor_msgs/msg/BatteryState', hz: 1 },
  diagnostics: { name: '/diagnostics', type: 'diagnostic_msgs/msg/DiagnosticArray', hz: 1 },
  bumper: { name: '/bumper', type: 'fleetdrill_msgs/msg/Collision', hz: 0 },
  goalStatus: { name: '/goal_status', type: 'fleetdrill_msgs/msg/GoalStatus', hz: 0 },
  cmdVel: { name: '/cmd_vel', type: 'geometry_msgs/msg/Twist', hz: 0 },
  goalPose: { name: '/goal_pose', type: 'geometry_msgs/msg/PoseStamped', hz: 0 },
} as const;

export const ROBOT_SERVICES = {
  estop: { name: '/estop', type: 'std_srvs/srv/Trigger' },
  resetEstop: { name: '/reset_estop', type: 'std_srvs/srv/Trigger' },
  selfTest: { name: '/self_test', type: 'std_srvs/srv/Trigger' },
  getVersion: { name: '/get_version', type: 'fleetdrill_msgs/srv/GetVersion' },
  /**
   * Per-topic published counts and sim time, JSON in the Trigger's message ({@link TopicStatsReport}).
   * Optional: the Gazebo image does not offer it.
   */
  topicStats: { name: '/fleetdrill/topic_stats', type: 'std_srvs/srv/Trigger' },
} as const;

/** What `/fleetdrill/topic_stats` answers, JSON in the Trigger's `message`. */
export interface TopicStatsReport {
  /** Sim time of the report, comparable with `header.stamp`. */
  stamp: RosTime;
  /** Messages published per topic since the robot started, every one stamped at or before `stamp`. */
  published: Record<string, number>;
}

/** Yaw (rad) of a quaternion about z. */
export function yawOf(q: Quaternion): number {
  return Math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z));
}

/** A quaternion for a yaw (rad) about z. */
export function quaternionFromYaw(yaw: number): Quaternion {
  return { x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) };
}
