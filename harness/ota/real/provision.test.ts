/* Real disks on real loop devices: provisioning, the factory image read back through the device, the real fw_printenv, re-provisioning, release and cleanup after a failure. */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { packImage, readImage } from '../../../reference/robot-host/real-disk/image.ts';
import { realDiskPaths } from '../../../protocol/disk-layout.ts';
import { fwSetenv } from '../../../reference/robot-host/real-disk/uboot-env.ts';
import { listLoops } from './loop-devices.ts';
import { provisionRealDisk, ProvisionError, type RealDiskSpec } from './provision.ts';
import { missingTools } from '../../../reference/robot-host/real-disk/tools.ts';

const run = promisify(execFile);
const TOOLS = ['losetup', 'fw_printenv', 'fw_setenv', 'mkenvimage'];

test.skip(
  process.getuid?.() !== 0,
  'loop devices need root: run as root (fleetdrill doctor: real OTA clients)',
);
test.skip(
  missingTools(TOOLS).length > 0,
  `missing ${missingTools(TOOLS).join(', ')} (fleetdrill doctor: real OTA clients)`,
);

const PART_BYTES = 1 << 20;
const FACTORY = packImage(
  { name: 'robot-sim', version: '1.0.0', variant: 'good' },
  Buffer.from('export const v = "1.0.0";\n'),
);

let work: string;
test.beforeEach(async () => {
  work = realpathSync(await mkdtemp(join(tmpdir(), 'fd-provision-')));
});
test.afterEach(async () => {
  // Whatever a failed test left attached under its folder, then the folder.
  for (const loop of await listLoops()) {
    if (loop.backFile.startsWith(`${work}/`)) execFileSync('losetup', ['--detach', loop.device]);
  }
  await rm(work, { recursive: true, force: true });
});

/** The spec of a mender disk at `<work>/disk`; its client /etc is one marker file. */
function spec(overrides: Partial<RealDiskSpec> = {}): RealDiskSpec {
  return {
    disk: join(work, 'disk'),
    client: 'mender',
    partitionBytes: PART_BYTES,
    factoryImage: FACTORY,
    bootlimit: 1,
    writeClientEtc: (disk) => writeFile(join(disk, 'etc', 'client-etc-marker'), 'mender\n'),
    ...overrides,
  };
}

/** The loop devices that hold a file of `disk`. */
async function loopsOf(disk: string): Promise<string[]> {
  return (await listLoops())
    .filter((loop) => loop.backFile.startsWith(`${disk}/`))
    .map((loop) => loop.device);
}

test('provision: the factory image reads back through the loop device, fw_printenv sees the factory env, release detaches and keeps the files', async () => {
  const disk = await provisionRealDisk(spec());
  const paths = realDiskPaths(disk.disk);
  try {
    expect(disk.devices.A).toMatch(/^\/dev\/loop\d+$/);
    expect(disk.devices.B).toMatch(/^\/dev\/loop\d+$/);
    expect(disk.devices.A).not.toBe(disk.devices.B);
    expect(await readlink(paths.device.A)).toBe(disk.devices.A);
    expect(await readlink(paths.device.B)).toBe(disk.devices.B);
    expect((await loopsOf(disk.disk)).sort()).toEqual([disk.devices.A, disk.devices.B].sort());

    const a = await readImage(disk.devices.A);
    expect(a.ok, a.ok ? '' : a.problem).toBe(true);
    if (a.ok) {
      expect(a.meta.version).toBe('1.0.0');
      expect(Buffer.concat([(await readFile(paths.partFile.A)).subarray(0, 4096), a.payload])).toEqual(
        FACTORY,
      );
    }
    expect((await readImage(disk.devices.B)).ok, 'slot B starts empty').toBe(false);

    const { stdout } = await run('fw_printenv', ['-c', paths.fwConfig]);
    expect(stdout.split('\n')).toEqual(
      expect.arrayContaining(['mender_boot_part=2', 'upgrade_available=0', 'bootlimit=1']),
    );
    expect(await readFile(paths.fwConfig, 'utf8')).toBe(
      `${paths.envFiles[0]} 0x0 0x4000\n${paths.envFiles[1]} 0x0 0x4000\n`,
    );
    expect(JSON.parse(await readFile(paths.clientFile, 'utf8'))).toEqual({ client: 'mender' });
    expect(await readFile(join(paths.etc, 'client-etc-marker'), 'utf8')).toBe('mender\n');

    const part = await stat(paths.partFile.B);
    expect(part.size).toBe(PART_BYTES);
    expect(part.blocks * 512, 'the partition files are sparse').toBeLessThan(PART_BYTES);
  } finally {
    await disk.release();
  }
  expect(await loopsOf(disk.disk)).toEqual([]);
  await disk.release();
  expect((await stat(paths.partFile.A)).size).toBe(PART_BYTES);
  expect((await readImage(paths.partFile.A)).ok, 'slot A keeps the factory image after release').toBe(true);
});

