import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { endianness } from 'node:os';
import { isLoopbackAddress } from '../../protocol/listen-address.ts';

/**
 * The sockets a process tree listens on, read from /proc as `ss -lntup` would, without needing
 * ss or root: /proc/net/{tcp,tcp6,udp,udp6} name every socket of the network namespace by inode,
 * and /proc/<pid>/fd says which process holds which inode. A socket nobody in the tree holds is
 * someone else's and is left out.
 */

/** The /proc/net tables read, one per protocol and family. */
export const SOCKET_TABLES = ['tcp', 'tcp6', 'udp', 'udp6'] as const;
export type SocketTable = (typeof SOCKET_TABLES)[number];

/** One socket that accepts connections or datagrams from anyone who can route to its address. */
export interface ListeningSocket {
  table: SocketTable;
  address: string;
  port: number;
  inode: number;
  /** The process holding it (the first found, when a socket is shared across a fork). */
  pid: number;
  /** That process's command line, arguments joined by spaces. */
  command: string;
}

// TCP_LISTEN in the kernel's tcp_states.h; the `st` column of /proc/net/tcp.
const TCP_LISTEN = '0A';

/** The root and every descendant of it, by parent pid in /proc/<pid>/stat. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentOf(Number(entry));
    if (parent === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

function parentOf(pid: number): number | undefined {
  const stat = readOrUndefined(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name in parentheses may hold spaces and parentheses: fields follow the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[1]);
}

/** A process may end while it is read: what it held is gone with it. */
function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Socket inodes each pid holds, from its fd links (`socket:[12345]`). */
function socketInodes(pids: readonly number[]): Map<number, number> {
  const owner = new Map<number, number>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match && !owner.has(Number(match[1]))) owner.set(Number(match[1]), pid);
    }
  }
  return owner;
}

/**
 * An address as /proc/net writes it: 32-bit words in hex, each in the host's byte order
 * (`0100007F` is 127.0.0.1 on a little-endian machine).
 */
export function decodeProcAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) => {
    const wordBytes = word.match(/../g)!.map((byte) => parseInt(byte, 16));
    return endianness() === 'LE' ? wordBytes.reverse() : wordBytes;
  });
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  const full = groups.join(':');
  // IPv4-mapped (::ffff:a.b.c.d): written the way isLoopbackAddress and a reader expect it.
  if (/^0:0:0:0:0:ffff:/.test(full)) return `::ffff:${bytes.slice(12).join('.')}`;
  return full === '0:0:0:0:0:0:0:0' ? '::' : full;
}

/**
 * Rows of one /proc/net table that listen: TCP sockets in LISTEN, and UDP sockets with no peer.
 * A connected UDP socket takes datagrams from its peer alone, as an outgoing TCP connection does.
 */
export function parseSocketTable(
  table: SocketTable,
  text: string,
): Array<{ address: string; port: number; inode: number }> {
  const rows: Array<{ address: string; port: number; inode: number }> = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [localAddress, localPort] = fields[1]!.split(':');
    const [remoteAddress, remotePort] = fields[2]!.split(':');
    const listening = table.startsWith('tcp')
      ? fields[3] === TCP_LISTEN
      : /^0+$/.test(remoteAddress!) && /^0+$/.test(remotePort!);
    if (!listening) continue;
    rows.push({
      address: decodeProcAddress(localAddress!),
      port: parseInt(localPort!, 16),
      inode: Number(fields[9]),
    });
  }
  return rows;
}

/**
 * Every listening TCP and UDP socket held by `root` or a descendant of it (default: this process).
 * The tables are this process's network namespace's: a descendant in a namespace of its own
 * (a container, a netns) listens where only the run reaches, and is not listed.
 */
export function listeningSockets(root = process.pid): ListeningSocket[] {
  const owners = socketInodes(processTree(root));
  const found: ListeningSocket[] = [];
  for (const table of SOCKET_TABLES) {
    const text = readOrUndefined(`/proc/net/${table}`);
    if (text === undefined) continue;
    for (const row of parseSocketTable(table, text)) {
      const pid = owners.get(row.inode);
      if (pid === undefined) continue;
      const command = (readOrUndefined(`/proc/${pid}/cmdline`) ?? '').split('\0').join(' ').trim();
      found.push({ table, ...row, pid, command });
    }
  }
  return found;
}

/** The sockets of `sockets` that other machines could reach: bound beyond loopback. */
export function exposedSockets(sockets: readonly ListeningSocket[]): ListeningSocket[] {
  return sockets.filter((socket) => !isLoopbackAddress(socket.address));
}

/** One line per socket, naming the process and the address: what a failed check prints. */
export function describeSockets(sockets: readonly ListeningSocket[]): string {
  return sockets
    .map(
      (socket) =>
        `pid ${socket.pid} (${socket.command}) listens on ${socket.table} ${socket.address}:${socket.port}`,
    )
    .join('\n');
}
