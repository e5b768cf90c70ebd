import { expect, test } from '@playwright/test';
import type { LaserScan } from './messages.ts';
import { obstacleInCorridor } from './scan.ts';

/** A 360-beam scan like the reference robot's, the first beam pointing straight back. */
function scan(hits: Array<{ deg: number; range: number }> = []): LaserScan {
  const ranges: Array<number | null> = new Array<number | null>(360).fill(null);
  for (const { deg, range } of hits) ranges[deg + 180] = range;
  return {
    header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'laser' },
    angle_min: -Math.PI,
    angle_max: -Math.PI + 359 * (Math.PI / 180),
    angle_increment: Math.PI / 180,
    range_min: 0.05,
    range_max: 12,
    ranges: ranges as number[],
  };
}

const CORRIDOR = { ahead: 3, behind: 1, halfWidth: 0.5 };

test('open floor, or walls beside and beyond the corridor, leave it clear', () => {
  expect(obstacleInCorridor(scan(), CORRIDOR)).toBeUndefined();
  // A wall 1 m to the left, parallel to the heading; a shelf 4 m ahead; one 2 m behind.
  expect(
    obstacleInCorridor(
      scan([
        { deg: 90, range: 1 },
        { deg: 0, range: 4 },
        { deg: -180, range: 2 },
      ]),
      CORRIDOR,
    ),
  ).toBeUndefined();
});

test('something ahead, behind, or at the edge of the swept width blocks it', () => {
  expect(obstacleInCorridor(scan([{ deg: 0, range: 3.2 }]), CORRIDOR)).toMatchObject({ y: 0 });
  expect(obstacleInCorridor(scan([{ deg: -180, range: 1.3 }]), CORRIDOR)).toBeDefined();
  // 2 m out at 10°: 0.35 m off the centre line, inside the 0.5 m half width.
  expect(obstacleInCorridor(scan([{ deg: 10, range: 2 }]), CORRIDOR)).toBeDefined();
  // Without room behind asked for, what is behind does not count.
  expect(obstacleInCorridor(scan([{ deg: -180, range: 1.3 }]), { ahead: 3, halfWidth: 0.5 })).toBeUndefined();
});

test('a corridor longer than the lidar reaches cannot be called clear', () => {
  expect(() => obstacleInCorridor(scan(), { ahead: 12, halfWidth: 0.5 })).toThrow(/beyond the lidar's 12 m/);
});
