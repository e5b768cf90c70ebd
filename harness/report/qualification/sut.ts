/**
 * Records the software under test: for each file that ran (robot software, edge agent, cloud, HIL
 * model, OTA artifacts) its SHA-256 and the version it states about itself, and for a robot image
 * its id from the Docker engine. A release manager signs a verdict about these bytes, so a file
 * that cannot be read is an error, never a component left out.
 */
import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import onnxProto from 'onnx-proto';
import { ConfigError, FleetdrillError } from '../../core/errors.ts';
import { REPO_ROOT } from '../../core/paths.ts';
import { ARTIFACT_MAGIC, readArtifactHeader } from '../../../protocol/artifact.ts';
import type { SoftwareUnderTest } from './types.ts';

/** What recordSut reads; every path is optional, and each one given must exist. */
export interface SutOptions {
  /** The release under qualification, e.g. `2.4.0`. */
  release: string;
  /** Overrides every component's version (`--sut-version`), marked as its source. */
  sutVersion?: string;
  /** The robot software: its factory OTA artifact (FDART) or a bundle. */
  robotBundle?: string;
  /** The edge agent's bundle (`.fleetdrill/build/edge-agent.mjs`). */
  agentBundle?: string;
  /** The fleet cloud's bundle (`.fleetdrill/build/fleet-cloud.mjs`). */
  cloudBundle?: string;
  /** The HIL stage's ONNX model. */
  hilModel?: string;
  /** A robot image name or id (docker backend); read from the engine when one answers. */
  robotImage?: string;
  /** OTA artifacts the drills install. */
  otaArtifacts?: string[];
}

/** A component of the software under test could not be recorded; the message names it. */
export class SutError extends FleetdrillError {}

/** The `--sut-version` source, as components overridden by it say. */
export const SUT_VERSION_SOURCE = '--sut-version';

const FILE_COMPONENTS = [
  ['robotBundle', 'robot'],
  ['agentBundle', 'edge-agent'],
  ['cloudBundle', 'cloud'],
  ['hilModel', 'hil-model'],
] as const;

/** How long the Docker engine may take to answer before the image counts as not read. */
const ENGINE_TIMEOUT_MS = 5_000;

type Component = SoftwareUnderTest['components'][number];

/** Reads what ran: digests always from the files, versions from the files unless `sutVersion` says. */
export async function recordSut(options: SutOptions): Promise<SoftwareUnderTest> {
  if (!options.release) throw new ConfigError('release', 'is required');
  if (options.sutVersion === '') throw new ConfigError('--sut-version', 'must not be empty');
  const reads: Array<Promise<Component>> = [];
  for (const [field, name] of FILE_COMPONENTS) {
    const path = options[field];
    if (path !== undefined) reads.push(fileComponent(name, field, path, options.sutVersion));
  }
  (options.otaArtifacts ?? []).forEach((path, index) =>
    reads.push(fileComponent('ota-artifact', `otaArtifacts[${index}]`, path, options.sutVersion)),
  );
  if (options.robotImage !== undefined) reads.push(imageComponent(options.robotImage, options.sutVersion));
  const components = await Promise.all(reads);
  // A version given and no file to pin it to is still what the release manager was told ran.
  if (components.length === 0 && options.sutVersion !== undefined) {
    components.push({ name: 'sut', version: options.sutVersion, source: SUT_VERSION_SOURCE });
  }
  return { release: options.release, components };
}

/**
 * The reference stack's files, found as the fleet finds them: the factory artifact robots boot
 * (built or taken from the cache), the edge agent's and cloud's bundles (rebuilt when a source
 * changed), and the HIL stage's default model.
 */
export async function findSutFiles(
  options: { factoryVersion?: string } = {},
): Promise<Required<Pick<SutOptions, 'robotBundle' | 'agentBundle' | 'cloudBundle' | 'hilModel'>>> {
  // Loaded here, not at the top: they pull in esbuild and the fleet, which recordSut never needs.
  const [{ ensureBundle }, { EMBEDDED_BUNDLES }, { FACTORY_VERSION }, { buildRobotVariant }] =
    await Promise.all([
      import('../../fleet/embedded/bundle.ts'),
      import('../../fleet/embedded/backend.ts'),
      import('../../ota/provision.ts'),
      import('../../ota/variants.ts'),
    ]);
  const [factory, agentBundle, cloudBundle] = await Promise.all([
    buildRobotVariant({ variant: 'good', version: options.factoryVersion ?? FACTORY_VERSION }),
    ensureBundle(...EMBEDDED_BUNDLES.agent),
    ensureBundle(...EMBEDDED_BUNDLES.cloud),
  ]);
  // The HIL default, spelt as harness/hil/run.ts's DEFAULT_MODEL: importing it loads ONNX Runtime.
  const hilModel = resolve(REPO_ROOT, 'reference/models/perception-cnn.onnx');
  return { robotBundle: factory.path, agentBundle, cloudBundle, hilModel };
}

