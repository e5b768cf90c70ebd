/**
 * Mender on a real disk: the robot's /etc/mender (mender.conf naming the partitions and the
 * verify key, the test-only public key), its data directory with `device_type`, and artifacts
 * built with the real `mender-artifact`, signed with the test-only SEC1 key and carrying
 * Artifact* state scripts that call the state hook (where drills cut the power).
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { menderDataDir } from '../../../reference/edge-agent/index.ts';
import { realDiskPaths } from '../../../protocol/disk-layout.ts';
import { TEST_KEYS_DIR } from '../keys.ts';
import type { ClientArtifactInput } from './types.ts';

const run = promisify(execFile);

/** The Artifact* states whose scripts the drills' artifacts carry. */
export const MENDER_SCRIPT_STATES = [
  'ArtifactInstall_Enter',
  'ArtifactInstall_Leave',
  'ArtifactCommit_Enter',
  'ArtifactCommit_Leave',
  'ArtifactRollback_Enter',
  'ArtifactFailure_Enter',
] as const;

/** Writes Mender's files for the robot whose disk is `disk`. */
export async function writeMenderEtc(disk: string, options: { deviceType: string }): Promise<void> {
  const paths = realDiskPaths(disk);
  const etc = join(paths.etc, 'mender');
  await mkdir(join(etc, 'scripts'), { recursive: true });
  await copyFile(join(TEST_KEYS_DIR, 'mender-test.pub'), join(etc, 'artifact-verify-key.pem'));
  const conf = {
    RootfsPartA: paths.device.A,
    RootfsPartB: paths.device.B,
    ArtifactVerifyKey: '/etc/mender/artifact-verify-key.pem',
  };
  await writeFile(join(etc, 'mender.conf'), `${JSON.stringify(conf, null, 2)}\n`);
  // Rootfs state scripts (none here) are versioned; Mender wants the version file beside them.
  await writeFile(join(etc, 'scripts', 'version'), '3\n');
  await mkdir(menderDataDir(disk), { recursive: true });
  await writeFile(join(menderDataDir(disk), 'device_type'), `device_type=${options.deviceType}\n`);
}

/** `mender-artifact write rootfs-image`: the image, its state scripts, signed. */
export async function buildMenderArtifact(input: ClientArtifactInput): Promise<void> {
  const scripts = join(input.workDir, 'scripts');
  await mkdir(scripts, { recursive: true });
  // Uncompressed: the image is stored as is, as a tampered-payload drill needs it.
  const args = [
    'write',
    'rootfs-image',
    '--compression',
    'none',
    '-f',
    input.rootfsImage,
    '-n',
    input.artifactName,
    '-t',
    input.deviceType,
  ];
  for (const state of MENDER_SCRIPT_STATES) {
    const script = join(scripts, `${state}_50_fleetdrill`);
    await writeFile(
      script,
      `#!/bin/sh\n# fleetdrill's state hook: records ${state}, and cuts the power there when a drill armed it.\nexec "\${FLEETDRILL_STATE_HOOK:-true}" ${state}\n`,
    );
    await chmod(script, 0o755);
    args.push('-s', script);
  }
  args.push('-k', join(TEST_KEYS_DIR, `mender-${input.key}.key`), '-o', input.out);
  try {
    await run('mender-artifact', args);
  } catch (error) {
    throw new Error(
      `mender-artifact write ${input.artifactName}: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message}`,
      { cause: error },
    );
  }
}
