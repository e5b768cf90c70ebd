import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { sh } from '../netns/system.ts';

/**
 * A TCP client inside a namespace (`ip netns exec`), kept open: lines written go to the server,
 * lines the server sends come back. For echo round trips across the tunnel on one connection.
 */
export interface NsClient {
  /** Sends `line` and resolves with the next line back, or rejects after `timeoutMs`. */
  roundTrip(line: string, timeoutMs: number): Promise<string>;
  close(): Promise<void>;
}

const CLIENT = `
const socket = require('node:net').connect({ host: process.argv[1], port: Number(process.argv[2]) });
socket.on('connect', () => process.stdout.write('connected\\n'));
socket.on('error', (e) => { process.stderr.write(e.message); process.exit(3); });
socket.on('close', () => process.exit(0));
process.stdin.pipe(socket);
socket.pipe(process.stdout);
`;

export async function nsClient(netns: string, host: string, port: number): Promise<NsClient> {
  const child: ChildProcess = spawn(
    'ip',
    ['netns', 'exec', netns, process.execPath, '-e', CLIENT, host, String(port)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  let buffer = '';
  const waiters: Array<(line: string) => void> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      waiters.shift()?.(line);
    }
  });
  const next = (timeoutMs: number, what: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(done), 1);
        reject(
          new Error(`no answer to ${what} within ${timeoutMs} ms from ${netns} → ${host}:${port} ${err}`),
        );
      }, timeoutMs);
      const done = (line: string): void => {
        clearTimeout(timer);
        resolve(line);
      };
      waiters.push(done);
    });
  const connected = await next(10_000, 'connect');
  if (connected !== 'connected') throw new Error(`client in ${netns}: ${connected} ${err}`);
  return {
    roundTrip: (line, timeoutMs) => {
      const answer = next(timeoutMs, JSON.stringify(line));
      child.stdin!.write(`${line}\n`);
      return answer;
    },
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Every VPN thing of owner `pid` still on the machine: namespaces, links, processes, control sockets. */
export async function vpnLeftovers(pid: number): Promise<string[]> {
  const mine = new RegExp(`^fdv${pid}x\\d+[hrn]$`);
  const found: string[] = [];
  for (const line of (await sh('ip', ['netns', 'list'])).split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (mine.test(name)) found.push(`netns ${name}`);
  }
  for (const line of (await sh('ip', ['-o', 'link', 'show'])).split('\n')) {
    const name = /^\d+:\s+([^@:\s]+)/.exec(line)?.[1] ?? '';
    if (mine.test(name)) found.push(`link ${name}`);
  }
  const marker = new RegExp(`\\bfdv${pid}x\\d+`);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (/wireguard-go|door\.mjs/.test(cmdline) && marker.test(cmdline)) found.push(`process ${entry}`);
    } catch {
      // Ended while we looked.
    }
  }
  try {
    for (const entry of readdirSync('/var/run/wireguard'))
      if (marker.test(entry)) found.push(`socket /var/run/wireguard/${entry}`);
  } catch {
    // No wireguard-go ran yet.
  }
  return found;
}
