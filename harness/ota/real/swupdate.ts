/**
 * SWUpdate on a real disk: the robot's /etc (swupdate.cfg choosing the U-Boot interface and the
 * verification certificate, /etc/hwrevision, the partition links the .swu names), and .swu images
 * built as SWUpdate's docs describe: a cpio archive (crc format) of sw-description, its CMS
 * signature, the raw root filesystem image and a shell script that calls the state hook before and
 * after the image is written. There is no SWUpdate tool for this: openssl signs, the cpio is
 * written here (Debian 12 has no cpio installed by default, and the bytes are few).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, rename, rm, symlink, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  SWUPDATE_CERT,
  SWUPDATE_DEVICE_DIR,
  SWUPDATE_ETC,
  SWUPDATE_SOFTWARE_SET,
  swupdateMode,
} from '../../../reference/edge-agent/index.ts';
import { type SlotName, PART_NUMBER, realDiskPaths } from '../../../protocol/disk-layout.ts';
import { TEST_KEYS_DIR } from '../keys.ts';
import type { ClientArtifactInput } from './types.ts';

const run = promisify(execFile);

/** The hardware revision every robot reports and every .swu accepts. */
export const SWUPDATE_HW_REVISION = '1.0';
/** The name of the root filesystem image inside a .swu. */
const IMAGE_NAME = 'rootfs.img';
/** The name of the state-hook script inside a .swu. */
const HOOKS_NAME = 'fleetdrill-hooks.sh';
/** The name of the zero-filled member that keeps a small .swu larger than a socket buffer. */
const PADDING_NAME = 'stream-padding.bin';
/**
 * How large the padding member is: well past a local stream socket's send buffer
 * (`net.core.wmem_default`, 208 KiB on Debian 12).
 *
 * `swupdate -i` streams the .swu into its own installer over a local socket, then asks for the
 * status once and trusts the answer. When the whole .swu fits in the socket's buffer, that
 * question can come before the installer has woken up: SWUpdate 2022.12 then sees IDLE, reports
 * the result of no install, and exits 1, sometimes after the install finished (the environment
 * armed) and sometimes before it began (nothing written). On 2 busy cores it happened in about one
 * install of 30 (strace: a single status query, a second's sleep, no post-update request). A real
 * root filesystem image is many megabytes, so the stream always waits for the installer, which
 * reads only once it has marked itself running; a member SWUpdate skips restores that for
 * fleetdrill's small test images without changing what is installed.
 */
export const SWU_PADDING_BYTES = 1024 * 1024;
/** A libconfig setting name: SWUpdate looks the board up as one. */
const BOARD_NAME = /^[A-Za-z*][-A-Za-z0-9_*]*$/;

/** Writes SWUpdate's files under `<disk>/etc` for a robot of board `hardware`. */
export async function writeSwupdateEtc(
  disk: string,
  options: { hardware: string; trust?: 'test' },
): Promise<void> {
  const paths = realDiskPaths(resolve(disk));
  const etc = join(paths.etc, relativeToEtc(SWUPDATE_ETC));
  const devices = join(paths.etc, relativeToEtc(SWUPDATE_DEVICE_DIR));
  await mkdir(devices, { recursive: true });
  await copyFile(
    join(TEST_KEYS_DIR, `swupdate-${options.trust ?? 'test'}.cert.pem`),
    join(paths.etc, relativeToEtc(SWUPDATE_CERT)),
  );
  // SWUpdate reads `<board> <revision>` from this fixed path.
  await writeFile(join(paths.etc, 'hwrevision'), `${options.hardware} ${SWUPDATE_HW_REVISION}\n`);
  // Debian's swupdate defaults to the "none" bootloader (an environment in RAM): bootenv would arm nothing.
  await writeFile(
    join(etc, 'swupdate.cfg'),
    `globals :\n{\n\tbootloader = "uboot";\n\tpublic-key-file = "${SWUPDATE_CERT}";\n};\n`,
  );
  for (const slot of ['A', 'B'] as const) {
    // The partition symlink (`<disk>/dev/partN`) is re-pointed at each attach; this link follows it.
    const link = join(devices, `part${PART_NUMBER[slot]}`);
    await rm(link, { force: true });
    await symlink(paths.device[slot], link);
  }
}

