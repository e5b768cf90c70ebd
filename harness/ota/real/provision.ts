/**
 * Making a real robot disk (protocol/disk-layout.ts) ready to boot: sparse
 * partition files attached to loop devices, the factory image in slot A, a fresh U-Boot
 * environment and the client's /etc. A disk that was provisioned before keeps its data: it only
 * gets its loop devices back, as a robot brought up again on an old disk would.
 */
import { constants } from 'node:fs';
import { mkdir, open, realpath, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  type SlotName,
  PART_NUMBER,
  realDiskPaths,
  type RealDiskPaths,
  type RealOtaClientName,
} from '../../../protocol/disk-layout.ts';
import { defaultUbootEnv, writeFreshEnv } from '../../../reference/robot-host/index.ts';
import { attachLoop, detachLoop, listLoops } from './loop-devices.ts';

const SLOTS: readonly SlotName[] = ['A', 'B'];

/** What a real disk is made of. */
export interface RealDiskSpec {
  /** The robot's disk directory; created when it does not exist. */
  disk: string;
  /** The client that owns the disk, written to client.json. */
  client: RealOtaClientName;
  /** Size of each partition file; the files are sparse, so only what is written takes space. */
  partitionBytes: number;
  /** The packed root filesystem image (image.ts) written into slot A (part2). */
  factoryImage: Uint8Array;
  /** U-Boot's bootlimit in the fresh environment. */
  bootlimit: number;
  /** Writes the client's /etc files under `<disk>/etc` (mender.conf, system.conf, keys...). */
  writeClientEtc: (disk: string) => Promise<void>;
}

/** A disk with its partitions attached; `release()` detaches them and keeps every file. */
export interface ProvisionedRealDisk {
  disk: string;
  /** The loop device behind each slot (`<disk>/dev/partN` points at it). */
  devices: Record<SlotName, string>;
  release(): Promise<void>;
}

/** Thrown when a disk cannot be provisioned; the message names the disk. */
export class ProvisionError extends Error {
  override name = 'ProvisionError';
}

/**
 * Provisions `spec.disk`, or re-attaches it when it was provisioned before (client.json and both
 * partition files exist). Whatever was attached is detached again when a step fails.
 */
export async function provisionRealDisk(spec: RealDiskSpec): Promise<ProvisionedRealDisk> {
  const paths = realDiskPaths(resolve(spec.disk));
  const again = await provisionedBefore(paths);
  if (!again && spec.factoryImage.byteLength > spec.partitionBytes) {
    throw new ProvisionError(
      `disk ${paths.disk}: the factory image is ${spec.factoryImage.byteLength} bytes, larger than the ${spec.partitionBytes}-byte partitions`,
    );
  }
  for (const dir of [
    paths.disk,
    `${paths.disk}/parts`,
    `${paths.disk}/dev`,
    `${paths.disk}/boot`,
    paths.etc,
    paths.run,
    paths.ota,
  ]) {
    await mkdir(dir, { recursive: true });
  }
  await refuseAttachedParts(paths);

  const devices: Partial<Record<SlotName, string>> = {};
  let clientFileWritten = false;
  try {
    if (!again) {
      for (const slot of SLOTS) await createSparse(paths.partFile[slot], spec.partitionBytes);
    }
    for (const slot of SLOTS) {
      devices[slot] = await attachLoop(paths.partFile[slot]);
      await pointSymlink(paths.device[slot], devices[slot]);
    }
    if (!again) {
      await writeThroughDevice(devices.A!, spec.factoryImage, paths);
      await writeFile(paths.fwConfig, paths.envFiles.map((file) => `${file} 0x0 0x4000\n`).join(''));
      await writeFreshEnv(paths.disk, defaultUbootEnv(spec.bootlimit));
      // Last of the disk itself, and whole or not at all: its presence says "provisioned".
      await writeFile(`${paths.clientFile}.tmp`, `${JSON.stringify({ client: spec.client })}\n`);
      await rename(`${paths.clientFile}.tmp`, paths.clientFile);
      clientFileWritten = true;
      await spec.writeClientEtc(paths.disk);
    }
  } catch (error) {
    // A disk whose client /etc was never written must not pass for provisioned next time.
    if (clientFileWritten) await rm(paths.clientFile, { force: true }).catch(() => {});
    for (const device of Object.values(devices)) await detachLoop(device).catch(() => {});
    throw error;
  }

  const attached = devices as Record<SlotName, string>;
  let released = false;
  return {
    disk: paths.disk,
    devices: attached,
    async release() {
      if (released) return;
      released = true;
      // Both are tried; the first failure is the one reported.
      let first: Error | undefined;
      for (const slot of SLOTS) {
        try {
          await detachLoop(attached[slot]);
        } catch (error) {
          first ??= error as Error;
        }
      }
      if (first !== undefined) throw first;
    },
  };
}

/** True when client.json and both partition files are there. */
async function provisionedBefore(paths: RealDiskPaths): Promise<boolean> {
  const present = await Promise.all(
    [paths.clientFile, paths.partFile.A, paths.partFile.B].map((file) =>
      stat(file).then(
        () => true,
        () => false,
      ),
    ),
  );
  return present.every(Boolean);
}

/**
 * Refuses a disk whose partition file is still attached (a robot still up on it, or a run that
 * died without its sweep): a second loop device over the same file would see other cached data.
 */
async function refuseAttachedParts(paths: RealDiskPaths): Promise<void> {
  const wanted = new Map<string, SlotName>();
  // The kernel names back-files by their real path; the disk may be reached through a symlink.
  const dir = await realpath(`${paths.disk}/parts`);
  for (const slot of SLOTS) {
    wanted.set(`${dir}/part${PART_NUMBER[slot]}.img`, slot);
  }
  // Every one, in slot order: which device the kernel lists first depends on the numbers it gave.
  const attached = (await listLoops())
    .flatMap((loop) => {
      const slot = wanted.get(loop.backFile);
      return slot === undefined || loop.deleted ? [] : [{ slot, device: loop.device }];
    })
    .sort((a, b) => a.slot.localeCompare(b.slot));
  if (attached.length > 0) {
    const which = attached
      .map(({ slot, device }) => `${paths.partFile[slot]} (slot ${slot}) to ${device}`)
      .join(', ');
    throw new ProvisionError(`disk ${paths.disk}: still attached: ${which}; release that robot's disk first`);
  }
}

/** A sparse file of `bytes` bytes, replacing any file there. */
async function createSparse(file: string, bytes: number): Promise<void> {
  const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
  try {
    await handle.truncate(bytes);
  } finally {
    await handle.close();
  }
}

/** Points `link` at `target`, replacing what was there in one rename. */
async function pointSymlink(link: string, target: string): Promise<void> {
  const temp = `${link}.tmp-${process.pid}`;
  await rm(temp, { force: true });
  await symlink(target, temp);
  await rename(temp, link);
}

/** Writes `image` at the start of `device` and fsyncs it, as an installer writes a partition. */
async function writeThroughDevice(device: string, image: Uint8Array, paths: RealDiskPaths): Promise<void> {
  const handle = await open(device, 'r+');
  try {
    let done = 0;
    while (done < image.byteLength) {
      const { bytesWritten } = await handle.write(image, done, image.byteLength - done, done);
      if (bytesWritten === 0) {
        throw new ProvisionError(
          `disk ${paths.disk}: ${device} took ${done} of the factory image's ${image.byteLength} bytes, then no more`,
        );
      }
      done += bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}