async function fileComponent(
  name: string,
  field: string,
  path: string,
  sutVersion: string | undefined,
): Promise<Component> {
  const file = resolve(path);
  const shown = shownPath(file);
  let digest: string;
  try {
    digest = await sha256OfFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new SutError(`${field} ${shown}: cannot be read (${code})`, { cause: error });
  }
  const version = sutVersion ?? (await statedVersion(file, field, shown, digest));
  return {
    name,
    ...(version === undefined ? {} : { version }),
    digest: `sha256:${digest}`,
    source: sutVersion === undefined ? shown : SUT_VERSION_SOURCE,
  };
}

/**
 * The version a file states about itself: an OTA artifact's signed manifest, an ONNX model's
 * model_version (or its spec's `version` when the spec describes these very bytes). A bundle
 * states none: its digest is what identifies it.
 */
async function statedVersion(
  file: string,
  field: string,
  shown: string,
  digest: string,
): Promise<string | undefined> {
  if (await startsWith(file, ARTIFACT_MAGIC)) {
    try {
      return (await readArtifactHeader(file)).manifest.version;
    } catch (error) {
      throw new SutError(`${field} ${shown}: is not a readable OTA artifact (${(error as Error).message})`, {
        cause: error,
      });
    }
  }
  if (extname(file) === '.onnx') return onnxVersion(file, field, shown, digest);
  return undefined;
}

async function onnxVersion(
  file: string,
  field: string,
  shown: string,
  digest: string,
): Promise<string | undefined> {
  let modelVersion: number;
  try {
    const model = onnxProto.onnx.ModelProto.decode(await readFile(file));
    modelVersion = Number(model.modelVersion ?? 0);
  } catch (error) {
    throw new SutError(`${field} ${shown}: is not an ONNX model (${(error as Error).message})`, {
      cause: error,
    });
  }
  if (modelVersion > 0) return String(modelVersion);
  const spec = join(dirname(file), `${basename(file, '.onnx')}.json`);
  let stated: { sha256?: unknown; version?: unknown };
  try {
    stated = JSON.parse(await readFile(spec, 'utf8')) as typeof stated;
  } catch {
    // No spec, or not one this can read: the local stage then reads the model's own inputs.
    return undefined;
  }
  return stated.sha256 === digest && typeof stated.version === 'string' ? stated.version : undefined;
}

/**
 * The image's id (a content digest) and its OCI version label, from the engine. No engine is
 * "not read" with the reason, as a machine without Docker still qualifies embedded runs; an
 * engine that answers without the image is an error, as that image cannot be what ran.
 */
async function imageComponent(image: string, sutVersion: string | undefined): Promise<Component> {
  const { dockerClient } = await import('../../fleet/docker/engine.ts');
  const docker = dockerClient();
  try {
    await withTimeout(docker.ping(), ENGINE_TIMEOUT_MS);
  } catch (error) {
    const where = process.env.DOCKER_HOST ?? '/var/run/docker.sock';
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return {
      name: 'robot-image',
      ...(sutVersion === undefined ? {} : { version: sutVersion }),
      source: `not read: no Docker engine answers at ${where} (${why}); image ${image}`,
    };
  }
  let info: { Id: string; Config?: { Labels?: Record<string, string> | null } };
  try {
    info = await docker.getImage(image).inspect();
  } catch (error) {
    throw new SutError(
      `robotImage ${image}: the Docker engine does not have it (${(error as Error).message})`,
      {
        cause: error,
      },
    );
  }
  const version = sutVersion ?? info.Config?.Labels?.['org.opencontainers.image.version'];
  return {
    name: 'robot-image',
    ...(version === undefined ? {} : { version }),
    digest: info.Id,
    source: sutVersion === undefined ? `image ${image}` : SUT_VERSION_SOURCE,
  };
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(file, 'r');
  try {
    for await (const chunk of handle.createReadStream()) hash.update(chunk as Buffer);
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

async function startsWith(file: string, magic: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(magic.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return bytesRead === head.length && head.toString('latin1') === magic;
  } finally {
    await handle.close();
  }
}

/** Inside the repository a path reads relative to it, as the rest of the report does. */
function shownPath(file: string): string {
  const inside = relative(REPO_ROOT, file);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : file;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
