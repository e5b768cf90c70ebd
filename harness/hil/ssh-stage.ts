/**
 * The Jetson stage: the model runs under TensorRT's trtexec on a device reached over SSH (key
 * authentication only), with tegrastats sampling the device beside the run.
 *
 * On the device, everything lives under `remoteDir`:
 * - `models/<sha256>.onnx`: the uploaded model (skipped when the same size and hash are there);
 * - `engines/<key>.plan`: the built engine, keyed by model hash, TensorRT version, precision and
 *   the sorted extra flags, so a second prepare with the same inputs reuses it;
 * - `runs/<id>/`: one benchmark's export times, tegrastats log and pid files, removed at teardown.
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
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import { basename, join } from 'node:path';
import createDebug from 'debug';
import ssh2 from 'ssh2';
import type { ClientChannel, SFTPWrapper } from 'ssh2';
import { runAll } from '../core/errors.ts';
import {
  parseExportTimes,
  parseTegrastats,
  parseTrtexecLog,
  requireValidTrtexec,
  type TrtexecReport,
} from './parsers/index.ts';
import { latencyStats } from './stats.ts';
import {
  HilError,
  type ClockState,
  type DeviceSample,
  type HilResult,
  type HilStage,
  type LatencyStats,
  type RunDiscipline,
} from './types.ts';

const { Client, utils } = ssh2;
const log = createDebug('fleetdrill:hil:ssh');

/** Where an `ssh://user@host[:port]` target points. */
export interface SshTarget {
  user: string;
  host: string;
  port: number;
}

/** The precision the engine is built for; fp32 is trtexec's default and takes no flag. */
export type Precision = 'fp16' | 'fp32' | 'int8';

/** How the Jetson stage reaches the device and runs trtexec there. */
export interface SshStageOptions {
  /** Private key file; default `~/.ssh/id_ed25519`, then `~/.ssh/id_rsa`. Key auth is the only method. */
  privateKey?: string;
  /**
   * The host key's fingerprint as `ssh-keygen -l` prints it (`SHA256:…`); any other key is refused.
   * Without this and `knownHosts`, any host key is accepted and its fingerprint is recorded in the
   * result's environment (`host_key_fingerprint`), so the evidence says which device answered.
   */
  hostFingerprint?: string;
  /** An OpenSSH known_hosts file the host key must be listed in (plain or hashed host names). */
  knownHosts?: string;
  /** trtexec on the device; default `/usr/src/tensorrt/bin/trtexec` (JetPack's location). */
  trtexecPath?: string;
  /** tegrastats on the device; default `tegrastats`. */
  tegrastatsPath?: string;
  /** tegrastats sampling interval, ms; default 500. */
  tegrastatsIntervalMs?: number;
  /** nvpmodel on the device; default `nvpmodel`, looked up with /usr/sbin and /sbin on the PATH. */
  nvpmodelPath?: string;
  /** jetson_clocks on the device; default `jetson_clocks`, looked up like nvpmodel. */
  jetsonClocksPath?: string;
  /** Engine precision; default fp16. int8 runs without a calibration cache (speed, not accuracy). */
  precision?: Precision;
  /** More trtexec flags (`--useCudaGraph`), passed to both the engine build and the run. */
  extraFlags?: string[];
  /** trtexec's warm-up time when the discipline asks for warm-up queries, ms; default 200. */
  warmUpMs?: number;
  /** The stage's directory on the device; default `~/.cache/fleetdrill-hil` (`~` is the remote home). */
  remoteDir?: string;
  /** Time allowed for TCP connect plus SSH handshake and authentication, ms; default 20 s. */
  connectTimeoutMs?: number;
  /**
   * Time allowed for one remote command, ms; default 15 min (an engine build can take minutes).
   * The benchmark run gets the discipline's `minDurationMs` on top.
   */
  commandTimeoutMs?: number;
}

const DEFAULTS = {
  trtexecPath: '/usr/src/tensorrt/bin/trtexec',
  tegrastatsPath: 'tegrastats',
  tegrastatsIntervalMs: 500,
  nvpmodelPath: 'nvpmodel',
  jetsonClocksPath: 'jetson_clocks',
  precision: 'fp16' as Precision,
  warmUpMs: 200,
  remoteDir: '~/.cache/fleetdrill-hil',
  connectTimeoutMs: 20_000,
  commandTimeoutMs: 15 * 60_000,
};

