import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

/**
 * What the VPN drills look at inside a robot's network namespace: its processes, its TCP
 * connections, a connection the robot opens. Real tools
 * (`ip netns`, `ss`), no bookkeeping of the tunnel's own.
 */

const run = promisify(execFile);

/** Pids of the processes named `comm` (as /proc/<pid>/comm says) in a network namespace, sorted. */
export async function netnsPids(netns: string, comm: string): Promise<number[]> {
  const { stdout } = await run('ip', ['netns', 'pids', netns]);
  const pids = stdout.split(/\s+/).filter(Boolean).map(Number);
  const named = await Promise.all(
    pids.map(async (pid) => {
      try {
        return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim() === comm ? pid : undefined;
      } catch {
        return undefined; // gone meanwhile
      }
    }),
  );
  return named.filter((pid): pid is number => pid !== undefined).sort((a, b) => a - b);
}

/** Established TCP connections in a namespace to `peer` (`address:port`), as their local `address:port`. */
export async function establishedTo(netns: string, peer: string): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'exec', netns, 'ss', '-tnH', 'state', 'established']);
  return parseSs(stdout, peer);
}

/** The local ends of `ss -tnH state established` lines whose peer is `peer`. */
export function parseSs(output: string, peer: string): string[] {
  const local: string[] = [];
  for (const line of output.split('\n')) {
    // Recv-Q Send-Q Local:Port Peer:Port [Process]
    const fields = line.trim().split(/\s+/);
    if (fields.length >= 4 && fields[3] === peer) local.push(fields[2]!);
  }
  return local.sort();
}

/**
 * The robot sends: a TCP connection from inside its namespace to `address:port` (through the
 * tunnel when `address` is the hub's). Resolves whether it was accepted within `timeoutMs`.
 */
export async function connectFromNetns(
  netns: string,
  address: string,
  port: number,
  timeoutMs: number,
): Promise<boolean> {
  const script = `const s=require('node:net').connect(${port},${JSON.stringify(address)},()=>{s.destroy();process.exit(0)});s.on('error',()=>process.exit(2));setTimeout(()=>process.exit(3),${timeoutMs}).unref();`;
  try {
    await run('ip', ['netns', 'exec', netns, process.execPath, '-e', script], { timeout: timeoutMs + 5_000 });
    return true;
  } catch {
    return false;
  }
}
