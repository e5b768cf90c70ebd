import { join } from 'node:path';
import { writeIdentity } from '../../../reference/fleet-pki/index.ts';
import { IDENTITY_DIR } from '../../../protocol/disk-layout.ts';
import { mkdir } from 'node:fs/promises';
import createDebug from 'debug';
import { RobotUnreachableError, runAll } from '../../core/errors.ts';
import {
  hasNetworkCable,
  type NetworkCable,
  type RobotEndpoints,
  type RobotExit,
  type RobotPart,
  type RobotSpec,
  type StartedRobotHost,
} from '../backend.ts';
import { routeRobotExit } from '../injected-cut.ts';
import { logSizeProbe, type ProgressProbe } from '../readiness.ts';
import type { RobotFiles, RobotReadyLine } from './robot-contract.ts';
import type { ServiceRuntime } from './service-runtime.ts';

/**
 * What a robot host runs on: a process on this machine, a container, and later a worker thread
 * or another engine. Power-on starts the runtime (with the robot host's flags from
 * robot-contract.ts), a power cut kills it, a freeze stops it where it stands. A supply that can
 * also pull the robot's network cable implements {@link NetworkCable} as well.
 */
export interface PowerSupply {
  /** The robot host as a service under this supply. */
  readonly runtime: ServiceRuntime<RobotReadyLine>;
  /** Where the harness and the fault layer reach rosbridge, from the ready line of a boot. */
  endpoints(ready: RobotReadyLine): RobotEndpoints;
  /** Whether the robot's disk here can be a real one (`software.prepareDisk`, a real OTA client). */
  readonly realDisk: boolean;
  /**
   * What this supply can read of a part's progress, beyond the console log every supply has (a
   * process's CPU time); made afresh for each wait, since a power cycle changes the processes.
   */
  progressProbes?(part: RobotPart): Readonly<Record<string, ProgressProbe>>;
}

/**
 * One robot's hardware over a power supply: its disk, power switch, console log, and how it
 * went down (a death, or a drill's injected power cut). The same for every backend.
 */
export class RobotHost implements StartedRobotHost {
  private readonly log;
  private stopped = false;
  private ready: RobotReadyLine | undefined;
  private disk: { release(): Promise<void> } | undefined;
  private readonly deathListeners = new Set<(exit: RobotExit) => void>();
  private readonly powerCutListeners = new Set<(where: string) => void>();
  readonly logPath: string;
  readonly diskPath: string;
  readonly stateDir: string;
  readonly cable: NetworkCable | undefined;

  private constructor(
    private readonly spec: RobotSpec,
    private readonly supply: PowerSupply,
    files: RobotFiles,
  ) {
    this.log = createDebug(`fleetdrill:robot:${spec.id}`);
    this.logPath = files.logPath;
    this.diskPath = files.diskPath;
    this.stateDir = files.stateDir;
    this.cable = hasNetworkCable(supply) ? supply : undefined;
    supply.runtime.onUnexpectedExit((exit) =>
      routeRobotExit(exit, {
        diskPath: this.diskPath,
        note: (what) => supply.runtime.note(what),
        log: this.log,
        onInjectedCut: this.powerCutListeners,
        onDeath: this.deathListeners,
      }),
    );
  }

  /** Makes the robot's disk (and the real one, where the supply has it) and powers it on. */
  static async start(spec: RobotSpec, files: RobotFiles, supply: PowerSupply): Promise<RobotHost> {
    await mkdir(files.diskPath, { recursive: true });
    await mkdir(files.stateDir, { recursive: true });
    const host = new RobotHost(spec, supply, files);
    try {
      if (supply.realDisk) host.disk = await spec.software.prepareDisk?.(files.diskPath);
      // The robot's certificate is on its disk before its first boot, as a factory provisions it.
      if (spec.agent?.identity) await writeIdentity(join(files.diskPath, IDENTITY_DIR), spec.agent.identity);
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
    return this.supply.runtime.running;
  }

  get endpoints(): RobotEndpoints {
    if (!this.ready) throw new RobotUnreachableError(this.id, 'has not booted yet: no endpoints');
    return this.supply.endpoints(this.ready);
  }

  onUnexpectedExit(listener: (exit: RobotExit) => void): void {
    this.deathListeners.add(listener);
  }

  onInjectedPowerCut(listener: (where: string) => void): void {
    this.powerCutListeners.add(listener);
  }

  async powerOn(): Promise<void> {
    if (this.stopped) throw new RobotUnreachableError(this.id, 'cannot power on a stopped robot');
    const { runtime } = this.supply;
    if (runtime.running) return;
    this.ready = await runtime.start('power on');
    this.log('powered on, %s, rosbridge %s', runtime.where, this.endpoints.rosbridge);
  }

  async powerCut(): Promise<void> {
    await this.supply.runtime.kill('power cut');
  }

  async shutdown(): Promise<void> {
    await this.supply.runtime.shutdown();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // A supply that cannot shut down in order is removed all the same.
    await this.supply.runtime.shutdown().catch((error: unknown) => this.log('shutdown: %O', error));
    await runAll([() => this.supply.runtime.remove(), () => this.disk?.release()]);
  }

  logTail(lines = 20): string[] {
    return this.supply.runtime.logTail(lines);
  }

  progressProbes(part: RobotPart): Readonly<Record<string, ProgressProbe>> {
    // The agent writes to the robot's console too: the log is the one probe every supply has.
    return this.supply.progressProbes?.(part) ?? { log: logSizeProbe(this.logPath) };
  }

  async freeze(): Promise<void> {
    await this.supply.runtime.freeze();
  }

  async thaw(): Promise<void> {
    await this.supply.runtime.thaw();
  }
}
