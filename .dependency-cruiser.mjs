/**
 * fleetdrill's layering, checked by dependency-cruiser (`npm run lint`; harness/testing/layering.test.ts
 * proves each rule fires). The layer order below is the one place it is written down: the rules
 * are made from it, and docs/architecture.md points here instead of repeating it.
 */

/**
 * harness/ folders, lowest layer first. A folder may import folders of lower layers only; folders
 * of one layer do not import each other (telemetry, ota, qos and hil are siblings over the fleet).
 * `protocol/` sits under all of them; harness/fixtures.ts and harness/index.ts (the drill API) on
 * top; harness/testing/ is test support beside the layers.
 */
export const LAYERS = [
  ['core'],
  ['ros', 'net'],
  ['fleet'],
  ['telemetry', 'ota', 'qos', 'hil'],
  ['report'],
  // Hostile-input fuzzing reaches every loader, the qualification's included, and the servers.
  ['hostile'],
  ['cli'],
];

/** Test code and the modules only tests load: they may reach past a component's index.ts. */
const TEST_FILES = String.raw`(\.(test|spec)\.ts|\.child\.ts|(^|/)test-(helpers|support)\.ts)$`;

/** The drill API on top of every layer. */
const TOP = String.raw`^harness/(fixtures|index)\.ts$`;

const folders = (layers) => `^harness/(${layers.flat().join('|')})/`;

const layerRules = LAYERS.flatMap((layer, index) => {
  const higher = LAYERS.slice(index + 1);
  return layer.flatMap((folder) => {
    const rules = [];
    if (higher.length > 0) {
      rules.push({
        name: `layer-${folder}-imports-higher`,
        severity: 'error',
        comment:
          `harness/${folder}/ is layer ${index + 1} of ${LAYERS.length} (.dependency-cruiser.mjs LAYERS): ` +
          `it may import only ${index === 0 ? 'protocol/' : `lower layers (${LAYERS.slice(0, index).flat().join(', ')})`}, ` +
          `never ${higher.flat().join(', ')} or the drill API. Move the shared piece down, or pass it in.`,
        from: { path: `^harness/${folder}/` },
        to: { path: [folders(higher), TOP] },
      });
    }
    const siblings = layer.filter((other) => other !== folder);
    if (siblings.length > 0) {
      rules.push({
        name: `layer-${folder}-imports-sibling`,
        severity: 'error',
        comment:
          `harness/${folder}/ and ${siblings.map((s) => `harness/${s}/`).join(', ')} are one layer: ` +
          `siblings do not import each other. Move what both need down a layer, or let a higher layer join them.`,
        from: { path: `^harness/${folder}/` },
        to: { path: folders([siblings]) },
      });
    }
    return rules;
  });
});

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'A circle of imports: each module of it loads half-initialised in one order or the other. ' +
        'Break it by moving what both sides need into a module that imports neither.',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'testing-only-for-tests',
      severity: 'error',
      comment:
        'harness/testing/ is test support: only tests (drills and the bench included), harness/cli/, ' +
        'harness/fixtures.ts and harness/index.ts may import it. Library code that needs it belongs in a layer.',
      from: { pathNot: [String.raw`^harness/(testing|cli)/`, '^(scenarios|bench)/', TOP, TEST_FILES] },
      to: { path: '^harness/testing/' },
    },
    {
      name: 'reference-imports-harness',
      severity: 'error',
      comment:
        'reference/ is the robot stack under test; it must run without the harness (it ships in ' +
        'the robot images). Share wire types through protocol/; tests drive it from harness/.',
      from: { path: '^reference/' },
      to: { path: '^harness/' },
    },
    {
      name: 'harness-reaches-into-reference',
      severity: 'error',
      comment:
        "The harness talks to the reference stack as to a user's robot: through protocol/ (the wire " +
        'types) or a tool a component exports from reference/<component>/index.ts, never its insides. ' +
        'Tests may reach further.',
      from: { path: '^harness/', pathNot: TEST_FILES },
      to: { path: '^reference/', pathNot: String.raw`^reference/[^/]+/index\.ts$` },
    },
    {
      name: 'protocol-imports-its-users',
      severity: 'error',
      comment:
        'protocol/ is the contract between the harness and the robot stack: it imports neither ' +
        '(only zod and node), so both sides can depend on it.',
      from: { path: '^protocol/' },
      to: { path: '^(harness|reference|scenarios|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: String.raw`(^|/)(node_modules|\.fleetdrill|reports)/` },
    moduleSystems: ['es6', 'cjs'],
    // `import type` is a dependency too: a type-only cycle or upward import is the same tangle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.mjs', '.json'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      exportsFields: ['exports'],
      mainFields: ['module', 'main', 'types'],
    },
  },
};
