/**
 * Reads an edge agent's `/edge_agent/status` answer (fleetdrill_msgs/srv/AgentStatus, ROS field
 * names and values) into the account the drills and oracles work with. The answer is checked
 * field by field, as rosbridge_server would check it against the .srv: an agent that answers
 * another shape is wrong, and the error names the robot and the field.
 */
import { z } from 'zod';
import type { AgentStatus } from '../../../protocol/agent-status.ts';
import { FleetdrillError } from '../../core/errors.ts';

/** An agent answered `/edge_agent/status` with something AgentStatus.srv does not allow. */
export class AgentStatusFormatError extends FleetdrillError {}

// ROS unsigned integers; JSON carries them as numbers, and a fraction or a sign is a wrong answer.
const uint = z.number().int().min(0);
const float = z.number();
const tierCounts = z.strictObject({ metrics: uint, events: uint, blackbox: uint });
const seqRanges = z.array(
  z.strictObject({ first: uint, last: uint }).refine((range) => range.first <= range.last, {
    message: 'first > last',
  }),
);
const tierBuffer = z.strictObject({
  pending: uint,
  used_bytes: uint,
  budget_bytes: uint,
  used_pct: float,
  dropped: uint,
  oldest_age_s: float,
});

/** The response part of AgentStatus.srv, every field required as rosbridge_server fills them all. */
const agentStatusResponseSchema = z.strictObject({
  robot_id: z.string(),
  boot_id: z.string(),
  accounts: z.array(
    z.strictObject({
      boot_id: z.string(),
      started_at_ms: uint,
      last_seq: uint,
      produced: tierCounts,
      evicted: tierCounts,
      evicted_seqs: z.strictObject({ metrics: seqRanges, events: seqRanges, blackbox: seqRanges }),
    }),
  ),
  buffers: z.strictObject({ metrics: tierBuffer, events: tierBuffer, blackbox: tierBuffer }),
  bytes_sent: tierCounts,
  uploader: z.strictObject({
    consecutive_failures: uint,
    last_error: z.string(),
    has_succeeded: z.boolean(),
    last_success_at_ms: uint,
    rejected: tierCounts,
  }),
  capturing: uint,
  backlog: uint,
  drained: z.boolean(),
});

type Ranges = Array<{ first: number; last: number }>;
const pairs = (ranges: Ranges): Array<[number, number]> => ranges.map(({ first, last }) => [first, last]);

function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i ? '.' : ''}${String(part)}`))
    .join('');
}

/**
 * The agent's account from its `/edge_agent/status` answer.
 * @throws AgentStatusFormatError naming the robot and the first field that does not fit.
 */
export function parseAgentStatus(robotId: string, answer: unknown): AgentStatus {
  const parsed = agentStatusResponseSchema.safeParse(answer);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = fieldPath(issue.path);
    const what =
      issue.code === 'unrecognized_keys'
        ? `${issue.keys.map((key) => (where ? `${where}.${key}` : key)).join(', ')}: not a field of AgentStatus.srv`
        : `${where || '(answer)'}: ${issue.message}`;
    throw new AgentStatusFormatError(`robot ${robotId}: /edge_agent/status answer: ${what}`);
  }
  const s = parsed.data;
  return {
    robot_id: s.robot_id,
    boot_id: s.boot_id,
    accounts: s.accounts.map((account) => ({
      bootId: account.boot_id,
      startedAt: account.started_at_ms,
      lastSeq: account.last_seq,
      produced: { ...account.produced },
      evicted: { ...account.evicted },
      evictedSeqs: {
        metrics: pairs(account.evicted_seqs.metrics),
        events: pairs(account.evicted_seqs.events),
        blackbox: pairs(account.evicted_seqs.blackbox),
      },
    })),
    buffers: {
      metrics: counters(s.buffers.metrics),
      events: counters(s.buffers.events),
      blackbox: counters(s.buffers.blackbox),
    },
    bytes_sent: { ...s.bytes_sent },
    uploader: {
      consecutiveFailures: s.uploader.consecutive_failures,
      lastError: s.uploader.last_error === '' ? null : s.uploader.last_error,
      lastSuccessAt: s.uploader.has_succeeded ? s.uploader.last_success_at_ms : null,
      rejected: { ...s.uploader.rejected },
    },
    capturing: s.capturing,
    backlog: s.backlog,
    drained: s.drained,
  };
}

function counters(buffer: z.infer<typeof tierBuffer>): AgentStatus['buffers']['metrics'] {
  return {
    pending: buffer.pending,
    usedBytes: buffer.used_bytes,
    budgetBytes: buffer.budget_bytes,
    usedPct: buffer.used_pct,
    dropped: buffer.dropped,
    oldestAgeS: buffer.oldest_age_s,
  };
}
