// A UDP probe the netns tests run inside a namespace (`ip netns exec NS node udp-probe.mjs ...`):
// plain JavaScript so it starts fast with no loader. Each mode prints "ready" once its socket is
// bound (when it listens) and one JSON line with its result at the end.
//   recv <bind> <port> <idleMs> <maxMs>     numbered datagrams in; ends idleMs after the last one
//   send <dest> <port> <count> <size> <perMs>  count numbered datagrams, perMs per millisecond
//   blast <dest> <port> <size> <durationMs> as fast as the socket takes them
//   pong <bind> <port>                      echoes everything back to its sender, until killed
//   ping <dest> <port> <count>              sequential round trips, one outstanding at a time
import { Buffer } from 'node:buffer';
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';

const [mode, ...args] = process.argv.slice(2);
const BUFFER = 4 * 1024 * 1024;
const done = (result) => {
  // Exit once the pipe has taken it all: exiting at once cuts a long line short.
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function bound(address, port) {
  const socket = createSocket('udp4');
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, resolve);
  });
  socket.setRecvBufferSize(BUFFER);
  socket.setSendBufferSize(BUFFER);
  return socket;
}

/** Sends without throwing; an unreachable network is counted, not fatal. */
function sendTo(socket, data, port, dest, errors) {
  socket.send(data, port, dest, (error) => {
    if (error) errors[error.code] = (errors[error.code] ?? 0) + 1;
  });
}

if (mode === 'recv') {
  const [bind, port, idleMs, maxMs] = [args[0], Number(args[1]), Number(args[2]), Number(args[3])];
  const socket = await bound(bind, port);
  const seqs = [];
  let bytes = 0;
  let first;
  let last;
  let idle;
  const finish = () => done({ seqs, bytes, firstMs: first, lastMs: last });
  socket.on('message', (data) => {
    const now = performance.now();
    first ??= now;
    last = now;
    bytes += data.length;
    seqs.push(data.readUInt32BE(0));
    clearTimeout(idle);
    idle = setTimeout(finish, idleMs);
  });
  setTimeout(finish, maxMs);
  process.stdout.write('ready\n');
} else if (mode === 'send' || mode === 'blast') {
  const [dest, port] = [args[0], Number(args[1])];
  const socket = await bound('0.0.0.0', 0);
  const errors = {};
  let sent = 0;
  if (mode === 'send') {
    const [count, size, perMs] = [Number(args[2]), Number(args[3]), Number(args[4])];
    for (let seq = 0; seq < count; seq++) {
      const data = Buffer.alloc(size);
      data.writeUInt32BE(seq, 0);
      sendTo(socket, data, port, dest, errors);
      sent++;
      if (seq % perMs === perMs - 1) await sleep(1);
    }
  } else {
    const [size, durationMs] = [Number(args[2]), Number(args[3])];
    const end = performance.now() + durationMs;
    while (performance.now() < end) {
      const data = Buffer.alloc(size);
      data.writeUInt32BE(sent, 0);
      await new Promise((resolve) => socket.send(data, port, dest, resolve));
      sent++;
    }
  }
  await sleep(50);
  done({ sent, errors });
} else if (mode === 'pong') {
  const socket = await bound(args[0], Number(args[1]));
  socket.on('message', (data, from) => socket.send(data, from.port, from.address));
  process.stdout.write('ready\n');
} else if (mode === 'ping') {
  const [dest, port, count] = [args[0], Number(args[1]), Number(args[2])];
  const socket = await bound('0.0.0.0', 0);
  const rttUs = [];
  let lost = 0;
  for (let seq = 0; seq < count; seq++) {
    const data = Buffer.alloc(64);
    data.writeUInt32BE(seq, 0);
    const began = process.hrtime.bigint();
    const answered = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 1000);
      socket.once('message', () => {
        clearTimeout(timer);
        resolve(true);
      });
      socket.send(data, port, dest);
    });
    if (answered) rttUs.push(Number(process.hrtime.bigint() - began) / 1000);
    else lost++;
  }
  done({ rttUs, lost });
} else {
  process.stderr.write(`udp-probe: unknown mode ${mode}\n`);
  process.exit(2);
}
