/**
 * The bench's result file: reports/bench.json after every run, and with `--save` also
 * bench/results/latest.json, the committed file the published benchmark table is rendered from.
 * One schema for both, so the table never shows a number the bench did not write.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../harness/core/paths.ts';
import { z } from 'zod';
import { summarize, type FigureResult } from './runner.ts';

/** The committed result file, written by `npm run bench -- --save`. */
export const LATEST = join(REPO_ROOT, 'bench', 'results', 'latest.json');

/** Bumped when a reader of an older file would misread it. */
export const RESULTS_FORMAT = 1;

const target = z.strictObject({
  op: z.enum(['<=', '<', '>=', '>']),
  value: z.number(),
  unit: z.string(),
  text: z.string(),
});

const figure = z
  .strictObject({
    name: z.string().min(1),
    status: z.enum(['ok', 'error']),
    value: z.number().optional(),
    unit: z.string(),
    runs: z.array(z.number()),
    target: target.optional(),
    pass: z.boolean().optional(),
    notes: z.string().optional(),
    reason: z.string().optional(),
    durationMs: z.number(),
  })
  .refine((f) => (f.status === 'ok') === (f.value !== undefined), {
    message: 'value is present exactly when status is ok',
  })
  .refine((f) => (f.status === 'error') === (f.reason !== undefined), {
    message: 'reason is present exactly when status is error',
  })
  .refine((f) => f.pass === undefined || (f.status === 'ok' && f.target !== undefined), {
    message: 'pass needs a measured value and a target',
  });

const machine = z.strictObject({
  cpus: z.number(),
  model: z.string(),
  memoryGiB: z.number(),
  os: z.string(),
  node: z.string(),
});

export const resultsSchema = z.strictObject({
  format: z.literal(RESULTS_FORMAT),
  date: z.iso.datetime(),
  seed: z.number().int(),
  runs: z.number().int().min(1),
  /** Set when BENCH_ONLY chose the figures: the file is not the whole bench. */
  only: z.array(z.string()).optional(),
  machine,
  summary: z.strictObject({
    figures: z.number(),
    passed: z.number(),
    missed: z.number(),
    untargeted: z.number(),
    errors: z.number(),
  }),
  figures: z.array(figure),
});

/** A bench run as written to disk. */
export type BenchResults = z.infer<typeof resultsSchema>;
export type Machine = z.infer<typeof machine>;

export function thisMachine(): Machine {
  return {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}

export function benchResults(
  figures: FigureResult[],
  run: { date: Date; seed: number; runs: number; only?: readonly string[]; machine?: Machine },
): BenchResults {
  return {
    format: RESULTS_FORMAT,
    date: run.date.toISOString(),
    seed: run.seed,
    runs: run.runs,
    ...(run.only ? { only: [...run.only] } : {}),
    machine: run.machine ?? thisMachine(),
    summary: summarize(figures),
    figures,
  };
}

/** Writes a result file (creating its folder), checked against the schema first. */
export async function writeResults(path: string, results: BenchResults, extra: object = {}): Promise<void> {
  resultsSchema.parse(results);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify({ ...results, ...extra }, null, 2)}\n`);
}

/** Reads and checks a result file; errors name the file and the field. */
export async function readResults(path: string): Promise<BenchResults> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`, { cause: error });
  }
  // bench.json carries extras for people reading it (load points, a value map); the table needs none.
  const parsed = resultsSchema.safeParse(stripExtras(json));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`);
    throw new Error(`${path}: not a bench result file: ${issues.join('; ')}`);
  }
  return parsed.data;
}

const EXTRAS = ['metrics', 'loadPoints'];

function stripExtras(json: unknown): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return json;
  return Object.fromEntries(Object.entries(json).filter(([key]) => !EXTRAS.includes(key)));
}
