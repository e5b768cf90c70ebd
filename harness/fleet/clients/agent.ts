import { AGENT_SERVICES } from '../../../reference/edge-agent/index.ts';
import { type AgentStatus } from '../../../protocol/agent-status.ts';
import { TimeoutError } from '../../core/errors.ts';
import type { RosClient } from '../../ros/client.ts';
import type { StartedRobotHost } from '../backend.ts';
import { withLogTail } from '../host/index.ts';
import { BOUNDED_BY_PROGRESS_MS, waitWhileProgressing } from '../readiness.ts';
import { AgentStatusFormatError, parseAgentStatus } from './agent-status.ts';

/** Where an agent's progress and console are read: its robot's host. */
export type AgentHost = Pick<StartedRobotHost, 'progressProbes' | 'logTail'>;

/**
 * A robot's edge agent as drills reach it: through the robot's rosbridge (so through its link),
 * where the agent serves its status and a manual blackbox trigger.
 */
export class EdgeAgentHandle {
  constructor(
    private readonly robotId: string,
    private readonly ros: RosClient,
    private readonly host: AgentHost,
  ) {}

  /**
   * The agent's own account: boots, produced and evicted records, buffers, bytes sent. The agent
   * answers in ROS 2 form (AgentStatus.srv); an answer that does not fit it throws
   * AgentStatusFormatError.
   */
  async status(timeoutMs = 5_000): Promise<AgentStatus> {
    return this.ask(timeoutMs);
  }

  /** Fires a manual blackbox trigger; resolves with the agent's answer. */
  async triggerBlackbox(timeoutMs = 5_000): Promise<{ success: boolean; message: string }> {
    const { name, type } = AGENT_SERVICES.triggerBlackbox;
    return this.ros.callService(name, type, {}, { timeoutMs });
  }

  /**
   * Waits until the agent answers at all (it starts a moment after its robot). `idleMs` is an idle
   * window, as a boot's: the wait fails, naming the robot with its log tail, once the agent's
   * console and CPU time show no progress for that long; an agent that progresses may take longer,
   * up to a total that grows with `together` (agents waited for at once) and the machine's load.
   */
  async waitUntilReady(idleMs = 15_000, options: { together?: number } = {}): Promise<AgentStatus> {
    return waitWhileProgressing(
      {
        limits: { idleMs, fleetSize: options.together, since: 'the wait began' },
        probes: this.host.progressProbes('agent'),
      },
      (signal) => this.poll(BOUNDED_BY_PROGRESS_MS, 'to answer', () => true, signal),
    );
  }

  /**
   * Waits until the agent has nothing left to send and no capture running: every record it
   * holds is acknowledged by the cloud.
   */
  async waitUntilDrained(timeoutMs = 60_000): Promise<AgentStatus> {
    return this.poll(timeoutMs, 'to drain its store to the cloud', (status) => status.drained);
  }

  private async ask(timeoutMs: number, signal?: AbortSignal): Promise<AgentStatus> {
    const { name, type } = AGENT_SERVICES.status;
    const answer = await this.ros.callService<unknown>(name, type, {}, { timeoutMs, signal });
    return parseAgentStatus(this.robotId, answer);
  }

  /**
   * Asks until `done`; fails after `timeoutMs`, or when `signal` aborts (the progress deadline of
   * waitUntilReady), naming the robot and what the agent last said.
   */
  private async poll(
    timeoutMs: number,
    what: string,
    done: (status: AgentStatus) => boolean,
    signal?: AbortSignal,
  ): Promise<AgentStatus> {
    const deadline = performance.now() + timeoutMs;
    let last: AgentStatus | undefined;
    let lastError: unknown;
    while (performance.now() < deadline && !signal?.aborted) {
      try {
        last = await this.ask(Math.min(5_000, Math.max(500, deadline - performance.now())), signal);
        if (done(last)) return last;
      } catch (error) {
        // A wrong answer stays wrong: only an agent that did not answer yet is worth waiting for.
        if (error instanceof AgentStatusFormatError) throw error;
        if (error !== signal?.reason) lastError = error;
      }
      if (signal?.aborted) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const state = last
      ? `backlog ${last.backlog}, capturing ${last.capturing}, last upload error: ${last.uploader.lastError ?? 'none'}`
      : `no answer (${(lastError as Error | undefined)?.message ?? 'none'})`;
    if (signal?.aborted) {
      const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
      const message = `robot ${this.robotId}: edge agent did not get ${what}: ${reason}; ${state}`;
      throw new TimeoutError(withLogTail(message, this.robotId, this.host.logTail(15)));
    }
    throw new TimeoutError(
      `robot ${this.robotId}: edge agent did not get ${what} within ${timeoutMs} ms: ${state}`,
    );
  }
}
