import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RobotSpec, StartedRobotBackend, StartedRobotHost } from '../backend.ts';
import { ensureBundle } from './bundle.ts';
import { EmbeddedRobotHost } from './robot-process.ts';

/** Options of the embedded backend. */
export interface EmbeddedBackendOptions {
  /** The run dir; each robot gets a subdirectory. */
  runDir: string;
  /** Address robots bind to (default 127.0.0.1). */
  host?: string;
  /** How long a robot host may take to boot (default 20 s). */
  bootTimeoutMs?: number;
}

/** Robots as child processes on this machine: no Docker needed. */
export class EmbeddedBackend {
  constructor(private readonly options: EmbeddedBackendOptions) {}

  async start(): Promise<StartedEmbeddedBackend> {
    const entry = await ensureBundle('fixtures/robot-host/main.ts', 'robot-host');
    return new StartedEmbeddedBackend(entry, this.options);
  }
}

export class StartedEmbeddedBackend implements StartedRobotBackend {
  readonly name = 'embedded';

  constructor(
    private readonly entry: string,
    private readonly options: EmbeddedBackendOptions,
  ) {}

  async startRobot(spec: RobotSpec): Promise<StartedRobotHost> {
    const dir = join(this.options.runDir, spec.id);
    await mkdir(dir, { recursive: true });
    return EmbeddedRobotHost.start(spec, {
      entry: this.entry,
      dir,
      host: this.options.host ?? '127.0.0.1',
      bootTimeoutMs: this.options.bootTimeoutMs ?? 20_000,
    });
  }

  async stop(): Promise<void> {
    // Robots are stopped by the fleet; the backend holds nothing else.
  }
}
