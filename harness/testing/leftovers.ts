import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';

/**
 * Test support: finds what a run left behind. Processes are found by a marker in their
 * environment (every robot inherits the harness's environment), ports by trying to connect,
 * temp dirs by name.
 */
export function processesWithEnv(name: string, value: string): number[] {
  const needle = `${name}=${value}`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (environ.includes(needle)) found.push(Number(entry));
    } catch {
      /* the process ended while we looked */
    }
  }
  return found;
}

/** Ports from the list that still accept a TCP connection on 127.0.0.1. */
export async function listeningPorts(ports: readonly number[]): Promise<number[]> {
  const open = await Promise.all(
    ports.map(
      (port) =>
        new Promise<boolean>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port });
          socket.once('connect', () => {
            socket.destroy();
            resolve(true);
          });
          socket.once('error', () => resolve(false));
        }),
    ),
  );
  return ports.filter((_, index) => open[index]);
}

/** fleetdrill run dirs in a temp dir. */
export function runDirsIn(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('fleetdrill-'));
}

/** Polls `check` until it returns an empty list or the time is up; returns the last result. */
export async function settle<T>(check: () => T[] | Promise<T[]>, timeoutMs = 5_000): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await check();
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
