import { expect, test } from '@playwright/test';
import type { QosVerdict } from './judge.ts';
import { deliveryColour, escapeXml, renderMatrixSvg, type MatrixCell } from './matrix-plot.ts';
import type { History, Reliability } from './policy.ts';

interface Element {
  name: string;
  attributes: Record<string, string>;
  text: string;
  children: Element[];
}

/**
 * A strict little XML reader, enough to prove the SVG is well-formed: every tag closes in order,
 * attributes are quoted once each, and text holds no bare `<` or stray `&`.
 */
function parseXml(xml: string): Element {
  const root: Element = { name: '#document', attributes: {}, text: '', children: [] };
  const stack = [root];
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+);/g;
  const checkText = (text: string) => {
    if (text.replace(entity, '').includes('&')) throw new Error(`stray & in ${JSON.stringify(text)}`);
  };
  for (const token of xml.match(/<[^>]*>|[^<]+/g) ?? []) {
    const top = stack[stack.length - 1]!;
    if (!token.startsWith('<')) {
      checkText(token);
      top.text += token;
      continue;
    }
    const close = /^<\/([\w:-]+)\s*>$/.exec(token);
    if (close) {
      if (top.name !== close[1]) throw new Error(`</${close[1]}> closes <${top.name}>`);
      stack.pop();
      continue;
    }
    const open = /^<([\w:-]+)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>$/.exec(token);
    if (!open) throw new Error(`malformed tag ${token}`);
    const attributes: Record<string, string> = {};
    for (const [, key, value] of open[2]!.matchAll(/([\w:-]+)="([^"]*)"/g)) {
      if (key! in attributes) throw new Error(`attribute ${key} twice in ${token}`);
      checkText(value!);
      attributes[key!] = value!;
    }
    const element: Element = { name: open[1]!, attributes, text: '', children: [] };
    top.children.push(element);
    if (open[3] !== '/') stack.push(element);
  }
  if (stack.length !== 1) throw new Error(`<${stack[stack.length - 1]!.name}> is never closed`);
  if (root.children.length !== 1 || root.children[0]!.name !== 'svg') throw new Error('not one <svg> root');
  return root.children[0]!;
}

function all(element: Element, predicate: (e: Element) => boolean): Element[] {
  return [...(predicate(element) ? [element] : []), ...element.children.flatMap((c) => all(c, predicate))];
}

function cell(
  topic: string,
  reliability: Reliability,
  history: History,
  profile: string,
  deliveredRatio: number,
  verdict: QosVerdict,
): MatrixCell {
  return {
    topic,
    reliability,
    history,
    profile,
    measured: {
      deliveredRatio,
      received: Math.round(deliveredRatio * 200),
      latencyMs: { p50: 3, p99: 42.4, max: 80 },
    },
    judgement: { verdict, reasons: verdict === 'pass' ? [] : [`${topic} on ${profile}: ${verdict}`] },
  };
}

const PROFILES = ['clear', 'loss-10', 'loss-20', 'dead-zone-2s'];
const ROWS: Array<[string, Reliability, History]> = [
  ['/cmd_vel', 'reliable', { kind: 'keep_last', depth: 10 }],
  ['/scan', 'best_effort', { kind: 'keep_last', depth: 5 }],
  ['/map', 'reliable', { kind: 'keep_all' }],
];

