/**
 * Nothing outlives a run: a link's owner that exits or gets SIGINT removes its namespaces itself
 * (onProcessExit), and one killed with SIGKILL leaves them for sweepStaleNetns() of a later run.
 * Real processes, real namespaces.
 */
import { expect, test } from '@playwright/test';
import { type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startOwnerChild } from './owner.test-helpers.ts';
import { ownerPid, sweepStaleNetns } from './sweep.ts';
import { netnsPrivileges, sh } from './system.ts';

const privileges = netnsPrivileges();
test.skip(!privileges.ok, `netns link needs ${privileges.ok ? '' : privileges.missing}`);
test.describe.configure({ mode: 'serial' });

const CHILD = fileURLToPath(new URL('./link.child.ts', import.meta.url));

interface Owner {
  child: ChildProcess;
  netns: string[];
  exited: Promise<number | string>;
}

async function startOwner(mode: 'wait' | 'exit'): Promise<Owner> {
  const { child, exited, first } = await startOwnerChild<{ netns: string[] }>(
    CHILD,
    [mode],
    'its link was up',
  );
  return { child, netns: first.netns, exited };
}

/** Which of `names` still exist as namespaces or as root-namespace links. */
async function leftovers(names: readonly string[]): Promise<string[]> {
  const netns = (await sh('ip', ['netns', 'list'])).split('\n').map((l) => l.split(' ')[0]);
  const links = (await sh('ip', ['-o', 'link', 'show']))
    .split('\n')
    .map((l) => /^\d+:\s+([^@:\s]+)/.exec(l)?.[1]);
  return names.flatMap((name) => [
    ...(netns.includes(name) ? [`netns ${name}`] : []),
    ...(links.includes(name) ? [`link ${name}`] : []),
  ]);
}

test('names carry the owner pid and fit 15-character interface names', () => {
  expect(ownerPid('fdl4194303x999r')).toBe(4194303);
  expect('fdl4194303x999r'.length).toBeLessThanOrEqual(15);
  expect(ownerPid('fdl12x0o')).toBe(12);
  expect(ownerPid('docker0')).toBeUndefined();
  expect(ownerPid('fdl12x0')).toBeUndefined();
});

test('SIGKILL leaves the namespaces; sweepStaleNetns removes them, and only them', async () => {
  test.setTimeout(60_000);
  const alive = await startOwner('wait');
  const killed = await startOwner('wait');
  try {
    expect(await leftovers(killed.netns)).toEqual(killed.netns.flatMap((n) => [`netns ${n}`, `link ${n}`]));
    killed.child.kill('SIGKILL');
    expect(await killed.exited).toBe('SIGKILL');
    // Proof the test can fail: nothing cleaned up after a SIGKILL.
    expect((await leftovers(killed.netns)).length).toBeGreaterThan(0);
    const removed = await sweepStaleNetns();
    expect(removed).toEqual(expect.arrayContaining(killed.netns));
    expect(await leftovers(killed.netns)).toEqual([]);
    expect(await leftovers(alive.netns), 'a live owner keeps its link').toHaveLength(4);
  } finally {
    alive.child.kill('SIGINT');
    await alive.exited;
  }
  expect(await leftovers(alive.netns)).toEqual([]);
});

test('an owner that gets SIGINT, or simply exits, removes its namespaces itself', async () => {
  test.setTimeout(60_000);
  const interrupted = await startOwner('wait');
  interrupted.child.kill('SIGINT');
  expect(await interrupted.exited).toBe(130);
  expect(await leftovers(interrupted.netns)).toEqual([]);

  const exited = await startOwner('exit');
  expect(await exited.exited).toBe(0);
  expect(await leftovers(exited.netns)).toEqual([]);
});
