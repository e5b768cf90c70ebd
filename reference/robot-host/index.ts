/**
 * What the harness may use of the robot host as a tool (the host itself runs from main.ts): the
 * bootloader's view of a disk, to read a robot's disk as a power-cut survivor would see it, and
 * the real-disk image packer, U-Boot environment writer and tool check, to provision disks for
 * the real OTA clients.
 */
export {
  BootEnv,
  DEFAULT_BOOTLIMIT,
  NoBootableSlotError,
  SLOT_NAMES,
  otherSlot,
  previewBoot,
  verifySlot,
  type BootEvent,
  type BootVars,
  type EnvSource,
  type SlotCheck,
  type SlotMeta,
} from './boot/index.ts';
export { artifactNameOf } from './real-disk/boot.ts';
export { defaultUbootEnv, slotOfPart } from './real-disk/bootloader.ts';
export { packImage, type ImageMeta } from './real-disk/image.ts';
export { inspectRealDisk } from './real-disk/inspect.ts';
export { realDiskScript } from './real-disk/scripts.ts';
export { missingTools } from './real-disk/tools.ts';
export { writeFreshEnv } from './real-disk/uboot-env.ts';
