/**
 * A robot's disk as the OTA oracles read it, from outside the robot: the boot environment, both
 * slots checked against their metadata, and what the next power-on would boot.
 */
import { createHash } from 'node:crypto';
import {
  defaultUbootEnv,
  slotOfPart,
  inspectRealDisk,
  BootEnv,
  DEFAULT_BOOTLIMIT,
  otherSlot,
  type SlotMeta,
  NoBootableSlotError,
  previewBoot,
  SLOT_NAMES,
  verifySlot,
  type BootEvent,
  type BootVars,
  type EnvSource,
  type SlotCheck,
} from '../../reference/robot-host/index.ts';
import { diskClient, type SlotName } from '../../protocol/disk-layout.ts';

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

/** Reads a robot's disk without writing anything: fleetdrill's slot files, or a real client's disk. */
export async function inspectDisk(disk: string): Promise<DiskState> {
  if (diskClient(disk) !== 'fleetdrill') return inspectRealDiskState(disk);
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
 * A real disk in the oracles' terms. The U-Boot environment keeps no per-slot state, so a slot is
 * `committed` when the environment says so (the active slot with nothing pending, or the slot a
 * pending trial would roll back to), `written` when it holds an intact image otherwise, and
 * `writing` when its image is torn. A copy's generation is its flag byte (it wraps at 256).
 */
async function inspectRealDiskState(disk: string): Promise<DiskState> {
  const real = await inspectRealDisk(disk);
  const vars = real.vars ?? defaultUbootEnv(DEFAULT_BOOTLIMIT);
  const active = slotOfPart(vars.mender_boot_part) ?? 'A';
  const pending = vars.upgrade_available === '1';
  const committedSlot = pending ? otherSlot(active) : active;
  const check = (slot: SlotName): SlotCheck => {
    const image = real.slots[slot];
    const meta: SlotMeta = {
      version: image.ok ? image.meta.version : (image.meta?.version ?? ''),
      sha256: image.ok ? image.meta.sha256 : (image.meta?.sha256 ?? ''),
      state: !image.ok
        ? image.problem === 'empty (zeros)'
          ? 'empty'
          : 'writing'
        : slot === committedSlot
          ? 'committed'
          : 'written',
      size: image.ok ? image.meta.size : 0,
      commitSeq: slot === committedSlot ? 1 : 0,
    };
    return {
      slot,
      meta,
      bootable: image.ok,
      contentSha256: image.ok ? createHash('sha256').update(image.payload).digest('hex') : undefined,
      problem: image.ok ? undefined : `slot ${slot}: ${image.problem}`,
    };
  };
  const slots = { A: check('A'), B: check('B') };
  const current = real.copies.current;
  return {
    env: {
      active,
      upgrade_available: pending ? 1 : 0,
      bootcount: Number(vars.bootcount ?? 0),
      bootlimit: Number(vars.bootlimit ?? DEFAULT_BOOTLIMIT),
    },
    envSource: current === undefined ? 'fallback' : current === 0 ? 'env.0' : 'env.1',
    envGeneration: current === undefined ? 0 : real.copies.copies[current].flag,
    envProblems: real.copies.copies.flatMap((copy) => (copy.problem ? [copy.problem] : [])),
    slots,
    activeVersion: slots[active].meta.version,
    nextBoot: real.next,
  };
}

/**
 * A disk the bootloader can make nothing of: neither copy of the boot environment is valid and no
 * slot is committed to fall back to. `unbootable` says what was found; `slots` what the slots
 * hold all the same, for a finding to show.
 */
export interface UnbootableDisk {
  unbootable: string;
  slots: Record<SlotName, SlotCheck>;
}

/**
 * {@link inspectDisk}, for an oracle that must judge any disk a power cut can leave: a disk with
 * no environment and nothing to fall back to is a finding (bricked), not an error.
 */
export async function inspectDiskOrUnbootable(disk: string): Promise<DiskState | UnbootableDisk> {
  try {
    return await inspectDisk(disk);
  } catch (error) {
    if (error instanceof NoBootableSlotError) {
      const checks = await Promise.all(SLOT_NAMES.map((slot) => verifySlot(disk, slot)));
      return { unbootable: error.message, slots: { A: checks[0]!, B: checks[1]! } };
    }
    throw error;
  }
}

/**
 * One line for messages: `A committed 1.0.0 (active), B written 1.1.0; upgrade pending, bootcount
 * 0; env from env.1 (generation 4)`; for an unbootable disk, the slots and `no valid environment`.
 */
export function describeDisk(state: DiskState | UnbootableDisk): string {
  if ('unbootable' in state) {
    const slots = SLOT_NAMES.map((slot) => describeSlot(state.slots[slot], '')).join(', ');
    return `${slots}; no valid environment`;
  }
  const slots = SLOT_NAMES.map((slot) =>
    describeSlot(state.slots[slot], state.env.active === slot ? ' (active)' : ''),
  ).join(', ');
  const pending = state.env.upgrade_available ? `; upgrade pending, bootcount ${state.env.bootcount}` : '';
  return `${slots}${pending}; env from ${state.envSource} (generation ${state.envGeneration})`;
}

function describeSlot({ slot, meta, bootable }: SlotCheck, active: string): string {
  return `${slot} ${meta.state} ${meta.version || '-'}${bootable ? '' : ' unbootable'}${active}`;
}
