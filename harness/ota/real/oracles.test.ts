/*
 * The fuzz's oracles over a real disk: inspectDisk reads loop-device partitions and the U-Boot
 * environment into the same DiskState, and each oracle fires on a disk broken by hand the way a
 * power cut or a client could leave it.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { packImage } from '../../../reference/robot-host/real-disk/image.ts';
import { realDiskPaths } from '../../../protocol/disk-layout.ts';
import { fwSetenv } from '../../../reference/robot-host/real-disk/uboot-env.ts';
import { inspectDisk, inspectDiskOrUnbootable } from '../disk.ts';
import { judgeDiskAfterCut } from '../fuzz-oracles.ts';
import { realClientsAvailability } from './availability.ts';
import { provisionRealDisk, type ProvisionedRealDisk } from './provision.ts';

const available = realClientsAvailability();
test.skip(!available.ok, available.ok ? '' : available.reason);

const software = (version: string): Buffer =>
  Buffer.from(`export const version = ${JSON.stringify(version)};\n`.repeat(50));
const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const FACTORY = packImage({ name: 'robot-sim', version: '1.0.0', variant: 'good' }, software('1.0.0'));
const UPDATE = packImage({ name: 'robot-sim', version: '1.1.0', variant: 'good' }, software('1.1.0'));
const INSTALLED = new Set([sha(software('1.0.0')), sha(software('1.1.0'))]);

let work: string;
let disk: ProvisionedRealDisk;
test.beforeEach(async () => {
  // A run dir of this process: a SIGKILLed test's devices are swept like a fleet's.
  work = realpathSync(await mkdtemp(join(tmpdir(), `fleetdrill-${process.pid}-oracles-`)));
  disk = await provisionRealDisk({
    disk: join(work, 'disk'),
    client: 'mender',
    partitionBytes: 1 << 20,
    factoryImage: FACTORY,
    bootlimit: 1,
    writeClientEtc: () => Promise.resolve(),
  });
});
test.afterEach(async () => {
  await disk.release();
  await rm(work, { recursive: true, force: true });
});

/** Writes bytes into a slot's partition through its loop device, as a client does. */
async function writeSlot(slot: 'A' | 'B', bytes: Uint8Array, offset = 0): Promise<void> {
  const handle = await open(realDiskPaths(disk.disk).device[slot], 'r+');
  try {
    await handle.write(bytes, 0, bytes.byteLength, offset);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const judge = async () => judgeDiskAfterCut('r01', await inspectDiskOrUnbootable(disk.disk), INSTALLED);

test('a fresh disk: slot A committed, nothing to find', async () => {
  const state = await inspectDisk(disk.disk);
  expect(state.env).toMatchObject({ active: 'A', upgrade_available: 0 });
  expect(state.slots.A.meta).toMatchObject({ state: 'committed', version: '1.0.0' });
  expect(state.slots.B.meta.state).toBe('empty');
  expect(state.nextBoot).toMatchObject({ slot: 'A', event: 'boot', version: '1.0.0' });
  expect(await judge()).toEqual([]);
});

test('a trial armed over an intact image: the trial boots, A is what a rollback returns to', async () => {
  await writeSlot('B', UPDATE);
  await fwSetenv(disk.disk, { mender_boot_part: 3, upgrade_available: 1, bootcount: 0 });
  const state = await inspectDisk(disk.disk);
  expect(state.nextBoot).toMatchObject({ slot: 'B', event: 'trial', version: '1.1.0' });
  expect(state.slots.A.meta.state).toBe('committed');
  expect(await judge()).toEqual([]);
});

test('a trial armed over a torn image rolls back: the old slot still boots, nothing bricked', async () => {
  await writeSlot('B', UPDATE.subarray(0, UPDATE.length - 200));
  await fwSetenv(disk.disk, { mender_boot_part: 3, upgrade_available: 1, bootcount: 0 });
  const state = await inspectDisk(disk.disk);
  expect(state.slots.B.meta.state).toBe('writing');
  expect(state.nextBoot).toMatchObject({ slot: 'A', event: 'rollback', version: '1.0.0' });
  expect(await judge()).toEqual([]);
});

test('the committed slot torn with nothing pending: bricked', async () => {
  await writeSlot('A', Buffer.from('garbage'), 4096 + 10);
  const findings = await judge();
  expect(findings.map((finding) => finding.oracle)).toEqual(['bricked']);
  expect(findings[0]!.message).toMatch(/kernel panic: .*slot A/);
});

test('a trial of software nobody installed or deployed: unverified boot', async () => {
  const foreign = packImage({ name: 'robot-sim', version: '6.6.6', variant: 'good' }, software('6.6.6'));
  await writeSlot('B', foreign);
  await fwSetenv(disk.disk, { mender_boot_part: 3, upgrade_available: 1, bootcount: 0 });
  const findings = await judge();
  expect(findings.map((finding) => finding.oracle)).toEqual(['unverified-boot']);
  expect(findings[0]!.message).toMatch(/never installed or deployed/);
});

test('both environment copies torn: an invalid environment, and the default boots slot A', async () => {
  for (const file of realDiskPaths(disk.disk).envFiles) {
    const handle = await open(file, 'r+');
    await handle.write(Buffer.from([0xa5]), 0, 1, 64);
    await handle.close();
  }
  const state = await inspectDisk(disk.disk);
  expect(state.envSource).toBe('fallback');
  expect(state.nextBoot).toMatchObject({ slot: 'A', event: 'env-fallback' });
  expect((await judge()).map((finding) => finding.oracle)).toEqual(['invalid-env']);
});

test('the inspection reads only: the disk is byte for byte the same after it', async () => {
  const files = [...realDiskPaths(disk.disk).envFiles];
  const before = files.map((file) => execFileSync('sha256sum', [file]).toString());
  await inspectDisk(disk.disk);
  expect(files.map((file) => execFileSync('sha256sum', [file]).toString())).toEqual(before);
});
