/** The stage's options: their types and defaults, their validation, and the discipline's trtexec flags. */
import { HilError, type RunDiscipline } from '../types.ts';

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

/** What an option left out stands for. */
export const DEFAULTS = {
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

/** The trtexec flags a discipline asks for; see stage.ts's doc comment. */
export function disciplineFlags(discipline: RunDiscipline, warmUpMs: number, tensorrt: string): string[] {
  const major = Number(tensorrt.split('.')[0]);
  return [
    `--warmUp=${discipline.warmupQueries > 0 ? warmUpMs : 0}`,
    `--iterations=${Math.max(1, discipline.minQueries)}`,
    `--duration=${Math.ceil(discipline.minDurationMs / 1000)}`,
    major >= 10 ? '--percentile=50,90,95,99' : '--percentile=99',
  ];
}

/** Refuses a discipline trtexec cannot be told (negative or fractional counts and durations). */
export function checkDiscipline(stage: string, discipline: RunDiscipline): void {
  for (const field of ['warmupQueries', 'minQueries', 'minDurationMs'] as const) {
    const value = discipline[field];
    if (!Number.isInteger(value) || value < 0) {
      throw new HilError(`${stage}: discipline.${field} must be a whole number >= 0, got ${value}`);
    }
  }
}

/** Checks the options once, up front, with messages naming the option; extraFlags defaults to none. */
export function validateOptions<T extends SshStageOptions & typeof DEFAULTS>(
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
