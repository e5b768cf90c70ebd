import { constants } from 'node:os';
import { PassThrough } from 'node:stream';
import createDebug from 'debug';
import type Dockerode from 'dockerode';
import { GenericContainer, type WaitStrategy } from 'testcontainers';
import { onProcessExit } from '../../core/cleanup.ts';
import { TimeoutError } from '../../core/errors.ts';
import { READY_PREFIX } from '../../../protocol/service-link.ts';
import { PRIVATE_NETNS_ENV } from '../../../protocol/listen-address.ts';
import type { RobotExit } from '../backend.ts';
import { describeExit } from '../backend.ts';
import { appendToLog, logMarker, readLogTail } from '../console-log.ts';
import type { ServiceBoot, ServiceRuntime } from '../host/index.ts';
import { logSizeProbe, watchBoot } from '../readiness.ts';
import { removeContainersNow } from './last-resort.ts';

const log = createDebug('fleetdrill:docker');

/** docker stop's grace before SIGKILL, as the embedded processes get. */
const SHUTDOWN_GRACE_S = 5;

/** What one service container is. */
export interface ServiceContainerOptions<Ready> extends ServiceBoot<Ready> {
  /** The engine. */
  docker: Dockerode;
  /** Image, command, network, mounts, ports: the container as testcontainers creates it. */
  container: FleetContainer;
  /**
   * Picks the ready line out of the console: the JSON text it carries, or undefined for any
   * other line. Default: a line starting with READY_PREFIX (protocol/service-link.ts).
   */
  readyText?: (line: string) => string | undefined;
  /**
   * The engine's URL when it is not testcontainers' own (DOCKER_HOST, else the default socket):
   * the container is then created through `docker` directly, and removed at exit with the CLI
   * pointed there.
   */
  engineUrl?: string;
}

/** A container's exit status as a process exit: 128 + n is "killed by signal n" (docker --init). */
function exitOf(status: number): RobotExit {
  if (status > 128) {
    const name = Object.entries(constants.signals).find(([, n]) => n === status - 128)?.[0];
    if (name) return { code: null, signal: name as NodeJS.Signals };
  }
  return { code: status, signal: null };
}

/**
 * One service (a robot, the fleet cloud, the fault layer) as a container: the docker analogue of
 * ServiceProcess. testcontainers creates and first starts it; later power-ons start the same
 * container again, with the same mounts, network and published ports. Its console is attached
 * before every start, so the log file holds every boot's output exactly once and the ready line
 * (READY_PREFIX on stdout) of this boot cannot be confused with an earlier one.
 */
export class ServiceContainer<Ready> implements ServiceRuntime<Ready> {
  private container: Dockerode.Container | undefined;
  private runningNow = false;
  private paused = false;
  private expectingExit = false;
  private exited: Promise<RobotExit> | undefined;
  private readonly listeners = new Set<(exit: RobotExit) => void>();
  private unregisterExitHook: (() => void) | undefined;
  // The boot in progress: the console hands it the ready line, the exit watcher its death.
  private boot: { resolve: (ready: Ready) => void; reject: (reason: string) => void } | undefined;

  constructor(private readonly options: ServiceContainerOptions<Ready>) {}

  /** The container's id once created. */
  get id(): string | undefined {
    return this.container?.id;
  }

  get running(): boolean {
    return this.runningNow;
  }

  get where(): string {
    return `container ${this.container?.id.slice(0, 12) ?? '(none)'}`;
  }

  onUnexpectedExit(listener: (exit: RobotExit) => void): void {
    this.listeners.add(listener);
  }

  /** Creates the container and starts it (first time), or starts it again; resolves when ready. */
  async start(banner = 'start'): Promise<Ready> {
    this.note(banner);
    const ready = this.expectReady();
    if (!this.container) await this.create(ready);
    else await this.restart();
    return ready;
  }

  /** SIGKILL of everything in the container, no cleanup: a power cut or a crash. */
  async kill(note = 'killed'): Promise<void> {
    if (!this.container || !this.runningNow) return;
    this.expectingExit = true;
    await this.thaw();
    await this.container.kill({ signal: 'SIGKILL' }).catch(ignoreNotRunning);
    await this.exited;
    this.note(note);
  }

