/**
 * The Jetson stage: the model runs under TensorRT's trtexec on a device reached over SSH (key
 * authentication only), with tegrastats sampling the device beside the run.
 *
 * On the device, everything lives under `remoteDir`:
 * - `models/<sha256>.onnx`: the uploaded model (skipped when the same size and hash are there);
 * - `engines/<key>.plan`: the built engine, keyed by model hash, TensorRT version, precision and
 *   the sorted extra flags, so a second start with the same inputs reuses it;
 * - `runs/<id>/`: one benchmark's export times, tegrastats log and pid files, removed at stop.
 *
 * The TensorRT version comes from the `&&&& RUNNING TensorRT.trtexec [TensorRT v…]` line that
 * trtexec prints before it even reads its arguments: `trtexec --help` prints it and exits without
 * touching the GPU, on TensorRT 8 and 10 alike, and needs no package manager (a tarball install has
 * no `tensorrt` dpkg entry).
 *
 * RunDiscipline → trtexec flags (`--loadEngine=<plan> --exportTimes=<json>` always):
 * - `minQueries` → `--iterations=<minQueries>` (at least 1): trtexec runs at least that many;
 * - `minDurationMs` → `--duration=<ceil(minDurationMs / 1000)>`: at least that many seconds;
 *   trtexec stops when both minimums are met, and the result checks both again afterwards;
 * - `warmupQueries` → `--warmUp=<warmUpMs>` (default 200 ms, trtexec's own) when it is above 0,
 *   `--warmUp=0` otherwise: trtexec warms up for a time, not for a count of queries;
 * - percentiles: `--percentile=50,90,95,99` on TensorRT 10 and later, `--percentile=99` before
 *   (TensorRT 8 takes one). The result's latencies come from the export times either way.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import createDebug from 'debug';
import { runAll } from '../../core/errors.ts';
import {
  parseExportTimes,
  parseTegrastats,
  parseTrtexecLog,
  requireValidTrtexec,
  type TrtexecReport,
} from '../parsers/index.ts';
import { latencyStats } from '../stats.ts';
import {
  HilError,
  type ClockState,
  type DeviceSample,
  type HilResult,
  type HilStage,
  type LatencyStats,
  type RunDiscipline,
  type StartedHilStage,
} from '../types.ts';
import { clockState } from './clocks.ts';
import {
  checkDiscipline,
  DEFAULTS,
  disciplineFlags,
  validateOptions,
  type SshStageOptions,
} from './options.ts';
import { command, failure, firstLines, messageOf, q, Remote, type ExecResult } from './remote.ts';
import { parseSshTarget, type SshTarget } from './target.ts';

const log = createDebug('fleetdrill:hil:ssh');

/** The options with their defaults filled in. */
type ResolvedOptions = Required<Omit<SshStageOptions, 'privateKey' | 'hostFingerprint' | 'knownHosts'>> &
  Pick<SshStageOptions, 'privateKey' | 'hostFingerprint' | 'knownHosts'>;

/** What start settled, for benchmark to use. */
interface Prepared {
  model: { name: string; sha256: string };
  tensorrt: string;
  enginePath: string;
  engineKey: string;
  engineCached: boolean;
  buildLog: string | undefined;
  deviceModel: string;
}

/**
 * The Jetson stage as configured: `new SshStage('ssh://nvidia@orin.local')`, then `start(model)`
 * connects, uploads the model and builds (or reuses) its engine.
 */
export class SshStage implements HilStage {
  readonly name: string;
  readonly target: SshTarget;
  readonly #options: ResolvedOptions;

  constructor(target: string, options: SshStageOptions = {}) {
    this.target = parseSshTarget(target);
    const { user, host, port } = this.target;
    const shownHost = host.includes(':') ? `[${host}]` : host;
    this.name = `ssh://${user}@${shownHost}${port === 22 ? '' : `:${port}`}`;
    this.#options = validateOptions(this.name, { ...DEFAULTS, ...options });
  }

