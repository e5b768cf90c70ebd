import { expect, test } from '@playwright/test';
import type { RobotSpec } from '../backend.ts';
import { parseCloudReady } from './cloud-host.ts';
import { parseRobotReady, robotHostArgs, type RobotHostPlacement } from './robot-contract.ts';

const spec: RobotSpec = {
  id: 'r02',
  index: 1,
  seed: 42,
  worldPath: '/worlds/warehouse.yaml',
  rtf: 2,
  agent: { cloudUrl: 'http://proxy:20001', settings: {} },
  software: {
    factoryArtifact: '/a/factory.fdart',
    bootlimit: 1,
    bootDeadlineMs: 10_000,
    otaClient: 'mender',
  },
};

const placement: RobotHostPlacement = {
  world: '/in/world.yaml',
  factory: '/in/factory.fdart',
  disk: '/in/disk',
  stateDir: '/in/state',
  host: '0.0.0.0',
  port: 9090,
  agentEntry: '/app/edge-agent.mjs',
  realDisk: true,
};

test('the robot host gets the spec in its own terms: paths and address as the placement says', () => {
  const args = robotHostArgs(spec, placement);
  expect(args).toEqual([
    '--id=r02',
    '--world=/in/world.yaml',
    '--seed=42',
    '--rtf=2',
    '--spawn-index=1',
    '--disk=/in/disk',
    '--state-file=/in/state/physics.json',
    '--host=0.0.0.0',
    '--port=9090',
    '--factory=/in/factory.fdart',
    '--bootlimit=1',
    '--boot-deadline-ms=10000',
    '--ota-client=mender',
    '--reset=power-on',
    '--agent-entry=/app/edge-agent.mjs',
    '--agent={"cloudUrl":"http://proxy:20001"}',
  ]);
});

test('a supply without a real disk leaves the OTA client to the host; no agent entry, no agent', () => {
  const args = robotHostArgs(spec, { ...placement, realDisk: false, agentEntry: undefined });
  expect(args.some((arg) => arg.startsWith('--ota-client'))).toBe(false);
  expect(args.some((arg) => arg.startsWith('--agent'))).toBe(false);
});

test('ready lines: the right event with integer ports passes, anything else is refused', () => {
  expect(parseRobotReady({ event: 'ready', rosbridgePort: 4711 })).toEqual({
    event: 'ready',
    rosbridgePort: 4711,
  });
  expect(() => parseRobotReady({ event: 'ready', rosbridgePort: '4711' })).toThrow('bad ready line');
  expect(() => parseRobotReady({ event: 'toxiproxy', rosbridgePort: 4711 })).toThrow('bad ready line');
  expect(parseCloudReady({ event: 'ready', httpPort: 1, mqttPort: 2 }).mqttPort).toBe(2);
  expect(() => parseCloudReady({ event: 'ready', httpPort: 1 })).toThrow('bad ready line');
});
