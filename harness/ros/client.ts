import createDebug from 'debug';
import { Ros, Service, Topic } from 'roslib';
import { FleetdrillError, RobotUnreachableError, TimeoutError } from '../core/errors.ts';
import type { EventBus } from '../core/events.ts';

/** Options for {@link RosClient.connect}. */
export interface RosClientOptions {
  /** Name used in messages and logs, usually the robot id. */
  name: string;
  /** How long the first connection may take. */
  connectTimeoutMs?: number;
  /** Reconnect by itself after the link drops (default true). */
  reconnect?: boolean;
  /** Gives the signal that aborts when the robot behind this link is known to be gone: waits fail at once. */
  signal?: () => AbortSignal | undefined;
  /** Where connection drops and recoveries are reported. */
  events?: EventBus;
}

/**
 * The QoS a subscriber requests, in rosbridge's own shape (rosbridge_suite PR #1150): sent as the
 * subscribe op's `qos` field. Absent fields take the server's defaults (depth 10, volatile, best
 * effort).
 */
export interface RosbridgeQos {
  reliability?: 'reliable' | 'best_effort';
  durability?: 'volatile' | 'transient_local';
  history?: 'keep_last' | 'keep_all';
  depth?: number;
}

/** Options of one subscription, passed through to rosbridge. */
export interface SubscribeOptions {
  /** Minimum ms between messages the server sends (rosbridge `throttle_rate`). */
  throttleRateMs?: number;
  /** Server-side queue length (rosbridge `queue_length`). */
  queueLength?: number;
  /**
   * Requested QoS, sent with the subscribe and again, unchanged, after every reconnect: a
   * transient_local subscription is re-subscribed as latched, so the server replays what was
   * published while the link was down. roslib cannot send it, so the client sends this
   * subscribe op itself.
   */
  qos?: RosbridgeQos;
}

/** A live subscription; `unsubscribe()` is idempotent. */
export interface Subscription {
  unsubscribe(): void;
  /**
   * The first exception the callback threw, if any. The caller takes over reporting it: it no
   * longer counts as unreported on the client (see {@link RosClient.takeUnreportedCallbackErrors}).
   */
  failure(): CallbackError | undefined;
}

/**
 * A callback the harness handed to roslib threw. roslib would catch it and emit it as a
 * connection 'error', where nobody can tell it from a link error, and the other subscribers of
 * the topic would miss that message. The client catches it first and keeps it for the test.
 */
export class CallbackError extends FleetdrillError {
  constructor(
    readonly robotId: string,
    /** The topic, and what the callback waited for, if it said. */
    readonly topic: string,
    readonly thrown: unknown,
  ) {
    const what = thrown instanceof Error ? thrown.message : String(thrown);
    super(`robot ${robotId}: a callback on ${topic} threw: ${what}`, { cause: thrown });
    // The callback's own frames, not this constructor's: the report then points at the drill's
    // line that threw, where the fix belongs.
    const frames =
      thrown instanceof Error ? thrown.stack?.split('\n').filter((line) => /^\s+at /.test(line)) : [];
    if (frames?.length) this.stack = [`${this.name}: ${this.message}`, ...frames].join('\n');
  }
}

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 2_000;

/**
 * A promise-based, timeout-bounded rosbridge client over roslib. It reconnects with backoff after
 * a drop, and every topic is re-subscribed on the new connection (by roslib, or by the client itself
 * for subscriptions with a qos, so that they keep it). Publishing while the link is
 * down drops the message instead of queueing it: a stale /cmd_vel replayed seconds later is worse
 * than a lost one.
 */
export class RosClient {
  private readonly log;
  private readonly ros: Ros;
  private closed = false;
  private downSince: number | undefined;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  // A dial in flight: a second one would replace its socket while the first still reports 'connection'.
  private dialling = false;
  private readonly publishers = new Map<string, Topic<unknown>>();
  // Subscribe ops the client sends itself (those with a qos), re-sent on every connection.
  private readonly ownSubscribes = new Map<string, Record<string, unknown>>();
  private subscribeSeq = 0;
  private readonly connectionListeners = new Set<(connected: boolean) => void>();
  // Callback exceptions no owner has taken; the fixtures fail the drill with them.
  private readonly unreported = new Set<CallbackError>();

  private constructor(
    readonly url: string,
    private readonly options: RosClientOptions,
  ) {
    this.log = createDebug(`fleetdrill:ros:${options.name}`);
    this.ros = new Ros({});
    // Link errors are reported through 'close'. What else roslib emits here is a frame it could
    // not decode: logged, since callback exceptions no longer arrive here (see subscribe()).
    // Without a listener roslib would log to the console.
    this.ros.on('error', (error: unknown) => {
      if (error instanceof Error) this.log('roslib: %s', error.message);
    });
    this.ros.on('close', () => this.onClose());
    this.ros.on('connection', () => this.onConnection());
  }

