/**
 * The hardware-in-the-loop stage's shared vocabulary: what a stage measures and reports, in one
 * shape for the local ONNX Runtime stage and the Jetson (trtexec over SSH) stage, so that one
 * budget and one gate judge both.
 */
import { FleetdrillError } from '../core/errors.ts';

/** Latency statistics of one run, in milliseconds. */
export interface LatencyStats {
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
}

/** The measurement discipline a run was held to (MLPerf SingleStream: one query after another). */
export interface RunDiscipline {
  /** Queries run before measuring, not counted. */
  warmupQueries: number;
  /** The least number of measured queries for a valid run. */
  minQueries: number;
  /** The least measured duration for a valid run, ms. */
  minDurationMs: number;
}

/** One device sample from tegrastats (or the local machine's equivalent). */
export interface DeviceSample {
  /** Wall time of the sample, ms since the epoch, when the line carries one. */
  t?: number;
  /** Per-core CPU load (%) and frequency (MHz); null for a core that is off. */
  cpus: Array<{ loadPct: number; mhz: number | null } | null>;
  /** GPU load (%) and frequency (MHz) (GR3D_FREQ); undefined when not reported. */
  gpu?: { loadPct: number; mhz: number | null };
  ram?: { usedMb: number; totalMb: number };
  /** Temperatures by sensor name (`cpu`, `gpu`, `soc0`, ...), °C; null when the sensor is off (-256C). */
  temperaturesC: Record<string, number | null>;
  /** Power rails by name: current and average mW (and peak when printed). */
  powerMw: Record<string, { current: number; average: number; peak?: number }>;
}

/** How the device's clocks stood during the run (nvpmodel mode, jetson_clocks), as far as known. */
export interface ClockState {
  /** nvpmodel's mode, e.g. `MAXN` or `15W`; undefined when not a Jetson. */
  powerMode?: string;
  /** Whether jetson_clocks had locked the clocks at their maximum. */
  clocksLocked?: boolean;
  /** Free-form facts (governor, frequencies) as read. */
  details: Record<string, string>;
}

/** What a stage's benchmark produced: the KPIs, the raw evidence, and whether it counts. */
export interface HilResult {
  /** `local` or `ssh://user@host`. */
  stage: string;
  /** Model file name and SHA-256. */
  model: { name: string; sha256: string };
  /** False when the run broke the discipline, failed, or its log was incomplete; `invalidReasons` say why. */
  valid: boolean;
  invalidReasons: string[];
  discipline: RunDiscipline;
  /** Measured queries. */
  queries: number;
  /** Measured wall duration, ms. */
  durationMs: number;
  latencyMs: LatencyStats;
  throughputQps: number;
  /** Every measured query's latency in ms, in order (for histograms and re-computation). */
  perQueryMs: number[];
  /** Device samples taken beside the run (tegrastats); empty for a stage that has none. */
  device: DeviceSample[];
  clocks: ClockState;
  /** Versions, CPU model, threads, precision and flags: what the number depends on. */
  environment: Record<string, string>;
  /** Raw logs by name (trtexec output, tegrastats lines, export times), for the report. */
  logs: Record<string, string>;
}

/**
 * A stage as configured: where the model will run. `start(model)` puts the model there and
 * returns the started stage that measures it, so a stage without a model cannot be benchmarked.
 */
export interface HilStage {
  readonly name: string;
  /**
   * Copies the model where it runs and builds (or reuses) what it runs from. A failed start
   * frees whatever it had taken (sessions, connections, partial files) before it rethrows.
   */
  start(modelPath: string): Promise<StartedHilStage>;
}

/** A stage with its model in place: benchmark as often as needed, one run at a time, then stop. */
export interface StartedHilStage extends AsyncDisposable {
  readonly name: string;
  /** Runs the measurement with device telemetry beside it. */
  benchmark(discipline: RunDiscipline): Promise<HilResult>;
  /** Frees what the stage holds (sessions, connections, remote run directories). Idempotent. */
  stop(): Promise<void>;
}

/** Something in the HIL stage went wrong; the message names what (model, host, key, log). */
export class HilError extends FleetdrillError {}
