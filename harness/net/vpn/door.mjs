// A door across a network namespace's wall, run inside it with `ip netns exec NS node door.mjs`:
// plain JavaScript so it starts fast with no loader. Unix sockets cross namespaces, TCP does not,
// so each door pipes TCP on one side to a unix socket the other side serves.
//   pipe <owner> <spec>...   per spec, until killed; prints "ready" once every listener is up:
//       tcp:<host>:<port>=unix:<path>   listens on TCP, connects each client to the unix socket
//       unix:<path>=tcp:<host>:<port>   listens on the unix socket, connects each client to TCP
//       echo:<host>:<port>              a TCP echo server
//   probe <host> <port> <timeoutMs>  exits 0 when a TCP connection opens in time, 1 otherwise
// <owner> is the VPN's name (fdv<pid>x<k>): the owner pid in the command line lets a later run's
// sweep find a door whose owner was SIGKILLed.
import { connect, createServer } from 'node:net';
import { unlinkSync } from 'node:fs';
import { clearTimeout, setTimeout } from 'node:timers';

const [mode, ...args] = process.argv.slice(2);

function pipeBoth(a, b) {
  a.pipe(b);
  b.pipe(a);
  const end = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', end).on('close', end);
  b.on('error', end).on('close', end);
}

function target(text) {
  if (text.startsWith('unix:')) return { path: text.slice(5) };
  const [, host, port] = /^tcp:(.+):(\d+)$/.exec(text) ?? [];
  if (!host) throw new Error(`door: bad address ${text}`);
  return { host, port: Number(port) };
}

function listen(server, where) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    if (where.path) {
      try {
        unlinkSync(where.path);
      } catch {
        // Not there: fine.
      }
      server.listen(where.path, resolve);
    } else server.listen(where.port, where.host, resolve);
  });
}

if (mode === 'pipe') {
  const waits = [];
  for (const spec of args.slice(1)) {
    if (spec.startsWith('echo:')) {
      const where = target(`tcp:${spec.slice(5)}`);
      const server = createServer((socket) => {
        socket.on('error', () => socket.destroy());
        socket.pipe(socket);
      });
      waits.push(listen(server, where));
      continue;
    }
    const [from, to] = spec.split('=');
    const outward = target(to);
    const server = createServer((client) => pipeBoth(client, connect(outward)));
    waits.push(listen(server, target(from)));
  }
  Promise.all(waits).then(
    () => process.stdout.write('ready\n'),
    (error) => {
      process.stderr.write(`door: ${error.message}\n`);
      process.exit(2);
    },
  );
} else if (mode === 'probe') {
  const [host, port, timeoutMs] = args;
  const socket = connect({ host, port: Number(port) });
  const timer = setTimeout(() => process.exit(1), Number(timeoutMs));
  socket.once('connect', () => {
    clearTimeout(timer);
    socket.destroy();
    process.exit(0);
  });
  socket.once('error', () => process.exit(1));
} else {
  process.stderr.write(`door: unknown mode ${mode}\n`);
  process.exit(2);
}
