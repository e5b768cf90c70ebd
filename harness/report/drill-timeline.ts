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
  /** Its sub-row in the lane: a fault's link (`fault rosbridge`), else its category. */
  row: string;
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
  /** Its sub-row in the lane: its category. */
  row: string;
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
        row: rowOf(starts.category, event),
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
          row: rowOf(ends.category, event),
          what: ends.what(event),
          category: ends.category,
          t0: 0,
          t1: t,
          open: 'before',
        });
      }
    } else {
      const category = pointCategory(event.kind);
      points.push({ lane, row: category, what: pointText(event), category, t });
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
  // The image is shown as a picture (no tooltips): what a bar or mark is must be written beside
  // it, in the room it has before the next one in its row.
  const barLabels = fitLabels(
    intervals.map((i) => ({
      ...i,
      text: i.open === undefined ? i.what : `${i.what} (${OPEN_NOTES[i.open]})`,
    })),
    (i) => i.t0,
    tMax,
  );
  const markLabels = fitLabels(
    shown.map((p) => ({ ...p, text: p.what })),
    (p) => p.t,
    tMax,
  );
  // A bar that lasted no time still shows: at least a 500th of the drill wide.
  const bars = intervals.map((i, n) => ({
    ...i,
    t1: Math.max(i.t1, i.t0 + tMax / 500),
    ends: i.t1,
    label: barLabels[n],
  }));
  const marks = shown.map((p, n) => ({ ...p, label: markLabels[n] }));
  // Only the categories present get a colour, and only the rows present a sub-row.
  const present = CATEGORIES.filter((c) => [...intervals, ...shown].some((item) => item.category === c));
  const rows = [...new Set([...intervals, ...shown].map((item) => item.row))].sort(
    (a, b) => rowRank(a) - rowRank(b) || a.localeCompare(b),
  );
  const x = {
    type: 'quantitative' as const,
    scale: { domain: [0, tMax], nice: false, zero: true },
    title: 't, s from the drill start',
  };
  const y = { field: 'lane', type: 'nominal' as const, sort: lanes, title: null };
  const yOffset = { field: 'row', type: 'nominal' as const, scale: { domain: rows } };
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
    // Below, so that labels near the end can run on to the right.
    legend: { title: null, orient: 'bottom' as const },
  };
  const cut = points.length > shown.length ? ` (first ${shown.length} of ${points.length} instants)` : '';
  return renderVegaLite({
    title: `Drill timeline: ${intervals.length} intervals, ${points.length} instants${cut}`,
    width: PLOT_WIDTH_PX,
    // A sub-row per row in each lane, so a fault and a dead zone at once do not hide each other.
    height: lanes.length * Math.max(2, rows.length) * SUB_ROW_PX,
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
        data: { values: marks },
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
        data: { values: marks },
        mark: { ...label, fill: '#424242' },
        encoding: { x: { field: 't', ...x }, y, yOffset, text: { field: 'label' } },
      },
    ],
  });
}

const PLOT_WIDTH_PX = 640;
/** How far past the plot the last label of a row may run: the legend is below, not beside. */
const LAST_LABEL_OVERRUN_PX = 160;
/** About how wide a character of the 9 px labels is. */
const CHAR_PX = 5.2;

/**
 * Each item's text, cut with an ellipsis to the room it has before the next item of its lane and
 * row (the last one may run past the plot); none when not even a few characters fit.
 */
function fitLabels<T extends { lane: string; row: string; text: string }>(
  items: readonly T[],
  start: (item: T) => number,
  tMax: number,
): string[] {
  const px = (t: number) => (t / tMax) * PLOT_WIDTH_PX;
  const labels: string[] = Array.from({ length: items.length }, () => '');
  const byRow = new Map<string, number[]>();
  items.forEach((item, n) => {
    const key = `${item.lane}\u0000${item.row}`;
    byRow.set(key, [...(byRow.get(key) ?? []), n]);
  });
  for (const indices of byRow.values()) {
    indices.sort((a, b) => start(items[a]!) - start(items[b]!));
    indices.forEach((n, k) => {
      const next = indices[k + 1];
      const room =
        (next === undefined ? PLOT_WIDTH_PX + LAST_LABEL_OVERRUN_PX : px(start(items[next]!))) -
        px(start(items[n]!)) -
        8;
      const fits = Math.floor(room / CHAR_PX);
      const text = items[n]!.text;
      labels[n] = fits >= text.length ? text : fits >= 4 ? `${text.slice(0, fits - 1)}…` : '';
    });
  }
  return labels;
}

/** Rows in the order of their categories, then by name. */
function rowRank(row: string): number {
  const category = CATEGORIES.find((c) => row === c || row.startsWith(`${c} `));
  return category === undefined ? CATEGORIES.length : CATEGORIES.indexOf(category);
}

function laneOf(event: RecordedEvent, robots: readonly string[]): string {
  if (!('robot' in event)) return FLEET_LANE;
  const named = robots.find((id) => event.robot === id || event.robot.startsWith(`${id}-`));
  return named ?? event.robot;
}

/** Two links' faults at once each get a sub-row: in one they would hide each other. */
function rowOf(category: TimelineCategory, event: RecordedEvent): string {
  return category === 'fault' ? `fault ${linkOf(event)}` : category;
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