test('provisioning a disk that was provisioned before re-attaches it and keeps its data', async () => {
  const first = await provisionRealDisk(spec());
  const update = packImage(
    { name: 'robot-sim', version: '1.1.0', variant: 'good' },
    Buffer.from('export const v = "1.1.0";\n'),
  );
  try {
    await writeFile(first.devices.B, update, { flag: 'r+' });
    await fwSetenv(first.disk, { mender_boot_part: 3, upgrade_available: 1 });
  } finally {
    await first.release();
  }

  const other = packImage(
    { name: 'robot-sim', version: '9.9.9', variant: 'good' },
    Buffer.from('not this one'),
  );
  let etcWritten = false;
  const again = await provisionRealDisk(
    spec({
      factoryImage: other,
      writeClientEtc: () => {
        etcWritten = true;
        return Promise.resolve();
      },
    }),
  );
  try {
    const paths = realDiskPaths(again.disk);
    expect(await readlink(paths.device.A)).toBe(again.devices.A);
    expect(await readlink(paths.device.B)).toBe(again.devices.B);
    const [a, b] = [await readImage(again.devices.A), await readImage(again.devices.B)];
    expect(a.ok && a.meta.version).toBe('1.0.0');
    expect(b.ok && b.meta.version).toBe('1.1.0');
    const { stdout } = await run('fw_printenv', ['-c', paths.fwConfig]);
    expect(stdout.split('\n')).toEqual(expect.arrayContaining(['mender_boot_part=3', 'upgrade_available=1']));
    expect(etcWritten, "the client's /etc is the old disk's").toBe(false);
  } finally {
    await again.release();
  }
});

test('a disk still attached is refused, naming the device; the first robot keeps it', async () => {
  const first = await provisionRealDisk(spec());
  try {
    const error = await provisionRealDisk(spec()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProvisionError);
    expect((error as Error).message).toContain(first.devices.A);
    expect((error as Error).message).toContain(first.devices.B);
    expect((error as Error).message).toContain(join(work, 'disk'));
    expect((await loopsOf(first.disk)).sort()).toEqual([first.devices.A, first.devices.B].sort());
  } finally {
    await first.release();
  }
});

test('partitions too small for the factory image: an error naming the disk and both sizes, nothing attached', async () => {
  const error = await provisionRealDisk(spec({ partitionBytes: 2048 })).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ProvisionError);
  expect((error as Error).message).toContain(join(work, 'disk'));
  expect((error as Error).message).toContain(`${FACTORY.byteLength} bytes`);
  expect((error as Error).message).toContain('2048-byte');
  expect(await loopsOf(join(work, 'disk'))).toEqual([]);
});

test('a failing step detaches what was attached and rethrows the original error; the disk is not marked provisioned', async () => {
  const failure = new Error('client /etc: no key for r07');
  const error = await provisionRealDisk(spec({ writeClientEtc: () => Promise.reject(failure) })).catch(
    (e: unknown) => e,
  );
  expect(error).toBe(failure);
  expect(await loopsOf(join(work, 'disk'))).toEqual([]);
  const marked = await stat(realDiskPaths(join(work, 'disk')).clientFile).then(
    () => true,
    () => false,
  );
  expect(marked, 'client.json after a failed provisioning').toBe(false);

  // The next try provisions afresh, client /etc included.
  const disk = await provisionRealDisk(spec());
  try {
    expect(await readFile(join(disk.disk, 'etc', 'client-etc-marker'), 'utf8')).toBe('mender\n');
  } finally {
    await disk.release();
  }
});
