/**
 * What robots are provisioned with before a fleet first powers them on: the factory image on their
 * disks (fleetdrill's slot image, or a real client's rootfs on loop-device partitions), the
 * bootloader's settings, and their edge agents' OTA settings (the keys they trust, the client they
 * run). The fleet knows none of this: it gets a `provision` callback and calls it at start.
 */
import createDebug from 'debug';
import { readFile } from 'node:fs/promises';
import type { AgentSettings } from '../../reference/edge-agent/index.ts';
import { isOtaClientName, OTA_CLIENTS, type OtaClientName } from '../../protocol/disk-layout.ts';
import { ConfigError } from '../core/errors.ts';
import type { ProvisionedRobots, ProvisionRobots, RobotSoftwareSpec } from '../fleet/index.ts';
import { ensureBundle } from '../fleet/embedded/bundle.ts';
import { loadTestKeyPair } from './keys.ts';
import {
  buildRootfsImage,
  provisionRealDisk,
  realClientsAvailability,
  REFERENCE_DEVICE_TYPE,
  sweepStaleLoopDevices,
  writeClientEtc,
} from './real/index.ts';
import { buildRobotVariant, DRILL_SLOT_CAPACITY } from './variants.ts';

const log = createDebug('fleetdrill:provision');

/** The robots' software and boot settings; every field has a default. */
export interface FleetSoftwareOptions {
  /** Version of the factory image (the good reference software) on a fresh disk. Default 1.0.0. */
  factoryVersion?: string;
  /** Boots a trial may take before the bootloader rolls back. Default 1, as U-Boot's. */
  bootlimit?: number;
  /** Software not up within this many ms of its boot is reset by the watchdog. Default 10 s. */
  bootDeadlineMs?: number;
  /**
   * Who updates the robots: `fleetdrill` (default, its own client over slot files) or a real
   * client, `mender`, `rauc` or `swupdate`, on a real disk (embedded backend, root).
   */
  otaClient?: OtaClientName;
  /** A real disk's partition size in bytes. Default 32 MiB (the drills' images are a few MB). */
  partitionBytes?: number;
}

/** What a fleet's robots are provisioned with; everything has a default. */
export interface ProvisionOptions {
  /** What the robots boot, and how their bootloader and watchdog behave. */
  software?: FleetSoftwareOptions;
  /** Settings of every robot's edge agent (buffer budgets, blackbox window, rates, OTA client). */
  agent?: AgentSettings;
}

/** A real disk's partitions, unless a fleet says otherwise. */
export const DEFAULT_PARTITION_BYTES = 32 * 1024 * 1024;

/** The robot software every fresh disk is provisioned with, unless a fleet says otherwise. */
export const FACTORY_VERSION = '1.0.0';

/**
 * The reference stack's provisioning, for `FleetOptions.provision`:
 * `new Fleet({ robots, seed, provision: provisionRobots({ software: { otaClient }, agent }) })`.
 * Nothing is built until the fleet starts.
 */
export function provisionRobots(options: ProvisionOptions = {}): ProvisionRobots {
  return async (): Promise<ProvisionedRobots> => {
    // A runner killed with SIGKILL left its robots' loop devices attached: this run detaches them.
    if (process.getuid?.() === 0) {
      await sweepStaleLoopDevices().catch((error: unknown) =>
        log('sweeping stale loop devices failed: %O', error),
      );
    }
    const software = await resolveSoftware(options.software);
    return { software, agent: await agentSettingsFor(options.agent, software.otaClient) };
  };
}

/**
 * The agent settings as robots get them: OTA trusts the test-only key unless told otherwise, and
 * runs the fleet's OTA client, whose state scripts call the bundled state hook.
 */
async function agentSettingsFor(
  settings: AgentSettings | undefined,
  client: OtaClientName,
): Promise<AgentSettings> {
  const ota = settings?.ota ?? {};
  return {
    ...settings,
    ota: {
      ...ota,
      client,
      ...(client === 'fleetdrill'
        ? {}
        : {
            stateHookEntry: await ensureBundle(
              'reference/edge-agent/ota/adapters/state-hook-main.ts',
              'state-hook',
            ),
          }),
      publicKeys: ota.publicKeys ?? [loadTestKeyPair('test-ota').publicKeyPem],
      slotCapacity: ota.slotCapacity ?? DRILL_SLOT_CAPACITY,
    },
  };
}

/** Builds (or finds cached) the factory image and checks the boot settings. */
async function resolveSoftware(options: FleetSoftwareOptions = {}): Promise<RobotSoftwareSpec> {
  const bootlimit = options.bootlimit ?? 1;
  if (!Number.isInteger(bootlimit) || bootlimit < 1) {
    throw new ConfigError('software.bootlimit', `must be a whole number >= 1, got ${bootlimit}`);
  }
  const bootDeadlineMs = options.bootDeadlineMs ?? 10_000;
  if (!Number.isInteger(bootDeadlineMs) || bootDeadlineMs < 1) {
    throw new ConfigError(
      'software.bootDeadlineMs',
      `must be a whole number of ms >= 1, got ${bootDeadlineMs}`,
    );
  }
  const factoryVersion = options.factoryVersion ?? FACTORY_VERSION;
  const factory = await buildRobotVariant({ variant: 'good', version: factoryVersion });
  const otaClient = options.otaClient ?? 'fleetdrill';
  if (!isOtaClientName(otaClient)) {
    throw new ConfigError(
      'software.otaClient',
      `must be one of ${OTA_CLIENTS.join(', ')}, got ${JSON.stringify(otaClient)}`,
    );
  }
  const software = { factoryArtifact: factory.path, bootlimit, bootDeadlineMs, otaClient };
  if (otaClient === 'fleetdrill') return software;
  const available = realClientsAvailability();
  if (!available.ok)
    throw new ConfigError('software.otaClient', `${otaClient} cannot run here: ${available.reason}`);
  const partitionBytes = options.partitionBytes ?? DEFAULT_PARTITION_BYTES;
  const factoryImage = await readFile((await buildRootfsImage('good', factoryVersion)).path);
  return {
    ...software,
    prepareDisk: (disk: string) =>
      provisionRealDisk({
        disk,
        client: otaClient,
        partitionBytes,
        factoryImage,
        bootlimit,
        writeClientEtc: writeClientEtc(otaClient, REFERENCE_DEVICE_TYPE),
      }),
  };
}
