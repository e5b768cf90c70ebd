/*
 * An embedded robot's edge agent is followed by its own CPU time: the supply finds it as the robot
 * host's child running the agent entry. A real host and agent (small scripts that keep the robot
 * host's contract: flags, ready line, the agent as a child) show it: an agent busy loading for
 * two idle windows, printing nothing, is not declared dead at its window, and once it goes idle it
 * is named with the robot's log tail within about the window.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { TimeoutError } from '../../core/errors.ts';
import { RosClient } from '../../ros/client.ts';
import type { RobotSpec } from '../backend.ts';
import { EdgeAgentHandle } from '../clients/agent.ts';
import { RobotHost, robotFiles } from '../host/index.ts';
import { processSupply } from './process-supply.ts';

const IDLE_MS = 300;
const BUSY_MS = 2 * IDLE_MS;

/** A robot host that starts the agent it is given as its child, as the reference host does. */
const HOST = `
  const { spawn } = require('node:child_process');
  const flag = (name) => process.argv.find((arg) => arg.startsWith('--' + name + '='))?.split('=').slice(1).join('=');
  console.log('up: rosbridge nowhere, starting the edge agent');
  spawn(process.execPath, [flag('agent-entry'), '--config', flag('agent')], { stdio: 'inherit' });
  require('node:fs').writeSync(3, JSON.stringify({ event: 'ready', rosbridgePort: 1 }) + '\\n');
  setInterval(() => {}, 1000);
`;

/** An agent that loads for BUSY_MS (CPU only, not a line of output), then hangs idle. */
const AGENT = `
  const until = Date.now() + ${BUSY_MS};
  while (Date.now() < until) {}
  setInterval(() => {}, 1000);
`;

test('an agent busy past its idle window is waited for, and named with the log tail once it hangs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetdrill-agent-progress-'));
  writeFileSync(join(dir, 'host.cjs'), HOST);
  writeFileSync(join(dir, 'agent.cjs'), AGENT);
  const spec: RobotSpec = {
    id: 'r07',
    index: 0,
    seed: 1,
    rtf: 1,
    worldPath: join(dir, 'world.json'),
    agent: { cloudUrl: 'http://127.0.0.1:1', settings: {} },
    software: {
      factoryArtifact: join(dir, 'factory'),
      bootlimit: 3,
      bootDeadlineMs: 5_000,
      otaClient: 'fleetdrill',
    },
  };
  const files = robotFiles(join(dir, 'r07'));
  const supply = processSupply(spec, files, {
    entry: join(dir, 'host.cjs'),
    agentEntry: join(dir, 'agent.cjs'),
    host: '127.0.0.1',
    bootTimeoutMs: 5_000,
  });
  const host = await RobotHost.start(spec, files, supply);
  // Nothing answers rosbridge here: only the agent's progress decides how long the wait goes on.
  const ros = RosClient.open('ws://127.0.0.1:1', { name: 'r07', reconnect: false });
  try {
    const startedAt = performance.now();
    const error = await new EdgeAgentHandle('r07', ros, host)
      // 26 robots together double the total bound to 6 windows, so that the busy time and the idle
      // window after it both fit: with one robot its 3 windows would end the wait while busy.
      .waitUntilReady(IDLE_MS, { together: 26 })
      .catch((failure: unknown) => failure);
    const elapsed = performance.now() - startedAt;
    expect(error).toBeInstanceOf(TimeoutError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^robot r07: edge agent did not get to answer: not ready: no progress .* \(idle window 300 ms/,
    );
    expect(message).toContain('--- last log lines of r07 ---');
    expect(message).toContain('up: rosbridge nowhere, starting the edge agent');
    // Busy for two windows: a plain timeout of one would have given up at 300 ms.
    expect(elapsed).toBeGreaterThan(BUSY_MS - 100);
    expect(elapsed).toBeLessThan(BUSY_MS + IDLE_MS + 1_500);
  } finally {
    ros.close();
    await host.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
