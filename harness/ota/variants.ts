import { createCipheriv, createHash, randomBytes, type KeyObject } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import createDebug from 'debug';
import { build, version as esbuildVersion, type BuildOptions } from 'esbuild';
import { canonicalJson, keyIdOf, type ArtifactManifest } from '../../protocol/artifact.ts';
import { ConfigError } from '../core/errors.ts';
import { REPO_ROOT } from '../core/paths.ts';
import { buildArtifact } from './build.ts';
import { loadTestKeyPair } from './keys.ts';

const log = createDebug('fleetdrill:ota');

import { ROBOT_VARIANTS, type RobotVariant } from './variant-names.ts';

export { ROBOT_VARIANTS, type RobotVariant };

/**
 * How robot software is bundled, here and for the container images: one Node 20 ES module, ws's
 * optional native add-ons (bufferutil, utf-8-validate) left out. Bundled CommonJS needs
 * REQUIRE_SHIM in the banner.
 */
export const NODE_MODULE_BUNDLE = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['bufferutil', 'utf-8-validate'],
} satisfies BuildOptions;

/** A banner line that gives an ES module bundle the `require` its bundled CommonJS calls. */
export const REQUIRE_SHIM =
  "import { createRequire as __fleetdrillRequire } from 'node:module'; const require = __fleetdrillRequire(import.meta.url);";

/** The robot software a slot holds: the reference robot as the robot host boots it, in one ES module. */
export const ROBOT_SOFTWARE_ENTRY = 'reference/robot-sim/slot-main.ts';
/**
 * Slots of the drills' robots: room for the reference software (a few MB) and then some, small
 * enough that a too-large image is refused after a short download.
 */
export const DRILL_SLOT_CAPACITY = 16 * 1024 * 1024;

/** Where built variants are cached, keyed by their inputs. */
export const OTA_CACHE_DIR = join(REPO_ROOT, '.fleetdrill', 'ota');

// Bump when the way payloads are made changes, so that old cache entries stop matching.
const BUILDER_REVISION = 2;
const FILLER_PREFIX = '\n/* fleetdrill too-large filler: ';
const FILLER_SUFFIX = ' */\n';

/** Which variant to build, and for what. */
export interface RobotVariantOptions {
  variant: RobotVariant;
  /** The semver version the artifact and the software report, e.g. `1.1.0`. */
  version: string;
  /**
   * The slot's capacity in bytes. Required for `too-large`, whose payload comes out at
   * `slotCapacityBytes + 1` bytes (or just past the bundle, if that alone already exceeds it);
   * for the other variants it is only checked: a payload that would not fit is an error.
   */
  slotCapacityBytes?: number;
  /** Default `robot-sim`. */
  name?: string;
  /** Default `['fd-amr-1']`, the reference robot's model. */
  compatibleModels?: readonly string[];
  /** Default the test-only `test-ota` key. */
  privateKey?: KeyObject | string;
  /** Default `.fleetdrill/ota/` in the repository. */
  cacheDir?: string;
}

/** A built (or cached) variant artifact. */
export interface BuiltRobotVariant {
  variant: RobotVariant;
  /** The artifact file, under the cache dir. Treat it as read-only: it is shared across runs. */
  path: string;
  manifest: ArtifactManifest;
  /** SHA-256 of the payload (the slot content), hex: the same as `manifest.payload.sha256`. */
  sha256: string;
  /** SHA-256 and size of the whole artifact file, what a download is checked against. */
  artifactSha256: string;
  artifactSize: number;
  keyId: string;
  /** True when it came from the cache rather than a fresh build. */
  cached: boolean;
}

/** The sidecar beside each cached artifact: what it was built from and what came out. */
interface CacheEntry {
  params: Record<string, unknown>;
  /** esbuild's inputs, relative to the repository root, with their SHA-256. */
  inputs: Record<string, string>;
  manifest: ArtifactManifest;
  keyId: string;
  artifactSha256: string;
  artifactSize: number;
}

/**
 * Builds an artifact of the reference robot software in one variant, or returns the cached one.
 * Deterministic: the same variant, version, name, models, key and sources give the same payload
 * bytes and the same artifact bytes, so its SHA-256 is stable across runs and workers.
 */