  /** Connects to a rosbridge server; rejects with RobotUnreachableError after the timeout. */
  static async connect(url: string, options: RosClientOptions): Promise<RosClient> {
    const client = new RosClient(url, options);
    const timeoutMs = options.connectTimeoutMs ?? 5_000;
    try {
      await client.waitUntilConnected(timeoutMs);
    } catch (error) {
      client.close();
      throw new RobotUnreachableError(options.name, `no rosbridge answer at ${url} within ${timeoutMs} ms`, {
        cause: error,
      });
    }
    return client;
  }

  /**
   * A client that starts dialling and returns at once; subscriptions made now take effect when
   * the link comes up. For background listeners that must not hold up the caller.
   */
  static open(url: string, options: RosClientOptions): RosClient {
    const client = new RosClient(url, options);
    client.dial();
    return client;
  }

  /** Name used in messages and logs, usually the robot id. */
  get name(): string {
    return this.options.name;
  }

  /** True while the WebSocket is open (a black-holed link still looks open: use timeouts). */
  get connected(): boolean {
    return this.ros.isConnected;
  }

  /** Called with true/false whenever the link comes up or goes down. */
  onConnectionChange(listener: (connected: boolean) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  /**
   * Resolves once connected (at once if already), rejects after `timeoutMs`, or with the reason
   * when `signal` aborts (a deadline that follows the robot's progress).
   */
  async waitUntilConnected(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.ros.isConnected) return;
    if (!this.dialling && this.reconnectTimer === undefined && this.downSince === undefined) this.dial();
    await this.waitFor(
      timeoutMs,
      `connection to ${this.url}`,
      (done) => {
        const off = this.onConnectionChange((up) => up && done());
        return off;
      },
      signal,
    );
  }

  /**
   * Callback exceptions that no owner has reported (a probe's `stop()` or `stats()`, a wait's
   * rejection), oldest first; the list is emptied. The fixtures fail the drill with these.
   */
  takeUnreportedCallbackErrors(): CallbackError[] {
    const errors = [...this.unreported];
    this.unreported.clear();
    return errors;
  }

  /**
   * Subscribes; the subscription survives reconnects. An exception thrown by `onMessage` does not
   * reach roslib: the first one is kept (see {@link Subscription.failure}), and messages keep
   * coming.
   */
  subscribe<T>(
    topic: string,
    type: string,
    onMessage: (message: T) => void,
    options: SubscribeOptions = {},
  ): Subscription {
    let failure: CallbackError | undefined;
    const listener = (message: T) => {
      try {
        onMessage(message);
      } catch (thrown) {
        if (failure) return;
        failure = new CallbackError(this.options.name, topic, thrown);
        this.unreported.add(failure);
        this.log('a callback on %s threw: %s', topic, failure.message);
      }
    };
    const unsubscribe = options.qos
      ? this.subscribeWithQos(topic, type, listener, options, options.qos)
      : this.subscribeThroughRoslib(topic, type, listener, options);
    let active = true;
    return {
      unsubscribe: () => {
        if (!active) return;
        active = false;
        unsubscribe();
      },
      failure: () => {
        if (failure) this.unreported.delete(failure);
        return failure;
      },
    };
  }

  private subscribeThroughRoslib<T>(
    topic: string,
    type: string,
    listener: (message: T) => void,
    options: SubscribeOptions,
  ): () => void {
    const handle = new Topic<T>({
      ros: this.ros,
      name: topic,
      messageType: type,
      throttle_rate: options.throttleRateMs ?? 0,
      queue_length: options.queueLength ?? 0,
      reconnect_on_close: true,
    });
    handle.subscribe(listener);
    return () => handle.unsubscribe(listener);
  }

  /**
   * roslib's Topic never sends `qos`, and re-subscribes without it after a reconnect: a latched
   * topic would come back volatile and what it published during the outage would be lost. This
   * path keeps its own subscribe op and sends it on every connection (see onConnection()).
   */
  private subscribeWithQos<T>(
    topic: string,
    type: string,
    listener: (message: T) => void,
    options: SubscribeOptions,
    qos: RosbridgeQos,
  ): () => void {
    const id = `subscribe:${topic}:qos:${++this.subscribeSeq}`;
    const op = {
      op: 'subscribe',
      id,
      topic,
      type,
      throttle_rate: options.throttleRateMs ?? 0,
      queue_length: options.queueLength ?? 0,
      qos: { ...qos },
    };
    const onPublish = (frame: unknown) => {
      const message = frame as { op?: unknown; msg?: unknown };
      if (message.op === 'publish') listener(message.msg as T);
    };
    this.ros.on(topic, onPublish);
    this.ownSubscribes.set(id, op);
    this.sendIfConnected(op);
    return () => {
      this.ros.off(topic, onPublish);
      this.ownSubscribes.delete(id);
      this.sendIfConnected({ op: 'unsubscribe', id, topic });
    };
  }

  /**
   * Sends now or not at all: a subscribe made while the link is down goes out with the others
   * on the next connection, and an unsubscribe then has nothing left to undo.
   */
  private sendIfConnected(op: Record<string, unknown>): void {
    if (!this.ros.isConnected) return;
    this.ros.callOnConnection(op as unknown as Parameters<Ros['callOnConnection']>[0]);
  }

