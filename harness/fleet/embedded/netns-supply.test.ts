/*
 * A VPN robot's host runs in its network namespace: `ip netns exec` execs Node in place, so the
 * supply's pid is the robot host's own, inside the namespace, rosbridge binds the namespace's
 * 127.0.0.1 at the fixed port, the endpoints are the root-namespace address that reaches it, and
 * a power cut kills exactly that process. A namespace of this test stands in for the tunnel's.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import type { RobotSpec } from '../backend.ts';
import { RobotHost, robotFiles } from '../host/index.ts';
import { processSupply } from './process-supply.ts';
import type { ServiceProcess } from './service-process.ts';

/** A robot host that binds where it is told and says so. */
const HOST = `
  const flag = (name) => process.argv.find((arg) => arg.startsWith('--' + name + '='))?.split('=').slice(1).join('=');
  require('node:net').createServer().listen(Number(flag('port')), flag('host'), () => {
    console.log('listening on ' + flag('host') + ':' + flag('port'));
    require('node:fs').writeSync(3, JSON.stringify({ event: 'ready', rosbridgePort: Number(flag('port')) }) + '\\n');
  });
`;

function canMakeNamespaces(): boolean {
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}

test('a robot host in a namespace: its own pid there, rosbridge on the namespace loopback, cut like any', async () => {
  test.skip(!canMakeNamespaces(), 'needs root and ip(8)');
  const netns = `fdsupply-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'fleetdrill-netns-supply-'));
  execFileSync('ip', ['netns', 'add', netns]);
  try {
    execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    writeFileSync(join(dir, 'host.cjs'), HOST);
    const spec: RobotSpec = {
      id: 'r03',
      index: 0,
      seed: 1,
      rtf: 1,
      worldPath: join(dir, 'world.json'),
      software: {
        factoryArtifact: join(dir, 'factory'),
        bootlimit: 3,
        bootDeadlineMs: 5_000,
        otaClient: 'fleetdrill',
      },
      netns: { name: netns, rosbridgePort: 9090, reach: '127.0.0.1:45999' },
    };
    const files = robotFiles(join(dir, 'r03'));
    const supply = processSupply(spec, files, {
      entry: join(dir, 'host.cjs'),
      host: '0.0.0.0',
      bootTimeoutMs: 10_000,
    });
    const host = await RobotHost.start(spec, files, supply);
    try {
      expect(host.endpoints).toEqual({ rosbridge: 'ws://127.0.0.1:45999', upstream: '127.0.0.1:45999' });
      const pid = (supply.runtime as ServiceProcess<unknown>).pid!;
      expect(statSync(`/proc/${pid}/ns/net`).ino, 'the robot host runs in the namespace').toBe(
        statSync(`/run/netns/${netns}`).ino,
      );
      expect(host.logTail(5).join('\n')).toContain('listening on 127.0.0.1:9090');
      const listening = execFileSync('ip', ['netns', 'exec', netns, 'ss', '-ltnH'], { encoding: 'utf8' });
      expect(listening).toContain('127.0.0.1:9090');
      await host.powerCut();
      expect(() => process.kill(pid, 0), 'the cut killed the robot host itself').toThrow();
      expect(execFileSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' }).trim()).toBe('');
    } finally {
      await host.stop();
    }
  } finally {
    execFileSync('ip', ['netns', 'del', netns]);
    rmSync(dir, { recursive: true, force: true });
  }
});
