/*
 * The wait for a robot's edge agent follows the agent's progress, not a fixed time: an agent that
 * answers late while its console or CPU time grows is waited for past its idle window, and one
 * that shows no progress is named with the robot's log tail within about the window. The agent's
 * status is served through a real rosbridge (a reference robot in this process); its progress is
 * faked, as the deadline itself is proven with real processes in readiness.test.ts.
 */
import { expect, test as base } from '@playwright/test';
import { Service } from 'roslib';
import { TIERS } from '../../../protocol/telemetry.ts';
import { toStatusResponse, type AgentStatus } from '../../../protocol/agent-status.ts';
import { AGENT_SERVICES } from '../../../reference/edge-agent/index.ts';
import { labFixtures, type LabFixtures } from '../../../reference/robot-sim/test-helpers.ts';
import { TimeoutError } from '../../core/errors.ts';
import { RosClient } from '../../ros/client.ts';
import type { ProgressProbe } from '../readiness.ts';
import { EdgeAgentHandle, type AgentHost } from './agent.ts';

const test = base.extend<LabFixtures>(labFixtures);

const IDLE_MS = 300;
const perTier = <T>(value: T) =>
  Object.fromEntries(TIERS.map((tier) => [tier, value])) as Record<(typeof TIERS)[number], T>;

const STATUS: AgentStatus = {
  robot_id: 'r07',
  boot_id: 'b1',
  accounts: [],
  buffers: perTier({ pending: 0, usedBytes: 0, budgetBytes: 1_000, usedPct: 0, dropped: 0, oldestAgeS: 0 }),
  bytes_sent: perTier(0),
  uploader: { consecutiveFailures: 0, lastError: null, lastSuccessAt: null, rejected: perTier(0) },
  capturing: 0,
  backlog: 0,
  drained: true,
};

/** The robot's host as the agent's wait reads it: a console with one line, and a log probe. */
function host(log: ProgressProbe): AgentHost {
  return { progressProbes: () => ({ log }), logTail: () => ['edge agent: loading the MCAP writer'] };
}

test('an agent that answers after two idle windows while it progresses is waited for', async ({ lab }) => {
  const sim = await lab.sim({ id: 'r07' });
  const ros = await RosClient.connect(sim.url, { name: 'r07' });
  let logSize = 0;
  const agent = new EdgeAgentHandle(
    'r07',
    ros,
    host(() => (logSize += 10)),
  );
  // The agent comes up late: its status service appears only after two windows.
  const serving = await lab.ros(sim.url);
  const late = setTimeout(() => {
    void new Service({
      ros: serving,
      name: AGENT_SERVICES.status.name,
      serviceType: AGENT_SERVICES.status.type,
    }).advertise((_request, response) => {
      Object.assign(response, toStatusResponse(STATUS));
      return true;
    });
  }, 2 * IDLE_MS);
  try {
    const startedAt = performance.now();
    // 26 robots settling together double the total bound to 6 windows: with one, its 3 windows
    // would race the late service on an idle machine.
    const status = await agent.waitUntilReady(IDLE_MS, { together: 26 });
    expect(status.boot_id).toBe('b1');
    expect(performance.now() - startedAt).toBeGreaterThan(2 * IDLE_MS);
  } finally {
    clearTimeout(late);
    ros.close();
  }
});

test('an agent that shows no progress is named with its log tail within about its idle window', async ({
  lab,
}) => {
  const sim = await lab.sim({ id: 'r07' });
  const ros = await RosClient.connect(sim.url, { name: 'r07' });
  const agent = new EdgeAgentHandle(
    'r07',
    ros,
    host(() => 120),
  );
  try {
    const startedAt = performance.now();
    const error = await agent.waitUntilReady(IDLE_MS).catch((failure: unknown) => failure);
    const elapsed = performance.now() - startedAt;
    expect(error).toBeInstanceOf(TimeoutError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^robot r07: edge agent did not get to answer: not ready: no progress .* \(idle window 300 ms, \d+ ms since the wait began\); no answer \(/,
    );
    expect(message).toContain('--- last log lines of r07 ---\nedge agent: loading the MCAP writer');
    expect(elapsed).toBeGreaterThanOrEqual(IDLE_MS - 10);
    expect(elapsed).toBeLessThan(IDLE_MS + 700);
  } finally {
    ros.close();
  }
});
