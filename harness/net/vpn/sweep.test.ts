/**
 * Nothing outlives a run: a VPN's owner that exits or gets SIGINT removes everything itself
 * (onProcessExit), and one killed with SIGKILL leaves namespaces, veths, tun devices, wireguard-go
 * and door processes for sweepStaleVpn() of a later run. Real processes, real namespaces.
 */
import { expect, test } from '@playwright/test';
import { type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOwnerChild } from '../netns/owner.test-helpers.ts';
import { sweepStaleVpn, vpnOwnerPid, vpnPrivileges } from './index.ts';
import { vpnLeftovers } from './vpn.test-helpers.ts';

const privileges = vpnPrivileges();
test.skip(!privileges.ok, `the VPN needs ${privileges.ok ? '' : privileges.missing}`);
test.describe.configure({ mode: 'serial' });

const CHILD = fileURLToPath(new URL('./vpn.child.ts', import.meta.url));

interface Owner {
  child: ChildProcess;
  pid: number;
  exited: Promise<number | string>;
  runDir: string;
}

async function startOwner(mode: 'wait' | 'exit'): Promise<Owner> {
  const runDir = mkdtempSync(join(tmpdir(), 'vpn-child-'));
  const { child, exited, first } = await startOwnerChild<{ pid: number }>(
    CHILD,
    [mode, runDir],
    'the tunnel was up',
  );
  return { child, pid: first.pid, exited, runDir };
}

test('names carry the owner pid and fit 15-character interface names', () => {
  expect(vpnOwnerPid('fdv4194303x999h')).toBe(4194303);
  expect('fdv4194303x999h'.length).toBeLessThanOrEqual(15);
  expect(vpnOwnerPid('fdv12x3n')).toBe(12);
  expect(vpnOwnerPid('fdl12x3r')).toBeUndefined();
  expect(vpnOwnerPid('fdv12x3')).toBeUndefined();
});

test('SIGKILL leaves the VPN behind; sweepStaleVpn removes it, and only it', async () => {
  test.setTimeout(60_000);
  const [alive, killed] = await Promise.all([startOwner('wait'), startOwner('wait')]);
  try {
    const up = await vpnLeftovers(killed.pid);
    // hub, robot and NAT namespaces; hub and NAT root-side veths; 2 wireguard-go, 3 doors; 2 sockets.
    expect(up.filter((x) => x.startsWith('netns'))).toHaveLength(3);
    expect(up.filter((x) => x.startsWith('link'))).toHaveLength(2);
    expect(up.filter((x) => x.startsWith('process'))).toHaveLength(5);
    expect(up.filter((x) => x.startsWith('socket'))).toHaveLength(2);
    const aliveUp = (await vpnLeftovers(alive.pid)).length;
    killed.child.kill('SIGKILL');
    expect(await killed.exited).toBe('SIGKILL');
    // Proof the test can fail: nothing cleaned up after a SIGKILL.
    expect(await vpnLeftovers(killed.pid)).toEqual(up);
    const removed = await sweepStaleVpn();
    expect(removed.length).toBeGreaterThan(0);
    expect(await vpnLeftovers(killed.pid)).toEqual([]);
    expect(await vpnLeftovers(alive.pid), 'a live owner keeps its VPN').toHaveLength(aliveUp);
  } finally {
    alive.child.kill('SIGINT');
    await alive.exited;
    for (const owner of [alive, killed]) rmSync(owner.runDir, { recursive: true, force: true });
  }
  expect(await vpnLeftovers(alive.pid)).toEqual([]);
});

test('an owner that gets SIGINT, or simply exits, removes its VPN itself', async () => {
  test.setTimeout(60_000);
  const [interrupted, exited] = await Promise.all([startOwner('wait'), startOwner('exit')]);
  interrupted.child.kill('SIGINT');
  expect(await interrupted.exited).toBe(130);
  expect(await exited.exited).toBe(0);
  for (const owner of [interrupted, exited]) {
    expect(await vpnLeftovers(owner.pid)).toEqual([]);
    rmSync(owner.runDir, { recursive: true, force: true });
  }
});
