import { join } from 'node:path';
import { RobotUnreachableError } from '../../core/errors.ts';
import type { RobotSpec } from '../backend.ts';
import { withLogTail, type ServiceBoot } from './service-runtime.ts';

/**
 * The robot host's side of the image contract (reference/robot-host/main.ts, docs/docker-backend.md):
 * the flags it takes, the environment it reads and the ready line it writes. Every power supply
 * starts the robot host with these, so a user's image and the reference robot boot alike.
 */

/** The ready line a robot host writes once its servers listen. */
export interface RobotReadyLine {
  event: 'ready';
  rosbridgePort: number;
}

/** Checks a parsed ready line; throws on anything else. */
export function parseRobotReady(line: unknown): RobotReadyLine {
  const ready = line as RobotReadyLine;
  if (ready.event !== 'ready' || !Number.isInteger(ready.rosbridgePort)) throw new Error('bad ready line');
  return ready;
}

/** A robot's files in its run-dir folder, as the harness sees them. */
export interface RobotFiles {
  /** The robot's console log across power cycles. */
  logPath: string;
  /** The robot's disk: survives power cuts, read by oracles. */
  diskPath: string;
  /** Physical state (pose, charge) lives outside the disk: a power cut does not move the robot. */
  stateDir: string;
}

/** File name of the physical state in {@link RobotFiles.stateDir}. */
export const STATE_FILE = 'physics.json';

export function robotFiles(dir: string): RobotFiles {
  return { logPath: join(dir, 'console.log'), diskPath: join(dir, 'disk'), stateDir: join(dir, 'state') };
}

/** Where the robot host finds its files and serves rosbridge, in its own terms (inside a container, say). */
export interface RobotHostPlacement {
  world: string;
  factory: string;
  disk: string;
  stateDir: string;
  /** Address and port rosbridge binds to; port 0 lets the host pick one. */
  host: string;
  port: number;
  /** The edge agent's entry; undefined: the robot runs no agent. */
  agentEntry: string | undefined;
  /**
   * Whether the robot gets the spec's OTA client and a disk made by `prepareDisk`. A supply
   * without a real disk (a container) leaves the host to its default: fleetdrill's own client.
   */
  realDisk: boolean;
}

/** The robot host's flags for a spec, as the host at `placement` must see them. */
export function robotHostArgs(spec: RobotSpec, placement: RobotHostPlacement): string[] {
  const { software } = spec;
  return [
    `--id=${spec.id}`,
    `--world=${placement.world}`,
    `--seed=${spec.seed}`,
    `--rtf=${spec.rtf}`,
    `--spawn-index=${spec.index}`,
    `--disk=${placement.disk}`,
    `--state-file=${placement.stateDir}/${STATE_FILE}`,
    `--host=${placement.host}`,
    `--port=${placement.port}`,
    `--factory=${placement.factory}`,
    `--bootlimit=${software.bootlimit}`,
    `--boot-deadline-ms=${software.bootDeadlineMs}`,
    ...(placement.realDisk ? [`--ota-client=${software.otaClient}`] : []),
    // The harness only ever switches power on: every boot it starts is a cold one.
    '--reset=power-on',
    ...(spec.agent && placement.agentEntry
      ? [
          `--agent-entry=${placement.agentEntry}`,
          `--agent=${JSON.stringify({ ...spec.agent.settings, cloudUrl: spec.agent.cloudUrl })}`,
        ]
      : []),
  ];
}

/** The environment the robot host reads, on top of what its supply passes on. */
export function robotHostEnv(spec: RobotSpec): Record<string, string> {
  return { FLEETDRILL_ROBOT_ID: spec.id, FLEETDRILL_ROLE: 'robot-host' };
}

/** How a robot host boots under any supply; `what` names the supply in errors (`robot host`). */
export function robotHostBoot(
  spec: RobotSpec,
  options: { logPath: string; bootTimeoutMs: number; fleetSize?: number; what: string },
): ServiceBoot<RobotReadyLine> {
  return {
    logPath: options.logPath,
    bootTimeoutMs: options.bootTimeoutMs,
    fleetSize: options.fleetSize,
    validateReady: parseRobotReady,
    startError: (message, tail) =>
      new RobotUnreachableError(spec.id, withLogTail(`${options.what} ${message}`, spec.id, tail)),
  };
}
