import type { RobotSpec } from '../backend.ts';
import { childCpuTimeProbe, logSizeProbe } from '../readiness.ts';
import {
  robotHostArgs,
  robotHostBoot,
  robotHostEnv,
  type PowerSupply,
  type RobotFiles,
  type RobotReadyLine,
} from '../host/index.ts';
import { ServiceProcess } from './service-process.ts';

/** What every embedded robot host shares. */
export interface EmbeddedHostContext {
  /** The bundled robot host entry (reference/robot-host). */
  entry: string;
  /** The bundled edge agent entry, when robots run one. */
  agentEntry?: string;
  /** Address the robot's servers bind to. */
  host: string;
  /** How long a boot may go without progress until the robot host is stuck. */
  bootTimeoutMs: number;
  /** Robots booting together, which stretches the total a boot may take. */
  fleetSize?: number;
}

/**
 * An embedded robot's power: the robot host is a {@link ServiceProcess}, so a power cut is SIGKILL
 * of its whole process group (the robot's software and its edge agent alike), a freeze is SIGSTOP
 * of it, and the lifeline powers the robot off if the harness goes away.
 */
export function processSupply(spec: RobotSpec, files: RobotFiles, context: EmbeddedHostContext): PowerSupply {
  // A VPN robot runs in its own namespace (`ip netns exec` execs node: same pid and group), with
  // rosbridge on the namespace's 127.0.0.1 at a fixed port, reached from here through the hub.
  const netns = spec.netns;
  const host = netns ? '127.0.0.1' : context.host;
  const runtime = new ServiceProcess<RobotReadyLine>({
    ...robotHostBoot(spec, {
      logPath: files.logPath,
      bootTimeoutMs: context.bootTimeoutMs,
      fleetSize: context.fleetSize,
      what: 'robot host',
    }),
    command: (previous) => [
      context.entry,
      ...robotHostArgs(spec, {
        world: spec.worldPath,
        factory: spec.software.factoryArtifact,
        disk: files.diskPath,
        stateDir: files.stateDir,
        host,
        // The same port after every power-on, as a real robot keeps its address.
        port: netns?.rosbridgePort ?? previous?.rosbridgePort ?? 0,
        agentEntry: context.agentEntry,
        realDisk: true,
      }),
    ],
    env: { ...process.env, ...robotHostEnv(spec), FLEETDRILL_HARNESS_PID: String(process.pid) },
    launcher: netns ? ['ip', 'netns', 'exec', netns.name] : undefined,
  });
  return {
    runtime,
    realDisk: true,
    // The agent is the robot host's child, started from the entry the harness handed the host.
    progressProbes: (part) =>
      part === 'host' || context.agentEntry === undefined
        ? runtime.progressProbes()
        : { log: logSizeProbe(files.logPath), cpu: childCpuTimeProbe(runtime.pid, context.agentEntry) },
    endpoints: (ready) =>
      netns
        ? { rosbridge: `ws://${netns.reach}`, upstream: netns.reach }
        : {
            rosbridge: `ws://${context.host}:${ready.rosbridgePort}`,
            upstream: `${context.host}:${ready.rosbridgePort}`,
          },
  };
}
