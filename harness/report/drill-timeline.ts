/**
 * A drill's timeline as a picture: one lane per robot (and one for the fleet and cloud), what
 * lasts (a fault on a link, a dead zone, power off, a frozen robot, a dropped connection) as
 * bars, and what happens at an instant (a death, a boot, an OTA state) as marks. Drawn from the
 * drill's own events, so it shows what the harness did and saw, in the order it did and saw it.
 */
import type { FleetEvent, RecordedEvent } from '../core/events.ts';
import { renderVegaLite } from '../core/vega.ts';

/** What a bar or mark stands for; each has its colour. */
export type TimelineCategory = 'fault' | 'dead zone' | 'power' | 'network' | 'ota' | 'robot' | 'cloud';

const CATEGORIES: readonly TimelineCategory[] = [
  'fault',
  'dead zone',
  'power',
  'network',
  'ota',
  'robot',
  'cloud',
];
const COLOURS = ['#e65100', '#c62828', '#212121', '#6a1b9a', '#2e7d32', '#1565c0', '#757575'];

/** Something that lasted, seconds from the drill's start. */
export interface TimelineInterval {
  lane: string;
  what: string;
  category: TimelineCategory;
  t0: number;
  t1: number;
  /** It began before the drill's first event (`before`), or was still on at its end (`after`). */
  open?: 'before' | 'after' | 'both';
}

/** Something that happened at an instant, seconds from the drill's start. */
export interface TimelinePoint {
  lane: string;
  what: string;
  category: TimelineCategory;
  t: number;
}

/** The lane every event without a robot goes to. */
export const FLEET_LANE = 'fleet';

type Kind = FleetEvent['kind'];

/** Kinds that open an interval, the kind that closes it, and how it reads. */
const SPANS: ReadonlyArray<{
  from: Kind;
  to: Kind;
  category: TimelineCategory;
  what: (e: RecordedEvent) => string;
}> = [
  {
    from: 'fault-applied',
    to: 'fault-cleared',
    category: 'fault',
    what: (e) => (e.kind === 'fault-applied' ? `${e.profile} on ${e.link}` : `fault on ${linkOf(e)}`),
  },
  { from: 'dead-zone-entered', to: 'dead-zone-left', category: 'dead zone', what: () => 'dead zone' },
  { from: 'power-cut', to: 'power-on', category: 'power', what: () => 'power off' },
  { from: 'robot-frozen', to: 'robot-thawed', category: 'power', what: () => 'frozen' },
  {
    from: 'network-disconnected',
    to: 'network-reconnected',
    category: 'network',
    what: () => 'network down',
  },
  { from: 'ros-disconnected', to: 'ros-reconnected', category: 'network', what: () => 'rosbridge down' },
];

/** Kinds of the run, not of a drill: they say nothing about what the drill did. */
const IGNORED: ReadonlySet<Kind> = new Set(['run-seed']);

/**
 * The bars and marks of a drill's events. `robots` are the fleet's ids: a connection named after
 * a robot (`r01-truth`) is drawn in that robot's lane. `span` is the drill's start and end in ms
 * since the epoch; bars still on at the end run to it.
 */
export function timelineOf(
  events: readonly RecordedEvent[],
  span: { from: number; to: number },
  robots: readonly string[] = [],
): { intervals: TimelineInterval[]; points: TimelinePoint[] } {
  const seconds = (t: number) => Math.round((t - span.from) / 10) / 100;
  const end = seconds(Math.max(span.to, ...events.map((e) => e.t)));
  const intervals: TimelineInterval[] = [];
  const points: TimelinePoint[] = [];
  const opened = new Map<string, TimelineInterval>();
  for (const event of events) {
    if (IGNORED.has(event.kind)) continue;
    const lane = laneOf(event, robots);
    const t = seconds(event.t);
    const starts = SPANS.find((s) => s.from === event.kind);
    const ends = SPANS.find((s) => s.to === event.kind);
    if (starts) {
      const key = `${starts.from}\u0000${lane}\u0000${linkOf(event)}`;
      // A new profile on a link replaces the one before it (link.ts): that one ends here.
      const before = opened.get(key);
      if (before) before.t1 = t;
      const interval: TimelineInterval = {
        lane,
        what: starts.what(event),
        category: starts.category,
        t0: t,
        t1: t,
      };
      opened.set(key, interval);
      intervals.push(interval);
    } else if (ends) {
      const key = `${ends.from}\u0000${lane}\u0000${linkOf(event)}`;
      const interval = opened.get(key);
      if (interval) {
        interval.t1 = t;
        opened.delete(key);
      } else {
        intervals.push({
          lane,
          what: ends.what(event),
          category: ends.category,
          t0: 0,
          t1: t,
          open: 'before',
        });
      }
    } else {
      points.push({ lane, what: pointText(event), category: pointCategory(event.kind), t });
    }
  }
  for (const interval of opened.values()) {
    interval.t1 = end;
    interval.open = interval.open === 'before' ? 'both' : 'after';
  }
  return { intervals, points };
}

/** Height of one category's sub-row in a lane: room for a bar and its label. */
const SUB_ROW_PX = 16;
const OPEN_NOTES = {
  before: 'began before the drill',
  after: 'still on at the end',
  both: 'the whole drill',
} as const;

/** Most marks drawn: past it a chatty drill's image would cost more than it tells. */
const MAX_POINTS = 500;

/**
 * The SVG of a drill's timeline, or undefined when the drill had no event: an empty timeline is
 * no evidence of anything, and an attachment that says nothing is noise in the report.
 */
