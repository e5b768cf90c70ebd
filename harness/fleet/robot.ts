import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OTA_SERVICES, type ArmedFault } from '../../protocol/power-cut.ts';
import { CLOCK_FILE, type RobotClockFile } from '../../protocol/robot-clock.ts';
import { ConfigError, RobotDiedError, RobotUnreachableError, TimeoutError } from '../core/errors.ts';
import { EdgeAgentHandle } from './clients/agent.ts';
import type { EventBus } from '../core/events.ts';
import { RosClient, type CallbackError } from '../ros/client.ts';
import {
  ROBOT_SERVICES,
  ROBOT_TOPICS,
  quaternionFromYaw,
  yawOf,
  type Collision,
  type GetVersionResponse,
  type GoalStatus,
  type LaserScan,
  type Odometry,
  type TriggerResponse,
} from '../ros/messages.ts';
import { obstacleInCorridor } from '../ros/scan.ts';
import { TopicProbe, type TopicProbeOptions } from '../ros/probe.ts';
import { forTopic } from '../ros/wait.ts';
import type { NetworkCable, RobotExit, RobotSpec, StartedRobotHost } from './backend.ts';
import { describeExit } from './backend.ts';
import { withLogTail } from './host/index.ts';
import { BOUNDED_BY_PROGRESS_MS, waitWhileProgressing } from './readiness.ts';

/** A robot's pose in the world frame. */
export interface Pose2D {
  x: number;
  y: number;
  yaw: number;
}

/** What a robot's hardware lets a drill do to it beyond driving it. */
export const ROBOT_CAPABILITIES = ['power-cut', 'freeze', 'disconnect'] as const;

/**
 * One thing a robot's hardware lets a drill do: cut its power, freeze it, take it off the
 * network (`disconnect`: its supply's own cable, or the fault layer's proxies for every link).
 */
export type RobotCapability = (typeof ROBOT_CAPABILITIES)[number];

/** Why a robot counts as ready: rosbridge answers and /odom arrives at its nominal rate. */
export function odomReadiness(rtf: number) {
  const nominal = ROBOT_TOPICS.odom.hz * rtf;
  return forTopic(ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, { minHz: 0.8 * nominal });
}

/**
 * A started robot as drills see it: its real interfaces (rosbridge through `ros`), its power
 * switch and its log. The ROS link reconnects by itself across power cycles and network faults.
 */
export class Robot {
  private aborter = new AbortController();
  private deathListeners = new Set<(error: RobotDiedError) => void>();
  // A second client straight to the robot, not behind its proxy: opened on first use.
  private truth: RosClient | undefined;
  private readonly agentHandle: EdgeAgentHandle | undefined;
  private readonly powerCutWaiters = new Set<(where: string) => void>();
  private readonly cable: NetworkCable | undefined;
  /** What this robot's hardware lets a drill do to it. */
  readonly capabilities: ReadonlySet<RobotCapability>;

  private constructor(
    readonly spec: RobotSpec,
    private readonly host: StartedRobotHost,
    readonly ros: RosClient,
    private readonly events: EventBus | undefined,
    faultLayerCable: NetworkCable | undefined,
  ) {
    // The supply's own cable is the real thing; the fault layer's stands in where there is none.
    this.cable = host.cable ?? faultLayerCable;
    // Every supply cuts power and freezes (ServiceRuntime); a cable is opt-in.
    this.capabilities = new Set<RobotCapability>([
      'power-cut',
      'freeze',
      ...(this.cable ? ['disconnect' as const] : []),
    ]);
    host.onUnexpectedExit((exit) => this.handleDeath(exit));
    host.onInjectedPowerCut((where) => {
      this.events?.emit({ kind: 'power-cut', robot: this.id, injectedAt: where });
      for (const waiter of this.powerCutWaiters) waiter(where);
      this.powerCutWaiters.clear();
    });
    if (spec.agent) this.agentHandle = new EdgeAgentHandle(spec.id, ros, host);
  }

