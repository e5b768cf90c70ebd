/*
 * What one lidar scan says about the room around a robot. Drills that drive a robot by hand
 * (e-stop, battery) ask it before driving, so they move the robot to open floor only when where
 * it stands has no room: a trip across the warehouse costs half a minute.
 */
import type { LaserScan } from './messages.ts';

/** A straight strip along the robot's heading, in metres, and how wide the robot is. */
export interface Corridor {
  /** How far the robot's centre may travel forward. */
  ahead: number;
  /** How far it may travel backward. */
  behind?: number;
  /** Half the width swept: the robot's radius and a margin. */
  halfWidth: number;
}

/**
 * The first thing the scan sees inside the corridor the robot would sweep, or undefined when it
 * is clear. The robot's body reaches `halfWidth` past its centre at either end too. Ranges that
 * are null, NaN or beyond `range_max` (nothing seen) are clear; a corridor longer than the
 * lidar's reach can never be shown clear, and says so.
 */
export function obstacleInCorridor(
  scan: LaserScan,
  corridor: Corridor,
): { x: number; y: number } | undefined {
  const { ahead, behind = 0, halfWidth } = corridor;
  if (ahead + halfWidth > scan.range_max || behind + halfWidth > scan.range_max) {
    throw new RangeError(
      `a corridor ${ahead} m ahead and ${behind} m behind is beyond the lidar's ${scan.range_max} m`,
    );
  }
  for (let i = 0; i < scan.ranges.length; i++) {
    const range = scan.ranges[i];
    if (range === null || range === undefined || !Number.isFinite(range) || range > scan.range_max) continue;
    if (range < scan.range_min) continue;
    const angle = scan.angle_min + i * scan.angle_increment;
    const x = range * Math.cos(angle);
    const y = range * Math.sin(angle);
    if (Math.abs(y) < halfWidth && x < ahead + halfWidth && x > -(behind + halfWidth)) return { x, y };
  }
  return undefined;
}
