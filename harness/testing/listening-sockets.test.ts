import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import type { StartedFleet } from '../fleet/index.ts';
import { referenceFleet } from './reference-fleet.ts';
import {
  decodeProcAddress,
  describeSockets,
  exposedSockets,
  listeningSockets,
  parseSocketTable,
  type ListeningSocket,
} from './listening-sockets.ts';

// Each fleet here boots in a few seconds; two robots, the cloud and the fault layer are what a
// drill's worker starts, so the check sees every kind of server a run has.
test.describe.configure({ mode: 'serial', timeout: 60_000 });

let fleet: StartedFleet | undefined;
test.afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

/** Sockets of this process tree that were not there before: the ones the test started. */
function openedSince(before: readonly ListeningSocket[]): ListeningSocket[] {
  const known = new Set(before.map((socket) => socket.inode));
  return listeningSockets().filter((socket) => !known.has(socket.inode));
}

function portOf(url: string): number {
  return Number(new URL(url.includes('://') ? url : `tcp://${url}`).port);
}

/** The ports a fleet's servers must have opened: if one is not listed, the listing is broken. */
function fleetPorts(started: StartedFleet): number[] {
  return [
    portOf(started.network.url),
    portOf(started.cloud.url),
    portOf(started.cloud.mqttUrl),
    ...started.roster.flatMap((robot) => [
      portOf(robot.rosbridgeUrl),
      portOf(robot.directRosbridgeUrl),
      portOf(started.network.link(robot.id, 'cloud').listen),
    ]),
  ];
}

test('a run of two robots with agents, the cloud and the fault layer listens on loopback only', async () => {
  const before = listeningSockets();
  fleet = await referenceFleet({ robots: 2, seed: 18, telemetry: true }).start();
  const opened = openedSince(before);
  const ports = new Set(opened.map((socket) => socket.port));
  for (const port of fleetPorts(fleet))
    expect(ports, `port ${port} not among\n${describeSockets(opened)}`).toContain(port);
  // Robot hosts and agents are child processes: the listing must reach past this one.
  expect(new Set(opened.map((socket) => socket.pid)).size).toBeGreaterThan(1);
  const exposed = exposedSockets(opened);
  expect(exposed, `listening beyond loopback:\n${describeSockets(exposed)}`).toEqual([]);
});

/** A child that listens on every interface over TCP and UDP, and on loopback, until killed. */
async function startWideListener(): Promise<ChildProcess> {
  const script = `
    const net = require('node:net'), dgram = require('node:dgram');
    let up = 0; const ready = () => { if (++up === 3) console.log('up'); };
    net.createServer().listen(0, '0.0.0.0', ready);
    net.createServer().listen(0, '127.0.0.1', ready);
    dgram.createSocket('udp4').bind(0, '0.0.0.0', ready);
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script, 'wide-listener'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`listener child exited with ${code}`)));
    child.stdout.on('data', (data: Buffer) => data.toString().includes('up') && resolve());
  });
  return child;
}

test('a child listening on 0.0.0.0 is named with its pid, command line and address', async () => {
  const before = listeningSockets();
  const child = await startWideListener();
  try {
    const exposed = exposedSockets(openedSince(before));
    expect(exposed.map((socket) => [socket.pid, socket.table, socket.address]).sort()).toEqual(
      [
        [child.pid, 'tcp', '0.0.0.0'],
        [child.pid, 'udp', '0.0.0.0'],
      ].sort(),
    );
    const report = describeSockets(exposed);
    expect(report).toContain(`pid ${child.pid} (`);
    expect(report).toContain('wide-listener');
    expect(report).toMatch(/listens on tcp 0\.0\.0\.0:\d+/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('with an explicit listen address the fleet binds there, and says so naming what listens where', async () => {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.join(' '));
  const before = listeningSockets();
  try {
    fleet = await referenceFleet({ robots: 1, seed: 18, telemetry: true, listenAddress: '0.0.0.0' }).start();
  } finally {
    console.warn = warn;
  }
  expect(warnings.join('\n')).toMatch(
    /^fleetdrill: warning: listening beyond loopback, as asked: the fleet's fault layer API and proxies, robots' rosbridge and the fleet cloud \(HTTP API, MQTT broker\) on 0\.0\.0\.0 \(every interface\)/m,
  );
  const exposedPorts = exposedSockets(openedSince(before)).map((socket) => socket.port);
  const robot = fleet.roster[0]!;
  for (const url of [
    fleet.network.url,
    fleet.cloud.url,
    fleet.cloud.mqttUrl,
    robot.rosbridgeUrl,
    robot.directRosbridgeUrl,
  ])
    expect(exposedPorts, url).toContain(portOf(url));
  // The robot host and the cloud were handed the address with their --host flag, and warn in
  // their own consoles.
  expect(readFileSync(robot.logPath, 'utf8')).toContain(
    `robot-host ${robot.id}: warning: listening beyond loopback, as asked: rosbridge on 0.0.0.0`,
  );
  expect(readFileSync(fleet.cloud.logPath, 'utf8')).toContain(
    'fleet-cloud: warning: listening beyond loopback, as asked: the HTTP API and the MQTT broker on 0.0.0.0',
  );
});

test('/proc/net rows decode as the kernel writes them', () => {
  expect(decodeProcAddress('0100007F')).toBe('127.0.0.1');
  expect(decodeProcAddress('00000000')).toBe('0.0.0.0');
  expect(decodeProcAddress('00000000000000000000000001000000')).toBe('0:0:0:0:0:0:0:1');
  expect(decodeProcAddress('00000000000000000000000000000000')).toBe('::');
  expect(decodeProcAddress('0000000000000000FFFF00000100007F')).toBe('::ffff:127.0.0.1');
  const header =
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
  const tcp = [
    header,
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 111 1 0 100 0 0 10 0',
    '   1: 0100007F:1F91 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 222 1 0 20 4 30 10 -1',
  ].join('\n');
  expect(parseSocketTable('tcp', tcp)).toEqual([{ address: '127.0.0.1', port: 8080, inode: 111 }]);
  const udp = [
    header,
    '  10: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 333 2 0 0',
    '  11: 0100007F:A001 0100007F:14E9 01 00000000:00000000 00:00000000 00000000  1000        0 444 2 0 0',
  ].join('\n');
  // The second is connected to one peer: it takes nobody else's datagrams.
  expect(parseSocketTable('udp', udp)).toEqual([{ address: '0.0.0.0', port: 5353, inode: 333 }]);
});
