import { isAlive } from '../../core/process-alive.ts';
import { sh } from './system.ts';

/**
 * Namespace names: `fdl<pid>x<k>r` (robot) and `fdl<pid>x<k>o` (off-board). The owner's pid in the
 * name is what lets a later run tell leftovers of a dead run (SIGKILL, power loss of the CI runner)
 * from a live run's namespaces. The same string names the root-side veth of the relay path, so it
 * must stay within the kernel's 15-character interface names: 7 pid digits leave 3 for `k`.
 */
const NAME = /^fdl(\d+)x(\d+)([ro])$/;

export type NetnsSide = 'r' | 'o';

export function netnsName(pid: number, k: number, side: NetnsSide): string {
  return `fdl${pid}x${k}${side}`;
}

/** The pid a fleetdrill namespace name carries, or undefined for names that are not ours. */
export function ownerPid(name: string): number | undefined {
  const match = NAME.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Whether `pid` is another process's and that process has ended: what it named is a leftover. */
export function isStaleOwner(pid: number | undefined): pid is number {
  return pid !== undefined && pid !== process.pid && !isAlive(pid);
}

/** Names from `ip netns list`, which prints `name` or `name (id: N)` per line. */
export async function listNetns(): Promise<string[]> {
  const out = await sh('ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/**
 * Deletes fleetdrill namespaces whose owner process is gone; their veths, nft tables and qdiscs go
 * with them. Returns the names removed (namespaces, then
 * root-side links). A live owner's namespaces are never touched. A pid reused
 * by an unrelated process hides its leftovers until that process ends; the next sweep gets them.
 */
export async function sweepStaleNetns(): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await listNetns()) {
    if (!isStaleOwner(ownerPid(name))) continue;
    try {
      await sh('ip', ['netns', 'del', name]);
      removed.push(name);
    } catch {
      // Another run's sweep may have got there first.
    }
  }
  // Root-side relay veths normally die with their namespace; one whose namespace was lost some
  // other way (an interrupted start) is removed by name.
  removed.push(...(await sweepStaleLinks(ownerPid)));
  return removed;
}

/**
 * Deletes root-namespace links whose name carries (by `ownerOf`) the pid of an owner that is gone;
 * returns their names. A link that goes away meanwhile (with its namespace) is passed over.
 */
export async function sweepStaleLinks(ownerOf: (name: string) => number | undefined): Promise<string[]> {
  const removed: string[] = [];
  for (const line of (await sh('ip', ['-o', 'link', 'show'])).split('\n')) {
    const name = /^\d+:\s+([^@:\s]+)/.exec(line)?.[1];
    if (name === undefined || !isStaleOwner(ownerOf(name))) continue;
    try {
      await sh('ip', ['link', 'del', name]);
      removed.push(name);
    } catch {
      // Gone with its namespace in the meantime.
    }
  }
  return removed;
}
