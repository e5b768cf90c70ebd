import { execFileSync } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isStaleOwner, listNetns, sweepStaleLinks } from '../netns/sweep.ts';
import { hasTool, sh } from '../netns/system.ts';

/**
 * Names: `fdv<pid>x<k>h` (a hub's namespace, its WireGuard interface and its root-side veth),
 * `fdv<pid>x<k>r` (a robot's namespace and WireGuard interface), `fdv<pid>x<k>n` (the robot's NAT
 * namespace and its root-side WAN veth). The owner's pid lets a later run tell a dead run's
 * leftovers from a live one's; names stay within 15 characters (7 pid digits leave 3 for `k`).
 */
const NAME = /^fdv(\d+)x(\d+)([hrn])$/;
/** The owner marker in a door's or wireguard-go's command line. */
const MARKER = /\bfdv(\d+)x\d+[hrn]?\b/;
/** wireguard-go's control sockets: a filesystem path, shared by every namespace. */
export const WG_SOCKET_DIR = '/var/run/wireguard';
/** Socket directories made when the run directory's path is too long for a unix socket. */
export const SOCKET_DIR_PREFIX = 'fdv';

export type VpnRole = 'h' | 'r' | 'n';

export function vpnName(pid: number, k: number, role: VpnRole): string {
  return `fdv${pid}x${k}${role}`;
}

/** The pid a VPN name carries, or undefined for names that are not ours. */
export function vpnOwnerPid(name: string): number | undefined {
  const match = NAME.exec(name);
  return match ? Number(match[1]) : undefined;
}

/**
 * Root, wireguard-go, wg, ip, nft, tc and /dev/net/tun; the message names the first thing missing
 * (for test skips and `fleetdrill doctor`).
 */
export function vpnPrivileges(): { ok: true } | { ok: false; missing: string } {
  if (process.platform !== 'linux') return { ok: false, missing: `Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0)
    return { ok: false, missing: 'root (namespaces, tun devices and nft tables need CAP_NET_ADMIN)' };
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
  } catch {
    return { ok: false, missing: '/dev/net/tun (the tun driver; in a container, pass the device in)' };
  }
  if (!hasTool('wireguard-go', ['--version'])) return { ok: false, missing: "the 'wireguard-go' command" };
  if (!hasTool('wg', ['--version'])) return { ok: false, missing: "the 'wg' command (wireguard-tools)" };
  if (!hasTool('ip', ['-V'])) return { ok: false, missing: "the 'ip' command (iproute2)" };
  if (!hasTool('tc', ['-V'])) return { ok: false, missing: "the 'tc' command (iproute2)" };
  if (!hasTool('nft', ['--version'])) return { ok: false, missing: "the 'nft' command (nftables)" };
  return { ok: true };
}

/** SIGKILLs every process inside `netns` (`ip netns pids`), synchronously. */
export function killNetnsPids(netns: string): void {
  let list: string;
  try {
    list = execFileSync('ip', ['netns', 'pids', netns], { encoding: 'utf8', timeout: 5_000 });
  } catch {
    return;
  }
  for (const pid of list.split('\n').map(Number)) {
    if (!(pid > 0) || pid === process.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Processes whose command line carries a dead owner's VPN marker (doors, wireguard-go). */
function staleProcesses(): Array<{ pid: number; marker: string }> {
  const found: Array<{ pid: number; marker: string }> = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!(pid > 0) || pid === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    if (!/wireguard-go|door\.mjs/.test(cmdline)) continue;
    const match = MARKER.exec(cmdline);
    if (match && isStaleOwner(Number(match[1]))) found.push({ pid, marker: match[0] });
  }
  return found;
}

/**
 * Removes namespaces, tun devices, veths, nft tables (they live in the namespaces), wireguard-go
 * and door processes and control sockets of VPN runs whose owner pid is gone. Returns what it
 * removed. A live owner's things are never touched.
 */
export async function sweepStaleVpn(): Promise<string[]> {
  const removed: string[] = [];
  // Processes first: a process left in a namespace keeps its tun device and veths alive.
  for (const { pid, marker } of staleProcesses()) {
    try {
      process.kill(pid, 'SIGKILL');
      removed.push(`process ${pid} (${marker})`);
    } catch {
      // Ended in the meantime.
    }
  }
  for (const name of await listNetns()) {
    if (!isStaleOwner(vpnOwnerPid(name))) continue;
    killNetnsPids(name);
    try {
      await sh('ip', ['netns', 'del', name]);
      removed.push(name);
    } catch {
      // Another run's sweep got there first.
    }
  }
  removed.push(...(await sweepStaleLinks(vpnOwnerPid)));
  for (const [dir, pattern] of [
    [WG_SOCKET_DIR, /^(fdv\d+x\d+[hrn])\.sock$/],
    [tmpdir(), new RegExp(`^(${SOCKET_DIR_PREFIX}(\\d+)x\\d+)-`)],
  ] as const) {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      continue;
    }
    for (const entry of entries) {
      const match = pattern.exec(entry);
      if (!match || !isStaleOwner(vpnOwnerPid(`${match[1]!.replace(/[hrn]$/, '')}h`))) continue;
      rmSync(join(dir, entry), { recursive: true, force: true });
      removed.push(join(dir, entry));
    }
  }
  return removed;
}