  /** The robot's edge agent, reached over the robot's rosbridge (so through its link). */
  get agent(): EdgeAgentHandle {
    if (!this.agentHandle) {
      throw new ConfigError('telemetry', `is off: robot ${this.id} runs no edge agent (set fleet.telemetry)`);
    }
    return this.agentHandle;
  }

  /** Connects to a started host and waits until the robot is ready (see {@link waitUntilReady}). */
  static async attach(
    spec: RobotSpec,
    host: StartedRobotHost,
    options: {
      events?: EventBus;
      /** The idle window of the wait for rosbridge and /odom after the host's ready line. */
      readyTimeoutMs: number;
      /** Robots coming up together with this one, which stretches the total the wait may take. */
      fleetSize?: number;
      /** Where the harness reaches rosbridge (the robot's proxy); default the robot itself. */
      rosbridge?: string;
      /** Pulls the robot's cable in the fault layer, when its power supply has no cable of its own. */
      cable?: NetworkCable;
    },
  ): Promise<Robot> {
    // The client needs the robot's abort signal, and the robot needs the client: break the cycle.
    const holder: { robot?: Robot } = {};
    // Dialled at once, waited for under the robot's progress deadline with /odom.
    const ros = RosClient.open(options.rosbridge ?? host.endpoints.rosbridge, {
      name: spec.id,
      events: options.events,
      signal: () => holder.robot?.aborter.signal,
    });
    const robot = new Robot(spec, host, ros, options.events, options.cable);
    holder.robot = robot;
    try {
      await robot.waitUntilReady(options.readyTimeoutMs, { together: options.fleetSize });
    } catch (error) {
      ros.close();
      throw error;
    }
    return robot;
  }

  get id(): string {
    return this.spec.id;
  }

  /** The rosbridge URL the harness uses: through the robot's proxy, so faults apply to it. */
  get rosbridgeUrl(): string {
    return this.ros.url;
  }

  /** The robot's own rosbridge URL, bypassing the fault layer. */
  get directRosbridgeUrl(): string {
    return this.host.endpoints.rosbridge;
  }

  /**
   * The robot's pose as the simulation knows it, over a link no fault touches: what a Wi-Fi map
   * needs to decide where the robot is, even while the robot's own link is dead. Returns the
   * unsubscribe function.
   */
  onTruePose(
    listener: (pose: { x: number; y: number; yaw: number; receivedAt: number }) => void,
  ): () => void {
    this.truth ??= RosClient.open(this.host.endpoints.rosbridge, {
      name: `${this.id}-truth`,
      signal: () => this.aborter.signal,
    });
    const subscription = this.truth.subscribe<Odometry>(
      ROBOT_TOPICS.odom.name,
      ROBOT_TOPICS.odom.type,
      (odom) => {
        const { position, orientation } = odom.pose.pose;
        listener({ x: position.x, y: position.y, yaw: yawOf(orientation), receivedAt: performance.now() });
      },
    );
    return () => subscription.unsubscribe();
  }

  get logPath(): string {
    return this.host.logPath;
  }

  /** The robot's disk (slots, boot environment, the agent's store), for oracles that read it. */
  get diskPath(): string {
    return this.host.diskPath;
  }

  /**
   * Arms a power cut at a point of the robot's next update (its OTA client's state scripts),
   * for Download and ArtifactInstall once `afterBytes` are on the disk; it survives reboots until
   * it fires. Resolve the cut with {@link waitForInjectedPowerCut}.
   */
  async armPowerCut(fault: { at: ArmedFault['at']; afterBytes?: number | undefined }): Promise<void> {
    const { name, type } = OTA_SERVICES.armPowerCut;
    // The request as ArmPowerCut.srv types it: ROS field names, 0 bytes for "at once".
    const request: ArmedFault = { at: fault.at, after_bytes: fault.afterBytes ?? 0 };
    const answer = await this.ros.callService<TriggerResponse>(name, type, request, { timeoutMs: 5_000 });
    if (!answer.success) throw new ConfigError('fault', `robot ${this.id}: ${answer.message}`);
    this.events?.emit({
      kind: 'power-cut-armed',
      robot: this.id,
      at: fault.at,
      afterBytes: request.after_bytes,
    });
  }

