/*
 * RAUC's side of a real disk, with the real tools: system.conf as rauc itself reads it, bundles
 * that `rauc info` verifies against the robot's keyring (and refuses when signed by another key),
 * and the custom bootloader backend over a real U-Boot environment pair, each command run in the
 * robot's namespace as RAUC runs it. Installs through the service are in the adapter's tests
 * (rauc-adapter.test.ts).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { raucSystemConf } from '../../../reference/edge-agent/ota/adapters/rauc.ts';
import { runInNamespace } from '../../../reference/edge-agent/ota/adapters/real-common.ts';
import { defaultUbootEnv } from '../../../reference/robot-host/real-disk/bootloader.ts';
import { packImage } from '../../../reference/robot-host/real-disk/image.ts';
import { realDiskPaths } from '../../../protocol/disk-layout.ts';
import {
  fwPrintenv,
  fwSetenv,
  readEnvCopies,
  writeFreshEnv,
} from '../../../reference/robot-host/real-disk/uboot-env.ts';
import { TEST_KEYS_DIR } from '../keys.ts';
import { buildRaucBundle, RAUC_BACKEND, RAUC_POST_INSTALL, RAUC_PRE_INSTALL, writeRaucEtc } from './rauc.ts';
import { skipWithoutRealClientTools } from './test-support.ts';

const run = promisify(execFile);

skipWithoutRealClientTools(['rauc', 'fw_setenv', 'mkenvimage'], ['rauc', 'libubootenv-tool', 'u-boot-tools']);

let work: string;
let disk: string;
test.beforeEach(async () => {
  // fleetdrill-<pid>-: the run-dir name the sweeps know, should this test be killed mid-way.
  work = await mkdtemp(join(tmpdir(), `fleetdrill-${process.pid}-rauc-`));
  disk = join(work, 'disk');
  const paths = realDiskPaths(disk);
  for (const dir of [paths.etc, paths.run, paths.ota, join(disk, 'boot')])
    await mkdir(dir, { recursive: true });
  await writeFile(paths.fwConfig, paths.envFiles.map((file) => `${file} 0x0 0x4000\n`).join(''));
  await writeFreshEnv(disk, defaultUbootEnv(1));
  await writeFile(join(paths.run, 'cmdline'), 'root=/dev/fake rauc.slot=A\n');
});
test.afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Runs the backend in the robot's namespace, as RAUC's service does. */
async function backend(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const result = await runInNamespace(disk, RAUC_BACKEND, args);
  return { code: result.code, out: result.stdout.trim(), err: result.stderr.trim() };
}

/** How many writes the environment has seen: the newest copy's flag. */
async function envWrites(): Promise<number> {
  const { copies, current } = await readEnvCopies(disk);
  expect(current, 'a valid environment copy').not.toBeUndefined();
  return copies[current!].flag;
}

test('system.conf names the compatible, the custom backend, the handlers, the keyring and both raw slots, all on the disk', async () => {
  await writeRaucEtc(disk, { compatible: 'fd-amr-1' });
  const conf = await readFile(raucSystemConf(disk), 'utf8');
  const paths = realDiskPaths(disk);
  expect(conf).toContain('compatible=fd-amr-1\n');
  expect(conf).toContain('bootloader=custom\n');
  expect(conf).toContain(`bootloader-custom-backend=${RAUC_BACKEND}\n`);
  expect(conf).toContain(`pre-install=${RAUC_PRE_INSTALL}\n`);
  expect(conf).toContain(`post-install=${RAUC_POST_INSTALL}\n`);
  expect(conf).toMatch(
    new RegExp(`\\[slot\\.rootfs\\.0\\]\\ndevice=${paths.device.A}\\ntype=raw\\nbootname=A\\n`),
  );
  expect(conf).toMatch(
    new RegExp(`\\[slot\\.rootfs\\.1\\]\\ndevice=${paths.device.B}\\ntype=raw\\nbootname=B\\n`),
  );
  // Nothing of RAUC's may land in the host's /var, /mnt or /etc.
  for (const line of conf.split('\n').filter((l) => l.includes('/'))) {
    expect(
      line.slice(line.indexOf('=') + 1).startsWith(disk) || line.includes('/reference/robot-host/real-disk/'),
      line,
    ).toBe(true);
  }
  const keyring = /\[keyring\]\npath=(.+)\n/.exec(conf)?.[1];
  expect(keyring, 'a keyring path').toBeDefined();
  expect(await readFile(keyring!, 'utf8')).toBe(
    await readFile(join(TEST_KEYS_DIR, 'rauc-test.cert.pem'), 'utf8'),
  );
});

test('a bundle signed with the test key verifies against the keyring and carries compatible, version and the image', async () => {
  await writeRaucEtc(disk, { compatible: 'fd-amr-1' });
  const image = join(work, 'rootfs.img');
  await writeFile(
    image,
    packImage({ name: 'robot-sim', version: '1.1.0', variant: 'good' }, Buffer.from('export default 1;\n')),
  );
  const out = join(work, 'robot-sim-1.1.0.raucb');
  await buildRaucBundle({
    rootfsImage: image,
    artifactName: 'robot-sim-1.1.0',
    version: '1.1.0',
    deviceType: 'fd-amr-1',
    key: 'test',
    workDir: join(work, 'build'),
    out,
  });
  expect((await readFile(out)).toString('latin1', 0, 4)).toBe('hsqs');
  // rauc reads the robot's system.conf and verifies with the keyring it names.
  const result = await runInNamespace(disk, 'rauc', [
    `--conf=${raucSystemConf(disk)}`,
    'info',
    '--output-format=json',
    out,
  ]);
  expect(result.code, result.stderr).toBe(0);
  const info = JSON.parse(result.stdout) as {
    compatible: string;
    version: string;
    description: string;
    images: Array<Record<string, { filename: string }>>;
  };
  expect(info.compatible).toBe('fd-amr-1');
  expect(info.version).toBe('1.1.0');
  expect(info.description).toBe('robot-sim-1.1.0');
  expect(info.images.map((entry) => Object.keys(entry)[0])).toEqual(['rootfs']);
  // The scratch content is gone; the bundle stays.
  await expect(readFile(join(work, 'build', 'rauc-bundle', 'manifest.raucm'))).rejects.toThrow(/ENOENT/);
});