  /** SIGTERM and time to finish, then SIGKILL: docker stop. */
  async shutdown(note = 'shutdown'): Promise<void> {
    if (!this.container || !this.runningNow) return;
    this.expectingExit = true;
    await this.thaw();
    await this.container.stop({ t: SHUTDOWN_GRACE_S }).catch(ignoreNotRunning);
    await this.exited;
    this.note(note);
  }

  /** docker pause: the cgroup freezer stops every process in the container (a hung robot). */
  async freeze(): Promise<void> {
    if (!this.container || this.paused) return;
    await this.container.pause();
    this.paused = true;
    this.note('paused');
  }

  async thaw(): Promise<void> {
    if (!this.container || !this.paused) return;
    await this.container.unpause();
    this.paused = false;
    this.note('unpaused');
  }

  /** Removes the container for good; idempotent. */
  async remove(): Promise<void> {
    const container = this.container;
    if (!container) return;
    this.expectingExit = true;
    await container.remove({ force: true, v: true }).catch((error: unknown) => {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    });
    this.container = undefined;
    this.runningNow = false;
    this.unregisterExitHook?.();
    this.unregisterExitHook = undefined;
  }

  logTail(lines = 20): string[] {
    return readLogTail(this.options.logPath, lines);
  }

  /** Writes a `--- <time> <what> ---` marker into the console log. */
  note(what: string): void {
    this.append(logMarker(what));
  }

  private append(text: string): void {
    appendToLog(this.options.logPath, text);
  }

  /**
   * The promise of this boot's ready line, failing on exit, or when the console stays silent for
   * the idle window, with the log's tail. Only the console counts as progress: a container's CPU
   * time would cost a stats call to the engine per robot per tick.
   */
  private expectReady(): Promise<Ready> {
    const { bootTimeoutMs, fleetSize, startError } = this.options;
    return new Promise<Ready>((resolve, reject) => {
      const watch = watchBoot({
        limits: { idleMs: bootTimeoutMs, fleetSize },
        probes: { log: logSizeProbe(this.options.logPath) },
        onOverdue: (reason) => fail(new TimeoutError(reason).message),
      });
      const fail = (reason: string): void => {
        watch.stop();
        this.boot = undefined;
        // A late flush of the console still belongs in the tail the error shows.
        setTimeout(() => reject(startError(reason, this.logTail(15))), 200);
      };
      this.boot = {
        resolve: (ready) => {
          watch.stop();
          this.boot = undefined;
          resolve(ready);
        },
        reject: fail,
      };
    });
  }

  /** The first start: testcontainers creates and starts it; the console attaches in between. */
  private async create(ready: Promise<Ready>): Promise<void> {
    const { docker, container } = this.options;
    container
      .onCreated(async (containerId) => {
        this.container = docker.getContainer(containerId);
        this.unregisterExitHook = onProcessExit(() =>
          removeContainersNow([containerId], this.options.engineUrl),
        );
        await this.attach(this.container);
      })
      .withWaitStrategy(new BootWait(() => ready.then(() => undefined)))
      .withStartupTimeout(this.options.bootTimeoutMs + 1_000);
    try {
      if (this.options.engineUrl) await container.startOn(docker);
      else await container.start();
    } catch (error) {
      // testcontainers removed the container when it failed to become ready.
      this.container = undefined;
      this.runningNow = false;
      this.unregisterExitHook?.();
      this.boot?.reject(`could not start: ${(error as Error).message}`);
    }
  }

  private async restart(): Promise<void> {
    const container = this.container!;
    await this.attach(container);
    try {
      await container.start();
    } catch (error) {
      this.runningNow = false;
      this.boot?.reject(`could not start: ${(error as Error).message}`);
    }
  }