/** Flags the stage sets itself; in `extraFlags` they would contradict it or the engine cache. */
const OWN_FLAGS = [
  '--onnx',
  '--saveEngine',
  '--loadEngine',
  '--iterations',
  '--duration',
  '--warmUp',
  '--percentile',
  '--exportTimes',
  '--fp16',
  '--int8',
  '--best',
];

const TARGET =
  /^ssh:\/\/([A-Za-z0-9_][A-Za-z0-9._-]*)@(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?\/?$/;

/** Parses `ssh://user@host[:port]` strictly: no password, path, query or fragment. */
export function parseSshTarget(target: string): SshTarget {
  const match = TARGET.exec(target);
  if (!match) throw new HilError(`stage '${target}': expected ssh://user@host[:port]`);
  const [, user, host, port] = match as unknown as [string, string, string, string | undefined];
  const portNumber = port === undefined ? 22 : Number(port);
  if (!(portNumber >= 1 && portNumber <= 65535)) {
    throw new HilError(`stage '${target}': port ${port} is outside 1..65535`);
  }
  return { user, host: host.replace(/^\[(.*)\]$/, '$1'), port: portNumber };
}

/** What one remote command did. */
interface ExecResult {
  code: number | null;
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

/** What prepare settled, for benchmark to use. */
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
 * The Jetson stage. `new SshStage('ssh://nvidia@orin.local')`, then prepare → benchmark →
 * teardown; `await using` works too. One connection serves the stage from prepare to teardown.
 */
export class SshStage implements HilStage {
  readonly name: string;
  readonly target: SshTarget;
  readonly #options: Required<Omit<SshStageOptions, 'privateKey' | 'hostFingerprint' | 'knownHosts'>> &
    Pick<SshStageOptions, 'privateKey' | 'hostFingerprint' | 'knownHosts'>;
  #remote: Remote | undefined;
  #prepared: Prepared | undefined;
  readonly #runDirs: string[] = [];

  constructor(target: string, options: SshStageOptions = {}) {
    this.target = parseSshTarget(target);
    const { user, host, port } = this.target;
    const shownHost = host.includes(':') ? `[${host}]` : host;
    this.name = `ssh://${user}@${shownHost}${port === 22 ? '' : `:${port}`}`;
    this.#options = validateOptions(this.name, { ...DEFAULTS, ...options });
  }

  async prepare(modelPath: string): Promise<void> {
    if (!existsSync(modelPath)) throw new HilError(`model ${modelPath}: no such file`);
    const options = this.#options;
    const [sha256, { size }] = await Promise.all([sha256File(modelPath), stat(modelPath)]);
    const remote = (this.#remote ??= await Remote.connect(this.name, this.target, options));
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
      log('%s: uploading %s (%d bytes)', this.name, modelPath, size);
      await remote.put(modelPath, partial);
      await remote.run(`mv -f ${q(partial)} ${q(remoteModel)}`, 'move the uploaded model in place');
    }

    const tensorrt = await this.#tensorrtVersion(remote);
    const flags = [...options.extraFlags].sort();
    const flagsDigest = createHash('sha256').update(flags.join('\n')).digest('hex').slice(0, 12);
    const engineKey = `${sha256}-trt${tensorrt}-${options.precision}-${flagsDigest}`;
    const enginePath = `${dir}/engines/${engineKey}.plan`;
    const probe = await remote.exec(`test -s ${q(enginePath)}`, 'look for the engine');
    const engineCached = probe.code === 0;
    const buildLog = engineCached ? undefined : await this.#buildEngine(remote, remoteModel, enginePath);

    const model = await remote.exec(
      `cat /proc/device-tree/model 2>/dev/null | tr -d '\\000'`,
      'read the device model',
    );
    this.#prepared = {
      model: { name: basename(modelPath), sha256 },
      tensorrt,
      enginePath,
      engineKey,
      engineCached,
      buildLog,
      deviceModel: model.stdout.trim() || 'unknown (no /proc/device-tree/model)',
    };
  }

  async benchmark(discipline: RunDiscipline): Promise<HilResult> {
    const remote = this.#remote;
    const prepared = this.#prepared;
    if (!remote || !prepared) throw new HilError(`${this.name}: benchmark before prepare`);
    checkDiscipline(this.name, discipline);
    const options = this.#options;

    const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
    const runDir = `${remote.dir}/runs/${runId}`;
    this.#runDirs.push(runDir);
    await remote.run(`mkdir -p ${q(runDir)}`, 'create the run directory');
    const timesPath = `${runDir}/times.json`;
    const tegrastatsLog = `${runDir}/tegrastats.log`;

    const clocks = await this.#readClocks(remote);
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

  async teardown(): Promise<void> {
    const remote = this.#remote;
    this.#remote = undefined;
    this.#prepared = undefined;
    if (!remote) return;
    const runDirs = this.#runDirs.splice(0);
    await runAll([
      () => remote.stopAll(),
      () =>
        runDirs.length > 0 && remote.run(`rm -rf ${runDirs.map(q).join(' ')}`, 'remove the run directories'),
      () => remote.close(),
    ]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.teardown();
  }

  async #tensorrtVersion(remote: Remote): Promise<string> {
    const trtexec = this.#options.trtexecPath;
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
        `${this.name}: cannot tell the TensorRT version: '${trtexec} --help' exited ${help.code} without a ` +
          `"&&&& RUNNING TensorRT.trtexec [TensorRT v…]" line; it printed: ${printed}`,
      );
    }
    return version;
  }

  async #buildEngine(remote: Remote, remoteModel: string, enginePath: string): Promise<string> {
    const options = this.#options;
    // Built under a temporary name: an interrupted build must not pass for a cached engine.
    const partial = `${enginePath}.partial-${randomBytes(4).toString('hex')}`;
    const flags = [
      `--onnx=${remoteModel}`,
      `--saveEngine=${partial}`,
      ...(options.precision === 'fp32' ? [] : [`--${options.precision}`]),
      ...options.extraFlags,
    ];
    log('%s: building engine %s', this.name, enginePath);
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
      await remote.exec(`rm -f ${q(partial)}`, 'remove a failed build');
      const why =
        errors.length > 0 ? errors.join(' | ') : firstLines(output.split('\n').slice(-5).join('\n'), 5);
      throw new HilError(
        `${this.name}: engine build failed (exit ${build.code}, log ${outcome}` +
          `${saved ? '' : ', no engine written'}): ${why || '(no output)'}`,
      );
    }
    await remote.run(`mv -f ${q(partial)} ${q(enginePath)}`, 'move the built engine in place');
    return output;
  }

  async #readClocks(remote: Remote): Promise<{ state: ClockState; raw: string }> {
    const { nvpmodelPath, jetsonClocksPath } = this.#options;
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

