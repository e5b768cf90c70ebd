/**
 * The outer ends of the fault-layer bench, each run as its own process so that neither shares an
 * event loop with the proxy under test (which would flatter or penalise it). Usage:
 *   fault-layer-client.ts serve                    → prints {"echo":PORT,"sink":PORT}, serves until killed
 *   fault-layer-client.ts latency <port> <count>   → JSON array of round-trip µs
 *   fault-layer-client.ts throughput <port> <MB>   → JSON MB/s
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

const [mode, portArg, amountArg] = process.argv.slice(2);
const port = Number(portArg);
const amount = Number(amountArg);

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => resolve(socket));
    socket.setNoDelay(true);
    socket.once('error', reject);
  });
}

async function latency(count: number): Promise<number[]> {
  const socket = await open();
  const payload = Buffer.alloc(64, 7);
  const samples: number[] = [];
  let pending = 0;
  let wake: () => void = () => undefined;
  socket.on('data', (data: Buffer) => {
    pending -= data.length;
    if (pending <= 0) wake();
  });
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    pending = payload.length;
    await new Promise<void>((resolve) => {
      wake = resolve;
      socket.write(payload);
    });
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  socket.destroy();
  return samples;
}

async function throughput(megabytes: number): Promise<number> {
  const socket = await open();
  const chunk = Buffer.alloc(64 * 1024, 1);
  const total = megabytes * 1024 * 1024;
  const acknowledged = new Promise<void>((resolve) => socket.once('data', () => resolve()));
  const start = process.hrtime.bigint();
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  socket.end();
  // The sink answers once it has counted every byte: the clock stops at the receiver.
  await acknowledged;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  socket.destroy();
  return megabytes / seconds;
}

/** An echo server (latency) and a sink that acknowledges once it has every byte (throughput). */
async function serve(): Promise<void> {
  const listen = async (handle: (socket: Socket) => void): Promise<number> => {
    const server = createServer((socket) => {
      socket.setNoDelay(true);
      socket.on('error', () => undefined);
      handle(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  const echo = await listen((socket) => socket.pipe(socket));
  const sink = await listen((socket) => {
    socket.on('data', () => undefined);
    socket.on('end', () => socket.end('ok'));
  });
  process.stdout.write(`${JSON.stringify({ echo, sink })}\n`);
  // The bench holds our stdin; when it goes away, so do we.
  process.stdin.on('end', () => process.exit(0)).resume();
}

if (mode === 'serve') await serve();
else
  process.stdout.write(JSON.stringify(mode === 'latency' ? await latency(amount) : await throughput(amount)));
