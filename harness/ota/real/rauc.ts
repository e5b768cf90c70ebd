/**
 * RAUC on a real disk: the robot's /etc/rauc (system.conf with the custom bootloader backend over
 * the shared U-Boot variables, the two raw slots, the test-only keyring and the handlers that call
 * the state hook), and bundles built with the real `rauc bundle`, signed with a test-only X.509
 * certificate.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { raucDataDir, raucMountPrefix, raucSystemConf } from '../../../reference/edge-agent/index.ts';
import { realDiskPaths } from '../../../protocol/disk-layout.ts';
import { realDiskScript } from '../../../reference/robot-host/index.ts';
import { TEST_KEYS_DIR } from '../keys.ts';
import type { ClientArtifactInput } from './types.ts';

const run = promisify(execFile);

/** RAUC's custom bootloader backend over the U-Boot variables Mender's boot script reads. */
export const RAUC_BACKEND = realDiskScript('rauc-backend.sh');
/** The system handlers: RAUC takes a path, not a command line, so each point has its script. */
export const RAUC_PRE_INSTALL = realDiskScript('rauc-pre-install.sh');
export const RAUC_POST_INSTALL = realDiskScript('rauc-post-install.sh');

/** What {@link writeRaucEtc} is told. */
export interface RaucEtcOptions {
  /** The robot's compatible string: bundles must name the same (Mender's device type). */
  compatible: string;
  /** Whose certificate the keyring holds; only the key robots trust for now. */
  trust?: 'test';
}

/**
 * Writes `<disk>/etc/rauc/system.conf` and its keyring. Everything RAUC keeps (its status and
 * the bundle's mount point) lives on the disk, never under the host's /var or /mnt.
 */
export async function writeRaucEtc(disk: string, options: RaucEtcOptions): Promise<void> {
  const paths = realDiskPaths(disk);
  const etc = join(paths.etc, 'rauc');
  await mkdir(etc, { recursive: true });
  await mkdir(raucDataDir(disk), { recursive: true });
  await mkdir(raucMountPrefix(disk), { recursive: true });
  const keyring = join(etc, 'keyring.pem');
  await copyFile(join(TEST_KEYS_DIR, `rauc-${options.trust ?? 'test'}.cert.pem`), keyring);
  const conf = [
    '[system]',
    `compatible=${options.compatible}`,
    'bootloader=custom',
    `data-directory=${raucDataDir(disk)}`,
    // RAUC mounts the bundle here (in the robot's namespace, so the mount is its own).
    `mountprefix=${raucMountPrefix(disk)}`,
    '',
    '[keyring]',
    `path=${keyring}`,
    '',
    '[handlers]',
    `bootloader-custom-backend=${RAUC_BACKEND}`,
    `pre-install=${RAUC_PRE_INSTALL}`,
    `post-install=${RAUC_POST_INSTALL}`,
    '',
    '[slot.rootfs.0]',
    `device=${paths.device.A}`,
    'type=raw',
    'bootname=A',
    '',
    '[slot.rootfs.1]',
    `device=${paths.device.B}`,
    'type=raw',
    'bootname=B',
    '',
  ].join('\n');
  await writeFile(raucSystemConf(disk), conf);
}

/**
 * `rauc bundle`: a signed `format=plain` bundle whose one image goes to the rootfs slot class,
 * compatible with `deviceType`, carrying the version (and the artifact name as its description).
 * Not byte-reproducible: the CMS signature carries its signing time.
 */
export async function buildRaucBundle(input: ClientArtifactInput): Promise<void> {
  const content = join(input.workDir, 'rauc-bundle');
  await rm(content, { recursive: true, force: true });
  await mkdir(content, { recursive: true });
  await copyFile(input.rootfsImage, join(content, 'rootfs.img'));
  const manifest = [
    '[update]',
    `compatible=${input.deviceType}`,
    `version=${input.version}`,
    `description=${input.artifactName}`,
    '',
    '[bundle]',
    'format=plain',
    '',
    '[image.rootfs]',
    'filename=rootfs.img',
    '',
  ].join('\n');
  await writeFile(join(content, 'manifest.raucm'), manifest);
  // rauc refuses to overwrite an existing bundle.
  await rm(input.out, { force: true });
  const key = join(TEST_KEYS_DIR, `rauc-${input.key}`);
  try {
    await run('rauc', ['bundle', `--cert=${key}.cert.pem`, `--key=${key}.key`, content, input.out]);
  } catch (error) {
    throw new Error(
      `rauc bundle ${input.artifactName} → ${input.out}: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`,
      {
        cause: error,
      },
    );
  } finally {
    await rm(content, { recursive: true, force: true });
  }
}
