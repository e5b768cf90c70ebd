import type { AgentStatus } from '../../../protocol/agent-status.ts';
import type { BlackboxInfo, RobotTelemetrySummary } from '../../../protocol/telemetry.ts';
import type { StoredRecord } from '../../fleet/index.ts';
import type { BlackboxContents } from '../mcap.ts';

/** A blackbox file as the cloud holds it, read back and checked. */
export interface BlackboxEvidence {
  info: BlackboxInfo;
  /** SHA-256 of the bytes the cloud serves. */
  servedSha256?: string;
  contents?: BlackboxContents;
  /** Why it could not be read back, when it could not. */
  error?: string;
}

/** Everything the oracles judge one robot by, gathered once after the drill. */
export interface TelemetryEvidence {
  robotId: string;
  /** The agent's own account, read after it drained. */
  agent: AgentStatus;
  /**
   * The agent's account read again after the cloud was: the agent keeps producing while the
   * evidence is gathered, so the cloud may hold records taken after `agent` was read, up to here.
   */
  agentAfter?: AgentStatus;
  summary: RobotTelemetrySummary;
  /** Every record the cloud holds for the robot, in arrival order. */
  records: StoredRecord[];
  blackboxes: BlackboxEvidence[];
  /**
   * When the robot's path to the cloud was disturbed (faults, dead zones, power cuts, cloud
   * restarts), wall-clock ms: latency ceilings do not hold there. Absent: nothing known.
   */
  disturbances?: Disturbance[];
  /**
   * How busy the machine was when the evidence was gathered: the 1-minute load average and the
   * cores. A latency ceiling missed while every core was taken says the machine was busy, not
   * that the product is slow. Absent: not known.
   */
  machine?: { loadAverage: number; cores: number };
}

/** A span of wall-clock time in which the robot's uploads could not flow normally. */
export interface Disturbance {
  from: number;
  to: number;
  what: string;
}

/** One oracle's judgement of one robot. */
export interface OracleVerdict {
  oracle: string;
  robotId: string;
  ok: boolean;
  /** What held or what broke, with the numbers: `r02: 3 seqs missing from boot b1: 41, 42, 57`. */
  message: string;
  measured: Record<string, number | string | boolean>;
}

/** A telemetry oracle: one property, judged from evidence alone, parameters as one object. */
export interface TelemetryOracle<Params = Record<string, never>> {
  readonly name: string;
  check(evidence: TelemetryEvidence, params: Params): OracleVerdict;
}

/** Lists at most `max` items, then how many more. */
export function listSome(items: readonly (number | string)[], max = 8): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

export function verdict(
  oracle: string,
  evidence: TelemetryEvidence,
  problems: readonly string[],
  okMessage: string,
  measured: OracleVerdict['measured'],
): OracleVerdict {
  return {
    oracle,
    robotId: evidence.robotId,
    ok: problems.length === 0,
    message: `${evidence.robotId}: ${problems.length ? problems.join('; ') : okMessage}`,
    measured,
  };
}