test('a 3 × 4 matrix renders as well-formed SVG with the right colours, outlines and hatches', () => {
  const delivered = [
    [1, 1, 1, 1],
    [1, 0.9, 0.5, 0.75],
    [1, 1, 0.2, 1],
  ];
  const verdicts: QosVerdict[][] = [
    ['pass', 'pass', 'pass', 'pass'],
    ['pass', 'pass', 'fail', 'pass'],
    ['pass', 'pass', 'fail', 'could-not-tell'],
  ];
  const cells = ROWS.flatMap(([topic, reliability, history], j) =>
    PROFILES.map((profile, i) =>
      cell(topic, reliability, history, profile, delivered[j]![i]!, verdicts[j]![i]!),
    ),
  );
  const svg = parseXml(renderMatrixSvg(cells));
  const groups = all(svg, (e) => e.attributes.class === 'cell');
  expect(groups).toHaveLength(12);
  expect(all(svg, (e) => e.attributes.class === 'column').map((e) => e.text)).toEqual(PROFILES);
  expect(all(svg, (e) => e.attributes.class === 'row').map((e) => e.text)).toEqual([
    '/cmd_vel · reliable · depth 10',
    '/scan · best_effort · depth 5',
    '/map · reliable · keep_all',
  ]);
  const rectOf = (g: Element) => g.children.find((c) => c.name === 'rect')!;
  const at = (topic: string, profile: string) =>
    groups.find((g) => g.attributes['data-topic'] === topic && g.attributes['data-profile'] === profile)!;

  // Colour by delivered %: 100 % green, 75 % yellow, 50 % and below red.
  expect(rectOf(at('/cmd_vel', 'clear')).attributes.fill).toBe('hsl(120, 65%, 50%)');
  expect(rectOf(at('/scan', 'dead-zone-2s')).attributes.fill).toBe('hsl(60, 65%, 50%)');
  expect(rectOf(at('/scan', 'loss-20')).attributes.fill).toBe('hsl(0, 65%, 50%)');
  expect(rectOf(at('/map', 'loss-20')).attributes.fill).toBe('hsl(0, 65%, 50%)');
  // Failed cells, and only they, have the red outline; could-not-tell is hatched, not coloured.
  const outlined = groups.filter((g) => rectOf(g).attributes.stroke === '#c62828');
  expect(outlined.map((g) => `${g.attributes['data-topic']} ${g.attributes['data-profile']}`)).toEqual([
    '/scan loss-20',
    '/map loss-20',
  ]);
  const hatched = groups.filter((g) => rectOf(g).attributes.fill === 'url(#could-not-tell)');
  expect(hatched.map((g) => g.attributes['data-verdict'])).toEqual(['could-not-tell']);
  expect(all(svg, (e) => e.name === 'pattern' && e.attributes.id === 'could-not-tell')).toHaveLength(1);
  // Text: delivered % and latency p99.
  const texts = at('/scan', 'loss-10')
    .children.filter((c) => c.name === 'text')
    .map((c) => c.text);
  expect(texts).toEqual(['90 %', 'p99 42 ms']);
  // The failed cell's tooltip carries the judge's reason.
  expect(at('/map', 'loss-20').children.find((c) => c.name === 'title')!.text).toContain(
    '/map on loss-20: fail',
  );
  // A legend and a title.
  expect(all(svg, (e) => e.attributes.class === 'legend')).toHaveLength(1);
  expect(svg.children.some((c) => c.name === 'text' && c.text.startsWith('QoS matrix'))).toBe(true);
});

test('user text is escaped and a missing cell reads "not run"', () => {
  const hostile = cell('/a<b>&"c\'', 'reliable', { kind: 'keep_last', depth: 1 }, 'loss-1', 1, 'pass');
  const other = cell('/ok', 'reliable', { kind: 'keep_last', depth: 1 }, 'loss-5', 0, 'fail');
  const xml = renderMatrixSvg([hostile, other], { title: 'QoS <sweep> & more' });
  expect(xml).not.toContain('<b>');
  const svg = parseXml(xml);
  expect(all(svg, (e) => e.attributes.class === 'row').map((e) => e.text)).toEqual([
    escapeXml('/a<b>&"c\' · reliable · depth 1'),
    '/ok · reliable · depth 1',
  ]);
  expect(all(svg, (e) => e.attributes.class === 'empty')).toHaveLength(2);
  // Nothing arrived: no latency figure is made up.
  const failed = all(svg, (e) => e.attributes['data-topic'] === '/ok')[0]!;
  expect(failed.children.filter((c) => c.name === 'text').map((c) => c.text)).toEqual(['0 %', 'p99 –']);
  // The checker itself refuses broken XML, so its passes above mean something.
  expect(() => parseXml('<svg><g></svg>')).toThrow(/closes <g>/);
  expect(() => parseXml('<svg><text>a & b</text></svg>')).toThrow(/stray &/);
  expect(() => parseXml('<svg x=1></svg>')).toThrow(/malformed/);
});

test('deliveryColour clamps and scales from 50 % to 100 %', () => {
  expect(deliveryColour(0)).toBe('hsl(0, 65%, 50%)');
  expect(deliveryColour(0.5)).toBe('hsl(0, 65%, 50%)');
  expect(deliveryColour(0.9)).toBe('hsl(96, 65%, 50%)');
  expect(deliveryColour(1.2)).toBe('hsl(120, 65%, 50%)');
});
