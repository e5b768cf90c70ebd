import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import createDebug from 'debug';
import { RobotUnreachableError } from '../../core/errors.ts';
import type { RobotEndpoints, RobotExit, RobotSpec, StartedRobotHost } from '../backend.ts';
import { routeRobotExit } from '../injected-cut.ts';
import { killGroup, ServiceProcess, withLogTail } from './service-process.ts';

/** What every embedded robot host shares. */
export interface EmbeddedHostContext {
  /** The bundled robot host entry (reference/robot-host). */
  entry: string;
  /** The bundled edge agent entry, when robots run one. */
  agentEntry?: string;
  /** Directory under the run dir where this robot's disk and logs live. */
  dir: string;
  /** Address the robot's servers bind to. */
  host: string;
  /** How long a boot may take until the robot host reports ready. */
  bootTimeoutMs: number;
}

/** The ready line a robot host writes to fd 3 once its servers listen. */
interface ReadyLine {
  event: 'ready';
  rosbridgePort: number;
}

/**
 * Models one embedded robot's power: the robot host is a {@link ServiceProcess}, so a power cut
 * is SIGKILL of its whole process group (the robot's software and its edge agent alike), and the
 * lifeline powers the robot off if the harness goes away.
 */
export class EmbeddedRobotHost implements StartedRobotHost {
  private readonly log;
  private readonly process: ServiceProcess<ReadyLine>;
  private stopped = false;
  private port = 0;
  private disk: { release(): Promise<void> } | undefined;
  readonly logPath: string;
  private readonly diskDir: string;
  private readonly stateFile: string;
  private readonly deathListeners = new Set<(exit: RobotExit) => void>();
  private readonly powerCutListeners = new Set<(where: string) => void>();

  private constructor(
    private readonly spec: RobotSpec,
    private readonly context: EmbeddedHostContext,
  ) {
    this.log = createDebug(`fleetdrill:robot:${spec.id}`);
    this.logPath = join(context.dir, 'console.log');
    this.diskDir = join(context.dir, 'disk');
    // Physical state (pose, charge) lives outside the disk: a power cut does not move the robot.
    this.stateFile = join(context.dir, 'physics.json');
    this.process = new ServiceProcess<ReadyLine>({
      logPath: this.logPath,
      bootTimeoutMs: context.bootTimeoutMs,
      validateReady: (line) => {
        const ready = line as ReadyLine;
        if (ready.event !== 'ready' || !Number.isInteger(ready.rosbridgePort))
          throw new Error('bad ready line');
        return ready;
      },
      startError: (message, tail) =>
        new RobotUnreachableError(this.id, withLogTail(`robot host ${message}`, this.id, tail)),
    });
    this.process.onUnexpectedExit((exit) =>
      routeRobotExit(exit, {
        diskPath: this.diskDir,
        note: (what) => this.process.note(what),
        log: this.log,
        onInjectedCut: this.powerCutListeners,
        onDeath: this.deathListeners,
      }),
    );
  }

  /** Creates the robot's disk and powers it on. */
  static async start(spec: RobotSpec, context: EmbeddedHostContext): Promise<EmbeddedRobotHost> {
    const host = new EmbeddedRobotHost(spec, context);
    await mkdir(host.diskDir, { recursive: true });
    try {
      host.disk = await spec.software.prepareDisk?.(host.diskDir);
      await host.powerOn();
    } catch (error) {
      await host.stop().catch(() => {});
      throw error;
    }
    return host;
  }

  get id(): string {
    return this.spec.id;
  }

  get powered(): boolean {
    return this.process.running;
  }

  get endpoints(): RobotEndpoints {
    return {
      rosbridge: `ws://${this.context.host}:${this.port}`,
      upstream: `${this.context.host}:${this.port}`,
    };
  }

  /** The robot's disk as a power-cut survivor sees it. */
  get diskPath(): string {
    return this.diskDir;
  }

  onUnexpectedExit(listener: (exit: RobotExit) => void): void {
    this.deathListeners.add(listener);
  }

  onInjectedPowerCut(listener: (where: string) => void): void {
    this.powerCutListeners.add(listener);
  }

  async powerOn(): Promise<void> {
    if (this.stopped) throw new RobotUnreachableError(this.id, 'cannot power on a stopped robot');
    if (this.process.running) return;
    const { spec, context } = this;
    const args = [
      context.entry,
      `--id=${spec.id}`,
      `--world=${spec.worldPath}`,
      `--seed=${spec.seed}`,
      `--rtf=${spec.rtf}`,
      `--spawn-index=${spec.index}`,
      `--disk=${this.diskDir}`,
      `--state-file=${this.stateFile}`,
      `--host=${context.host}`,
      // The same port after every power-on, as a real robot keeps its address.
      `--port=${this.port}`,
      `--factory=${spec.software.factoryArtifact}`,
      `--bootlimit=${spec.software.bootlimit}`,
      `--boot-deadline-ms=${spec.software.bootDeadlineMs}`,
      `--ota-client=${spec.software.otaClient}`,
      // The harness only ever switches power on: every boot it starts is a cold one.
      '--reset=power-on',
      ...(spec.agent && context.agentEntry
        ? [
            `--agent-entry=${context.agentEntry}`,
            `--agent=${JSON.stringify({ ...spec.agent.settings, cloudUrl: spec.agent.cloudUrl })}`,
          ]
        : []),
    ];
    const env = {
      ...process.env,
      FLEETDRILL_ROBOT_ID: spec.id,
      FLEETDRILL_HARNESS_PID: String(process.pid),
      FLEETDRILL_ROLE: 'robot-host',
    };
    const ready = await this.process.start(args, env, 'power on');
    this.port = ready.rosbridgePort;
    this.log('powered on, pid %d, rosbridge %s', this.process.pid, this.endpoints.rosbridge);
  }

  async powerCut(): Promise<void> {
    await this.process.kill('power cut');
  }

  async shutdown(): Promise<void> {
    await this.process.shutdown();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.shutdown();
    } finally {
      await this.disk?.release();
    }
  }

  logTail(lines = 20): string[] {
    return this.process.logTail(lines);
  }

  /** SIGSTOP of the robot's whole process group: every process stops where it is. */
  freeze(): Promise<void> {
    killGroup(this.process.pid, 'SIGSTOP');
    this.process.note('frozen');
    return Promise.resolve();
  }

  thaw(): Promise<void> {
    killGroup(this.process.pid, 'SIGCONT');
    this.process.note('thawed');
    return Promise.resolve();
  }
}