  async start(modelPath: string): Promise<StartedSshStage> {
    if (!existsSync(modelPath)) throw new HilError(`model ${modelPath}: no such file`);
    const options = this.#options;
    const [sha256, { size }] = await Promise.all([sha256File(modelPath), stat(modelPath)]);
    const remote = await Remote.connect(this.name, this.target, options);
    // Files written under a temporary name until they are whole; a failed start removes them.
    const partials: string[] = [];
    try {
      const dir = remote.dir;
      await remote.run(
        `mkdir -p ${q(`${dir}/models`)} ${q(`${dir}/engines`)} ${q(`${dir}/runs`)}`,
        'create the stage directory',
      );

      const remoteModel = `${dir}/models/${sha256}.onnx`;
      if (await remote.hasFile(remoteModel, size, sha256)) {
        log('%s: model %s already on the device', this.name, sha256);
      } else {
        const partial = `${remoteModel}.partial-${randomBytes(4).toString('hex')}`;
        partials.push(partial);
        log('%s: uploading %s (%d bytes)', this.name, modelPath, size);
        await remote.put(modelPath, partial);
        await remote.run(`mv -f ${q(partial)} ${q(remoteModel)}`, 'move the uploaded model in place');
      }

      const tensorrt = await tensorrtVersion(this.name, remote, options.trtexecPath);
      const flags = [...options.extraFlags].sort();
      const flagsDigest = createHash('sha256').update(flags.join('\n')).digest('hex').slice(0, 12);
      const engineKey = `${sha256}-trt${tensorrt}-${options.precision}-${flagsDigest}`;
      const enginePath = `${dir}/engines/${engineKey}.plan`;
      const probe = await remote.exec(`test -s ${q(enginePath)}`, 'look for the engine');
      const engineCached = probe.code === 0;
      const buildLog = engineCached
        ? undefined
        : await buildEngine(this.name, remote, options, remoteModel, enginePath, partials);

      const model = await remote.exec(
        `cat /proc/device-tree/model 2>/dev/null | tr -d '\\000'`,
        'read the device model',
      );
      return new StartedSshStage(this.name, remote, options, {
        model: { name: basename(modelPath), sha256 },
        tensorrt,
        enginePath,
        engineKey,
        engineCached,
        buildLog,
        deviceModel: model.stdout.trim() || 'unknown (no /proc/device-tree/model)',
      });
    } catch (error) {
      await runAll([
        () => remote.stopAll(),
        () =>
          partials.length > 0 && remote.exec(`rm -f ${partials.map(q).join(' ')}`, 'remove partial files'),
        () => remote.close(),
      ]).catch((cleanup: unknown) =>
        log('%s: cleanup after a failed start: %s', this.name, messageOf(cleanup)),
      );
      throw error;
    }
  }
}

/**
 * The Jetson stage with its engine on the device; made by `SshStage.start`. One connection
 * serves it from start to stop; `await using` works too.
 */
export class StartedSshStage implements StartedHilStage {
  readonly name: string;
  readonly #remote: Remote;
  readonly #options: ResolvedOptions;
  readonly #prepared: Prepared;
  readonly #runDirs: string[] = [];
  #stopped = false;

  constructor(name: string, remote: Remote, options: ResolvedOptions, prepared: Prepared) {
    this.name = name;
    this.#remote = remote;
    this.#options = options;
    this.#prepared = prepared;
  }

