import fc from 'fast-check';
import WebSocket from 'ws';
import { startRobotSim, type StartedRobotSim } from '../../../reference/robot-sim/index.ts';
import { runAll } from '../../core/index.ts';
import { brokenDocuments } from '../hostile-json.ts';
import { expectIntact } from '../oracles.ts';
import type { FuzzTarget } from '../runner.ts';
import { OracleViolation } from '../violation.ts';

/** One frame as sent: text, or binary bytes. */
export type RosbridgeFrame = { text: string } | { binary: Uint8Array };

/** How long the robot has to answer the probe after a frame before it counts as hung. */
const PROBE_TIMEOUT_MS = 10_000;

const zeroTwist = { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } };

/** Valid ops of every kind the bridge takes, each the seed of one-field-broken frames. */
const VALID_OPS: readonly object[] = [
  {
    op: 'subscribe',
    id: 's1',
    topic: '/battery_state',
    type: 'sensor_msgs/msg/BatteryState',
    throttle_rate: 0,
    queue_length: 1,
  },
  { op: 'unsubscribe', id: 's1', topic: '/battery_state' },
  { op: 'advertise', id: 'a1', topic: '/cmd_vel', type: 'geometry_msgs/msg/Twist' },
  { op: 'publish', topic: '/cmd_vel', msg: zeroTwist },
  { op: 'unadvertise', id: 'a1', topic: '/cmd_vel' },
  { op: 'call_service', id: 'c1', service: '/self_test', args: {} },
  { op: 'call_service', id: 'c2', service: '/nope', type: 'std_srvs/srv/Trigger', args: {} },
  { op: 'fragment', id: 'f1', data: '{"op":"call_service","service":"/get_', num: 0, total: 2 },
  { op: 'fragment', id: 'f1', data: 'version","id":"f"}', num: 1, total: 2 },
];

/** What the probe asks after every frame; its answer must not change. */
const PROBE_SERVICE = '/get_version';

/** An open client and the answers it is waiting for, by call id. */
class ProbeClient {
  readonly #waiting = new Map<string, (values: unknown) => void>();
  #closed: Promise<void>;
  #seq = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      let op: { op?: string; id?: string; values?: unknown };
      try {
        op = JSON.parse((data as Buffer).toString('utf8')) as typeof op;
      } catch {
        return;
      }
      if (op.op === 'service_response' && op.id !== undefined) this.#waiting.get(op.id)?.(op.values);
    });
    ws.on('error', () => {});
    this.#closed = new Promise((resolve) => ws.once('close', () => resolve()));
  }

  static open(url: string): Promise<ProbeClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.once('open', () => resolve(new ProbeClient(ws)));
      ws.once('error', (error) =>
        reject(new OracleViolation(`rosbridge ${url}: cannot connect (${error.message})`)),
      );
    });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(frame: RosbridgeFrame): void {
    if ('text' in frame) this.ws.send(frame.text);
    else this.ws.send(frame.binary, { binary: true });
  }

  /** Calls the probe service; resolves with its values, or 'closed' when the server hung up first. */
  probe(): Promise<unknown> {
    const id = `probe-${++this.#seq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(
          new OracleViolation(`rosbridge: ${PROBE_SERVICE} got no answer within ${PROBE_TIMEOUT_MS} ms`),
        );
      }, PROBE_TIMEOUT_MS);
      const done = (value: unknown) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        resolve(value);
      };
      this.#waiting.set(id, done);
      void this.#closed.then(() => done('closed'));
      if (this.open)
        this.ws.send(JSON.stringify({ op: 'call_service', id, service: PROBE_SERVICE, args: {} }));
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

/**
 * An embedded reference robot's rosbridge server, fed frames one field from valid ops of every
 * kind, other JSON, invalid UTF-8, binary and oversized frames. After each frame the same client
 * asks /get_version: the robot must answer (or have closed that client, then a new one must get
 * in), count the frame as refused or act on it, and answer the same version at the end.
 */
export const rosbridgeTarget: FuzzTarget<RosbridgeFrame> = {
  name: 'rosbridge',
  async start() {
    const robot: StartedRobotSim = await startRobotSim({ id: 'fz-robot', world: 'empty', seed: 1 });
    let client: ProbeClient | undefined;
    const stop = () => runAll([() => client?.close(), () => robot.stop()]);
    try {
      client = await ProbeClient.open(robot.url);
    } catch (error) {
      await stop();
      throw error;
    }
    const before = await client.probe();
    const text = fc
      .constantFrom(...VALID_OPS)
      .chain((op) => brokenDocuments(op))
      .map((doc): RosbridgeFrame => ({ text: doc.text }));
    const inputs = fc.oneof(
      { weight: 160, arbitrary: text },
      {
        weight: 12,
        arbitrary: fc.uint8Array({ maxLength: 256 }).map((binary): RosbridgeFrame => ({ binary })),
      },
      {
        weight: 12,
        arbitrary: fc
          .uint8Array({ maxLength: 256 })
          .map((bytes): RosbridgeFrame => ({ text: Buffer.from(bytes).toString('latin1') })),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom(9 * 1024 * 1024, 11 * 1024 * 1024).map((size): RosbridgeFrame => ({
          text: `{"op":"publish","topic":"/cmd_vel","msg":"${'x'.repeat(size)}"}`,
        })),
      },
    );
    return {
      inputs,
      async send(frame) {
        if (!client!.open) client = await ProbeClient.open(robot.url);
        const refusedBefore = robot.stats().badFrames;
        client!.send(frame);
        const answer = await client!.probe();
        if (answer === 'closed') {
          client = await ProbeClient.open(robot.url);
          await client.probe();
          return 'closed';
        }
        expectIntact(`robot fz-robot's ${PROBE_SERVICE} answer`, before, answer);
        return robot.stats().badFrames > refusedBefore ? 'refused' : 'accepted';
      },
      async check() {
        if (!client!.open) client = await ProbeClient.open(robot.url);
        expectIntact(`robot fz-robot's ${PROBE_SERVICE} answer`, before, await client!.probe());
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  },
};
