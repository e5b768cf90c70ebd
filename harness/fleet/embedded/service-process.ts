import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { onProcessExit } from '../../core/cleanup.ts';
import { TimeoutError } from '../../core/errors.ts';
import type { RobotExit } from '../backend.ts';
import { describeExit } from '../backend.ts';
import { appendToLog, logMarker, readLogTail } from '../console-log.ts';
import type { ServiceBoot, ServiceRuntime } from '../host/index.ts';
import { cpuTimeProbe, logSizeProbe, watchBoot, type ProgressProbe } from '../readiness.ts';

const SHUTDOWN_GRACE_MS = 5_000;

/** How to run one service process. */
export interface ServiceProcessOptions<Ready> extends ServiceBoot<Ready> {
  /**
   * Node's arguments for a start (the entry first), given the ready line of the boot before, so a
   * service can keep the ports it had: every proxy points at them.
   */
  command: (previous: Ready | undefined) => readonly string[];
  /** The process's environment; default the harness's own. */
  env?: NodeJS.ProcessEnv;
  /**
   * A command that runs Node for it and execs it in place (`ip netns exec <netns>`), so the pid,
   * process group and lifeline are the service's own.
   */
  launcher?: readonly string[];
}

/**
 * One service (a robot host, the fleet cloud) as a process on this machine: its own process group
 * (its own session, so a Ctrl-C in the terminal does not reach it), so a kill is SIGKILL of
 * everything it started. Its stdin is a lifeline pipe: if the harness dies, even by SIGKILL, the
 * pipe closes and the service stops by itself, so nothing outlives the run. Once listening it
 * writes one JSON ready line to fd 3.
 */
export class ServiceProcess<Ready> implements ServiceRuntime<Ready> {
  private child: ChildProcess | undefined;
  private previous: Ready | undefined;
  private exited: Promise<RobotExit> | undefined;
  private expectingExit = false;
  private readonly listeners = new Set<(exit: RobotExit) => void>();
  private unregisterExitHook: (() => void) | undefined;

  constructor(private readonly options: ServiceProcessOptions<Ready>) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  get where(): string {
    return `pid ${String(this.child?.pid)}`;
  }

  /** The running process's id; undefined while it is down. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Its console log's size and the running process's CPU time: what its boot's deadline follows. */
  progressProbes(): Readonly<Record<string, ProgressProbe>> {
    return { log: logSizeProbe(this.options.logPath), cpu: cpuTimeProbe(this.child?.pid) };
  }

  /** Called when the process goes down without being asked to. */
  onUnexpectedExit(listener: (exit: RobotExit) => void): void {
    this.listeners.add(listener);
  }

  /** Starts the process and resolves with its ready line. */
  async start(banner = 'start'): Promise<Ready> {
    const logFd = openSync(this.options.logPath, 'a');
    writeSync(logFd, logMarker(banner));
    const [file, ...prefix] = [...(this.options.launcher ?? []), process.execPath];
    const child = spawn(file, [...prefix, '--enable-source-maps', ...this.options.command(this.previous)], {
      detached: true,
      stdio: ['pipe', logFd, logFd, 'pipe'],
      env: this.options.env ?? process.env,
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
    this.previous = await this.readReadyLine(child);
    return this.previous;
  }

  /** SIGKILL of the whole group, no cleanup: a power cut or a crash. */
  async kill(note = 'killed'): Promise<void> {
    const { child, exited } = this;
    if (!child || !exited) return;
    this.expectingExit = true;
    killGroup(child.pid, 'SIGKILL');
    await exited;
    this.note(note);
  }

  /** SIGTERM and time to finish, then SIGKILL for whatever is left in the group. */
  async shutdown(note = 'shutdown'): Promise<void> {
    const { child, exited } = this;
    if (!child || !exited) return;
    this.expectingExit = true;
    killGroup(child.pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), SHUTDOWN_GRACE_MS);
    await exited;
    clearTimeout(timer);
    killGroup(child.pid, 'SIGKILL');
    this.note(note);
  }

  /** SIGSTOP of the whole group: every process stops where it is. */
  freeze(): Promise<void> {
    killGroup(this.child?.pid, 'SIGSTOP');
    this.note('frozen');
    return Promise.resolve();
  }

  thaw(): Promise<void> {
    killGroup(this.child?.pid, 'SIGCONT');
    this.note('thawed');
    return Promise.resolve();
  }

  /** Nothing outlives the process: its exit hook and lifeline go with it. */
  remove(): Promise<void> {
    return Promise.resolve();
  }

  /** The last lines of the console log. */
  logTail(lines = 20): string[] {
    return readLogTail(this.options.logPath, lines);
  }

  /** Writes a `--- <time> <what> ---` marker into the console log. */
  note(what: string): void {
    appendToLog(this.options.logPath, logMarker(what));
  }

  private onExit(child: ChildProcess, exit: RobotExit): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.unregisterExitHook?.();
    // The group may still hold processes the service started; they go with it.
    killGroup(child.pid, 'SIGKILL');
    if (this.expectingExit) return;
    for (const listener of this.listeners) listener(exit);
  }

  private readReadyLine(child: ChildProcess): Promise<Ready> {
    const { bootTimeoutMs, fleetSize, validateReady, startError } = this.options;
    return new Promise<Ready>((resolve, reject) => {
      const readyPipe = child.stdio[3] as Readable;
      let buffer = '';
      const finish = (error: string | undefined, value?: Ready) => {
        watch.stop();
        readyPipe.off('data', onData);
        child.off('exit', onExit);
        // The ready line comes once; close our end so it holds nothing open.
        readyPipe.destroy();
        if (error === undefined) return resolve(value as Ready);
        killGroup(child.pid, 'SIGKILL');
        reject(startError(error, this.logTail(15)));
      };
      const onData = (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        const newline = buffer.indexOf('\n');
        if (newline < 0) return;
        const text = buffer.slice(0, newline);
        try {
          finish(undefined, validateReady(JSON.parse(text)));
        } catch {
          finish(`wrote a malformed ready line: ${text}`);
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        finish(`exited during boot (${describeExit({ code, signal })})`);
      const watch = watchBoot({
        limits: { idleMs: bootTimeoutMs, fleetSize },
        probes: this.progressProbes(),
        onOverdue: (reason) => finish(new TimeoutError(reason).message),
      });
      readyPipe.on('data', onData);
      child.once('exit', onExit);
    });
  }
}

/** Signals a whole process group; a group that is already gone is fine. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    /* ESRCH: nothing left to kill */
  }
}