test('a bundle signed with the untrusted key does not verify against the robot keyring', async () => {
  await writeRaucEtc(disk, { compatible: 'fd-amr-1' });
  const image = join(work, 'rootfs.img');
  await writeFile(
    image,
    packImage({ name: 'robot-sim', version: '1.1.0', variant: 'good' }, Buffer.from('export default 1;\n')),
  );
  const out = join(work, 'untrusted.raucb');
  await buildRaucBundle({
    rootfsImage: image,
    artifactName: 'robot-sim-1.1.0',
    version: '1.1.0',
    deviceType: 'fd-amr-1',
    key: 'untrusted',
    workDir: join(work, 'build'),
    out,
  });
  const result = await runInNamespace(disk, 'rauc', [`--conf=${raucSystemConf(disk)}`, 'info', out]);
  expect(result.code, 'rauc info should refuse the untrusted signature').not.toBe(0);
  expect(result.stderr).toMatch(/signature|verif/i);
  // The same bundle verifies against its own certificate: the keyring is what refused it.
  await run('rauc', ['info', `--keyring=${join(TEST_KEYS_DIR, 'rauc-untrusted.cert.pem')}`, out]);
});

test('backend: primary is mender_boot_part, states default to good, current is rauc.slot', async () => {
  expect(await backend('get-primary')).toMatchObject({ code: 0, out: 'A' });
  expect(await backend('get-state', 'B')).toMatchObject({ code: 0, out: 'good' });
  expect(await backend('get-current')).toMatchObject({ code: 0, out: 'A' });
  await fwSetenv(disk, { mender_boot_part: 3 });
  expect(await backend('get-primary')).toMatchObject({ code: 0, out: 'B' });
  await writeFile(join(realDiskPaths(disk).run, 'cmdline'), 'root=/dev/fake rauc.slot=B\n');
  expect(await backend('get-current')).toMatchObject({ code: 0, out: 'B' });
});

test('backend: set-primary of the other slot arms its trial in one write; of the booted slot only sets the partition', async () => {
  const before = await envWrites();
  expect((await backend('set-primary', 'B')).code).toBe(0);
  expect(await envWrites()).toBe((before + 1) % 256);
  expect(await fwPrintenv(disk)).toMatchObject({
    mender_boot_part: '3',
    upgrade_available: '1',
    bootcount: '0',
  });

  await fwSetenv(disk, { mender_boot_part: 3, upgrade_available: 0, bootcount: 5 });
  expect((await backend('set-primary', 'A')).code).toBe(0);
  expect(await fwPrintenv(disk)).toMatchObject({
    mender_boot_part: '2',
    upgrade_available: '0',
    bootcount: '5',
  });
});

test('backend: set-state good of the pending primary commits in the same write; bad only marks', async () => {
  expect((await backend('set-state', 'B', 'bad')).code).toBe(0);
  expect(await backend('get-state', 'B')).toMatchObject({ code: 0, out: 'bad' });
  expect((await backend('set-primary', 'B')).code).toBe(0);
  // good on the slot that is not the primary leaves the trial alone
  expect((await backend('set-state', 'A', 'good')).code).toBe(0);
  expect(await fwPrintenv(disk)).toMatchObject({ upgrade_available: '1', rauc_state_A: 'good' });
  const before = await envWrites();
  expect((await backend('set-state', 'B', 'good')).code).toBe(0);
  expect(await envWrites()).toBe((before + 1) % 256);
  expect(await fwPrintenv(disk)).toMatchObject({
    mender_boot_part: '3',
    upgrade_available: '0',
    rauc_state_B: 'good',
  });
  expect(await backend('get-state', 'B')).toMatchObject({ code: 0, out: 'good' });
});

test('backend: unknown commands, bootnames and states fail naming what was wrong, and write nothing', async () => {
  const before = await envWrites();
  const cases: Array<[string[], RegExp]> = [
    [['reboot'], /unknown command 'reboot'/],
    [['set-primary', 'C'], /unknown bootname 'C'/],
    [['set-state', 'A', 'meh'], /good or bad, got 'meh'/],
  ];
  for (const [args, message] of cases) {
    const result = await backend(...args);
    expect(result.code, args.join(' ')).not.toBe(0);
    expect(result.err, args.join(' ')).toMatch(message);
  }
  expect(await envWrites(), 'the refused commands wrote nothing').toBe(before);
  await fwSetenv(disk, { mender_boot_part: 7 });
  const primary = await backend('get-primary');
  expect(primary.code).not.toBe(0);
  expect(primary.err).toMatch(/mender_boot_part is '7'/);
  await writeFile(join(realDiskPaths(disk).run, 'cmdline'), 'root=/dev/fake\n');
  const current = await backend('get-current');
  expect(current.code).not.toBe(0);
  expect(current.err).toMatch(/no rauc\.slot=/);
});