/**
 * Builds the .swu: board `deviceType` at revision 1.0, version `version`, two collections
 * (`-e stable,copyA` and `-e stable,copyB`) that each write the raw image to their slot's
 * partition and arm its trial in the same install.
 */
export async function buildSwu(input: ClientArtifactInput): Promise<void> {
  if (!BOARD_NAME.test(input.deviceType)) {
    throw new Error(
      `.swu ${input.artifactName}: device type ${JSON.stringify(input.deviceType)} is not a libconfig name (letters, digits, - _ *)`,
    );
  }
  await mkdir(input.workDir, { recursive: true });
  const image = await sumFile(input.rootfsImage);
  const hooksPath = join(input.workDir, HOOKS_NAME);
  await writeFile(hooksPath, HOOKS_SCRIPT);
  const hooks = await sumFile(hooksPath);
  const paddingPath = join(input.workDir, PADDING_NAME);
  await writeFile(paddingPath, Buffer.alloc(SWU_PADDING_BYTES));
  const padding = await sumFile(paddingPath);
  const description = join(input.workDir, 'sw-description');
  await writeFile(description, swDescription(input, image.sha256, hooks.sha256));
  const signature = join(input.workDir, 'sw-description.sig');
  const cms = [
    'cms',
    '-sign',
    '-in',
    description,
    '-out',
    signature,
    '-signer',
    join(TEST_KEYS_DIR, `swupdate-${input.key}.cert.pem`),
  ];
  cms.push(
    '-inkey',
    join(TEST_KEYS_DIR, `swupdate-${input.key}.key`),
    '-outform',
    'DER',
    '-nosmimecap',
    '-binary',
  );
  try {
    await run('openssl', cms);
  } catch (error) {
    throw new Error(
      `.swu ${input.artifactName}: openssl cms -sign: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`,
      { cause: error },
    );
  }
  // sw-description first, its signature next: SWUpdate reads them before anything else.
  const members = [
    { name: 'sw-description', ...(await sumFile(description)), path: description },
    { name: 'sw-description.sig', ...(await sumFile(signature)), path: signature },
    { name: IMAGE_NAME, ...image, path: input.rootfsImage },
    { name: HOOKS_NAME, ...hooks, path: hooksPath },
    // Last, so SWUpdate has parsed sw-description and started installing while it is still streaming.
    { name: PADDING_NAME, ...padding, path: paddingPath },
  ];
  const temp = `${input.out}.${process.pid}.tmp`;
  await writeCpio(temp, members);
  await rename(temp, input.out);
}

/**
 * The .swu's one script, run by SWUpdate's `shellscript` handler with `preinst` before the image
 * is written and `postinst` after it (and before the environment is armed).
 */
const HOOKS_SCRIPT = `#!/bin/sh
# fleetdrill's state hook: records the state, and cuts the power there when a drill armed it.
case "$1" in
  preinst) exec "\${FLEETDRILL_STATE_HOOK:-true}" ArtifactInstall_Enter ;;
  postinst) exec "\${FLEETDRILL_STATE_HOOK:-true}" ArtifactInstall_Leave ;;
esac
`;

