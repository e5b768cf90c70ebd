/*
 * SWUpdate's side of a real disk, with the real tools: the .swu as SWUpdate reads it (a crc cpio
 * whose sw-description openssl verifies against the robot's certificate), the robot's /etc, and
 * the real `swupdate` installing each collection into its own partition of a loop-device disk and
 * arming it in the U-Boot environment, run in the robot's namespace. The adapter's flow (refusals,
 * commit, rollback) is in swupdate-adapter.test.ts.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readlink, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { SWUPDATE_CERT, SWUPDATE_CONF } from '../../../reference/edge-agent/ota/adapters/swupdate.ts';
import {
  runInNamespace,
  type CommandResult,
} from '../../../reference/edge-agent/ota/adapters/real-common.ts';
import { packImage, readImage } from '../../../reference/robot-host/real-disk/image.ts';
import { realDiskPaths } from '../../../protocol/disk-layout.ts';
import { fwPrintenv, fwSetenv } from '../../../reference/robot-host/real-disk/uboot-env.ts';
import { TEST_KEYS_DIR } from '../keys.ts';
import { provisionRealDisk, type ProvisionedRealDisk } from './provision.ts';
import { buildSwu, SWU_PADDING_BYTES, writeSwupdateEtc } from './swupdate.ts';
import { skipWithoutRealClientTools } from './test-support.ts';

const run = promisify(execFile);

skipWithoutRealClientTools(
  ['swupdate', 'fw_setenv', 'mkenvimage', 'openssl'],
  ['swupdate', 'libubootenv-tool', 'u-boot-tools', 'openssl'],
);

const BOARD = 'fd-amr-1';
const PARTITION_BYTES = 8 * 1024 * 1024;

let work: string;
let provisioned: ProvisionedRealDisk | undefined;
let image: string;
let swu: string;
test.beforeEach(async () => {
  // fleetdrill-<pid>-: the run-dir name the loop-device sweep knows, should this test be killed mid-way.
  work = await mkdtemp(join(tmpdir(), `fleetdrill-${process.pid}-swupdate-`));
  image = join(work, 'rootfs-2.0.0.img');
  await writeFile(
    image,
    packImage({ name: 'fd-robot', version: '2.0.0', variant: 'good' }, randomBytes(200_000)),
  );
  swu = join(work, 'fd-robot-2.0.0.swu');
  await buildSwu({
    rootfsImage: image,
    artifactName: 'fd-robot-2.0.0',
    version: '2.0.0',
    deviceType: BOARD,
    key: 'test',
    workDir: join(work, 'build'),
    out: swu,
  });
});
test.afterEach(async () => {
  await provisioned?.release();
  provisioned = undefined;
  await rm(work, { recursive: true, force: true });
});

/** A disk on loop devices with 1.0.0 in slot A, booted on `booted`. */
async function makeDisk(booted: 'A' | 'B'): Promise<string> {
  provisioned = await provisionRealDisk({
    disk: join(work, 'disk'),
    client: 'swupdate',
    partitionBytes: PARTITION_BYTES,
    factoryImage: packImage({ name: 'fd-robot', version: '1.0.0', variant: 'good' }, randomBytes(1000)),
    bootlimit: 1,
    writeClientEtc: (disk) => writeSwupdateEtc(disk, { hardware: BOARD }),
  });
  const disk = provisioned.disk;
  await writeFile(
    join(realDiskPaths(disk).run, 'cmdline'),
    `root=${realDiskPaths(disk).device[booted]} rauc.slot=${booted}\n`,
  );
  if (booted === 'B') await fwSetenv(disk, { mender_boot_part: 3 });
  return disk;
}

/** `swupdate -e stable,<mode>` on the disk, with a TMPDIR of the test's own. */
async function swupdate(disk: string, mode: string): Promise<CommandResult> {
  const tmp = join(work, 'swupdate-tmp');
  await mkdir(tmp, { recursive: true });
  return runInNamespace(disk, 'swupdate', ['-v', '-f', SWUPDATE_CONF, '-e', `stable,${mode}`, '-i', swu], {
    env: { ...process.env, TMPDIR: tmp },
  });
}

/** The members of a cpio archive, in order, with their data. */
function listCpio(bytes: Buffer): Array<{ magic: string; name: string; checksum: number; data: Buffer }> {
  const members = [];
  for (let at = 0; ;) {
    const magic = bytes.toString('latin1', at, at + 6);
    const field = (i: number): number =>
      Number.parseInt(bytes.toString('latin1', at + 6 + i * 8, at + 14 + i * 8), 16);
    const nameSize = field(11);
    const name = bytes.toString('latin1', at + 110, at + 110 + nameSize - 1);
    const start = (at + 110 + nameSize + 3) & ~3;
    const data = bytes.subarray(start, start + field(6));
    members.push({ magic, name, checksum: field(12), data });
    if (name === 'TRAILER!!!' || magic !== '070702') return members;
    at = (start + data.length + 3) & ~3;
  }
}

test('the .swu is a crc cpio of sw-description, its signature, the image, the hook script and the padding, each checksum right, 512-byte blocks', async () => {
  const bytes = await readFile(swu);
  const members = listCpio(bytes);
  expect(members.map((m) => `${m.magic} ${m.name}`)).toEqual(
    [
      'sw-description',
      'sw-description.sig',
      'rootfs.img',
      'fleetdrill-hooks.sh',
      'stream-padding.bin',
      'TRAILER!!!',
    ].map((name) => `070702 ${name}`),
  );
  for (const member of members)
    expect(member.checksum, member.name).toBe(member.data.reduce((sum, byte) => (sum + byte) % 2 ** 32, 0));
  expect(members[2]!.data.equals(await readFile(image))).toBe(true);
  // Past the socket buffer by far, so `swupdate -i` cannot finish streaming before its installer runs.
  expect(members[4]!.data.length).toBe(SWU_PADDING_BYTES);
  expect(members[4]!.data.every((byte) => byte === 0)).toBe(true);
  const sendBuffer = Number(await readFile('/proc/sys/net/core/wmem_default', 'utf8'));
  expect(SWU_PADDING_BYTES).toBeGreaterThan(4 * sendBuffer);
  expect(bytes.length % 512).toBe(0);
});

