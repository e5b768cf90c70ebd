import fc from 'fast-check';

/** A document with at most one thing broken, and which field that was. */
export interface BrokenDocument {
  how: string;
  /** The JSON value; undefined when `text` is not JSON at all. */
  value?: unknown;
  text: string;
  /** The keys down to the field broken, when exactly one was: a clear error names one of them. */
  fields?: string[];
}

type Path = Array<string | number>;

/** Every path into a JSON value, the root excluded, parents before children. */
function pathsOf(value: unknown, at: Path = [], into: Path[] = []): Path[] {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      into.push([...at, i]);
      pathsOf(item, [...at, i], into);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      into.push([...at, key]);
      pathsOf(item, [...at, key], into);
    }
  }
  return into;
}

/** A deep copy with `change` applied to the parent of `path`. */
function edited(
  value: unknown,
  path: Path,
  change: (parent: Record<string | number, unknown>, key: string | number) => void,
): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let parent = copy;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  change(parent, path.at(-1)!);
  return copy;
}

/** Values of every wrong kind: types, ranges, sizes and shapes a schema must refuse or survive. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    -0.0001,
    1e308,
    -1e308,
    2 ** 53 + 2,
    '',
    ' ',
    '..',
    '/',
    '\u0000',
    [],
    {},
  ),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'NaN', 'Infinity', '1e999'),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constant('x'.repeat(70_000)),
  fc.array(fc.integer(), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
);

/** The named keys of a path, the way error messages name a field and what holds it. */
const keyNames = (path: Path): string[] => path.filter((step): step is string => typeof step === 'string');

/**
 * Documents made from a valid one: as is, with one field given a wrong value, removed, or joined
 * by an unknown one; or not the document at all (other JSON, truncated text, deep nesting,
 * random text). Breaking one field at a time keeps every input one step from valid, so the fuzz
 * reaches each check behind the first.
 */
export function brokenDocuments(
  valid: unknown,
  encode: (value: unknown) => string = JSON.stringify,
): fc.Arbitrary<BrokenDocument> {
  const paths = pathsOf(valid);
  const text = encode(valid);
  const asDocument = (how: string, value: unknown, fields?: string[]): BrokenDocument => ({
    how,
    value,
    text: encode(value),
    ...(fields?.length ? { fields } : {}),
  });
  const pathArb = fc.constantFrom(...(paths.length ? paths : [['x']]));
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(asDocument('valid', valid)) },
    {
      weight: 4,
      arbitrary: fc.tuple(pathArb, wrongValue).map(([path, wrong]) =>
        asDocument(
          `${path.join('.')} set to ${JSON.stringify(wrong)?.slice(0, 40)}`,
          edited(valid, path, (parent, key) => (parent[key] = wrong)),
          keyNames(path),
        ),
      ),
    },
    {
      weight: 2,
      arbitrary: pathArb.map((path) =>
        asDocument(
          `${path.join('.')} removed`,
          edited(valid, path, (parent, key) => {
            if (Array.isArray(parent)) parent.splice(Number(key), 1);
            else delete parent[key];
          }),
        ),
      ),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(pathArb, fc.string({ minLength: 1, maxLength: 12 }), wrongValue)
        .map(([path, extra, wrong]) =>
          asDocument(
            `unknown ${extra} beside ${path.join('.')}`,
            edited(valid, path, (parent) => {
              if (!Array.isArray(parent) && !(extra in parent)) parent[extra] = wrong;
            }),
          ),
        ),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => asDocument('other JSON', value)) },
    {
      weight: 1,
      arbitrary: fc
        .nat({ max: Math.max(0, text.length - 1) })
        .map((cut) => ({ how: `truncated at ${cut}`, text: text.slice(0, cut) })),
    },
    {
      weight: 1,
      // Parsers that recurse overflow the stack somewhere past 10 000 levels; 100 000 is rare, it is slow to parse.
      arbitrary: fc
        .oneof(
          { weight: 20, arbitrary: fc.integer({ min: 100, max: 20_000 }) },
          { weight: 1, arbitrary: fc.constant(100_000) },
        )
        .map((depth) => ({
          how: `nested ${depth} deep`,
          text: `{"x":${'['.repeat(depth)}${']'.repeat(depth)}}`,
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .string({ maxLength: 300, unit: 'binary' })
        .map((junk) => ({ how: 'random text', text: junk })),
    },
  );
}