  /**
   * Waits for the next message on `topic` that satisfies `predicate`.
   * Rejects with a TimeoutError naming the robot, topic and wait, and with a CallbackError at once
   * if the predicate throws (an `expect` in it fails the wait instead of reading as "no match").
   */
  async waitForMessage<T>(
    topic: string,
    type: string,
    options: { timeoutMs: number; predicate?: (message: T) => boolean; description?: string },
  ): Promise<T> {
    const what = `${topic}${options.description ? ` (${options.description})` : ''}`;
    let received: T | undefined;
    await this.waitFor(options.timeoutMs, `message on ${what}`, (done) => {
      const sub = this.subscribe<T>(topic, type, (message) => {
        try {
          if (options.predicate && !options.predicate(message)) return;
        } catch (thrown) {
          done(new CallbackError(this.options.name, what, thrown));
          return;
        }
        received = message;
        done();
      });
      return () => sub.unsubscribe();
    });
    return received as T;
  }

  /** Calls a service; rejects on a failed response, after `timeoutMs`, or when `signal` aborts. */
  async callService<Res = Record<string, unknown>, Req = Record<string, unknown>>(
    service: string,
    type: string,
    request: Req,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<Res> {
    const timeoutMs = options.timeoutMs ?? 5_000;
    const handle = new Service<Req, Res>({ ros: this.ros, name: service, serviceType: type });
    let response: Res | undefined;
    let failure: string | undefined;
    await this.waitFor(
      timeoutMs,
      `response from ${service}`,
      (done) => {
        handle.callService(
          request,
          (result) => {
            response = result;
            done();
          },
          (error) => {
            failure = error;
            done();
          },
        );
        return () => {};
      },
      options.signal,
    );
    if (failure !== undefined) {
      throw new RobotUnreachableError(this.options.name, `service ${service} failed: ${failure}`);
    }
    return response as Res;
  }

  /**
   * Publishes one message (advertising the topic the first time).
   * Returns false, and sends nothing, while the link is down.
   */
  publish<T>(topic: string, type: string, message: T): boolean {
    if (!this.ros.isConnected) {
      this.log('dropped a publish on %s: link down', topic);
      return false;
    }
    let handle = this.publishers.get(topic);
    if (!handle) {
      handle = new Topic<unknown>({
        ros: this.ros,
        name: topic,
        messageType: type,
        reconnect_on_close: true,
      });
      this.publishers.set(topic, handle);
    }
    handle.publish(message);
    return true;
  }

  /** Closes the link for good; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.ros.close();
  }

  private dial(): void {
    if (this.closed) return;
    this.dialling = true;
    this.ros.connect(this.url).catch((error: unknown) => {
      this.log('connect failed: %s', (error as Error).message);
      this.onClose();
    });
  }

  private onConnection(): void {
    this.dialling = false;
    this.reconnectDelay = RECONNECT_MIN_MS;
    if (this.downSince !== undefined) {
      const downMs = Date.now() - this.downSince;
      this.options.events?.emit({ kind: 'ros-reconnected', robot: this.options.name, url: this.url, downMs });
      this.log('reconnected after %d ms', downMs);
    }
    this.downSince = undefined;
    for (const op of this.ownSubscribes.values()) this.sendIfConnected(op);
    for (const listener of this.connectionListeners) listener(true);
  }

  private onClose(): void {
    this.dialling = false;
    if (this.downSince === undefined) {
      this.downSince = Date.now();
      if (!this.closed) {
        this.options.events?.emit({ kind: 'ros-disconnected', robot: this.options.name, url: this.url });
        for (const listener of this.connectionListeners) listener(false);
      }
    }
    if (this.closed || this.options.reconnect === false || this.reconnectTimer !== undefined) return;
    // Backoff so that a robot that is powered off is not hammered, capped so recovery is quick.
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.dial();
    }, this.reconnectDelay);
    this.reconnectTimer.unref();
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
  }

  /**
   * Runs `arm(done)` and resolves when it calls `done()` (rejects when it calls `done(error)`),
   * rejecting on timeout, on close, on the robot's abort signal and on the caller's `callerSignal`.
   * `arm` returns its own cleanup.
   */
  private waitFor(
    timeoutMs: number,
    what: string,
    arm: (done: (error?: Error) => void) => () => void,
    callerSignal?: AbortSignal,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const signals = [this.options.signal?.(), callerSignal].filter(
        (s): s is AbortSignal => s !== undefined,
      );
      let cleanup: () => void = () => {};
      const finish = (error?: Error) => {
        clearTimeout(timer);
        for (const signal of signals) signal.removeEventListener('abort', onAbort);
        cleanup();
        if (error) reject(error);
        else resolve();
      };
      const onAbort = () => {
        const reason: unknown = signals.find((signal) => signal.aborted)?.reason;
        finish(reason instanceof Error ? reason : new Error(String(reason)));
      };
      const timer = setTimeout(
        () => finish(new TimeoutError(`robot ${this.options.name}: no ${what} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      if (signals.some((signal) => signal.aborted)) return onAbort();
      for (const signal of signals) signal.addEventListener('abort', onAbort, { once: true });
      cleanup = arm((error) => finish(error));
    });
  }
}
