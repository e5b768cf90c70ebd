/**
 * Artifacts for the real clients, built with the real tools: the reference robot software in one
 * variant, packed into a root filesystem image (reference/robot-host/real-disk/image.ts), made into
 * a Mender artifact, a RAUC bundle or an SWUpdate image signed with the test-only keys, then
 * wrapped in fleetdrill's FDART envelope, the form the fleet cloud stores and offers. The client
 * verifies its own artifact; the envelope only carries it. Built once per inputs and cached under
 * `.fleetdrill/ota/<client>/`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packImage, type ImageMeta, artifactNameOf } from '../../../reference/robot-host/index.ts';
import type { RealOtaClientName } from '../../../protocol/disk-layout.ts';
import { payloadRange } from '../../../protocol/artifact.ts';
import { buildArtifact } from '../build.ts';
import { loadTestKeyPair } from '../keys.ts';
import { buildRobotVariant, OTA_CACHE_DIR, type RobotVariant } from '../variants.ts';
import { buildMenderArtifact } from './mender.ts';
import { buildRaucBundle } from './rauc.ts';
import { buildSwu } from './swupdate.ts';
import type { ClientArtifactInput } from './types.ts';

/** Each client's builder, and the extension of its artifact. */
const BUILDERS: Record<
  RealOtaClientName,
  { build: (input: ClientArtifactInput) => Promise<void>; ext: string }
> = {
  mender: { build: buildMenderArtifact, ext: 'mender' },
  rauc: { build: buildRaucBundle, ext: 'raucb' },
  swupdate: { build: buildSwu, ext: 'swu' },
};

/** The model the reference robot reports: Mender's device type, RAUC's compatible, SWUpdate's board. */
export const REFERENCE_DEVICE_TYPE = 'fd-amr-1';

/** A root filesystem image of one variant. */
export interface BuiltRootfs {
  path: string;
  meta: ImageMeta;
}

/** The image of `variant` at `version`, built from the variant's software, cached. */
export async function buildRootfsImage(
  variant: RobotVariant,
  version: string,
  padToBytes = 0,
): Promise<BuiltRootfs> {
  const software = await buildRobotVariant({ variant, version });
  const { offset, length } = await payloadRange(software.path);
  const payload = Buffer.alloc(length);
  const handle = await open(software.path, 'r');
  try {
    await handle.read(payload, 0, length, offset);
  } finally {
    await handle.close();
  }
  // Padding (a comment at the end of the module) makes a large image for the install bench.
  const padded =
    padToBytes > length
      ? Buffer.concat([payload, Buffer.from(`\n/*${'x'.repeat(padToBytes - length - 6)}*/\n`)])
      : payload;
  const image = packImage({ name: software.manifest.name, version, variant }, padded);
  const sha = createHash('sha256').update(image).digest('hex').slice(0, 16);
  const dir = join(OTA_CACHE_DIR, 'rootfs');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${software.manifest.name}-${version}-${variant}-${sha}.img`);
  if (!(await exists(path))) await writeAtomically(path, image);
  const meta: ImageMeta = {
    name: software.manifest.name,
    version,
    variant,
    size: padded.length,
    sha256: createHash('sha256').update(padded).digest('hex'),
  };
  return { path, meta };
}

/** Which artifact to build. */
export interface ClientArtifactOptions {
  client: RealOtaClientName;
  variant: RobotVariant;
  version: string;
  /** `untrusted`: signed with a key no robot trusts. Default `test`. */
  key?: 'test' | 'untrusted';
  /** Default the reference robot's model. */
  deviceType?: string;
  /** Flip a byte of the image inside the signed artifact: its checksum no longer matches. */
  tampered?: boolean;
  /** Pad the software to this many bytes (for the install bench). */
  padToBytes?: number;
}

/** A built artifact of a real client, in its envelope. */
export interface BuiltClientArtifact {
  client: RealOtaClientName;
  /** The FDART envelope: what is uploaded to the fleet cloud. */
  path: string;
  /** The client's own artifact file (.mender, .raucb, .swu). */
  clientPath: string;
  version: string;
  variant: RobotVariant;
  /** SHA-256 of the software inside the image: what a slot holds once installed. */
  softwareSha256: string;
  /** SHA-256 and size of the envelope, what a download is checked against. */
  artifactSha256: string;
  artifactSize: number;
}

/** Builds under way in this process, by what they build: robots of one fleet ask at once. */
const building = new Map<string, Promise<BuiltClientArtifact>>();

/** Builds (or finds cached) the artifact `options` names. */
export function buildClientArtifact(options: ClientArtifactOptions): Promise<BuiltClientArtifact> {
  const key = JSON.stringify([
    options.client,
    options.variant,
    options.version,
    options.key,
    options.deviceType,
    options.tampered,
    options.padToBytes,
  ]);
  let build = building.get(key);
  if (!build) {
    build = buildClientArtifactOnce(options).finally(() => building.delete(key));
    building.set(key, build);
  }
  return build;
}

async function buildClientArtifactOnce(options: ClientArtifactOptions): Promise<BuiltClientArtifact> {
  const { client, variant, version } = options;
  const key = options.key ?? 'test';
  const deviceType = options.deviceType ?? REFERENCE_DEVICE_TYPE;
  const rootfs = await buildRootfsImage(variant, version, options.padToBytes);
  const builder = BUILDERS[client];
  const params = JSON.stringify({
    client,
    image: rootfs.meta.sha256,
    key,
    deviceType,
    tampered: options.tampered ?? false,
    rev: 2, // 2: the .swu carries stream padding
  });
  const id = createHash('sha256').update(params).digest('hex').slice(0, 16);
  const dir = join(OTA_CACHE_DIR, client);
  await mkdir(dir, { recursive: true });
  const base = join(dir, `${artifactNameOf(rootfs.meta)}-${variant}-${id}`);
  const clientPath = `${base}.${builder.ext}`;
  const envelope = `${base}.fdart`;
  if (!(await exists(envelope))) {
    const work = await mkdtemp(join(dir, '.build-'));
    try {
      const out = join(work, `artifact.${builder.ext}`);
      await builder.build({
        rootfsImage: rootfs.path,
        artifactName: artifactNameOf(rootfs.meta),
        version,
        deviceType,
        key,
        workDir: work,
        out,
      });
      if (options.tampered) await flipImageByte(out);
      await rename(out, clientPath);
      const wrapped = await buildArtifact({
        name: rootfs.meta.name,
        version,
        compatibleModels: [deviceType],
        payload: clientPath,
        privateKey: loadTestKeyPair('test-ota').privateKey,
        out: join(work, 'envelope.fdart'),
      });
      await rename(wrapped.path, envelope);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  const bytes = await readFile(envelope);
  return {
    client,
    path: envelope,
    clientPath,
    version,
    variant,
    softwareSha256: rootfs.meta.sha256,
    artifactSha256: createHash('sha256').update(bytes).digest('hex'),
    artifactSize: bytes.length,
  };
}

/**
 * Corrupts one byte of the software inside the artifact, where the image is stored as is (the
 * drills build it uncompressed), so only the client's checksum can tell; elsewhere, the middle.
 */
async function flipImageByte(path: string): Promise<void> {
  const bytes = await readFile(path);
  const at = bytes.indexOf('FDROOTFS');
  const offset = at >= 0 ? at + 4096 + 64 : Math.floor(bytes.length / 2);
  bytes[offset] = bytes[offset]! ^ 0xff;
  await writeFile(path, bytes);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  // Unique per call: two robots of one fleet may build the same image at the same moment.
  const temp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, bytes);
  await rename(temp, path);
}