  async benchmark(discipline: RunDiscipline): Promise<HilResult> {
    if (this.#stopped) throw new HilError(`${this.name}: the stage was stopped; start it again`);
    const remote = this.#remote;
    const prepared = this.#prepared;
    checkDiscipline(this.name, discipline);
    const options = this.#options;

    const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
    const runDir = `${remote.dir}/runs/${runId}`;
    this.#runDirs.push(runDir);
    await remote.run(`mkdir -p ${q(runDir)}`, 'create the run directory');
    const timesPath = `${runDir}/times.json`;
    const tegrastatsLog = `${runDir}/tegrastats.log`;

    const clocks = await readClocks(remote, options);
    const runFlags = [
      `--loadEngine=${prepared.enginePath}`,
      ...disciplineFlags(discipline, options.warmUpMs, prepared.tensorrt),
      `--exportTimes=${timesPath}`,
      ...options.extraFlags,
    ];

    const tegrastats = remote.start(
      [
        options.tegrastatsPath,
        '--interval',
        String(options.tegrastatsIntervalMs),
        '--logfile',
        tegrastatsLog,
      ],
      `${runDir}/tegrastats.pid`,
      'tegrastats',
    );
    let run: ExecResult;
    try {
      run = await remote.exec(
        command(options.trtexecPath, runFlags),
        'trtexec',
        options.commandTimeoutMs + discipline.minDurationMs,
        `${runDir}/trtexec.pid`,
      );
    } finally {
      await tegrastats.stop();
    }
    const tegrastatsExit = tegrastats.exitedEarly;

    const [timesJson, tegrastatsText] = await Promise.all([
      remote.read(timesPath),
      remote.read(tegrastatsLog),
    ]);
    const output = run.stdout + run.stderr;
    const reasons: string[] = [];
    if (run.code !== 0) {
      reasons.push(`trtexec exited with ${run.signal ? `signal ${run.signal}` : `code ${run.code}`}`);
    }
    let report: TrtexecReport | undefined;
    try {
      report = parseTrtexecLog(output);
      requireValidTrtexec(report);
    } catch (error) {
      reasons.push(messageOf(error));
    }
    for (const line of report?.errors ?? []) {
      if (!reasons.some((reason) => reason.includes(line))) reasons.push(`trtexec [E] ${line}`);
    }

    let perQueryMs: number[] = [];
    if (timesJson === undefined) {
      reasons.push(`trtexec wrote no export times (${timesPath})`);
    } else {
      try {
        perQueryMs = parseExportTimes(timesJson).perQueryMs;
      } catch (error) {
        reasons.push(messageOf(error));
      }
    }
    const latencyMs = perQueryMs.length > 0 ? latencyStats(perQueryMs) : NO_LATENCY;
    if (perQueryMs.length < discipline.minQueries) {
      reasons.push(
        `${perQueryMs.length} queries measured, the discipline requires >= ${discipline.minQueries}`,
      );
    }
    const durationMs = walltimeMs(report);
    if (durationMs === undefined) {
      if (report) reasons.push('trtexec printed no Total Host Walltime');
    } else if (durationMs < discipline.minDurationMs) {
      reasons.push(
        `measured for ${Number(durationMs.toFixed(3))} ms, the discipline requires >= ${discipline.minDurationMs} ms`,
      );
    }
    const throughputQps = report?.throughputQps;

    const { samples, note } = readTegrastats(tegrastatsText, tegrastatsExit, options.tegrastatsIntervalMs);
    const logs: Record<string, string> = {
      trtexec: output,
      tegrastats: tegrastatsText ?? '',
      'export-times': timesJson ?? '',
      clocks: clocks.raw,
    };
    if (prepared.buildLog !== undefined) logs['trtexec-build'] = prepared.buildLog;

    return {
      stage: this.name,
      model: prepared.model,
      valid: reasons.length === 0,
      invalidReasons: reasons,
      discipline: { ...discipline },
      queries: perQueryMs.length,
      durationMs: durationMs ?? 0,
      latencyMs,
      throughputQps: throughputQps ?? Number.NaN,
      perQueryMs,
      device: samples,
      clocks: clocks.state,
      environment: {
        stage: this.name,
        tensorrt: prepared.tensorrt,
        precision: options.precision,
        trtexec: options.trtexecPath,
        trtexec_flags: runFlags.join(' '),
        extra_flags: options.extraFlags.join(' '),
        engine_key: prepared.engineKey,
        engine_cached: String(prepared.engineCached),
        host_key_fingerprint: remote.hostKey.fingerprint,
        host_key_check: remote.hostKey.check,
        device_model: prepared.deviceModel,
        tegrastats: note,
      },
      logs,
    };
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const remote = this.#remote;
    const runDirs = this.#runDirs.splice(0);
    await runAll([
      () => remote.stopAll(),
      () =>
        runDirs.length > 0 && remote.run(`rm -rf ${runDirs.map(q).join(' ')}`, 'remove the run directories'),
      () => remote.close(),
    ]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** The TensorRT version from the RUNNING line that `trtexec --help` prints. */
async function tensorrtVersion(stage: string, remote: Remote, trtexec: string): Promise<string> {
  const help = await remote.exec(command(trtexec, ['--help']), 'trtexec --help');
  const text = help.stdout + help.stderr;
  let version: string | undefined;
  try {
    version = parseTrtexecLog(text).tensorrtVersion;
  } catch {
    // Not a trtexec log at all: said below, with what it printed instead.
  }
  if (version === undefined) {
    const printed = firstLines(text, 3) || '(nothing)';
    throw new HilError(
      `${stage}: cannot tell the TensorRT version: '${trtexec} --help' exited ${help.code} without a ` +
        `"&&&& RUNNING TensorRT.trtexec [TensorRT v…]" line; it printed: ${printed}`,
    );
  }
  return version;
}

/** Builds the engine at `enginePath`; its temporary name goes on `partials` while it is built. */
async function buildEngine(
  stage: string,
  remote: Remote,
  options: ResolvedOptions,
  remoteModel: string,
  enginePath: string,
  partials: string[],
): Promise<string> {
  // Built under a temporary name: an interrupted build must not pass for a cached engine.
  const partial = `${enginePath}.partial-${randomBytes(4).toString('hex')}`;
  partials.push(partial);
  const flags = [
    `--onnx=${remoteModel}`,
    `--saveEngine=${partial}`,
    ...(options.precision === 'fp32' ? [] : [`--${options.precision}`]),
    ...options.extraFlags,
  ];
  log('%s: building engine %s', stage, enginePath);
  const build = await remote.exec(
    command(options.trtexecPath, flags),
    'trtexec engine build',
    options.commandTimeoutMs,
    `${enginePath}.pid`,
  );
  const output = build.stdout + build.stderr;
  let outcome = 'unreadable';
  let errors: string[] = [];
  try {
    const report = parseTrtexecLog(output);
    outcome = report.outcome;
    errors = report.errors;
  } catch {
    // Reported below as an unreadable log.
  }
  const saved = (await remote.exec(`test -s ${q(partial)}`, 'look for the built engine')).code === 0;
  if (build.code !== 0 || outcome !== 'passed' || !saved) {
    const why =
      errors.length > 0 ? errors.join(' | ') : firstLines(output.split('\n').slice(-5).join('\n'), 5);
    throw new HilError(
      `${stage}: engine build failed (exit ${build.code}, log ${outcome}` +
        `${saved ? '' : ', no engine written'}): ${why || '(no output)'}`,
    );
  }
  await remote.run(`mv -f ${q(partial)} ${q(enginePath)}`, 'move the built engine in place');
  return output;
}

/** nvpmodel's and jetson_clocks' view of the clocks, and what they printed. */
async function readClocks(
  remote: Remote,
  { nvpmodelPath, jetsonClocksPath }: ResolvedOptions,
): Promise<{ state: ClockState; raw: string }> {
  // nvpmodel lives in /usr/sbin, which a non-root SSH session's PATH leaves out.
  const path = 'PATH="$PATH:/usr/sbin:/sbin"; ';
  const [nvpmodel, jetsonClocks] = [
    await remote.exec(path + command(nvpmodelPath, ['-q']), 'nvpmodel -q'),
    await remote.exec(path + command(jetsonClocksPath, ['--show']), 'jetson_clocks --show'),
  ];
  const state = clockState(nvpmodel, jetsonClocks);
  const raw =
    `$ nvpmodel -q (exit ${nvpmodel.code})\n${nvpmodel.stdout}${nvpmodel.stderr}\n` +
    `$ jetson_clocks --show (exit ${jetsonClocks.code})\n${jetsonClocks.stdout}${jetsonClocks.stderr}`;
  return { state, raw };
}

const NO_LATENCY: LatencyStats = {
  min: Number.NaN,
  max: Number.NaN,
  mean: Number.NaN,
  p50: Number.NaN,
  p90: Number.NaN,
  p95: Number.NaN,
  p99: Number.NaN,
};

/** tegrastats lines into samples; the last line is dropped when it was cut mid-write by the kill. */
function readTegrastats(
  text: string | undefined,
  exitedEarly: ExecResult | undefined,
  intervalMs: number,
): { samples: DeviceSample[]; note: string } {
  const early = exitedEarly ? `, tegrastats ended by itself: ${failure(exitedEarly)}` : '';
  if (text === undefined) return { samples: [], note: `no log${early}` };
  const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
  try {
    const samples = parseTegrastats(complete);
    return { samples, note: `${samples.length} samples every ${intervalMs} ms${early}` };
  } catch (error) {
    return { samples: [], note: `unreadable log: ${messageOf(error)}${early}` };
  }
}

function walltimeMs(report: TrtexecReport | undefined): number | undefined {
  const total = report?.totals['Total Host Walltime'];
  if (!total) return undefined;
  if (total.unit === 's') return total.value * 1000;
  if (total.unit === 'ms') return total.value;
  return undefined;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
