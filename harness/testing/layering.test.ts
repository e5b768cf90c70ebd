/**
 * The layering rules of .dependency-cruiser.mjs, run the way `npm run lint` runs them, on a copy
 * of the source tree: the tree as it is passes, and each kind of tangle a change could bring in
 * (an upward import, a circle, a sibling import, ...) added to the copy fails naming its rule and
 * file. The copy keeps the real tree untouched while probes are written into it.
 */
import { execFile } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { REPO_ROOT } from '../core/paths.ts';

const CONFIG = '.dependency-cruiser.mjs';
const SOURCES = ['harness', 'reference', 'protocol', 'scenarios', 'bench'];
const DEPCRUISE = join(REPO_ROOT, 'node_modules', '.bin', 'depcruise');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
  cycle?: Array<{ name: string }>;
}

/** Copies what depcruise reads (source, config, tsconfig), not data files or build output. */
function copyTree(to: string): void {
  for (const dir of SOURCES) {
    cpSync(join(REPO_ROOT, dir), join(to, dir), {
      recursive: true,
      filter: (source) =>
        !/[/\\](node_modules|\.fleetdrill)$/.test(source) && !/\.(onnx|img|log|key|pem)$/.test(source),
    });
  }
  for (const file of [CONFIG, 'tsconfig.json', 'package.json']) cpSync(join(REPO_ROOT, file), join(to, file));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(to, 'node_modules'), 'dir');
}

function write(root: string, file: string, text: string): void {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), text);
}

/** Runs depcruise in `cwd` as lint does; the violations it reports (it exits 1 when there are any). */
async function cruise(cwd: string, args: string[]): Promise<Violation[]> {
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(
      DEPCRUISE,
      [...args, '--config', CONFIG, '--output-type', 'json'],
      {
        cwd,
        maxBuffer: 256 * 1024 * 1024,
      },
    ));
  } catch (error) {
    const out = (error as { stdout?: string }).stdout;
    if (!out) throw error;
    stdout = out;
  }
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

/**
 * Runs the depcruise step of `npm run lint`, word for word from package.json, in `cwd`: its exit
 * code is what fails lint, and its output what a developer reads.
 */
async function lintCruise(cwd: string): Promise<{ code: number; output: string }> {
  const { scripts } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts: { lint: string };
  };
  const step = scripts.lint.split('&&').map((part) => part.trim().split(/\s+/));
  const args = step.find((words) => words[0] === 'depcruise')?.slice(1);
  if (!args) throw new Error(`package.json's lint script runs no depcruise step: ${scripts.lint}`);
  try {
    const { stdout, stderr } = await promisify(execFile)(DEPCRUISE, args, {
      cwd,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

const describeViolations = (violations: Violation[]): string[] =>
  violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);

test.describe('layering rules', () => {
  test.describe.configure({ timeout: 90_000 });

  test('every harness folder has its place in the layer order', async () => {
    const { LAYERS } = (await import(pathToFileURL(join(REPO_ROOT, CONFIG)).href)) as { LAYERS: string[][] };
    const placed = new Set([...LAYERS.flat(), 'testing']);
    const folders = readdirSync(join(REPO_ROOT, 'harness'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(folders.filter((folder) => !placed.has(folder))).toEqual([]);
    expect(LAYERS.flat().filter((folder) => !folders.includes(folder))).toEqual([]);
  });

  test('the tree as it is passes; each kind of tangle added to a copy fails naming its rule and file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fleetdrill-layering-'));
    try {
      copyTree(root);
      // Soft: a tangle already in the tree must not hide whether the probes below are caught.
      expect
        .soft(describeViolations(await cruise(root, SOURCES)), 'violations in the tree as it is')
        .toEqual([]);

      const probes: Record<string, string> = {
        // An upward import, type-only: types count as dependencies too.
        'harness/core/probe-upward.ts':
          "import type { Fleet } from '../fleet/index.ts';\nexport type F = Fleet;\n",
        'harness/core/probe-circle-a.ts':
          "import { b } from './probe-circle-b.ts';\nexport const a = (): number => b();\n",
        'harness/core/probe-circle-b.ts':
          "import { a } from './probe-circle-a.ts';\nexport const b = (): number => a();\n",
        'harness/telemetry/probe-sibling.ts': "import '../ota/index.ts';\n",
        'harness/fleet/probe-testing.ts': "import '../testing/leftovers.ts';\n",
        'reference/robot-sim/probe-harness.ts': "import '../../harness/core/index.ts';\n",
        'harness/fleet/probe-internals.ts': "import '../../reference/edge-agent/agent.ts';\n",
        'protocol/probe-reference.ts': "import '../reference/edge-agent/index.ts';\n",
        // Allowed: a test may use test support and reference internals; library code a component's index.
        'harness/fleet/probe-allowed.test.ts':
          "import '../testing/leftovers.ts';\nimport '../../reference/edge-agent/agent.ts';\n",
        'harness/fleet/probe-allowed.ts':
          "import '../../reference/edge-agent/index.ts';\nimport '../core/index.ts';\n",
      };
      for (const [file, text] of Object.entries(probes)) write(root, file, text);

      // The probes and one step beyond (a circle needs both of its edges): the tree was cruised above.
      const found = describeViolations(
        await cruise(root, [...Object.keys(probes), '--max-depth', '2']),
      ).filter((line) => line.includes('probe-'));
      expect(found).toEqual(
        expect.arrayContaining([
          'layer-core-imports-higher: harness/core/probe-upward.ts → harness/fleet/index.ts',
          'layer-telemetry-imports-sibling: harness/telemetry/probe-sibling.ts → harness/ota/index.ts',
          'testing-only-for-tests: harness/fleet/probe-testing.ts → harness/testing/leftovers.ts',
          'reference-imports-harness: reference/robot-sim/probe-harness.ts → harness/core/index.ts',
          'harness-reaches-into-reference: harness/fleet/probe-internals.ts → reference/edge-agent/agent.ts',
          'protocol-imports-its-users: protocol/probe-reference.ts → reference/edge-agent/index.ts',
        ]),
      );
      expect(found.filter((line) => line.startsWith('no-circular: harness/core/probe-circle-'))).not.toEqual(
        [],
      );
      expect(found.filter((line) => line.includes('probe-allowed'))).toEqual([]);

      // And lint itself fails on the tangled copy, naming the rules: the exit code is the gate.
      const lint = await lintCruise(root);
      expect(lint.code, lint.output).not.toBe(0);
      expect(lint.output).toContain('layer-core-imports-higher');
      expect(lint.output).toContain('no-circular');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
