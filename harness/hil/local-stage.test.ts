import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import onnxProto from 'onnx-proto';
import { writePerceptionModel } from '../../reference/models/make-perception-model.ts';
import { hilOverheadPct, LocalStage, type LocalHilResult } from './local-stage.ts';
import { latencyStats } from './stats.ts';
import { HilError, type RunDiscipline } from './types.ts';

const { onnx } = onnxProto;
const realModel = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../reference/models/perception-cnn.onnx',
);

/** A one-node float model `op(x)` on [1, 3, side, side], for a floor to compare against. */
function oneNodeModel(op: 'Identity' | 'Sqrt', side: number): Uint8Array {
  const info = (name: string) => ({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [1, 3, side, side].map((dimValue) => ({ dimValue })) },
      },
    },
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: op.toLowerCase(),
      node: [{ opType: op, input: ['x'], output: ['y'] }],
      input: [info('x')],
      output: [info('y')],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

async function run(
  model: string,
  discipline: RunDiscipline,
  stage = new LocalStage(),
): Promise<LocalHilResult> {
  await using started = await stage.start(model);
  return await started.benchmark(discipline);
}

test.describe('LocalStage', () => {
  let dir: string;

  test.beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleetdrill-local-stage-'));
  });
  test.afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('it times real inference: far above a trivial model, and growing with the input', async () => {
    const trivial = path.join(dir, 'identity.onnx');
    await writeFile(trivial, oneNodeModel('Identity', 224));
    const small = await writePerceptionModel(path.join(dir, 'small'), { resolution: 112 });
    const discipline = { warmupQueries: 3, minQueries: 30, minDurationMs: 0 };

    const real = await run(realModel, discipline);
    const floor = await run(trivial, discipline);
    const quarter = await run(small.modelPath, discipline);

    for (const result of [real, floor, quarter])
      expect(result.valid, result.invalidReasons.join('; ')).toBe(true);
    expect(real.model.name).toBe('perception-cnn.onnx');
    // Compared on each run's fastest query: a busy machine slows some queries of any model (and
    // the trivial one most, relatively), while the fastest query is the work itself.
    expect(real.latencyMs.min).toBeGreaterThan(10 * floor.latencyMs.min);
    // 224² has four times the pixels (and MACs) of 112².
    expect(real.latencyMs.min).toBeGreaterThan(2 * quarter.latencyMs.min);
    expect(real.environment).toMatchObject({
      intra_op_threads: '1',
      execution_provider: 'cpu',
      onnxruntime_node: '1.30.0',
      node: process.version,
      inputs: 'image[1,3,224,224]',
    });
    expect(Number(real.environment.logical_cores)).toBe(os.cpus().length);
    expect(real.clocks.details.governor).toBeDefined();
    expect(real.device.length).toBeGreaterThan(0);
  });

  test('its statistics are those of its recorded per-query times', async () => {
    const seen: number[] = [];
    const stage = new LocalStage({ onQuery: ({ latencyMs }) => seen.push(latencyMs) });
    const result = await run(realModel, { warmupQueries: 2, minQueries: 23, minDurationMs: 0 }, stage);

    expect(result.queries).toBe(23);
    expect(result.perQueryMs).toHaveLength(23);
    expect(seen).toEqual(result.perQueryMs);
    expect(result.latencyMs).toEqual(latencyStats(result.perQueryMs));
    // trtexec: sorted[max(n - 1 - floor((1 - p/100) n), 0)] with n = 23.
    const sorted = [...result.perQueryMs].sort((a, b) => a - b);
    expect(result.latencyMs.p50).toBe(sorted[22 - Math.floor(11.5)]);
    expect(result.latencyMs.p90).toBe(sorted[22 - Math.floor(2.3)]);
    expect(result.latencyMs.p95).toBe(sorted[22 - Math.floor(1.15)]);
    expect(result.latencyMs.p99).toBe(sorted[22]);
    expect(result.latencyMs.p90).toBe(sorted[20]);
    expect(result.latencyMs.min).toBe(sorted[0]);
    expect(result.latencyMs.mean).toBeCloseTo(sorted.reduce((a, b) => a + b, 0) / 23, 9);

    const sum = result.perQueryMs.reduce((a, b) => a + b, 0);
    expect(result.durationMs).toBeGreaterThanOrEqual(sum);
    expect(result.throughputQps).toBeCloseTo(23 / (result.durationMs / 1000), 6);
    expect(result.overheadPerQueryMs).toBeCloseTo((result.durationMs - sum) / 23, 6);
    expect(hilOverheadPct(result)).toBeCloseTo((result.overheadPerQueryMs / result.latencyMs.p50) * 100, 9);
    const log = JSON.parse(result.logs['local-stage.json']!);
    expect(log).toMatchObject({
      queries: 23,
      valid: true,
      model: 'perception-cnn.onnx',
      sha256: result.model.sha256,
    });
  });

  test('a run goes on until both minimums are met', async () => {
    const result = await run(realModel, { warmupQueries: 0, minQueries: 3, minDurationMs: 300 });
    expect(result.valid).toBe(true);
    expect(result.durationMs).toBeGreaterThanOrEqual(300);
    expect(result.queries).toBeGreaterThan(3);
  });

  test('a run that cannot meet its minimums within the cap is invalid, saying which', async () => {
    const stage = new LocalStage({ maxDurationMs: 250 });
    const result = await run(realModel, { warmupQueries: 1, minQueries: 1_000_000, minDurationMs: 0 }, stage);
    expect(result.valid).toBe(false);
    expect(result.queries).toBeLessThan(1_000_000);
    expect(result.durationMs).toBeGreaterThanOrEqual(250);
    expect(result.invalidReasons).toHaveLength(1);
    expect(result.invalidReasons[0]).toContain(
      `minQueries not met: ${result.queries} queries, expected >= 1000000`,
    );

    const short = await run(
      realModel,
      { warmupQueries: 0, minQueries: 1, minDurationMs: 60_000 },
      new LocalStage({ maxDurationMs: 100 }),
    );
    expect(short.valid).toBe(false);
    expect(short.invalidReasons.join('; ')).toMatch(
      /^minDurationMs not met: measured [\d.]+ ms, expected >= 60000 ms/,
    );
  });

  test('a non-finite output makes the run invalid', async () => {
    const model = path.join(dir, 'sqrt.onnx');
    await writeFile(model, oneNodeModel('Sqrt', 4));
    // The spec beside the model sets the input's range: all negative, so every sqrt is NaN.
    await writeFile(
      path.join(dir, 'sqrt.json'),
      JSON.stringify({ inputs: [{ name: 'x', type: 'float32', shape: [1, 3, 4, 4], range: [-2, -1] }] }),
    );
    const result = await run(model, { warmupQueries: 0, minQueries: 5, minDurationMs: 0 });
    expect(result.valid).toBe(false);
    expect(result.invalidReasons).toEqual([
      "non-finite output (NaN or Inf) in 5 outputs of 5 queries, first in 'y' at query 0",
    ]);

    // The same model fed from its own metadata (no spec): a range of [-1, 1] still gives NaNs.
    await rm(path.join(dir, 'sqrt.json'));
    const fromModel = await run(model, { warmupQueries: 0, minQueries: 5, minDurationMs: 0 });
    expect(fromModel.environment.inputs).toBe('x[1,3,4,4]');
    expect(fromModel.valid).toBe(false);
  });

  test('a missing or corrupt model is a HilError naming the file', async () => {
    const stage = new LocalStage();
    const missing = path.join(dir, 'nope.onnx');
    const error = await stage.start(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HilError);
    expect((error as Error).message).toContain(missing);
    expect((error as Error).message).toContain('ENOENT');

    const corrupt = path.join(dir, 'corrupt.onnx');
    await writeFile(corrupt, 'this is not a protobuf, let alone an ONNX model\n');
    const bad = await stage.start(corrupt).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(HilError);
    expect((bad as Error).message).toMatch(
      new RegExp(
        `^model ${corrupt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ONNX Runtime could not load it: .+`,
      ),
    );
    expect((bad as Error).cause).toBeInstanceOf(Error);
  });

  test('stop is idempotent, and a stopped stage cannot benchmark', async () => {
    const stage = await new LocalStage().start(realModel);
    await stage.stop();
    await stage.stop();
    await expect(stage.benchmark({ warmupQueries: 0, minQueries: 1, minDurationMs: 0 })).rejects.toThrow(
      new HilError(`model ${realModel}: the local stage was stopped; start it again`),
    );
    await expect(async () => {
      await using disposable = await new LocalStage().start(realModel);
      await disposable.benchmark({ warmupQueries: 0, minQueries: 0, minDurationMs: 0 });
    }).rejects.toThrow(new HilError('discipline.minQueries must be an integer >= 1, got 0'));
  });

  test('one configured stage starts independent sessions', async () => {
    const stage = new LocalStage();
    const first = await stage.start(realModel);
    await using second = await stage.start(realModel);
    await first.stop();
    const result = await second.benchmark({ warmupQueries: 0, minQueries: 2, minDurationMs: 0 });
    expect(result.queries).toBe(2);
  });
});
