/**
 * A robot's disk as the OTA oracles read it, from outside the robot: the boot environment, both
 * slots checked against their metadata, and what the next power-on would boot.
 */
import {
  BootEnv,
  NoBootableSlotError,
  previewBoot,
  SLOT_NAMES,
  verifySlot,
  type BootEvent,
  type BootVars,
  type EnvSource,
  type SlotCheck,
  type SlotName,
} from '../../fixtures/robot-host/boot/index.ts';

export interface DiskState {
  env: BootVars;
  envSource: EnvSource;
  /**
   * Generation of the copy read (0 for a fallback). Every boot, and every OTA step that changes
   * what boots (arm, commit, roll back), writes the environment, so an oracle tells from the
   * generation whether a robot moved on since an earlier read.
   */
  envGeneration: number;
  /** Problems the environment reading found (a torn copy, say). */
  envProblems: string[];
  slots: Record<SlotName, SlotCheck>;
  /** The active slot's version, as its metadata says. */
  activeVersion: string;
  /** What a power-on would boot now, and why. */
  nextBoot: { slot: SlotName; event: BootEvent; version: string } | { error: string };
}

/** Reads a robot's disk without writing anything. */
export async function inspectDisk(disk: string): Promise<DiskState> {
  const env = new BootEnv(disk);
  const reading = await env.read();
  const checks = await Promise.all(SLOT_NAMES.map((slot) => verifySlot(disk, slot)));
  const slots = { A: checks[0]!, B: checks[1]! };
  let nextBoot: DiskState['nextBoot'];
  try {
    const next = await previewBoot(env, 'power-on');
    nextBoot = { slot: next.slot, event: next.event, version: next.meta.version };
  } catch (error) {
    nextBoot = { error: (error as Error).message };
  }
  return {
    env: reading.vars,
    envSource: reading.source,
    envGeneration: reading.generation,
    envProblems: reading.problems,
    slots,
    activeVersion: slots[reading.vars.active].meta.version,
    nextBoot,
  };
}

/**
 * A disk the bootloader can make nothing of: neither copy of the boot environment is valid and no
 * slot is committed to fall back to. `unbootable` says what was found.
 */
export interface UnbootableDisk {
  unbootable: string;
}

/**
 * {@link inspectDisk}, for an oracle that must judge any disk a power cut can leave: a disk with
 * no environment and nothing to fall back to is a finding (bricked), not an error.
 */
export async function inspectDiskOrUnbootable(disk: string): Promise<DiskState | UnbootableDisk> {
  try {
    return await inspectDisk(disk);
  } catch (error) {
    if (error instanceof NoBootableSlotError) return { unbootable: error.message };
    throw error;
  }
}

/**
 * One line for messages: `A committed 1.0.0 (active), B written 1.1.0; upgrade pending, bootcount
 * 0; env from env.1 (generation 4)`.
 */
export function describeDisk(state: DiskState): string {
  const slots = SLOT_NAMES.map((slot) => {
    const { meta, bootable } = state.slots[slot];
    const active = state.env.active === slot ? ' (active)' : '';
    return `${slot} ${meta.state} ${meta.version || '-'}${bootable ? '' : ' unbootable'}${active}`;
  }).join(', ');
  const pending = state.env.upgrade_available ? `; upgrade pending, bootcount ${state.env.bootcount}` : '';
  return `${slots}${pending}; env from ${state.envSource} (generation ${state.envGeneration})`;
}