/** The trtexec flags a discipline asks for; see the file's doc comment. */
function disciplineFlags(discipline: RunDiscipline, warmUpMs: number, tensorrt: string): string[] {
  const major = Number(tensorrt.split('.')[0]);
  return [
    `--warmUp=${discipline.warmupQueries > 0 ? warmUpMs : 0}`,
    `--iterations=${Math.max(1, discipline.minQueries)}`,
    `--duration=${Math.ceil(discipline.minDurationMs / 1000)}`,
    major >= 10 ? '--percentile=50,90,95,99' : '--percentile=99',
  ];
}

function checkDiscipline(stage: string, discipline: RunDiscipline): void {
  for (const field of ['warmupQueries', 'minQueries', 'minDurationMs'] as const) {
    const value = discipline[field];
    if (!Number.isInteger(value) || value < 0) {
      throw new HilError(`${stage}: discipline.${field} must be a whole number >= 0, got ${value}`);
    }
  }
}

function validateOptions<T extends SshStageOptions & typeof DEFAULTS>(
  stage: string,
  options: T,
): T & { extraFlags: string[] } {
  const fail = (message: string) => new HilError(`${stage}: options.${message}`);
  if (!['fp16', 'fp32', 'int8'].includes(options.precision)) {
    throw fail(`precision must be fp16, fp32 or int8, got '${String(options.precision)}'`);
  }
  if (options.hostFingerprint !== undefined && options.knownHosts !== undefined) {
    throw fail('hostFingerprint and knownHosts: give one, not both');
  }
  if (
    options.hostFingerprint !== undefined &&
    !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(options.hostFingerprint)
  ) {
    throw fail(
      `hostFingerprint must look like SHA256:<43 base64 characters>, got '${options.hostFingerprint}'`,
    );
  }
  for (const field of ['tegrastatsIntervalMs', 'connectTimeoutMs', 'commandTimeoutMs'] as const) {
    if (!Number.isInteger(options[field]) || options[field] <= 0) {
      throw fail(`${field} must be a whole number > 0, got ${options[field]}`);
    }
  }
  if (!Number.isInteger(options.warmUpMs) || options.warmUpMs < 0) {
    throw fail(`warmUpMs must be a whole number >= 0, got ${options.warmUpMs}`);
  }
  const extraFlags = options.extraFlags ?? [];
  for (const [index, flag] of extraFlags.entries()) {
    if (typeof flag !== 'string' || !flag.startsWith('--')) {
      throw fail(`extraFlags[${index}] must be a --flag, got ${JSON.stringify(flag)}`);
    }
    const name = flag.split('=')[0]!;
    if (OWN_FLAGS.includes(name)) {
      throw fail(`extraFlags[${index}]: ${name} is set by the stage (use precision and the discipline)`);
    }
  }
  return { ...options, extraFlags };
}

