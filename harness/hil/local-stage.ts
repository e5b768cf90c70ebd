/**
 * The local HIL stage: the model runs in ONNX Runtime (CPU) inside this process, held to the
 * SingleStream discipline — one query after the previous one completes — and each query is
 * timed around `session.run` alone, so the numbers are inference, not harness.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { env as ortEnv, InferenceSession, Tensor } from 'onnxruntime-node';
import { SeededRandom } from '../core/seed.ts';
import { latencyStats } from './stats.ts';
import {
  HilError,
  type ClockState,
  type DeviceSample,
  type HilResult,
  type HilStage,
  type RunDiscipline,
  type StartedHilStage,
} from './types.ts';

/** How the local stage runs the model. */
export interface LocalStageOptions {
  /** ONNX Runtime's intraOpNumThreads. Default 1: one core, the figure a budget is written for. */
  threads?: number;
  /**
   * Seed of the random input tensor (uniform over the spec's range). Default 1; a scenario passes
   * one derived from the run's seed (`deriveSeed(seed, 'hil', model)`).
   */
  inputSeed?: number;
  /**
   * Input shapes by input name, for models with no spec beside them (`<model>.json`) whose inputs
   * have symbolic dimensions.
   */
  inputShapes?: Record<string, number[]>;
  /**
   * Hard cap on the measured loop, ms: the run stops here even when a minimum is unmet, and is
   * then invalid. Default max(3 × minDurationMs, 60 s).
   */
  maxDurationMs?: number;
  /** Called after every measured query, outside its timing (progress views). */
  onQuery?: (query: { index: number; latencyMs: number }) => void;
}

/** A local stage's result: the shared shape plus what only an in-process stage can measure. */
export interface LocalHilResult extends HilResult {
  /**
   * Harness time per query, ms: the measured loop's wall time minus the sum of the per-query
   * times, over the queries (output checks, callbacks, load sampling, promise hops).
   */
  overheadPerQueryMs: number;
}

/** One model input as the stage feeds it. */
interface InputSpec {
  name: string;
  shape: number[];
  range: [number, number];
}

/** The input spec of a model's `<name>.json` (reference/models/perception-cnn.json's shape). */
interface SpecFile {
  inputs?: Array<{ name?: unknown; type?: unknown; shape?: unknown; range?: unknown }>;
}

const DEFAULT_RANGE: [number, number] = [-1, 1];
/** How often the loop samples the machine's CPU load, ms. */
const LOAD_SAMPLE_INTERVAL_MS = 1000;

/** What a started local stage runs: the session, its fixed input and the model it came from. */
interface Loaded {
  session: InferenceSession;
  feeds: Record<string, Tensor>;
  inputs: InputSpec[];
  model: { name: string; sha256: string; path: string };
  threads: number;
  options: LocalStageOptions;
}

/** The local ONNX Runtime stage as configured; `start(model)` loads the model into a session. */
export class LocalStage implements HilStage {
  readonly name = 'local';
  private readonly threads: number;

  constructor(private readonly options: LocalStageOptions = {}) {
    this.threads = options.threads ?? 1;
    if (!Number.isInteger(this.threads) || this.threads < 1) {
      throw new HilError(`local stage: threads must be an integer >= 1, got ${options.threads}`);
    }
  }