  /**
   * Attaches to the console before a start: output goes to the log file, the ready line to the
   * boot in progress; and watches for the container's next exit.
   */
  private async attach(container: Dockerode.Container): Promise<void> {
    const { docker } = this.options;
    const stream = await container.attach({ stream: true, stdout: true, stderr: true, logs: false });
    const output = new PassThrough();
    docker.modem.demuxStream(stream, output, output);
    stream.on('end', () => output.end());
    let pending = '';
    output.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        const ready = (this.options.readyText ?? prefixedReadyText)(line);
        if (ready !== undefined) this.onReadyLine(ready);
        else this.append(`${line}\n`);
      }
    });
    output.on('end', () => {
      if (pending) this.append(`${pending}\n`);
    });
    this.expectingExit = false;
    this.runningNow = true;
    // Asked for before the start, so an exit right after it cannot be missed.
    this.exited = container
      .wait({ condition: 'next-exit' })
      .then((result: { StatusCode: number }) => exitOf(result.StatusCode))
      .catch((): RobotExit => ({ code: null, signal: 'SIGKILL' }))
      .then((exit) => {
        this.onExit(exit);
        return exit;
      });
  }

  private onReadyLine(text: string): void {
    if (!this.boot) return;
    try {
      this.boot.resolve(this.options.validateReady(JSON.parse(text)));
    } catch {
      this.boot.reject(`wrote a malformed ready line: ${text}`);
    }
  }

  private onExit(exit: RobotExit): void {
    this.runningNow = false;
    if (this.boot) {
      this.boot.reject(`exited during boot (${describeExit(exit)})`);
      return;
    }
    if (this.expectingExit) return;
    log('container %s exited: %s', this.container?.id.slice(0, 12), describeExit(exit));
    for (const listener of this.listeners) listener(exit);
  }
}

function prefixedReadyText(line: string): string | undefined {
  return line.startsWith(READY_PREFIX) ? line.slice(READY_PREFIX.length) : undefined;
}

/** A 404 or 304 (already gone, already stopped) is what a kill or stop wanted anyway. */
function ignoreNotRunning(error: unknown): void {
  const status = (error as { statusCode?: number }).statusCode;
  if (status !== 304 && status !== 404 && status !== 409) throw error;
}

/**
 * A testcontainers container definition as every fleet container needs it: docker's init as PID 1
 * (it reaps, forwards signals, and puts the entry point in its own process group, so that the
 * edge agent's injected power cut, a SIGKILL of that group, works as on the embedded robot), a
 * hook between create and start, and the word that its network namespace is the run's own: its
 * servers listen on the container's interface without warning, and only ports published on the
 * host's loopback reach them from the host (docs/security.md).
 */
export class FleetContainer extends GenericContainer {
  private createdHook: ((containerId: string) => Promise<void>) | undefined;

  constructor(image: string) {
    super(image);
    this.hostConfig.Init = true;
    this.withEnvironment({ [PRIVATE_NETNS_ENV]: '1' });
  }

  /**
   * Publishes a container port on one address of the engine's host, never on all of them by
   * Docker's default: the run's listen address (loopback unless the user chose another: the LAN
   * must not see a test robot), or where a link that crosses engines is reached
   * (docs/docker-engines.md). A fixed host port, so that it stays the same across power cycles.
   */
  publishOn(address: string, containerPort: number, hostPort: number): this {
    const key = `${containerPort}/tcp`;
    this.createOpts.ExposedPorts = { ...this.createOpts.ExposedPorts, [key]: {} };
    this.hostConfig.PortBindings = {
      ...this.hostConfig.PortBindings,
      [key]: [{ HostIp: address, HostPort: String(hostPort) }],
    };
    return this;
  }

  /**
   * Creates and starts the container on an engine that is not testcontainers' own (its client is
   * a process-wide singleton): the same definition, created through dockerode. Readiness is the
   * caller's, as it is with testcontainers' BootWait.
   */
  async startOn(docker: Dockerode): Promise<void> {
    const network = this.networkMode;
    const container = await docker.createContainer({
      ...this.createOpts,
      HostConfig: { ...this.hostConfig, NetworkMode: network },
      NetworkingConfig: network
        ? { EndpointsConfig: { [network]: { Aliases: this.networkAliases } } }
        : undefined,
    });
    try {
      await this.createdHook?.(container.id);
      await container.start();
    } catch (error) {
      await container.remove({ force: true }).catch(() => {});
      throw error;
    }
  }

  onCreated(hook: (containerId: string) => Promise<void>): this {
    this.createdHook = hook;
    return this;
  }

  protected override async containerCreated(containerId: string): Promise<void> {
    await this.createdHook?.(containerId);
  }
}

/** testcontainers' wait strategy for a ServiceContainer: the ready line on the console. */
class BootWait implements WaitStrategy {
  private timeoutMs = 60_000;

  constructor(private readonly ready: () => Promise<void>) {}

  async waitUntilReady(): Promise<void> {
    await this.ready();
  }

  withStartupTimeout(startupTimeoutMs: number): this {
    this.timeoutMs = startupTimeoutMs;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return true;
  }

  getStartupTimeout(): number {
    return this.timeoutMs;
  }
}