/** Clock state from `nvpmodel -q` and `jetson_clocks --show`; a failed command is said in details. */
function clockState(nvpmodel: ExecResult, jetsonClocks: ExecResult): ClockState {
  const state: ClockState = { details: {} };
  if (nvpmodel.code === 0) {
    const mode = /NV Power Mode:\s*(\S+)/.exec(nvpmodel.stdout);
    if (mode) state.powerMode = mode[1];
    else state.details.nvpmodel = `no "NV Power Mode" in output: ${firstLines(nvpmodel.stdout, 2)}`;
  } else {
    state.details.nvpmodel = `unavailable, ${failure(nvpmodel)}`;
  }
  if (jetsonClocks.code !== 0) {
    state.details.jetson_clocks = `unavailable, ${failure(jetsonClocks)}`;
    return state;
  }
  // jetson_clocks pins each online CPU, the GPU and the EMC at its maximum: MinFreq == MaxFreq.
  const clocks = [...jetsonClocks.stdout.matchAll(/^(cpu\d+|GPU|EMC)\b(.*)$/gm)];
  let locked: boolean | undefined;
  for (const [, unit, rest] of clocks as unknown as Array<[string, string, string]>) {
    if (/Online=0/.test(rest)) continue;
    const min = /MinFreq=(\d+)/.exec(rest)?.[1];
    const max = /MaxFreq=(\d+)/.exec(rest)?.[1];
    const current = /CurrentFreq=(\d+)/.exec(rest)?.[1];
    if (min === undefined || max === undefined) continue;
    locked = (locked ?? true) && min === max;
    if (unit === 'cpu0') {
      const governor = /Governor=(\S+)/.exec(rest)?.[1];
      if (governor) state.details.cpu_governor = governor;
    }
    if (unit === 'cpu0' || unit === 'GPU' || unit === 'EMC') {
      state.details[`${unit.toLowerCase()}_freq`] = `min ${min} max ${max} current ${current ?? '?'}`;
    }
  }
  if (locked === undefined) state.details.jetson_clocks = 'no CPU/GPU/EMC frequencies in --show output';
  else state.clocksLocked = locked;
  return state;
}

/** How a command failed: `exit 1: <what it said>`, `exit 127 (not found)`, `signal TERM`. */
function failure(result: ExecResult): string {
  const exit = result.code === null ? `signal ${result.signal}` : `exit ${result.code}`;
  const said = firstLines(result.stderr || result.stdout, 2);
  return `${exit}${result.code === 127 ? ' (not found)' : ''}${said ? `: ${said}` : ''}`;
}

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

