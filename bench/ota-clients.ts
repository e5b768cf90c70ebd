/**
 * A real client's install, timed on its own: Mender writing a 64 MiB image into a real disk's
 * standby partition (a loop device) and arming the trial, from `mender install` to its exit.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MenderAdapter } from '../reference/edge-agent/ota/adapters/mender.ts';
import { artifactNameOf } from '../reference/robot-host/real-disk/boot.ts';
import {
  buildClientArtifact,
  buildRootfsImage,
  provisionRealDisk,
  REFERENCE_DEVICE_TYPE,
  writeClientEtc,
} from '../harness/ota/real/index.ts';

const MIB = 1024 * 1024;

/** Seconds of `mender install` of a 64 MiB image onto a fresh real disk. */
export async function menderInstallSeconds(imageBytes = 64 * MIB): Promise<{ value: number; note: string }> {
  const built = await buildClientArtifact({
    client: 'mender',
    variant: 'good',
    version: '1.1.0',
    padToBytes: imageBytes,
  });
  const factory = await readFile((await buildRootfsImage('good', '1.0.0')).path);
  // In a run dir of this process, so a SIGKILLed bench's devices are swept like a fleet's.
  const dir = await mkdtemp(join(tmpdir(), `fleetdrill-${process.pid}-bench-`));
  const disk = await provisionRealDisk({
    disk: join(dir, 'disk'),
    client: 'mender',
    partitionBytes: imageBytes + 16 * MIB,
    factoryImage: factory,
    bootlimit: 1,
    writeClientEtc: writeClientEtc('mender', REFERENCE_DEVICE_TYPE),
  });
  try {
    // What the factory image's boot leaves for Mender (the robot host writes it at every boot).
    await writeFile(
      join(disk.disk, 'run', 'artifact_info'),
      `artifact_name=${artifactNameOf({ name: 'robot-sim', version: '1.0.0' })}\n`,
    );
    const mender = new MenderAdapter(disk.disk, () => {});
    const checked = await mender.check(built.path);
    if (!checked.ok) throw new Error(checked.message);
    const started = performance.now();
    const installed = await mender.install({
      artifactPath: built.path,
      version: built.version,
      standby: 'B',
      onSlotBytes: () => Promise.resolve(),
      script: () => Promise.resolve(),
      beforeArm: () => Promise.resolve(),
      signal: new AbortController().signal,
    });
    const seconds = (performance.now() - started) / 1000;
    if (!installed.ok) throw new Error(installed.message);
    return {
      value: Math.round(seconds * 100) / 100,
      note: `${Math.round(built.artifactSize / MIB)} MiB artifact, uncompressed, onto a loop device`,
    };
  } finally {
    await disk.release();
    await rm(dir, { recursive: true, force: true });
  }
}