  async start(modelPath: string): Promise<StartedLocalStage> {
    let bytes: Buffer;
    try {
      bytes = await readFile(modelPath);
    } catch (error) {
      throw new HilError(`model ${modelPath}: cannot be read (${describe(error)})`, { cause: error });
    }
    let session: InferenceSession;
    try {
      session = await InferenceSession.create(modelPath, {
        executionProviders: ['cpu'],
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
    } catch (error) {
      throw new HilError(`model ${modelPath}: ONNX Runtime could not load it: ${describe(error)}`, {
        cause: error,
      });
    }
    let inputs: InputSpec[];
    try {
      inputs = await resolveInputs(modelPath, session, this.options.inputShapes ?? {});
    } catch (error) {
      await session.release();
      throw error;
    }
    // The input is built once, outside any timing, and every query sees the same one.
    const random = new SeededRandom(this.options.inputSeed ?? 1);
    const feeds = Object.fromEntries(
      inputs.map((input) => {
        const [low, high] = input.range;
        const data = new Float32Array(input.shape.reduce((product, dim) => product * dim, 1));
        for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * random.next();
        return [input.name, new Tensor('float32', data, input.shape)];
      }),
    );
    const model = {
      name: path.basename(modelPath),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      path: modelPath,
    };
    return new StartedLocalStage({
      session,
      feeds,
      inputs,
      model,
      threads: this.threads,
      options: this.options,
    });
  }
}

/** The local stage with its model loaded; made by `LocalStage.start`. */
export class StartedLocalStage implements StartedHilStage {
  readonly name = 'local';
  #session: InferenceSession | undefined;

  constructor(private readonly loaded: Loaded) {
    this.#session = loaded.session;
  }

  async benchmark(discipline: RunDiscipline): Promise<LocalHilResult> {
    const session = this.#session;
    const { model, feeds, inputs, threads, options } = this.loaded;
    if (!session) throw new HilError(`model ${model.path}: the local stage was stopped; start it again`);
    checkDiscipline(discipline);
    const maxDurationMs = options.maxDurationMs ?? Math.max(3 * discipline.minDurationMs, 60_000);
    const clocks = await readClocks();
    const nonFinite: Array<{ query: number; output: string }> = [];

    const failed = (error: unknown, when: string) =>
      new HilError(`model ${model.path}: inference failed ${when}: ${describe(error)}`, { cause: error });
    try {
      for (let i = 0; i < discipline.warmupQueries; i++) await session.run(feeds);
    } catch (error) {
      throw failed(error, 'during warm-up');
    }

    const perQueryMs: number[] = [];
    const device: DeviceSample[] = [];
    let loadMark = cpuTimes();
    let lastSampleMs = 0;
    const loopStart = process.hrtime.bigint();
    let elapsedMs: number;
    // At least one query, then on until both minimums are met or the cap is reached.
    do {
      const start = process.hrtime.bigint();
      let outputs: InferenceSession.OnnxValueMapType;
      try {
        outputs = await session.run(feeds);
      } catch (error) {
        throw failed(error, `at measured query ${perQueryMs.length}`);
      }
      const end = process.hrtime.bigint();
      const latencyMs = Number(end - start) / 1e6;
      perQueryMs.push(latencyMs);
      for (const [name, value] of Object.entries(outputs)) {
        if (!allFinite(value.data)) nonFinite.push({ query: perQueryMs.length - 1, output: name });
      }
      options.onQuery?.({ index: perQueryMs.length - 1, latencyMs });
      elapsedMs = Number(process.hrtime.bigint() - loopStart) / 1e6;
      if (elapsedMs - lastSampleMs >= LOAD_SAMPLE_INTERVAL_MS) {
        const now = cpuTimes();
        device.push(loadSample(loadMark, now));
        loadMark = now;
        lastSampleMs = elapsedMs;
      }
    } while (
      !(perQueryMs.length >= discipline.minQueries && elapsedMs >= discipline.minDurationMs) &&
      elapsedMs < maxDurationMs
    );
    const loopEnd = process.hrtime.bigint();
    if (elapsedMs - lastSampleMs >= 100 || device.length === 0) device.push(loadSample(loadMark, cpuTimes()));

    const durationMs = Number(loopEnd - loopStart) / 1e6;
    const queries = perQueryMs.length;
    const inferenceMs = perQueryMs.reduce((sum, ms) => sum + ms, 0);
    const overheadPerQueryMs = Math.max(0, durationMs - inferenceMs) / queries;
    const invalidReasons: string[] = [];
    if (queries < discipline.minQueries) {
      invalidReasons.push(
        `minQueries not met: ${queries} queries, expected >= ${discipline.minQueries} (stopped at the ${maxDurationMs} ms cap)`,
      );
    }
    if (durationMs < discipline.minDurationMs) {
      invalidReasons.push(
        `minDurationMs not met: measured ${round(durationMs)} ms, expected >= ${discipline.minDurationMs} ms (stopped at the ${maxDurationMs} ms cap)`,
      );
    }
    if (nonFinite.length > 0) {
      const first = nonFinite[0]!;
      invalidReasons.push(
        `non-finite output (NaN or Inf) in ${nonFinite.length} outputs of ${queries} queries, first in '${first.output}' at query ${first.query}`,
      );
    }
    const latencyMs = latencyStats(perQueryMs);
    // Throughput over the loop's wall time, harness overhead included, as trtexec divides by its
    // total host walltime: the rate a caller actually gets, not 1 / mean latency.
    const throughputQps = queries / (durationMs / 1000);
    const environment: Record<string, string> = {
      cpu_model: os.cpus()[0]?.model.trim() ?? 'unknown',
      logical_cores: String(os.cpus().length),
      intra_op_threads: String(threads),
      inter_op_threads: '1',
      graph_optimization: 'all',
      execution_provider: 'cpu',
      onnxruntime_node: ortEnv.versions.node ?? 'unknown',
      node: process.version,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      input_seed: String(options.inputSeed ?? 1),
      inputs: inputs.map((input) => `${input.name}[${input.shape.join(',')}]`).join(' '),
      throughput_basis: 'queries / measured loop wall time',
      overhead_per_query_ms: String(round(overheadPerQueryMs, 6)),
    };
    const valid = invalidReasons.length === 0;
    const log = {
      stage: this.name,
      model: model.name,
      sha256: model.sha256,
      discipline,
      maxDurationMs,
      queries,
      durationMs: round(durationMs),
      inferenceMs: round(inferenceMs),
      overheadPerQueryMs: round(overheadPerQueryMs, 6),
      latencyMs,
      throughputQps: round(throughputQps),
      valid,
      invalidReasons,
    };
    return {
      stage: this.name,
      model: { name: model.name, sha256: model.sha256 },
      valid,
      invalidReasons,
      discipline: { ...discipline },
      queries,
      durationMs,
      latencyMs,
      throughputQps,
      perQueryMs,
      device,
      clocks,
      environment,
      logs: { 'local-stage.json': JSON.stringify(log) },
      overheadPerQueryMs,
    };
  }

  async stop(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    if (session) await session.release();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** The harness's share of a run: overhead per query over the median latency, in percent. */
export function hilOverheadPct(result: Pick<LocalHilResult, 'overheadPerQueryMs' | 'latencyMs'>): number {
  return (result.overheadPerQueryMs / result.latencyMs.p50) * 100;
}

/** The inputs to feed: from `<model>.json` beside the model when present, else from the model. */
async function resolveInputs(
  modelPath: string,
  session: InferenceSession,
  shapes: Record<string, number[]>,
): Promise<InputSpec[]> {
  const specPath = path.join(
    path.dirname(modelPath),
    `${path.basename(modelPath, path.extname(modelPath))}.json`,
  );
  let specText: string | undefined;
  try {
    specText = await readFile(specPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new HilError(`model spec ${specPath}: cannot be read (${describe(error)})`, { cause: error });
    }
  }
  const inputs =
    specText === undefined ? inputsFromModel(modelPath, session, shapes) : inputsFromSpec(specPath, specText);
  const given = new Set(inputs.map((input) => input.name));
  const missing = session.inputNames.filter((name) => !given.has(name));
  const unknown = inputs
    .filter((input) => !session.inputNames.includes(input.name))
    .map((input) => input.name);
  if (missing.length > 0 || unknown.length > 0) {
    throw new HilError(
      `model ${modelPath}: inputs [${session.inputNames.join(', ')}] do not match the spec` +
        (missing.length ? `; missing ${missing.join(', ')}` : '') +
        (unknown.length ? `; not in the model ${unknown.join(', ')}` : ''),
    );
  }
  return inputs;
}

function inputsFromSpec(specPath: string, text: string): InputSpec[] {
  let spec: SpecFile;
  try {
    spec = JSON.parse(text) as SpecFile;
  } catch (error) {
    throw new HilError(`model spec ${specPath}: not JSON (${describe(error)})`, { cause: error });
  }
  if (!Array.isArray(spec.inputs) || spec.inputs.length === 0) {
    throw new HilError(`model spec ${specPath}: inputs must be a non-empty array`);
  }
  return spec.inputs.map((input, index) => {
    const at = `model spec ${specPath}: inputs[${index}]`;
    if (typeof input.name !== 'string' || input.name === '')
      throw new HilError(`${at}.name must be a string`);
    if (input.type !== undefined && input.type !== 'float32') {
      throw new HilError(
        `${at}.type must be float32 (the only type this stage feeds), got ${JSON.stringify(input.type)}`,
      );
    }
    if (!isShape(input.shape)) throw new HilError(`${at}.shape must be an array of positive integers`);
    let range = DEFAULT_RANGE;
    if (input.range !== undefined) {
      const r = input.range;
      if (
        !Array.isArray(r) ||
        r.length !== 2 ||
        !r.every(Number.isFinite) ||
        !((r[0] as number) <= (r[1] as number))
      ) {
        throw new HilError(`${at}.range must be [low, high] with low <= high`);
      }
      range = [r[0] as number, r[1] as number];
    }
    return { name: input.name, shape: input.shape, range };
  });
}

function inputsFromModel(
  modelPath: string,
  session: InferenceSession,
  shapes: Record<string, number[]>,
): InputSpec[] {
  return session.inputMetadata.map((meta) => {
    if (!meta.isTensor || meta.type !== 'float32') {
      throw new HilError(
        `model ${modelPath}: input '${meta.name}' is ${meta.isTensor ? meta.type : 'not a tensor'}; this stage feeds float32 tensors only`,
      );
    }
    const given = shapes[meta.name];
    if (given !== undefined) {
      if (!isShape(given))
        throw new HilError(`inputShapes.${meta.name} must be an array of positive integers`);
      return { name: meta.name, shape: given, range: DEFAULT_RANGE };
    }
    if (!isShape(meta.shape)) {
      throw new HilError(
        `model ${modelPath}: input '${meta.name}' has shape [${meta.shape.join(', ')}] with symbolic dimensions; ` +
          `give inputShapes.${meta.name} or a spec beside the model`,
      );
    }
    return { name: meta.name, shape: [...meta.shape], range: DEFAULT_RANGE };
  });
}

function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((dim) => Number.isInteger(dim) && (dim as number) > 0);
}

function checkDiscipline(discipline: RunDiscipline): void {
  const fields: Array<[keyof RunDiscipline, number]> = [
    ['warmupQueries', 0],
    ['minQueries', 1],
    ['minDurationMs', 0],
  ];
  for (const [field, least] of fields) {
    const value = discipline[field];
    if (!Number.isInteger(value) || value < least) {
      throw new HilError(`discipline.${field} must be an integer >= ${least}, got ${value}`);
    }
  }
}

function allFinite(data: Tensor['data']): boolean {
  if (!(data instanceof Float32Array || data instanceof Float64Array)) return true;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return false;
  return true;
}

/** The governor and frequency of cpu0 as Linux's cpufreq reports them, when it does. */
async function readClocks(): Promise<ClockState> {
  const details: Record<string, string> = {};
  const read = async (file: string) => {
    try {
      return (await readFile(`/sys/devices/system/cpu/cpu0/cpufreq/${file}`, 'utf8')).trim();
    } catch {
      return undefined;
    }
  };
  const khz = (value: string | undefined) =>
    value === undefined ? 'not available' : `${Number(value) / 1000} MHz`;
  if (process.platform === 'linux') {
    details.governor = (await read('scaling_governor')) ?? 'not available';
    details.cpu0_cur_freq = khz(await read('scaling_cur_freq'));
    details.cpu0_max_freq = khz(await read('scaling_max_freq'));
  } else {
    details.governor = 'not available';
    details.cpu0_cur_freq = 'not available';
  }
  // Node reports 0 MHz where the kernel exposes no frequency (many VMs).
  const speed = os.cpus()[0]?.speed;
  details.cpu0_reported_mhz = speed ? String(speed) : 'not available';
  return { details };
}

type CpuTimes = Array<{ busy: number; total: number; mhz: number }>;

function cpuTimes(): CpuTimes {
  return os.cpus().map(({ times, speed }) => {
    const total = times.user + times.nice + times.sys + times.idle + times.irq;
    return { busy: total - times.idle, total, mhz: speed };
  });
}

/** The machine's per-core load between two readings of os.cpus() (all processes, not just ours). */
function loadSample(before: CpuTimes, after: CpuTimes): DeviceSample {
  return {
    t: Date.now(),
    cpus: after.map((core, i) => {
      const prior = before[i];
      const total = prior ? core.total - prior.total : 0;
      const busy = prior ? core.busy - prior.busy : 0;
      return { loadPct: total > 0 ? round((busy / total) * 100, 1) : 0, mhz: core.mhz || null };
    }),
    ram: {
      usedMb: Math.round((os.totalmem() - os.freemem()) / 2 ** 20),
      totalMb: Math.round(os.totalmem() / 2 ** 20),
    },
    temperaturesC: {},
    powerMw: {},
  };
}

function round(value: number, digits = 3): number {
  return Number(value.toFixed(digits));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
