import { AGENT_SERVICES } from '../../../reference/edge-agent/index.ts';
import { type AgentStatus } from '../../../protocol/agent-status.ts';
import { TimeoutError } from '../../core/errors.ts';
import type { RosClient } from '../../ros/client.ts';
import { AgentStatusFormatError, parseAgentStatus } from './agent-status.ts';

/**
 * A robot's edge agent as drills reach it: through the robot's rosbridge (so through its link),
 * where the agent serves its status and a manual blackbox trigger.
 */
export class EdgeAgentHandle {
  constructor(
    private readonly robotId: string,
    private readonly ros: RosClient,
  ) {}

  /**
   * The agent's own account: boots, produced and evicted records, buffers, bytes sent. The agent
   * answers in ROS 2 form (AgentStatus.srv); an answer that does not fit it throws
   * AgentStatusFormatError.
   */
  async status(timeoutMs = 5_000): Promise<AgentStatus> {
    const { name, type } = AGENT_SERVICES.status;
    return parseAgentStatus(this.robotId, await this.ros.callService<unknown>(name, type, {}, { timeoutMs }));
  }

  /** Fires a manual blackbox trigger; resolves with the agent's answer. */
  async triggerBlackbox(timeoutMs = 5_000): Promise<{ success: boolean; message: string }> {
    const { name, type } = AGENT_SERVICES.triggerBlackbox;
    return this.ros.callService(name, type, {}, { timeoutMs });
  }

  /** Waits until the agent answers at all (it starts a moment after its robot). */
  async waitUntilReady(timeoutMs = 15_000): Promise<AgentStatus> {
    return this.poll(timeoutMs, 'to answer', () => true);
  }

  /**
   * Waits until the agent has nothing left to send and no capture running: every record it
   * holds is acknowledged by the cloud.
   */
  async waitUntilDrained(timeoutMs = 60_000): Promise<AgentStatus> {
    return this.poll(timeoutMs, 'to drain its store to the cloud', (status) => status.drained);
  }

  private async poll(
    timeoutMs: number,
    what: string,
    done: (status: AgentStatus) => boolean,
  ): Promise<AgentStatus> {
    const deadline = performance.now() + timeoutMs;
    let last: AgentStatus | undefined;
    let lastError: unknown;
    while (performance.now() < deadline) {
      try {
        last = await this.status(Math.min(5_000, Math.max(500, deadline - performance.now())));
        if (done(last)) return last;
      } catch (error) {
        // A wrong answer stays wrong: only an agent that did not answer yet is worth waiting for.
        if (error instanceof AgentStatusFormatError) throw error;
        lastError = error;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const state = last
      ? `backlog ${last.backlog}, capturing ${last.capturing}, last upload error: ${last.uploader.lastError ?? 'none'}`
      : `no answer (${(lastError as Error | undefined)?.message ?? 'none'})`;
    throw new TimeoutError(
      `robot ${this.robotId}: edge agent did not get ${what} within ${timeoutMs} ms: ${state}`,
    );
  }
}
