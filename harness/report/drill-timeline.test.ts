import { expect, test } from '@playwright/test';
import type { RecordedEvent } from '../core/events.ts';
import { assertWellFormedSvg, markItems, svgTexts } from '../testing/svg.ts';
import { drillTimelineChart, FLEET_LANE, timelineOf } from './drill-timeline.ts';

const T0 = 1_700_000_000_000;
const at = (s: number) => T0 + s * 1000;
/** A small drill: a fault and a dead zone on r01, a power cut and an OTA on r02, the cloud restarts. */
const EVENTS: RecordedEvent[] = [
  {
    t: at(1),
    kind: 'fault-applied',
    robot: 'r01',
    link: 'rosbridge',
    profile: 'latency-200ms',
    reason: 'drill',
  },
  { t: at(2), kind: 'dead-zone-entered', robot: 'r01', x: 10, y: 5, rssiDbm: null },
  { t: at(3), kind: 'ota-state', robot: 'r02', deploymentId: 'd1', state: 'downloading', status: null },
  { t: at(4), kind: 'power-cut', robot: 'r02', injectedAt: 'Download' },
  { t: at(5), kind: 'ros-disconnected', robot: 'r02-truth', url: 'ws://x' },
  { t: at(6), kind: 'power-on', robot: 'r02' },
  { t: at(7), kind: 'dead-zone-left', robot: 'r01', x: 14, y: 5, rssiDbm: -70, afterMs: 5000 },
  { t: at(8), kind: 'fault-cleared', robot: 'r01', link: 'rosbridge', reason: 'drill' },
  { t: at(9), kind: 'cloud-restarted', crash: true, downMs: 300 },
  { t: at(9.5), kind: 'robot-died', robot: 'r02', exit: 'signal SIGSEGV' },
];
const SPAN = { from: T0, to: at(10) };

test("faults, dead zones and power cuts are intervals in their robot's lane; the rest are instants", () => {
  const { intervals, points } = timelineOf(EVENTS, SPAN, ['r01', 'r02']);
  expect(intervals).toEqual([
    {
      lane: 'r01',
      row: 'fault rosbridge',
      what: 'latency-200ms on rosbridge',
      category: 'fault',
      t0: 1,
      t1: 8,
    },
    { lane: 'r01', row: 'dead zone', what: 'dead zone', category: 'dead zone', t0: 2, t1: 7 },
    { lane: 'r02', row: 'power', what: 'power off', category: 'power', t0: 4, t1: 6 },
    // Never reconnected during the drill: still on at its end, and said so.
    {
      lane: 'r02',
      row: 'network',
      what: 'rosbridge down',
      category: 'network',
      t0: 5,
      t1: 10,
      open: 'after',
    },
  ]);
  expect(points).toEqual([
    { lane: 'r02', row: 'ota', what: 'ota downloading', category: 'ota', t: 3 },
    { lane: FLEET_LANE, row: 'cloud', what: 'cloud crashed and restarted', category: 'cloud', t: 9 },
    { lane: 'r02', row: 'power', what: 'died: signal SIGSEGV', category: 'power', t: 9.5 },
  ]);
});

test('a fault cleared with no start in the drill began before it; a new profile ends the one before', () => {
  const { intervals } = timelineOf(
    [
      {
        t: at(2),
        kind: 'fault-applied',
        robot: 'r01',
        link: 'agent',
        profile: 'wifi-edge',
        reason: 'wifi-map',
      },
      { t: at(3), kind: 'fault-applied', robot: 'r01', link: 'agent', profile: 'dead', reason: 'wifi-map' },
      { t: at(4), kind: 'fault-cleared', robot: 'r01', link: 'rosbridge', reason: 'drill' },
    ],
    SPAN,
  );
  expect(intervals).toEqual([
    { lane: 'r01', row: 'fault agent', what: 'wifi-edge on agent', category: 'fault', t0: 2, t1: 3 },
    {
      lane: 'r01',
      row: 'fault agent',
      what: 'dead on agent',
      category: 'fault',
      t0: 3,
      t1: 10,
      open: 'after',
    },
    {
      lane: 'r01',
      row: 'fault rosbridge',
      what: 'fault on rosbridge',
      category: 'fault',
      t0: 0,
      t1: 4,
      open: 'before',
    },
  ]);
});

test('the image has a bar per interval and a mark per instant, in a lane per robot', async () => {
  const svg = await drillTimelineChart(EVENTS, SPAN, ['r01', 'r02']);
  expect(svg).toBeDefined();
  assertWellFormedSvg(svg!);
  expect(markItems(svg!, 'intervals')).toHaveLength(4);
  expect(markItems(svg!, 'instants')).toHaveLength(3);
  expect(
    markItems(svg!, 'intervals').filter((bar) => bar.includes('latency-200ms on rosbridge')),
  ).toHaveLength(1);
  // Shown as a picture, without tooltips: each bar and mark says what it is in words.
  expect(svgTexts(svg!)).toEqual(
    expect.arrayContaining([
      'r01',
      'r02',
      FLEET_LANE,
      'latency-200ms on rosbridge',
      'rosbridge down (still on at the end)',
      'died: signal SIGSEGV',
      'ota downloading',
    ]),
  );
});

test("no events, or only the run's seed, give no image", async () => {
  expect(await drillTimelineChart([], SPAN)).toBeUndefined();
  expect(await drillTimelineChart([{ t: at(1), kind: 'run-seed', seed: 7 }], SPAN)).toBeUndefined();
});

test('a label is cut to the room before the next bar of its row, so labels never overprint', async () => {
  const fault = (s: number, profile: string): RecordedEvent => ({
    t: at(s),
    kind: 'fault-applied',
    robot: 'r01',
    link: 'cloud',
    profile,
    reason: 'chaos',
  });
  // 0.5 s of a 10 s drill is 32 px: room for a few characters of the first label, not all.
  const svg = await drillTimelineChart([fault(1, 'roaming-handover'), fault(1.5, 'wifi-congested')], SPAN, [
    'r01',
  ]);
  const texts = svgTexts(svg!);
  expect(texts).toContain('wifi-congested on cloud (still on at the end)');
  expect(texts).not.toContain('roaming-handover on cloud');
  expect(texts.filter((text) => text.startsWith('roa') && text.endsWith('…'))).toHaveLength(1);
});
