import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.ts';
import type { DrillSelector, Evidence, QualificationFile, Requirement, Threshold } from './types.ts';
import { fieldError, issueError, parseYaml, type YamlInput } from './yaml-input.ts';

/**
 * qualification.yaml: what a release must meet, as data a release manager edits and reviews.
 *
 * ```yaml
 * suite:
 *   grep: "@release"          # the Playwright grep `fleetdrill qualify` runs
 *   backends: [embedded]      # embedded and/or docker
 * sources:                    # the other evidence the run produces (all optional)
 *   otaFuzz: { cuts: 16, client: fleetdrill }
 *   qosMatrix: true
 *   hil: true
 * requirements:
 *   - id: OTA-003             # AREA-NNN, unique in the file
 *     title: A bad image is rolled back and reported
 *     area: ota               # fleet | faults | telemetry | ota | qos | hil
 *     severity: blocker       # blocker fails the release; major is reported
 *     evidence:               # at least one; every piece must pass
 *       - drills: { tag: "@OTA-003" }     # tag (exact), title (substring), scenario (file stem);
 *                                         # at least one, all given must match
 *       - figure: hil/perception-cnn/p99_ms
 *         max: 20                         # bounds: max, min, maxWorseningPct (against the
 *         maxWorseningPct: 10             # baseline release); at least one
 * ```
 *
 * Every object is strict, so a misspelt key (`maxWorsening`) is an error rather than a threshold
 * silently not checked. Errors name the file, the field path and its line.
 */

/** Areas a requirement can belong to: the areas fleetdrill drills. */
export const AREAS = ['fleet', 'faults', 'telemetry', 'ota', 'qos', 'hil'] as const;

const REQUIREMENT_ID = /^[A-Z]+-\d{3}$/;
const FIGURE_ID = /^[^/\s]+\/\S+$/;

const text = z.string().trim().min(1);
const bound = z.number({ error: 'must be a number' }).refine(Number.isFinite, 'must be a finite number');
const percent = z
  .number({ error: 'must be a number ≥ 0' })
  .min(0, { error: 'must be a number ≥ 0' })
  .refine(Number.isFinite, 'must be a finite number');

const fileSchema = z.strictObject({
  suite: z.strictObject({
    grep: text,
    backends: z.array(z.enum(['embedded', 'docker'])).min(1, { error: 'must name at least one backend' }),
  }),
  sources: z
    .strictObject({
      otaFuzz: z.strictObject({ cuts: z.number().int().min(1), client: text }).optional(),
      qosMatrix: z.boolean().optional(),
      hil: z.boolean().optional(),
    })
    .optional(),
  requirements: z
    .array(
      z.strictObject({
        id: z.string().regex(REQUIREMENT_ID, { error: 'must look like AREA-NNN, such as OTA-003' }),
        title: text,
        area: z.enum(AREAS),
        severity: z.enum(['blocker', 'major']),
        // Each piece is checked on its own below, so its errors name the piece's own keys.
        evidence: z
          .array(z.unknown())
          .min(1, { error: 'must list at least one piece of evidence (a missing check is never a pass)' }),
      }),
    )
    .min(1, { error: 'must list at least one requirement' }),
});

const drillsSchema = z.strictObject({
  drills: z.strictObject({ tag: text.optional(), title: text.optional(), scenario: text.optional() }),
});

const figureSchema = z.strictObject({
  figure: z
    .string()
    .regex(FIGURE_ID, { error: 'must be a figure id <source>/<name>, such as hil/model/p99_ms' }),
  max: bound.optional(),
  min: bound.optional(),
  maxWorseningPct: percent.optional(),
});

/** Validates the text of a qualification file; `path` names it in errors. */
export function parseQualification(yamlText: string, path: string): QualificationFile {
  const input = parseYaml(yamlText, path);
  const parsed = fileSchema.safeParse(input.value, { reportInput: true });
  if (!parsed.success) throw issueError(input, parsed.error);
  const seen = new Map<string, number>();
  const requirements = parsed.data.requirements.map((raw, index): Requirement => {
    const first = seen.get(raw.id);
    if (first !== undefined) {
      throw fieldError(
        input,
        ['requirements', index, 'id'],
        `repeats ${raw.id}, already requirements[${first}].id`,
      );
    }
    seen.set(raw.id, index);
    return {
      id: raw.id,
      title: raw.title,
      area: raw.area,
      severity: raw.severity,
      evidence: raw.evidence.map((piece, at) =>
        parseEvidence(input, piece, ['requirements', index, 'evidence', at]),
      ),
    };
  });
  const sources: QualificationFile['sources'] = {};
  const given = parsed.data.sources ?? {};
  if (given.otaFuzz) sources.otaFuzz = given.otaFuzz;
  if (given.qosMatrix !== undefined) sources.qosMatrix = given.qosMatrix;
  if (given.hil !== undefined) sources.hil = given.hil;
  return { path, suite: parsed.data.suite, sources, requirements };
}

/** Reads and validates a qualification file; every error names the file. */
export async function loadQualificationFile(path: string): Promise<QualificationFile> {
  let yamlText: string;
  try {
    yamlText = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, `cannot be read (${(error as Error).message})`);
  }
  return parseQualification(yamlText, path);
}

function parseEvidence(input: YamlInput, piece: unknown, at: Array<string | number>): Evidence {
  const keys = piece !== null && typeof piece === 'object' ? Object.keys(piece) : [];
  if (keys.includes('drills')) {
    const parsed = drillsSchema.safeParse(piece, { reportInput: true });
    if (!parsed.success) throw issueError(input, parsed.error, at);
    const selector: DrillSelector = {};
    const { tag, title, scenario } = parsed.data.drills;
    if (tag !== undefined) selector.tag = tag;
    if (title !== undefined) selector.title = title;
    if (scenario !== undefined) selector.scenario = scenario;
    if (Object.keys(selector).length === 0) {
      throw fieldError(input, [...at, 'drills'], 'must select drills by tag, title or scenario');
    }
    return { drills: selector };
  }
  if (keys.includes('figure')) {
    const parsed = figureSchema.safeParse(piece, { reportInput: true });
    if (!parsed.success) throw issueError(input, parsed.error, at);
    const { figure, max, min, maxWorseningPct } = parsed.data;
    const threshold: Threshold = {};
    if (max !== undefined) threshold.max = max;
    if (min !== undefined) threshold.min = min;
    if (maxWorseningPct !== undefined) threshold.maxWorseningPct = maxWorseningPct;
    if (Object.keys(threshold).length === 0) {
      throw fieldError(input, at, `sets no bound on ${figure} (max, min or maxWorseningPct)`);
    }
    if (min !== undefined && max !== undefined && min > max) {
      throw fieldError(input, [...at, 'min'], `is ${min}, above max ${max}: no value could pass`);
    }
    return { figure, threshold };
  }
  throw fieldError(input, at, 'must be a drill selection (drills: …) or a figure (figure: …)');
}
