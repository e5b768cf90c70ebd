/**
 * Test support for charts: a strict enough XML well-formedness check (balanced tags, one <svg>
 * root, only known entities) and a way to pick the items vega drew for one named layer.
 * No XML parser is a dependency of fleetdrill, and a balanced-tag check is what a browser's
 * SVG parser would reject first.
 */

const TAG = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
const ENTITY = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;

/** Throws, naming the offset, unless `svg` is well-formed XML whose root element is <svg>. */
export function assertWellFormedSvg(svg: string): void {
  const text = svg.replace(/^\s*<\?xml[^>]*\?>/, '').replace(/<!--[\s\S]*?-->/g, (c) => ' '.repeat(c.length));
  const stack: string[] = [];
  let root: string | undefined;
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = text.slice(i, lt === -1 ? text.length : lt);
    if (ENTITY.test(chunk)) throw new Error(`bad entity in text near offset ${i}: ${chunk.slice(0, 60)}`);
    if (stack.length === 0 && chunk.trim() !== '') throw new Error(`text outside the root at offset ${i}`);
    if (lt === -1) break;
    TAG.lastIndex = lt;
    const m = TAG.exec(text);
    if (!m) throw new Error(`malformed tag at offset ${lt}: ${text.slice(lt, lt + 60)}`);
    const [whole, closing, name, attrs, selfClosing] = m;
    if (ENTITY.test(attrs!)) throw new Error(`bad entity in attributes of <${name}> at offset ${lt}`);
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> at offset ${lt} closes <${open ?? 'nothing'}>`);
    } else {
      if (stack.length === 0) {
        if (root !== undefined) throw new Error(`a second root <${name}> at offset ${lt}`);
        root = name;
      }
      if (!selfClosing) stack.push(name!);
    }
    i = lt + whole.length;
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('> <')}>`);
  if (root !== 'svg') throw new Error(`the root is <${root ?? 'nothing'}>, not <svg>`);
}

/**
 * The opening tags of the items vega drew for the layer named `name` (vega-lite names its group
 * `<name>_marks`, with dashes as underscores): one per bar, point, rule or label.
 */
export function markItems(svg: string, name: string): string[] {
  const group = `role-mark ${name.replace(/-/g, '_')}_marks"`;
  const items: string[] = [];
  let from = 0;
  for (;;) {
    const start = svg.indexOf(group, from);
    if (start === -1) return items;
    let depth = 0;
    const tags = /<(\/?)g\b[^>]*>|<(path|text|line|rect|circle)\b[^>]*>/g;
    tags.lastIndex = svg.lastIndexOf('<g', start);
    for (let m = tags.exec(svg); m; m = tags.exec(svg)) {
      if (m[2]) {
        if (m[0].includes('role="graphics-symbol"')) items.push(m[0]);
      } else if (m[1]) {
        if (--depth === 0) break;
      } else depth++;
    }
    from = tags.lastIndex;
  }
}

/** Every text a chart shows (SVG text content, entities decoded). */
export function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1]!
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
      .replace(/&amp;/g, '&'),
  );
}