export async function drillTimelineChart(
  events: readonly RecordedEvent[],
  span: { from: number; to: number },
  robots: readonly string[] = [],
): Promise<string | undefined> {
  const { intervals, points } = timelineOf(events, span, robots);
  if (intervals.length === 0 && points.length === 0) return undefined;
  const shown = points.slice(0, MAX_POINTS);
  const lanes = [
    ...robots.filter((id) => [...intervals, ...points].some((item) => item.lane === id)),
    ...new Set([...intervals, ...points].map((item) => item.lane).filter((lane) => !robots.includes(lane))),
  ];
  const tMax = Math.max(0.01, ...intervals.map((i) => i.t1), ...points.map((p) => p.t));
  // A bar that lasted no time still shows: at least a 500th of the drill wide.
  const bars = intervals.map((i) => ({
    ...i,
    t1: Math.max(i.t1, i.t0 + tMax / 500),
    ends: i.t1,
    // The image is shown as a picture (no tooltips): what a bar is must be written beside it.
    label: i.open === undefined ? i.what : `${i.what} (${OPEN_NOTES[i.open]})`,
  }));
  // Only the categories present get a sub-row, so a lane is no taller than what it shows.
  const present = CATEGORIES.filter((c) => [...intervals, ...shown].some((item) => item.category === c));
  const x = {
    type: 'quantitative' as const,
    scale: { domain: [0, tMax], nice: false, zero: true },
    title: 't, s from the drill start',
  };
  const y = { field: 'lane', type: 'nominal' as const, sort: lanes, title: null };
  const yOffset = { field: 'category', type: 'nominal' as const, scale: { domain: present } };
  const label = {
    type: 'text' as const,
    align: 'left' as const,
    baseline: 'middle' as const,
    fontSize: 9,
    dx: 4,
  };
  const colour = {
    field: 'category',
    type: 'nominal' as const,
    scale: { domain: present, range: present.map((c) => COLOURS[CATEGORIES.indexOf(c)]!) },
    legend: { title: null },
  };
  const cut = points.length > shown.length ? ` (first ${shown.length} of ${points.length} instants)` : '';
  return renderVegaLite({
    title: `Drill timeline: ${intervals.length} intervals, ${points.length} instants${cut}`,
    width: 640,
    // A sub-row per category in each lane, so a fault and a dead zone at once do not hide each other.
    height: lanes.length * Math.max(2, present.length) * SUB_ROW_PX,
    layer: [
      {
        name: 'intervals',
        data: { values: bars },
        mark: { type: 'bar', opacity: 0.45 },
        encoding: {
          x: { field: 't0', ...x },
          x2: { field: 't1' },
          y,
          yOffset,
          color: colour,
          tooltip: [
            { field: 'lane', title: 'robot' },
            { field: 'what' },
            { field: 't0', title: 'from, s' },
            { field: 'ends', title: 'to, s' },
            { field: 'label' },
          ],
        },
      },
      {
        name: 'interval-labels',
        data: { values: bars },
        mark: { ...label, fill: '#212121' },
        encoding: { x: { field: 't0', ...x }, y, yOffset, text: { field: 'label' } },
      },
      {
        name: 'instants',
        data: { values: shown },
        mark: { type: 'point', shape: 'diamond', filled: true, size: 60 },
        encoding: {
          x: { field: 't', ...x },
          y,
          yOffset,
          color: colour,
          tooltip: [{ field: 'lane', title: 'robot' }, { field: 'what' }, { field: 't', title: 't, s' }],
        },
      },
      {
        name: 'instant-labels',
        data: { values: shown },
        mark: { ...label, fill: '#424242' },
        encoding: { x: { field: 't', ...x }, y, yOffset, text: { field: 'what' } },
      },
    ],
  });
}

function laneOf(event: RecordedEvent, robots: readonly string[]): string {
  if (!('robot' in event)) return FLEET_LANE;
  const named = robots.find((id) => event.robot === id || event.robot.startsWith(`${id}-`));
  return named ?? event.robot;
}

function linkOf(event: RecordedEvent): string {
  return 'link' in event ? event.link : '';
}

function pointCategory(kind: Kind): TimelineCategory {
  if (kind.startsWith('ota-')) return 'ota';
  if (kind.startsWith('cloud-')) return 'cloud';
  if (kind === 'robot-died' || kind === 'robot-shutdown') return 'power';
  if (kind === 'link-quality' || kind === 'topic-stall') return 'network';
  return 'robot';
}

/** What a mark says: its kind and the one detail a reader looks for first. */
function pointText(event: RecordedEvent): string {
  switch (event.kind) {
    case 'ota-state':
      return `ota ${event.state}${event.status ? ` (${event.status})` : ''}`;
    case 'ota-deployment':
      return `deployment ${event.name}`;
    case 'ota-artifact':
      return `artifact ${event.name} ${event.version}`;
    case 'robot-died':
      return `died: ${event.exit}`;
    case 'topic-stall':
      return `${event.topic} stalled ${event.ms} ms`;
    case 'link-quality':
      return `link ${event.profile}${event.rssiDbm === null ? '' : ` (${event.rssiDbm} dBm)`}`;
    case 'cloud-restarted':
      return `cloud ${event.crash ? 'crashed and restarted' : 'restarted'}`;
    case 'cloud-died':
      return `cloud died: ${event.exit}`;
    default:
      return event.kind;
  }
}
