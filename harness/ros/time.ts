/** A ROS 2 `builtin_interfaces/msg/Time`. */
export interface RosTime {
  sec: number;
  nanosec: number;
}

/** Seconds, as a float, of a ROS 2 stamp. */
export function stampSeconds(stamp: RosTime): number {
  return stamp.sec + stamp.nanosec / 1e9;
}

/** Reads `header.stamp` off a message, when it has one. */
export function stampOf(message: unknown): RosTime | undefined {
  const header = (message as { header?: { stamp?: RosTime } } | null)?.header;
  const stamp = header?.stamp;
  return stamp && typeof stamp.sec === 'number' && typeof stamp.nanosec === 'number' ? stamp : undefined;
}
