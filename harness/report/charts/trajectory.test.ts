import { expect, test } from '@playwright/test';
import { loadWorld } from '../../../protocol/world.ts';
import { resolveWorldPath } from '../../../reference/worlds/index.ts';
import { assertWellFormedSvg, markItems, svgTexts } from '../../testing/svg.ts';
import { trajectoryChart, type TrajectoryInput } from './trajectory.ts';

const corridor = loadWorld(resolveWorldPath('corridor'));
const input = (): TrajectoryInput => ({
  world: corridor,
  poses: Array.from({ length: 50 }, (_, i) => ({ t: i, x: 6 + i * 2, y: 5 })),
  deadZones: corridor.attenuators,
  faults: [
    { t0: 4, t1: 6, label: 'dead zone fire-door-west' },
    { t0: 20, t1: 25, label: 'latency 200 ms' },
  ],
});

test('the path, the shaded dead zones and the faults on a timeline', async () => {
  const svg = await trajectoryChart(input());
  assertWellFormedSvg(svg);
  expect(markItems(svg, 'dead-zones')).toHaveLength(2);
  expect(markItems(svg, 'path')).toHaveLength(1);
  expect(markItems(svg, 'path-ends')).toHaveLength(2);
  expect(markItems(svg, 'faults')).toHaveLength(2);
  expect(svgTexts(svg)).toEqual(
    expect.arrayContaining([
      'fire-door-west',
      'fire-door-east',
      'latency 200 ms',
      'dead zone fire-door-west',
    ]),
  );
});

test('walls and obstacles of the world are drawn', async () => {
  const warehouse = loadWorld(resolveWorldPath('warehouse'));
  const svg = await trajectoryChart({
    ...input(),
    world: warehouse,
    poses: [{ t: 0, x: 1, y: 1 }],
    faults: [],
  });
  expect(markItems(svg, 'obstacles')).toHaveLength(warehouse.obstacles.length);
  expect(markItems(svg, 'walls')).toHaveLength(warehouse.walls.length);
  expect(svgTexts(svg)).toContain('no fault was injected');
});

test('a NaN pose or a fault ending before it starts is named; no poses says "no data"', async () => {
  const nan = input();
  nan.poses = [{ t: 0, x: 1, y: Number.NaN }];
  await expect(trajectoryChart(nan)).rejects.toThrow('poses[0].y must be a finite number, got NaN');
  const backwards = input();
  backwards.faults = [{ t0: 5, t1: 2, label: 'reset' }];
  await expect(trajectoryChart(backwards)).rejects.toThrow(
    'faults[0] (reset) ends at 2 s before it starts at 5 s',
  );
  expect(svgTexts(await trajectoryChart({ ...input(), poses: [] }))).toContain(
    'no data: no pose of the robot was recorded',
  );
});
