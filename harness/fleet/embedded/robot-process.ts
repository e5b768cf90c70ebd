import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import createDebug from 'debug';
import { onProcessExit } from '../../core/cleanup.ts';
import { RobotUnreachableError, TimeoutError } from '../../core/errors.ts';
import type { RobotEndpoints, RobotExit, RobotSpec, StartedRobotHost } from '../backend.ts';
import { describeExit } from '../backend.ts';

/** What every embedded robot host shares. */
export interface EmbeddedHostContext {
  /** The bundled robot host entry (fixtures/robot-host). */
  entry: string;
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

const SHUTDOWN_GRACE_MS = 5_000;

/**
 * Models one embedded robot's power. The robot host runs as its own process group (its own
 * session, so a Ctrl-C in the terminal does not reach it): a power cut is SIGKILL of the whole
 * group. Its stdin is a lifeline pipe: if the harness dies, even by SIGKILL, the pipe closes and
 * the robot powers itself off, so nothing outlives the run.
 */
export class EmbeddedRobotHost implements StartedRobotHost {
  private readonly log;
  private child: ChildProcess | undefined;
  private exited: Promise<RobotExit> | undefined;
  private expectingExit = false;
  private stopped = false;
  private port = 0;
  private readonly listeners = new Set<(exit: RobotExit) => void>();
  private unregisterExitHook: (() => void) | undefined;
  readonly logPath: string;
  private readonly diskDir: string;
  private readonly stateFile: string;

  private constructor(
    private readonly spec: RobotSpec,
    private readonly context: EmbeddedHostContext,
  ) {
    this.log = createDebug(`fleetdrill:robot:${spec.id}`);
    this.logPath = join(context.dir, 'console.log');
    this.diskDir = join(context.dir, 'disk');
    // Physical state (pose, charge) lives outside the disk: a power cut does not move the robot.
    this.stateFile = join(context.dir, 'physics.json');
  }

  /** Creates the robot's disk and powers it on. */
  static async start(spec: RobotSpec, context: EmbeddedHostContext): Promise<EmbeddedRobotHost> {
    const host = new EmbeddedRobotHost(spec, context);
    await mkdir(host.diskDir, { recursive: true });
    try {
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
    return this.child !== undefined;
  }

  get endpoints(): RobotEndpoints {
    return { rosbridge: `ws://${this.context.host}:${this.port}` };
  }

  onUnexpectedExit(listener: (exit: RobotExit) => void): void {
    this.listeners.add(listener);
  }

  async powerOn(): Promise<void> {
    if (this.stopped) throw new RobotUnreachableError(this.id, 'cannot power on a stopped robot');
    if (this.child) return;
    const logFd = openSync(this.logPath, 'a');
    writeSync(logFd, `--- ${new Date().toISOString()} power on ---\n`);
    const args = [
      '--enable-source-maps',
      this.context.entry,
      `--id=${this.spec.id}`,
      `--world=${this.spec.worldPath}`,
      `--seed=${this.spec.seed}`,
      `--rtf=${this.spec.rtf}`,
      `--spawn-index=${this.spec.index}`,
      `--disk=${this.diskDir}`,
      `--state-file=${this.stateFile}`,
      `--host=${this.context.host}`,
      // The same port after every power-on, as a real robot keeps its address.
      `--port=${this.port}`,
    ];
    const child = spawn(process.execPath, args, {
      detached: true,
      stdio: ['pipe', logFd, logFd, 'pipe'],
      env: { ...process.env, FLEETDRILL_ROBOT_ID: this.spec.id, FLEETDRILL_HARNESS_PID: String(process.pid) },
    });
    closeSync(logFd);
    this.child = child;
    this.expectingExit = false;
    const pid = child.pid;
    this.unregisterExitHook = onProcessExit(() => killGroup(pid, 'SIGKILL'));
    this.exited = new Promise<RobotExit>((resolve) => {
      child.once('exit', (code, signal) => {
        this.onExit(child, { code, signal });
        resolve({ code, signal });
      });
    });
    const ready = await this.waitForReady(child);
    this.port = ready.rosbridgePort;
    this.log('powered on, pid %d, rosbridge %s', pid, this.endpoints.rosbridge);
  }

  async powerCut(): Promise<void> {
    const { child, exited } = this;
    if (!child || !exited) return;
    this.expectingExit = true;
    killGroup(child.pid, 'SIGKILL');
    await exited;
    this.appendToLog('power cut');
  }

  async shutdown(): Promise<void> {
    const { child, exited } = this;
    if (!child || !exited) return;
    this.expectingExit = true;
    killGroup(child.pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), SHUTDOWN_GRACE_MS);
    await exited;
    clearTimeout(timer);
    // Whatever the robot host started and left behind goes with the power.
    killGroup(child.pid, 'SIGKILL');
    this.appendToLog('shutdown');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.shutdown();
  }

  logTail(lines = 20): string[] {
    try {
      return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines);
    } catch {
      return [];
    }
  }

  private onExit(child: ChildProcess, exit: RobotExit): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.unregisterExitHook?.();
    // The group may still hold processes the host started; power is off for all of them.
    killGroup(child.pid, 'SIGKILL');
    if (this.expectingExit) return;
    this.log('died: %s', describeExit(exit));
    for (const listener of this.listeners) listener(exit);
  }

  private waitForReady(child: ChildProcess): Promise<ReadyLine> {
    const timeoutMs = this.context.bootTimeoutMs;
    return new Promise<ReadyLine>((resolve, reject) => {
      const readyPipe = child.stdio[3] as Readable;
      let buffer = '';
      const fail = (message: string) => {
        cleanup();
        killGroup(child.pid, 'SIGKILL');
        const tail = this.logTail(15);
        reject(
          new RobotUnreachableError(
            this.id,
            `${message}${tail.length ? `\n--- last log lines of ${this.id} ---\n${tail.join('\n')}` : ''}`,
          ),
        );
      };
      const onData = (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        const newline = buffer.indexOf('\n');
        if (newline < 0) return;
        try {
          const line = JSON.parse(buffer.slice(0, newline)) as ReadyLine;
          if (line.event !== 'ready' || !Number.isInteger(line.rosbridgePort))
            throw new Error('bad ready line');
          cleanup();
          // The host writes its ready line once; close our end so it holds nothing open.
          readyPipe.destroy();
          resolve(line);
        } catch {
          fail(`robot host wrote a malformed ready line: ${buffer.slice(0, newline)}`);
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        fail(`robot host exited during boot (${describeExit({ code, signal })})`);
      const timer = setTimeout(
        () => fail(new TimeoutError(`robot host not ready within ${timeoutMs} ms`).message),
        timeoutMs,
      );
      const cleanup = () => {
        clearTimeout(timer);
        readyPipe.off('data', onData);
        child.off('exit', onExit);
      };
      readyPipe.on('data', onData);
      child.once('exit', onExit);
    });
  }

  private appendToLog(what: string): void {
    try {
      const fd = openSync(this.logPath, 'a');
      writeSync(fd, `--- ${new Date().toISOString()} ${what} ---\n`);
      closeSync(fd);
    } catch {
      /* the run dir may already be gone during teardown */
    }
  }
}

/** Signals a whole process group; a group that is already gone is fine. */
function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    /* ESRCH: nothing left to kill */
  }
}
