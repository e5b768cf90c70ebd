import WebSocket from 'ws';
import { Fleet } from '../harness/fleet/index.ts';
import { provisionRobots } from '../harness/ota/index.ts';

/**
 * Messages per second one robot's rosbridge server relays to one subscriber: a raw client
 * publishes `count` small messages on a topic as fast as it can, a second raw client subscribed
 * to that topic counts them. The time runs from the first send to the last receipt.
 */
export async function rosbridgeMessagesPerSecond(seed: number, count = 50_000): Promise<number> {
  // This measures rosbridge: an agent would be a second client on the robot's rosbridge.
  const fleet = await new Fleet({
    robots: 1,
    seed,
    world: 'empty',
    telemetry: false,
    provision: provisionRobots(),
  }).start();
  try {
    const url = fleet.roster[0]!.rosbridgeUrl;
    const subscriber = new WebSocket(url);
    const publisher = new WebSocket(url);
    try {
      return await relay(subscriber, publisher, count);
    } finally {
      subscriber.close();
      publisher.close();
    }
  } finally {
    await fleet.stop();
  }
}

async function relay(subscriber: WebSocket, publisher: WebSocket, count: number): Promise<number> {
  await Promise.all([opened(subscriber), opened(publisher)]);
  subscriber.send(
    JSON.stringify({ op: 'subscribe', topic: '/bench', type: 'std_msgs/msg/UInt32', queue_length: 0 }),
  );
  publisher.send(JSON.stringify({ op: 'advertise', topic: '/bench', type: 'std_msgs/msg/UInt32' }));
  await new Promise((resolve) => setTimeout(resolve, 200));
  let received = 0;
  const done = new Promise<number>((resolve) => {
    subscriber.on('message', () => {
      received++;
      if (received === count) resolve(performance.now());
    });
  });
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    publisher.send(JSON.stringify({ op: 'publish', topic: '/bench', msg: { data: i } }));
    // Let the socket drain now and then so the measurement is the server, not our send buffer.
    if (i % 1_000 === 999) await new Promise((resolve) => setImmediate(resolve));
  }
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`only ${received} of ${count} messages arrived`)), 60_000).unref(),
  );
  const end = await Promise.race([done, timeout]);
  return Math.round((count * 1000) / (end - start));
}

function opened(socket: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
}