  /** Takes back every power cut armed on the robot that has not fired. */
  async disarmPowerCuts(): Promise<void> {
    const { name, type } = OTA_SERVICES.disarmPowerCuts;
    await this.ros.callService<TriggerResponse>(name, type, {}, { timeoutMs: 5_000 });
    this.events?.emit({ kind: 'power-cuts-disarmed', robot: this.id });
  }

  /** Resolves with where the next injected power cut hit, once the robot is down. */
  waitForInjectedPowerCut(timeoutMs = 60_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.powerCutWaiters.delete(done);
        reject(new TimeoutError(`robot ${this.id}: no injected power cut within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (where: string): void => {
        clearTimeout(timer);
        resolve(where);
      };
      this.powerCutWaiters.add(done);
    });
  }

  /** What the running software says it is (/get_version). */
  async version(timeoutMs = 5_000): Promise<GetVersionResponse> {
    const { name, type } = ROBOT_SERVICES.getVersion;
    return this.ros.callService<GetVersionResponse>(name, type, {}, { timeoutMs });
  }

  get powered(): boolean {
    return this.host.powered;
  }

  logTail(lines?: number): string[] {
    return this.host.logTail(lines);
  }

  /** Called once if the robot dies without being asked to. */
  onDeath(listener: (error: RobotDiedError) => void): void {
    this.deathListeners.add(listener);
  }

  /**
   * Waits for rosbridge and /odom at rate. `idleMs` is an idle window, as a boot's: the wait fails,
   * naming the robot with its log tail, once the robot's console and CPU time show no progress for
   * that long; while they grow it goes on, up to a total that grows with `together` (robots coming
   * up at once) and the machine's load (readiness.ts). A rosbridge that never answers is
   * RobotUnreachableError, /odom too slow or absent a TimeoutError.
   */
  async waitUntilReady(idleMs: number, options: { together?: number } = {}): Promise<void> {
    const limits = { idleMs, fleetSize: options.together, since: 'the wait began' };
    const tail = () => this.host.logTail(15);
    await waitWhileProgressing({ limits, probes: this.host.progressProbes('host') }, async (signal) => {
      try {
        await this.ros.waitUntilConnected(BOUNDED_BY_PROGRESS_MS, signal);
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
        const message = `no rosbridge answer at ${this.ros.url}; ${error.message}`;
        throw new RobotUnreachableError(this.id, withLogTail(message, this.id, tail()), { cause: error });
      }
      try {
        await odomReadiness(this.spec.rtf).waitUntilReady(this.ros, BOUNDED_BY_PROGRESS_MS, signal);
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
        throw new TimeoutError(withLogTail(`robot ${this.id}: ${error.message}`, this.id, tail()));
      }
    });
  }

  /** Cuts the power: every process on the robot gets SIGKILL, the disk stays as it is. */
  async powerCut(): Promise<void> {
    this.events?.emit({ kind: 'power-cut', robot: this.id });
    await this.host.powerCut();
  }

  /**
   * Powers the robot on and waits until it is ready again; `readyTimeoutMs` is the idle window of
   * that wait (default 20 s), `together` how many robots come up at once (see {@link waitUntilReady}).
   */
  async powerOn(options: { readyTimeoutMs?: number; together?: number } = {}): Promise<void> {
    this.aborter = new AbortController();
    this.events?.emit({ kind: 'power-on', robot: this.id });
    await this.host.powerOn();
    await this.waitUntilReady(options.readyTimeoutMs ?? 20_000, { together: options.together });
  }

  /** Freezes the robot where it stands: every process stops, nothing answers (a hung computer). */
  async freeze(): Promise<void> {
    this.events?.emit({ kind: 'robot-frozen', robot: this.id });
    await this.host.freeze();
  }

  /** Lets a frozen robot run on from where it stopped. */
  async thaw(): Promise<void> {
    await this.host.thaw();
    this.events?.emit({ kind: 'robot-thawed', robot: this.id });
  }

  /**
   * Takes the robot off the network entirely, as a pulled cable: every connection it has ends
   * and none gets through until {@link reconnectNetwork}. Needs the `disconnect` capability.
   */
  async disconnectNetwork(): Promise<void> {
    const cable = this.cableOrThrow();
    this.events?.emit({ kind: 'network-disconnected', robot: this.id });
    await cable.disconnect();
  }

  async reconnectNetwork(): Promise<void> {
    await this.cableOrThrow().reconnect();
    this.events?.emit({ kind: 'network-reconnected', robot: this.id });
  }

  private cableOrThrow(): NetworkCable {
    if (!this.cable) {
      throw new ConfigError(
        'capability',
        `'disconnect': robot ${this.id} has no network cable to pull (its power supply has none and no fault layer carries its links)`,
      );
    }
    return this.cable;
  }

  /** An orderly shutdown followed by power-on. */
  async reboot(options: { readyTimeoutMs?: number; together?: number } = {}): Promise<void> {
    this.events?.emit({ kind: 'robot-shutdown', robot: this.id });
    await this.host.shutdown();
    await this.powerOn(options);
  }

  /** Starts a probe on one of the robot's topics. */
  probe(topic: string, type: string, options: TopicProbeOptions = {}): TopicProbe {
    return new TopicProbe(this.ros, topic, type, { rtf: this.spec.rtf, ...options }).start();
  }

  /** The robot's current pose, from its next /odom message. */
  async pose(timeoutMs = 5_000): Promise<Pose2D> {
    const odom = await this.ros.waitForMessage<Odometry>(ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, {
      timeoutMs,
    });
    const { position, orientation } = odom.pose.pose;
    return { x: position.x, y: position.y, yaw: yawOf(orientation) };
  }

  /**
   * Sets the robot's wall clock, as its software sees it (protocol/robot-clock.ts): `at` a time
   * (1970 for a robot without an RTC battery), or `null` for the right time, as NTP would set it.
   * Its edge agent reads it on its next request; the robot's simulation keeps its own sim time.
   */
  async setClock(at: Date | null): Promise<void> {
    const path = join(this.host.stateDir, CLOCK_FILE);
    const file: RobotClockFile = { offsetMs: at === null ? 0 : at.getTime() - Date.now() };
    // Replaced whole, so the agent never reads half a file.
    await writeFile(`${path}.tmp`, JSON.stringify(file));
    await rename(`${path}.tmp`, path);
    this.events?.emit({ kind: 'robot-clock', robot: this.id, at: at === null ? 'synced' : at.toISOString() });
  }

  /**
   * Whether the robot can drive straight `ahead` metres forward and `behind` metres back from
   * where it stands, by its next /scan: nothing within its width (0.25 m radius and as much
   * margin) along the way.
   */
  async hasRoomToDrive(ahead: number, behind = 0, timeoutMs = 5_000): Promise<boolean> {
    const scan = await this.ros.waitForMessage<LaserScan>(ROBOT_TOPICS.scan.name, ROBOT_TOPICS.scan.type, {
      timeoutMs,
    });
    return obstacleInCorridor(scan, { ahead, behind, halfWidth: 0.5 }) === undefined;
  }

  /**
   * Drives straight ahead at `linear` m/s, commanding it every 50 ms, until the robot reports a
   * collision on /bumper; resolves with it. The robot stops by itself once the commands end.
   */
  async driveUntilCollision(linear: number, timeoutMs = 15_000): Promise<Collision> {
    const bumped = this.ros.waitForMessage<Collision>(ROBOT_TOPICS.bumper.name, ROBOT_TOPICS.bumper.type, {
      timeoutMs,
      description: `${this.id} hitting something`,
    });
    const drive = setInterval(() => this.drive(linear, 0), 50);
    try {
      return await bumped;
    } finally {
      clearInterval(drive);
    }
  }

  /** Waits until the robot's sim clock (its /odom stamps) reaches `seconds`; resolves with it. */
  async waitForSimTime(seconds: number, timeoutMs = 60_000): Promise<number> {
    const odom = await this.ros.waitForMessage<Odometry>(ROBOT_TOPICS.odom.name, ROBOT_TOPICS.odom.type, {
      timeoutMs,
      predicate: (message) => message.header.stamp.sec + message.header.stamp.nanosec / 1e9 >= seconds,
      description: `sim time ${seconds} s`,
    });
    return odom.header.stamp.sec + odom.header.stamp.nanosec / 1e9;
  }

  /** Commands a velocity once (the robot stops by itself after 0.5 s without commands). */
  drive(linear: number, angular: number): boolean {
    return this.ros.publish(ROBOT_TOPICS.cmdVel.name, ROBOT_TOPICS.cmdVel.type, {
      linear: { x: linear, y: 0, z: 0 },
      angular: { x: 0, y: 0, z: angular },
    });
  }

  /**
   * Sends a navigation goal and resolves with its final status (succeeded, aborted or canceled).
   * Rejects with a TimeoutError if the goal is still running after `timeoutMs`.
   */
  async goTo(goal: Pose2D, options: { timeoutMs?: number } = {}): Promise<GoalStatus> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const done = this.ros.waitForMessage<GoalStatus>(
      ROBOT_TOPICS.goalStatus.name,
      ROBOT_TOPICS.goalStatus.type,
      {
        timeoutMs,
        predicate: (status) => status.status !== 'active',
        description: `goal (${goal.x}, ${goal.y}) to finish`,
      },
    );
    // Subscribing is asynchronous on the server side; give it a moment before the goal goes out.
    await new Promise((resolve) => setTimeout(resolve, 50));
    this.ros.publish(ROBOT_TOPICS.goalPose.name, ROBOT_TOPICS.goalPose.type, {
      header: { stamp: { sec: 0, nanosec: 0 }, frame_id: 'map' },
      pose: { position: { x: goal.x, y: goal.y, z: 0 }, orientation: quaternionFromYaw(goal.yaw) },
    });
    return done;
  }

  /** Calls a std_srvs/Trigger service such as /estop. */
  async trigger(service: keyof typeof ROBOT_SERVICES, timeoutMs = 5_000): Promise<TriggerResponse> {
    const { name, type } = ROBOT_SERVICES[service];
    return this.ros.callService<TriggerResponse>(name, type, {}, { timeoutMs });
  }

  /**
   * Exceptions thrown by callbacks on this robot's links (its own and the ground-truth one) that
   * no probe or wait has reported; the list is emptied. The fixtures fail the drill with them.
   */
  takeUnreportedCallbackErrors(): CallbackError[] {
    return [
      ...this.ros.takeUnreportedCallbackErrors(),
      ...(this.truth?.takeUnreportedCallbackErrors() ?? []),
    ];
  }

  /** Closes the harness's link to the robot (the robot itself is stopped by its host). */
  detach(): void {
    this.ros.close();
    this.truth?.close();
    this.truth = undefined;
  }

  private handleDeath(exit: RobotExit): void {
    const error = new RobotDiedError(this.id, describeExit(exit), this.host.logTail(15));
    this.events?.emit({ kind: 'robot-died', robot: this.id, exit: describeExit(exit) });
    this.aborter.abort(error);
    for (const listener of this.deathListeners) listener(error);
  }
}