test('sw-description names the board, revision 1.0, and per slot its partition, the image hash and the trial variables', async () => {
  const description = listCpio(await readFile(swu))[0]!.data.toString('utf8');
  const sha256 = createHash('sha256')
    .update(await readFile(image))
    .digest('hex');
  expect(description).toContain(`version = "2.0.0";`);
  expect(description).toMatch(/\bfd-amr-1 = \{\s*hardware-compatibility = \[ "1\.0" \];\s*stable = \{/);
  for (const [mode, part] of [
    ['copyA', 2],
    ['copyB', 3],
  ] as const) {
    const collection = new RegExp(`${mode} = \\{([\\s\\S]*?)\\n\\t\\t\\t\\};`).exec(description)?.[1] ?? '';
    expect(collection, mode).toContain(`device = "/etc/swupdate/dev/part${part}";`);
    expect(collection, mode).toContain(`sha256 = "${sha256}";`);
    expect(collection, mode).toContain(`type = "shellscript";`);
    expect(collection.replace(/\s+/g, ' '), mode).toContain(
      `bootenv: ( { name = "mender_boot_part"; value = "${part}"; }, { name = "upgrade_available"; value = "1"; }, { name = "bootcount"; value = "0"; } );`,
    );
  }
});

test('openssl verifies the CMS signature with the test certificate and not with the untrusted one', async () => {
  const members = listCpio(await readFile(swu));
  await writeFile(join(work, 'sd'), members[0]!.data);
  await writeFile(join(work, 'sd.sig'), members[1]!.data);
  const verify = (cert: string) =>
    run('openssl', [
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      join(work, 'sd.sig'),
      '-content',
      join(work, 'sd'),
      '-CAfile',
      join(TEST_KEYS_DIR, cert),
      '-purpose',
      'any',
      '-out',
      '/dev/null',
    ]);
  await expect(verify('swupdate-test.cert.pem')).resolves.toBeTruthy();
  await expect(verify('swupdate-untrusted.cert.pem')).rejects.toThrow(/verif/i);
});

test("the robot's /etc: hwrevision, the U-Boot interface, the certificate, and partition links that reach the loop devices", async () => {
  const disk = await makeDisk('A');
  const etc = realDiskPaths(disk).etc;
  expect(await readFile(join(etc, 'hwrevision'), 'utf8')).toBe('fd-amr-1 1.0\n');
  const cfg = await readFile(join(etc, 'swupdate', 'swupdate.cfg'), 'utf8');
  expect(cfg).toContain('bootloader = "uboot";');
  expect(cfg).toContain(`public-key-file = "${SWUPDATE_CERT}";`);
  expect(await readFile(join(etc, 'swupdate', 'verify-cert.pem'), 'utf8')).toBe(
    await readFile(join(TEST_KEYS_DIR, 'swupdate-test.cert.pem'), 'utf8'),
  );
  for (const [slot, part] of [
    ['A', 2],
    ['B', 3],
  ] as const) {
    expect(await readlink(join(etc, 'swupdate', 'dev', `part${part}`))).toBe(
      realDiskPaths(disk).device[slot],
    );
    expect(await realpath(join(etc, 'swupdate', 'dev', `part${part}`))).toBe(provisioned!.devices[slot]);
  }
});

test('swupdate -e stable,copyB writes the image to part3 and arms partition 3; part2 keeps 1.0.0', async () => {
  const disk = await makeDisk('A');
  const result = await swupdate(disk, 'copyB');
  expect(result.code, result.stderr).toBe(0);
  const b = await readImage(realDiskPaths(disk).device.B);
  expect(b.ok && b.meta.version).toBe('2.0.0');
  const a = await readImage(realDiskPaths(disk).device.A);
  expect(a.ok && a.meta.version).toBe('1.0.0');
  expect(await fwPrintenv(disk)).toEqual({
    mender_boot_part: '3',
    upgrade_available: '1',
    bootcount: '0',
    bootlimit: '1',
    ustate: '1',
  });
});

test('swupdate -e stable,copyA on a robot booted from B writes part2 and arms partition 2; part3 stays empty', async () => {
  const disk = await makeDisk('B');
  const result = await swupdate(disk, 'copyA');
  expect(result.code, result.stderr).toBe(0);
  const a = await readImage(realDiskPaths(disk).device.A);
  expect(a.ok && a.meta.version).toBe('2.0.0');
  expect(await readImage(realDiskPaths(disk).device.B)).toEqual({ ok: false, problem: 'empty (zeros)' });
  expect(await fwPrintenv(disk)).toEqual({
    mender_boot_part: '2',
    upgrade_available: '1',
    bootcount: '0',
    bootlimit: '1',
    ustate: '1',
  });
});

test('a robot whose /etc/hwrevision says revision 2.0 refuses the .swu and keeps its environment', async () => {
  const disk = await makeDisk('A');
  await writeFile(join(realDiskPaths(disk).etc, 'hwrevision'), 'fd-amr-1 2.0\n');
  const before = await fwPrintenv(disk);
  const result = await swupdate(disk, 'copyB');
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain('SW not compatible with hardware');
  expect(await fwPrintenv(disk)).toEqual(before);
  expect(await readImage(realDiskPaths(disk).device.B)).toEqual({ ok: false, problem: 'empty (zeros)' });
});