export async function buildRobotVariant(options: RobotVariantOptions): Promise<BuiltRobotVariant> {
  const { variant, version } = options;
  if (!ROBOT_VARIANTS.includes(variant)) {
    throw new ConfigError('variant', `must be one of ${ROBOT_VARIANTS.join(', ')}, got "${String(variant)}"`);
  }
  const capacity = options.slotCapacityBytes;
  if (capacity !== undefined && (!Number.isSafeInteger(capacity) || capacity <= 0)) {
    throw new ConfigError('slotCapacityBytes', `must be a positive whole number of bytes, got ${capacity}`);
  }
  if (variant === 'too-large' && capacity === undefined) {
    throw new ConfigError('slotCapacityBytes', 'is required for the too-large variant');
  }
  const name = options.name ?? 'robot-sim';
  const compatibleModels = [...(options.compatibleModels ?? ['fd-amr-1'])];
  const privateKey = options.privateKey ?? loadTestKeyPair('test-ota').privateKey;
  const keyId = keyIdOf(privateKey);
  const cacheDir = resolve(options.cacheDir ?? OTA_CACHE_DIR);

  const params = {
    builder: BUILDER_REVISION,
    esbuild: esbuildVersion,
    entry: ROBOT_SOFTWARE_ENTRY,
    name,
    version,
    variant,
    compatibleModels,
    keyId,
    // Only too-large's bytes depend on the capacity: the others share one cache entry.
    slotCapacityBytes: variant === 'too-large' ? capacity : null,
  };
  const key = createHash('sha256').update(canonicalJson(params)).digest('hex').slice(0, 16);
  const base = join(cacheDir, `${name}-${version}-${variant}-${key}`);
  const artifactPath = `${base}.fdart`;
  const sidecarPath = `${base}.json`;

  const hit = await freshEntry(artifactPath, sidecarPath);
  if (hit) {
    checkFits(hit.manifest, variant, capacity);
    log('%s %s %s: cached %s', name, version, variant, artifactPath);
    return result(variant, artifactPath, hit, true);
  }

  const { code, inputs } = await bundleRobotSoftware(name, version, variant);
  const payload = variant === 'too-large' ? padPastCapacity(code, capacity!, `${name} ${version}`) : code;
  const built = await buildArtifact({
    name,
    version,
    compatibleModels,
    payload,
    privateKey,
    out: artifactPath,
  });
  checkFits(built.manifest, variant, capacity);
  const entry: CacheEntry = {
    params,
    inputs: await hashInputs(inputs),
    manifest: built.manifest,
    keyId: built.keyId,
    artifactSha256: built.sha256,
    artifactSize: built.size,
  };
  const temp = `${sidecarPath}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(entry, null, 2)}\n`);
  await rename(temp, sidecarPath);
  log('%s %s %s: built %s (%d bytes)', name, version, variant, artifactPath, built.size);
  return result(variant, artifactPath, entry, false);
}

function result(variant: RobotVariant, path: string, entry: CacheEntry, cached: boolean): BuiltRobotVariant {
  return {
    variant,
    path,
    manifest: entry.manifest,
    sha256: entry.manifest.payload.sha256,
    artifactSha256: entry.artifactSha256,
    artifactSize: entry.artifactSize,
    keyId: entry.keyId,
    cached,
  };
}

function checkFits(manifest: ArtifactManifest, variant: RobotVariant, capacity: number | undefined): void {
  if (variant === 'too-large' || capacity === undefined || manifest.payload.size <= capacity) return;
  throw new ConfigError(
    'slotCapacityBytes',
    `is ${capacity}, but the ${variant} variant of ${manifest.name} ${manifest.version} is ` +
      `${manifest.payload.size} bytes: only too-large may exceed the slot`,
  );
}

/**
 * The robot software as one ES module, with the variant and version compiled in. Bundled from
 * the repository root with relative paths and no source map, so the bytes do not depend on where
 * the repository is checked out.
 */
async function bundleRobotSoftware(
  name: string,
  version: string,
  variant: RobotVariant,
): Promise<{ code: Uint8Array; inputs: string[] }> {
  const result = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: [ROBOT_SOFTWARE_ENTRY],
    outfile: join(REPO_ROOT, '.fleetdrill', 'ota', 'robot-software.mjs'),
    write: false,
    ...NODE_MODULE_BUNDLE,
    define: {
      __FLEETDRILL_VARIANT__: JSON.stringify(variant),
      __FLEETDRILL_VERSION__: JSON.stringify(version),
    },
    // The stamp keeps variants apart even where the software does not read the defines.
    banner: {
      js: [`// fleetdrill robot software ${name} ${version}, variant ${variant}`, REQUIRE_SHIM].join('\n'),
    },
    sourcemap: false,
    metafile: true,
    logLevel: 'error',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error(`esbuild produced no output for ${ROBOT_SOFTWARE_ENTRY}`);
  return { code: output.contents, inputs: Object.keys(result.metafile.inputs) };
}

/**
 * The bundle followed by a comment of filler that takes it to `capacity + 1` bytes: still a
 * module that runs, just too big. The filler is an AES-CTR keystream seeded from the artifact's
 * name and version, in base64: deterministic, and incompressible, so no transport or disk can
 * make it small again.
 */
function padPastCapacity(code: Uint8Array, capacity: number, seed: string): Uint8Array {
  const overhead = code.length + FILLER_PREFIX.length + FILLER_SUFFIX.length;
  const fillerLength = Math.max(capacity + 1, overhead) - overhead;
  const key = createHash('sha256').update(`fleetdrill too-large ${seed}`).digest().subarray(0, 16);
  const stream = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const random = stream.update(Buffer.alloc(Math.ceil((fillerLength * 3) / 4) + 3));
  const filler = random.toString('base64').slice(0, fillerLength);
  return Buffer.concat([code, Buffer.from(`${FILLER_PREFIX}${filler}${FILLER_SUFFIX}`, 'latin1')]);
}

async function hashInputs(inputs: readonly string[]): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const input of [...inputs].sort()) {
    hashes[input] = createHash('sha256')
      .update(await readFile(join(REPO_ROOT, input)))
      .digest('hex');
  }
  return hashes;
}

/** The cache entry, if the artifact is there whole and every input still has the content it was built from. */
async function freshEntry(artifactPath: string, sidecarPath: string): Promise<CacheEntry | undefined> {
  try {
    const entry = JSON.parse(await readFile(sidecarPath, 'utf8')) as CacheEntry;
    if ((await stat(artifactPath)).size !== entry.artifactSize) return undefined;
    const now = await hashInputs(Object.keys(entry.inputs));
    const stale = Object.entries(entry.inputs).some(([input, hash]) => now[input] !== hash);
    return stale ? undefined : entry;
  } catch {
    // Missing, half-written by an old crash or from a deleted input: build it again.
    return undefined;
  }
}
