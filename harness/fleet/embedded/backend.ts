import type { IssuedIdentity } from '../../../reference/fleet-pki/index.ts';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RobotSpec, StartedCloudHost, StartedRobotBackend, StartedRobotHost } from '../backend.ts';
import { RobotHost, robotFiles } from '../host/index.ts';
import { ensureBundle } from './bundle.ts';
import { startEmbeddedCloud } from './cloud-process.ts';
import { processSupply } from './process-supply.ts';

/** Options of the embedded backend. */
export interface EmbeddedBackendOptions {
  /** The run dir; each robot gets a subdirectory. */
  runDir: string;
  /** Address robots bind to (default 127.0.0.1). */
  host?: string;
  /** How long a robot host's boot may go without progress (default 20 s). */
  bootTimeoutMs?: number;
  /** Robots the fleet boots together (default 1): the total a boot may take grows with it. */
  robots?: number;
  /** Whether robots run the edge agent and a fleet cloud is started. */
  telemetry?: boolean;
}

/** The bundled entry points the embedded backend starts. */
interface Entries {
  robotHost: string;
  agent?: string;
  cloud?: string;
}

/**
 * The bundles the embedded backend starts, as ensureBundle's arguments: the qualification records
 * the software under test from the same files.
 */
export const EMBEDDED_BUNDLES = {
  robotHost: ['reference/robot-host/main.ts', 'robot-host', []],
  agent: ['reference/edge-agent/main.ts', 'edge-agent', []],
  // A native module cannot be bundled: the bundle loads it from node_modules.
  cloud: ['reference/fleet-cloud/main.ts', 'fleet-cloud', ['better-sqlite3']],
} as const satisfies Record<string, readonly [string, string, readonly string[]]>;

/** Robots as child processes on this machine: no Docker needed. */
export class EmbeddedBackend {
  constructor(private readonly options: EmbeddedBackendOptions) {}

  async start(): Promise<StartedEmbeddedBackend> {
    const [robotHost, agent, cloud] = await Promise.all([
      ensureBundle(...EMBEDDED_BUNDLES.robotHost),
      this.options.telemetry ? ensureBundle(...EMBEDDED_BUNDLES.agent) : undefined,
      this.options.telemetry ? ensureBundle(...EMBEDDED_BUNDLES.cloud) : undefined,
    ]);
    return new StartedEmbeddedBackend({ robotHost, agent, cloud }, this.options);
  }
}

export class StartedEmbeddedBackend implements StartedRobotBackend {
  readonly name = 'embedded';

  constructor(
    private readonly entries: Entries,
    private readonly options: EmbeddedBackendOptions,
  ) {}

  async startRobot(spec: RobotSpec): Promise<StartedRobotHost> {
    const dir = join(this.options.runDir, spec.id);
    await mkdir(dir, { recursive: true });
    const files = robotFiles(dir);
    const supply = processSupply(spec, files, {
      entry: this.entries.robotHost,
      agentEntry: this.entries.agent,
      host: this.options.host ?? '127.0.0.1',
      bootTimeoutMs: this.options.bootTimeoutMs ?? 20_000,
      fleetSize: this.options.robots,
    });
    return RobotHost.start(spec, files, supply);
  }

  async startCloud(options: { identity?: IssuedIdentity } = {}): Promise<StartedCloudHost> {
    if (!this.entries.cloud)
      throw new Error('embedded backend started without telemetry: no fleet cloud to start');
    return startEmbeddedCloud({
      entry: this.entries.cloud,
      dir: join(this.options.runDir, 'cloud'),
      host: this.options.host ?? '127.0.0.1',
      bootTimeoutMs: this.options.bootTimeoutMs ?? 20_000,
      identity: options.identity,
    });
  }

  async stop(): Promise<void> {
    // Robots and the cloud are stopped by the fleet; the backend holds nothing else.
  }
}
