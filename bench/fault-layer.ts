import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Toxiproxy } from 'toxiproxy-node-client';
import { ToxiproxyServer } from '../harness/net/toxiproxy/index.ts';
import { median, percentile } from './stats.ts';

const run = promisify(execFile);
const CLIENT = fileURLToPath(new URL('./fault-layer-client.ts', import.meta.url));

/** Starts the echo and sink servers in their own process: the upstream a proxy forwards to. */
async function startUpstream(): Promise<{ echo: number; sink: number; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLIENT, 'serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const ports = JSON.parse(line) as { echo: number; sink: number };
  return { ...ports, stop: () => child.kill('SIGKILL') };
}

async function client<T>(mode: 'latency' | 'throughput', port: number, amount: number): Promise<T> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', CLIENT, mode, String(port), String(amount)],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return JSON.parse(stdout) as T;
}

/** What one run of the fault-layer bench saw. */
export interface FaultLayerResult {
  addedP50Us: number;
  addedP99Us: number;
  throughputRatio: number;
  directMBps: number;
  proxiedMBps: number;
}

/**
 * Round trips and bulk throughput, direct to a loopback server and through a proxy with no
 * toxics, in the same run. Client, proxy (this process) and upstream servers are three
 * processes, as harness, proxy and robot would be. Direct and proxied passes alternate so drift in the machine's load hits both.
 */
export async function measureFaultLayer(seed: number): Promise<FaultLayerResult> {
  const upstream = await startUpstream();
  const echo = { port: upstream.echo };
  const sink = { port: upstream.sink };
  // A proxy that fails to start must not leave the upstream process behind.
  const toxiproxy = await new ToxiproxyServer({ port: 0, seed }).start().catch((error: unknown) => {
    upstream.stop();
    throw error;
  });
  try {
    const api = new Toxiproxy(toxiproxy.url);
    const portOf = (listen: string) => Number(listen.slice(listen.lastIndexOf(':') + 1));
    const echoProxy = await api.createProxy({
      name: 'echo',
      listen: '127.0.0.1:0',
      upstream: `127.0.0.1:${echo.port}`,
      enabled: true,
    });
    const sinkProxy = await api.createProxy({
      name: 'sink',
      listen: '127.0.0.1:0',
      upstream: `127.0.0.1:${sink.port}`,
      enabled: true,
    });

    const direct: number[] = [];
    const proxied: number[] = [];
    for (let pass = 0; pass < 2; pass++) {
      direct.push(...(await client<number[]>('latency', echo.port, 10_000)).slice(1_000));
      proxied.push(...(await client<number[]>('latency', portOf(echoProxy.listen), 10_000)).slice(1_000));
    }
    const directRates: number[] = [];
    const proxiedRates: number[] = [];
    for (let pass = 0; pass < 3; pass++) {
      directRates.push(await client<number>('throughput', sink.port, 256));
      proxiedRates.push(await client<number>('throughput', portOf(sinkProxy.listen), 256));
    }
    const directMBps = median(directRates);
    const proxiedMBps = median(proxiedRates);
    return {
      addedP50Us: Math.round(percentile(proxied, 50) - percentile(direct, 50)),
      addedP99Us: Math.round(percentile(proxied, 99) - percentile(direct, 99)),
      throughputRatio: Math.round((proxiedMBps / directMBps) * 1000) / 1000,
      directMBps: Math.round(directMBps),
      proxiedMBps: Math.round(proxiedMBps),
    };
  } finally {
    await toxiproxy.stop();
    upstream.stop();
  }
}