/** A POSIX shell word. */
function q(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function command(program: string, args: readonly string[]): string {
  return [program, ...args].map(q).join(' ');
}

function firstLines(text: string, count: number): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(0, count)
    .join(' | ');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** OpenSSH's fingerprint of a host key blob: `SHA256:` and unpadded base64. */
function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Whether known_hosts lists `key` for the host. Reads plain patterns (with `*`, `?` and `!`
 * negation), `[host]:port` entries and hashed `|1|salt|hash` names; `@revoked` refuses the key,
 * `@cert-authority` lines are skipped (no certificates here).
 */
function knownHostsVerdict(
  text: string,
  host: string,
  port: number,
  key: Buffer,
): 'listed' | 'revoked' | 'absent' {
  const name = port === 22 ? host : `[${host}]:${port}`;
  const blob = key.toString('base64');
  let listed = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0]!.startsWith('@') ? fields.shift() : undefined;
    const [hosts, , keyData] = fields;
    if (hosts === undefined || keyData !== blob || marker === '@cert-authority') continue;
    if (!hostMatches(hosts, name)) continue;
    if (marker === '@revoked') return 'revoked';
    listed = true;
  }
  return listed ? 'listed' : 'absent';
}

function hostMatches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [, , salt, hash] = patterns.split('|');
    if (salt === undefined || hash === undefined) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of patterns.split(',')) {
    const negated = pattern.startsWith('!');
    const body = negated ? pattern.slice(1) : pattern;
    const source = body
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    const regex = new RegExp(`^${source}$`, 'i');
    if (regex.test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** A long-running remote command, stopped by the pid it wrote. */
interface Started {
  stop(): Promise<void>;
  /** How it ended when it ended before stop() was called (it should run until stopped). */
  readonly exitedEarly: ExecResult | undefined;
}

/**
 * One SSH connection to the device: commands, SFTP, and the pid files of whatever is still
 * running there, so that teardown can stop it.
 */
class Remote {
  readonly #running = new Set<string>();
  #closed = false;
  #dir = '';

  private constructor(
    readonly stage: string,
    readonly hostKey: { fingerprint: string; check: string },
    private readonly client: InstanceType<typeof Client>,
    private readonly sftp: SFTPWrapper,
    private readonly commandTimeoutMs: number,
  ) {
    client.on('close', () => {
      this.#closed = true;
    });
  }

  /** The stage's directory on the device, `~` resolved. */
  get dir(): string {
    return this.#dir;
  }

  static async connect(
    stage: string,
    target: SshTarget,
    options: Pick<SshStageOptions, 'privateKey' | 'hostFingerprint' | 'knownHosts'> & typeof DEFAULTS,
  ): Promise<Remote> {
    const keyPath = privateKeyPath(stage, options.privateKey);
    const keyText = await readFile(keyPath).catch((error: NodeJS.ErrnoException) => {
      throw new HilError(`${stage}: cannot read private key ${keyPath}: ${error.code ?? error.message}`);
    });
    const parsed = utils.parseKey(keyText);
    if (parsed instanceof Error) throw new HilError(`${stage}: private key ${keyPath}: ${parsed.message}`);
    const knownHosts =
      options.knownHosts === undefined
        ? undefined
        : await readFile(options.knownHosts, 'utf8').catch((error: NodeJS.ErrnoException) => {
            throw new HilError(
              `${stage}: cannot read known_hosts ${options.knownHosts}: ${error.code ?? error.message}`,
            );
          });

    const hostKey = { fingerprint: '', check: '' };
    let refused: string | undefined;
    const verify = (key: Buffer): boolean => {
      hostKey.fingerprint = fingerprintOf(key);
      if (options.hostFingerprint !== undefined) {
        const wanted = options.hostFingerprint.replace(/=+$/, '');
        if (hostKey.fingerprint !== wanted) {
          refused = `host key ${hostKey.fingerprint} is not the expected ${wanted}`;
        }
        hostKey.check = 'matched the given fingerprint';
      } else if (knownHosts !== undefined) {
        const verdict = knownHostsVerdict(knownHosts, target.host, target.port, key);
        if (verdict !== 'listed') {
          const how = verdict === 'revoked' ? 'revoked' : 'not listed';
          refused = `host key ${hostKey.fingerprint} is ${how} in ${options.knownHosts}`;
        }
        hostKey.check = `listed in ${options.knownHosts}`;
      } else {
        hostKey.check = 'not verified: accepted and recorded (give hostFingerprint or knownHosts to check)';
      }
      return refused === undefined;
    };

    const client = new Client();
    // An 'error' with no listener would crash the process. Errors after 'ready' close the
    // connection, and the command or transfer in flight fails with what it was doing.
    client.on('error', (error) => log('%s: %s', stage, error.message));
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', (error: Error & { level?: string; code?: string }) => {
        client.end();
        let message: string;
        if (refused) message = `${stage}: ${refused}`;
        else if (error.level === 'client-authentication') {
          message = `${stage}: authentication failed (key ${keyPath})`;
        } else if (error.level === 'client-timeout') {
          message = `cannot reach ${stage}: ETIMEDOUT (no SSH handshake within ${options.connectTimeoutMs} ms)`;
        } else message = `cannot reach ${stage}: ${error.code ?? error.message}`;
        reject(new HilError(message, { cause: error }));
      });
      client.connect({
        host: target.host,
        port: target.port,
        username: target.user,
        privateKey: keyText,
        readyTimeout: options.connectTimeoutMs,
        hostVerifier: verify,
        // Key authentication only: no agent, no password, no keyboard-interactive.
        authHandler: ['publickey'],
      });
    });
    log('%s: connected, host key %s', stage, hostKey.fingerprint);

    try {
      const sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
        client.sftp((error, sftp) =>
          error ? reject(new HilError(`${stage}: no SFTP: ${error.message}`)) : resolve(sftp),
        ),
      );
      const remote = new Remote(stage, hostKey, client, sftp, options.commandTimeoutMs);
      const home = (await remote.run(`printf '%s' "$HOME"`, 'read the remote home')).stdout;
      const dir = options.remoteDir.replace(/^~(?=\/|$)/, home).replace(/\/+$/, '');
      if (!dir.startsWith('/')) {
        throw new HilError(
          `${stage}: remoteDir '${options.remoteDir}' is not an absolute path on the device`,
        );
      }
      remote.#dir = dir;
      return remote;
    } catch (error) {
      client.end();
      throw error;
    }
  }

  /** Runs a POSIX sh script; resolves with its exit whatever it is. */
  exec(
    script: string,
    what: string,
    timeoutMs = this.commandTimeoutMs,
    pidFile?: string,
  ): Promise<ExecResult> {
    if (this.#closed) {
      return Promise.reject(new HilError(`${this.stage}: connection closed, cannot run ${what}`));
    }
    // With a pid file, the program runs as a child whose pid is written down (so it can be killed
    // by it) and the file goes away when the program ends, whichever way it ends.
    const body =
      pidFile === undefined
        ? script
        : `${script} & pid=$!; echo $pid > ${q(pidFile)}; wait $pid; code=$?; rm -f ${q(pidFile)}; exit $code`;
    if (pidFile !== undefined) this.#running.add(pidFile);
    return new Promise<ExecResult>((resolve, reject) => {
      this.client.exec(`/bin/sh -c ${q(body)}`, (error, channel) => {
        if (error) {
          if (pidFile !== undefined) this.#running.delete(pidFile);
          reject(new HilError(`${this.stage}: cannot run ${what}: ${error.message}`));
          return;
        }
        const timer = setTimeout(() => {
          channel.close();
          const stopped = pidFile === undefined ? Promise.resolve() : this.#kill(pidFile, what);
          void stopped.finally(() =>
            reject(new HilError(`${this.stage}: ${what} did not finish within ${timeoutMs} ms`)),
          );
        }, timeoutMs);
        collect(channel, (result) => {
          clearTimeout(timer);
          if (pidFile !== undefined) this.#running.delete(pidFile);
          resolve(result);
        });
      });
    });
  }

  /** Like exec, but a non-zero exit is a HilError naming what failed and what it said. */
  async run(script: string, what: string): Promise<ExecResult> {
    const result = await this.exec(script, what);
    if (result.code !== 0) {
      throw new HilError(`${this.stage}: cannot ${what} (${failure(result)})`);
    }
    return result;
  }

  /** Starts a program in the background on its own channel; stop() kills it by its pid file. */
  start(argv: readonly string[], pidFile: string, what: string): Started {
    let exited: ExecResult | undefined;
    let early: ExecResult | undefined;
    let stopping = false;
    const done = this.exec(command(argv[0]!, argv.slice(1)), what, 2 ** 31 - 1, pidFile).then(
      (result) => {
        exited = result;
        if (stopping) return;
        early = result;
        log('%s: %s ended before it was stopped: %o', this.stage, what, result);
      },
      (error: unknown) => {
        log('%s: %s: %s', this.stage, what, messageOf(error));
      },
    );
    return {
      stop: async () => {
        stopping = true;
        if (exited === undefined) await this.#kill(pidFile, what);
        // The channel closes once the process is gone; don't wait forever on a wedged one.
        await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
        this.#running.delete(pidFile);
      },
      get exitedEarly() {
        return early;
      },
    };
  }

  /** Kills what the pid file names, TERM then KILL. */
  async #kill(pidFile: string, what: string): Promise<void> {
    if (this.#closed) return;
    const script = [
      `f=${q(pidFile)}; i=0`,
      // The shell writes the pid first thing, but stop may come before it ran at all.
      'while [ ! -s "$f" ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done',
      '[ -s "$f" ] || exit 0',
      'pid=$(cat "$f")',
      'kill -TERM "$pid" 2>/dev/null || { rm -f "$f"; exit 0; }',
      'i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done',
      'kill -KILL "$pid" 2>/dev/null',
      'rm -f "$f"',
    ].join('\n');
    await this.exec(script, `stop ${what}`, 15_000).catch((error: unknown) => {
      log('%s: stop %s: %s', this.stage, what, messageOf(error));
    });
  }

  /** Stops whatever this connection started and is still running. */
  async stopAll(): Promise<void> {
    await runAll([...this.#running].map((pidFile) => () => this.#kill(pidFile, basename(pidFile, '.pid'))));
    this.#running.clear();
  }

  /** Whether `path` is there with the size and SHA-256 given (false when sha256sum is missing). */
  async hasFile(path: string, size: number, sha256: string): Promise<boolean> {
    const result = await this.exec(
      `[ -f ${q(path)} ] && wc -c < ${q(path)} && sha256sum ${q(path)}`,
      'check the uploaded model',
    );
    if (result.code !== 0) return false;
    const [remoteSize, remoteHash] = result.stdout.trim().split(/\s+/);
    return Number(remoteSize) === size && remoteHash === sha256;
  }

  put(localPath: string, remotePath: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.sftp.fastPut(localPath, remotePath, (error) =>
        error
          ? reject(
              new HilError(`${this.stage}: upload of ${localPath} to ${remotePath} failed: ${error.message}`),
            )
          : resolve(),
      ),
    );
  }

  /** A remote file's text, or undefined when it is not there. */
  read(remotePath: string): Promise<string | undefined> {
    return new Promise((resolve, reject) =>
      this.sftp.readFile(remotePath, (error, data) => {
        if (!error) resolve(data.toString('utf8'));
        else if ((error as Error & { code?: unknown }).code === 2) resolve(undefined);
        else reject(new HilError(`${this.stage}: cannot fetch ${remotePath}: ${error.message}`));
      }),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await new Promise<void>((resolve) => {
      this.client.once('close', () => resolve());
      this.sftp.end();
      this.client.end();
      setTimeout(resolve, 2000).unref();
    });
  }
}

function collect(channel: ClientChannel, done: (result: ExecResult) => void): void {
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let code: number | null = null;
  let signal: string | undefined;
  channel.on('data', (chunk: Buffer) => stdout.push(chunk));
  channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  channel.on('exit', (exitCode: number | null, exitSignal?: string) => {
    code = exitCode;
    signal = exitSignal;
  });
  channel.on('close', () =>
    done({
      code,
      signal,
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8'),
    }),
  );
}

function privateKeyPath(stage: string, given: string | undefined): string {
  if (given !== undefined) return given;
  const candidates = ['id_ed25519', 'id_rsa'].map((name) => join(os.homedir(), '.ssh', name));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new HilError(`${stage}: no private key (tried ${candidates.join(', ')}; set privateKey)`);
  return found;
}
