import type { BackendName } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import type { OtaClientName } from '../../protocol/disk-layout.ts';
import type { StartedRobotBackend } from './backend.ts';
import { EmbeddedBackend } from './embedded/backend.ts';

/** What it takes to start a fleet's backend. */
export interface BackendStart {
  runDir: string;
  robots: number;
  seed: number;
  bootTimeoutMs: number;
  telemetry: boolean;
  /** A robot image of the user's instead of the reference robot's. */
  robotImage: string | undefined;
  /** Who updates the robots: a real client needs its disk on this machine's loop devices. */
  otaClient: OtaClientName;
  /** Docker engines to spread robots over; undefined: the backend's default. */
  dockerHosts?: readonly string[];
  /** The IPv4 address the run's servers listen on, on this machine (FleetOptions.listenAddress). */
  listenAddress: string;
}

/** Checks what a backend cannot do, then starts it. */
export type BackendFactory = (options: BackendStart) => Promise<StartedRobotBackend>;

/**
 * Every backend by the name `fleet.backend` gives it. A new backend is one entry here; the
 * `Record` makes the compiler ask for one per name in core/config.ts's BACKENDS.
 */
const BACKEND_FACTORIES: Readonly<Record<BackendName, BackendFactory>> = {
  embedded: async (options) => {
    if (options.robotImage) {
      throw new ConfigError('robotImage', 'needs the docker backend (this fleet runs on embedded)');
    }
    if (options.dockerHosts?.length) {
      throw new ConfigError('dockerHosts', 'needs the docker backend (this fleet runs on embedded)');
    }
    return new EmbeddedBackend({ ...options, host: options.listenAddress }).start();
  },
  docker: async (options) => {
    if (options.otaClient !== 'fleetdrill') {
      throw new ConfigError(
        'software.otaClient',
        `${options.otaClient} runs on the embedded backend only: its loop devices and mount namespaces are the host's (this fleet runs on docker)`,
      );
    }
    // Loaded on first use: testcontainers and dockerode cost every embedded worker ~1 s to load.
    const { DockerBackend } = await import('./docker/backend.ts');
    return new DockerBackend({ ...options, engines: options.dockerHosts }).start();
  },
};

/** The factory of the named backend; an unknown name is a ConfigError naming the known ones. */
export function backendFactory(name: string): BackendFactory {
  if (!Object.hasOwn(BACKEND_FACTORIES, name)) {
    throw new ConfigError(
      'backend',
      `must be one of ${Object.keys(BACKEND_FACTORIES).join(', ')}, got ${JSON.stringify(name)}`,
    );
  }
  return BACKEND_FACTORIES[name as BackendName];
}