/** sw-description in libconfig: the board's section holds both collections. */
function swDescription(input: ClientArtifactInput, imageSha256: string, hooksSha256: string): string {
  const collection = (slot: SlotName): string => {
    const part = PART_NUMBER[slot];
    return `\t\t\t${swupdateMode(slot)} = {
\t\t\t\timages: ( {
\t\t\t\t\tfilename = "${IMAGE_NAME}";
\t\t\t\t\ttype = "raw";
\t\t\t\t\tdevice = "${SWUPDATE_DEVICE_DIR}/part${part}";
\t\t\t\t\tsha256 = "${imageSha256}";
\t\t\t\t} );
\t\t\t\tscripts: ( {
\t\t\t\t\tfilename = "${HOOKS_NAME}";
\t\t\t\t\ttype = "shellscript";
\t\t\t\t\tsha256 = "${hooksSha256}";
\t\t\t\t} );
\t\t\t\tbootenv: (
\t\t\t\t\t{ name = "mender_boot_part"; value = "${part}"; },
\t\t\t\t\t{ name = "upgrade_available"; value = "1"; },
\t\t\t\t\t{ name = "bootcount"; value = "0"; }
\t\t\t\t);
\t\t\t};
`;
  };
  return `software =
{
\tversion = ${libconfigString(input.version)};
\tdescription = ${libconfigString(input.artifactName)};
\t${input.deviceType} = {
\t\thardware-compatibility = [ "${SWUPDATE_HW_REVISION}" ];
\t\t${SWUPDATE_SOFTWARE_SET} = {
${collection('A')}${collection('B')}\t\t};
\t};
};
`;
}

function libconfigString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** `/etc/x/y` → `x/y`: where an /etc path of the namespace lives under `<disk>/etc`. */
function relativeToEtc(path: string): string {
  if (!path.startsWith('/etc/')) throw new Error(`${path} is not under /etc`);
  return path.slice('/etc/'.length);
}

/** A file's size, SHA-256 and cpio crc checksum (the sum of its bytes, modulo 2^32), in one read. */
async function sumFile(path: string): Promise<{ size: number; sha256: string; checksum: number }> {
  const hash = createHash('sha256');
  let size = 0;
  let checksum = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    let sum = 0;
    for (let i = 0; i < chunk.length; i++) sum += chunk[i]!;
    checksum = (checksum + sum) % 0x1_0000_0000;
  }
  return { size, sha256: hash.digest('hex'), checksum };
}

/** One member of the archive: its bytes are read from `path`. */
interface CpioMember {
  name: string;
  path: string;
  size: number;
  checksum: number;
}

/**
 * Writes a cpio archive in the SVR4 crc format (`070702`, GNU cpio's `-H crc`): per member a
 * header of hex fields, the name, the data, each padded to 4 bytes; then the trailer, and zeros
 * to a 512-byte block. Fixed inode numbers, owners and times: the same inputs give the same bytes.
 */
async function writeCpio(out: string, members: readonly CpioMember[]): Promise<void> {
  const handle = await open(out, 'w');
  let offset = 0;
  const put = async (bytes: Uint8Array): Promise<void> => {
    await writeAll(handle, bytes, offset);
    offset += bytes.length;
  };
  const pad = (multiple: number): Promise<void> =>
    put(Buffer.alloc((multiple - (offset % multiple)) % multiple));
  try {
    const entries = [
      ...members.map((member, i) => ({ ...member, ino: i + 1, mode: 0o100644 })),
      { name: 'TRAILER!!!', path: '', size: 0, checksum: 0, ino: 0, mode: 0 },
    ];
    for (const entry of entries) {
      const name = Buffer.from(`${entry.name}\0`, 'latin1');
      // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
      const fields = [entry.ino, entry.mode, 0, 0, 1, 0, entry.size, 0, 0, 0, 0, name.length, entry.checksum];
      await put(
        Buffer.from(
          `070702${fields.map((n) => n.toString(16).toUpperCase().padStart(8, '0')).join('')}`,
          'latin1',
        ),
      );
      await put(name);
      await pad(4);
      if (entry.path) await copyInto(entry.path, entry.size, put);
      await pad(4);
    }
    await pad(512);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Streams `size` bytes of `path` through `put`; throws when the file changed size since it was summed. */
async function copyInto(
  path: string,
  size: number,
  put: (bytes: Uint8Array) => Promise<void>,
): Promise<void> {
  let copied = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    await put(chunk);
    copied += chunk.length;
  }
  if (copied !== size) throw new Error(`${basename(path)}: ${copied} bytes now, ${size} when it was hashed`);
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}
