import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PROBE = fileURLToPath(new URL('./udp-probe.mjs', import.meta.url));

/** A udp-probe.mjs process inside a namespace: `ready` once it listens, `result` its JSON line. */
export interface Probe<T> {
  child: ChildProcess;
  ready: Promise<void>;
  result: Promise<T>;
}

/** Starts udp-probe.mjs in `netns`; the result names the namespace and mode when it fails. */
export function probe<T>(netns: string, args: Array<string | number>, timeoutMs = 20_000): Probe<T> {
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, PROBE, ...args.map(String)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) markReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const result = new Promise<T>((resolve, reject) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as T);
      else
        reject(
          new Error(
            `udp-probe ${args[0]} in ${netns} ended (${code ?? signal}): ${err.trim() || out.trim()}`,
          ),
        );
    });
  });
  // A receiver that never got ready must not hang the test past its own timeout.
  void result.catch(() => markReady());
  return { child, ready, result };
}

export interface Received {
  seqs: number[];
  bytes: number;
  firstMs?: number;
  lastMs?: number;
}

export interface Sent {
  sent: number;
  errors: Record<string, number>;
}

export interface Pinged {
  rttUs: number[];
  lost: number;
}

/** Sends `count` numbered datagrams from `from` to `dest:port` while `to` listens on `bind:port`. */
export async function transfer(
  from: string,
  to: string,
  dest: string,
  bind: string,
  port: number,
  count: number,
  options: { size?: number; perMs?: number; idleMs?: number; maxMs?: number } = {},
): Promise<{ received: Received; sent: Sent }> {
  const receiver = probe<Received>(to, ['recv', bind, port, options.idleMs ?? 700, options.maxMs ?? 15_000]);
  await receiver.ready;
  const sent = await probe<Sent>(from, ['send', dest, port, count, options.size ?? 64, options.perMs ?? 5])
    .result;
  return { received: await receiver.result, sent };
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
