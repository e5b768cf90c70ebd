import { createServer, type Server } from 'node:net';

/**
 * `count` distinct free TCP ports on the loopback, for publishing container ports at fixed host
 * ports (a port Docker picks itself may change when a container starts again). All are held at
 * once before any is released, so the same port cannot come back twice.
 */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  return freePortsOn('127.0.0.1', count);
}

/** As {@link freeLoopbackPorts}, on another address of this machine (a Docker network's gateway). */
export async function freePortsOn(address: string, count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: address, port: 0 }, resolve);
      });
    }
    return servers.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** One free TCP port on the loopback: nothing listens there when it is returned (yet). */
export async function freeLoopbackPort(): Promise<number> {
  const [port] = await freeLoopbackPorts(1);
  return port!;
}
