/**
 * A robot's path over the world map (walls, obstacles, dead zones shaded), and under it the
 * faults injected meanwhile on a timeline sharing the run's clock: where the robot was when the
 * link went is the first thing a reader of a failed drill asks.
 */
import { ChartDataError, noDataChart, renderVegaLite, requireFinite } from '../../core/vega.ts';
import type { Vec2, World } from '../../../protocol/world.ts';

/** A region where the link is lost or weakened, as worlds describe attenuators: a rectangle. */
export interface DeadZone {
  name: string;
  min: Vec2;
  max: Vec2;
}

/** What the trajectory chart draws. */
export interface TrajectoryInput {
  world: World;
  /** The robot's positions, map frame, metres; `t` in seconds from the run's start. */
  poses: ReadonlyArray<{ t: number; x: number; y: number }>;
  /** Shaded on the map; worlds' `attenuators` are the usual source. */
  deadZones: readonly DeadZone[];
  /** Faults, `t0`..`t1` seconds on the same clock as the poses. */
  faults: ReadonlyArray<{ t0: number; t1: number; label: string }>;
  title?: string;
}

const MAP_WIDTH_PX = 560;

/** The SVG of the trajectory and fault timeline; no poses gives an explicit "no data" chart. */
export async function trajectoryChart(input: TrajectoryInput): Promise<string> {
  const { world, poses, deadZones, faults } = input;
  const title = input.title ?? `Path over ${world.name}, and the faults meanwhile`;
  poses.forEach((pose, i) => {
    requireFinite(pose.t, `poses[${i}].t`);
    requireFinite(pose.x, `poses[${i}].x`);
    requireFinite(pose.y, `poses[${i}].y`);
  });
  deadZones.forEach((zone, i) => {
    for (const k of [0, 1] as const) {
      requireFinite(zone.min[k], `deadZones[${i}] (${zone.name}).min[${k}]`);
      requireFinite(zone.max[k], `deadZones[${i}] (${zone.name}).max[${k}]`);
    }
  });
  faults.forEach((fault, i) => {
    requireFinite(fault.t0, `faults[${i}] (${fault.label}).t0`);
    requireFinite(fault.t1, `faults[${i}] (${fault.label}).t1`);
    if (fault.t1 < fault.t0)
      throw new ChartDataError(
        `faults[${i}] (${fault.label}) ends at ${fault.t1} s before it starts at ${fault.t0} s`,
      );
  });
  if (poses.length === 0) return noDataChart(title, 'no pose of the robot was recorded');

  const [minX, minY] = world.bounds.min;
  const [maxX, maxY] = world.bounds.max;
  // One metre is as long across as up: a map with stretched axes misplaces what it shows.
  const height = Math.max(60, Math.round((MAP_WIDTH_PX * (maxY - minY)) / (maxX - minX)));
  const mx = {
    type: 'quantitative' as const,
    scale: { domain: [minX, maxX], nice: false, zero: false },
    title: 'x, m',
  };
  const my = {
    type: 'quantitative' as const,
    scale: { domain: [minY, maxY], nice: false, zero: false },
    title: 'y, m',
  };
  const rects = (items: ReadonlyArray<{ name: string; min: Vec2; max: Vec2 }>) =>
    items.map((item) => ({
      name: item.name,
      x0: item.min[0],
      y0: item.min[1],
      x1: item.max[0],
      y1: item.max[1],
    }));
  const ordered = [...poses].sort((a, b) => a.t - b.t);
  const tMin = Math.min(ordered[0]!.t, ...faults.map((f) => f.t0));
  const tMax = Math.max(ordered[ordered.length - 1]!.t, ...faults.map((f) => f.t1));
  const ends = [
    { ...ordered[0]!, end: 'start' },
    { ...ordered[ordered.length - 1]!, end: 'end' },
  ];

  const map = {
    title: { text: `${world.name}: path of the robot`, fontSize: 12, anchor: 'start' as const },
    width: MAP_WIDTH_PX,
    height,
    layer: [
      {
        name: 'dead-zones',
        data: { values: rects(deadZones) },
        mark: {
          type: 'rect' as const,
          fill: '#ef9a9a',
          fillOpacity: 0.45,
          stroke: '#c62828',
          strokeDash: [3, 2],
        },
        encoding: {
          x: { field: 'x0', ...mx },
          x2: { field: 'x1' },
          y: { field: 'y0', ...my },
          y2: { field: 'y1' },
          tooltip: [{ field: 'name', title: 'dead zone' }],
        },
      },
      {
        name: 'dead-zone-labels',
        data: { values: rects(deadZones) },
        transform: [{ calculate: '(datum.x0 + datum.x1) / 2', as: 'cx' }],
        mark: { type: 'text' as const, fontSize: 10, fill: '#b71c1c', baseline: 'top' as const, dy: 2 },
        encoding: { x: { field: 'cx', ...mx }, y: { field: 'y1', ...my }, text: { field: 'name' } },
      },
      {
        name: 'obstacles',
        data: { values: rects(world.obstacles) },
        mark: { type: 'rect' as const, fill: '#757575' },
        encoding: {
          x: { field: 'x0', ...mx },
          x2: { field: 'x1' },
          y: { field: 'y0', ...my },
          y2: { field: 'y1' },
          tooltip: [{ field: 'name', title: 'obstacle' }],
        },
      },
      {
        name: 'walls',
        data: {
          values: world.walls.map((w) => ({
            name: w.name,
            x0: w.from[0],
            y0: w.from[1],
            x1: w.to[0],
            y1: w.to[1],
          })),
        },
        mark: { type: 'rule' as const, stroke: '#212121', strokeWidth: 3 },
        encoding: {
          x: { field: 'x0', ...mx },
          x2: { field: 'x1' },
          y: { field: 'y0', ...my },
          y2: { field: 'y1' },
        },
      },
      {
        name: 'path',
        data: { values: ordered },
        mark: { type: 'line' as const, color: '#1565c0', strokeWidth: 2 },
        encoding: {
          x: { field: 'x', ...mx },
          y: { field: 'y', ...my },
          order: { field: 't', type: 'quantitative' as const },
        },
      },
      {
        name: 'path-ends',
        data: { values: ends },
        mark: { type: 'point' as const, filled: true, size: 70 },
        encoding: {
          x: { field: 'x', ...mx },
          y: { field: 'y', ...my },
          shape: {
            field: 'end',
            type: 'nominal' as const,
            scale: { domain: ['start', 'end'], range: ['circle', 'square'] },
            legend: { title: null },
          },
          color: { value: '#0d47a1' },
          tooltip: [{ field: 'end' }, { field: 't', title: 't, s' }],
        },
      },
    ],
  };
  const timeline = faults.length
    ? {
        title: { text: 'faults', fontSize: 12, anchor: 'start' as const },
        width: MAP_WIDTH_PX,
        name: 'faults',
        data: { values: faults.map((f) => ({ ...f, t1: Math.max(f.t1, f.t0 + (tMax - tMin) / 500) })) },
        mark: { type: 'bar' as const, color: '#e65100', height: 12 },
        encoding: {
          x: {
            field: 't0',
            type: 'quantitative' as const,
            scale: { domain: [tMin, tMax], nice: false },
            title: 't, s from the run start',
          },
          x2: { field: 't1' },
          y: { field: 'label', type: 'nominal' as const, title: null },
          tooltip: [{ field: 'label' }, { field: 't0' }, { field: 't1' }],
        },
      }
    : {
        title: { text: 'faults', fontSize: 12, anchor: 'start' as const },
        width: MAP_WIDTH_PX,
        height: 24,
        name: 'no-faults',
        data: { values: [{ text: 'no fault was injected' }] },
        mark: { type: 'text' as const, fill: '#777777' },
        encoding: { text: { field: 'text', type: 'nominal' as const } },
      };
  return renderVegaLite({ title, vconcat: [map, timeline] });
}
