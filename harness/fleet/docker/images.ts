/**
 * The docker fleet's images: the reference robot, the fleet cloud and the fault layer, built
 * from the repository. The harness stages each build context (the bundles, and the one native
 * module the cloud needs) under `.fleetdrill/docker/<image>`, names the image after a hash of
 * everything that goes in, and builds only when no image of that name exists yet.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import createDebug from 'debug';
import type Dockerode from 'dockerode';
import { FleetdrillError } from '../../core/errors.ts';
import { ensureBundle } from '../embedded/bundle.ts';
import { REPO_ROOT } from '../../core/paths.ts';
import { defaultEngineUrl } from './engines.ts';

const log = createDebug('fleetdrill:docker');
const run = promisify(execFile);

/** The images fleetdrill builds. */
export const IMAGE_NAMES = ['robot', 'cloud', 'toxiproxy'] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];

/** The public base the Dockerfiles default to, used when it is on the machine already. */
export const PUBLIC_BASE_IMAGE = 'node:20-bookworm-slim';
/** Env var: the base image to build on (any Node.js 20 image). */
export const BASE_IMAGE_ENV = 'FLEETDRILL_BASE_IMAGE';

/** An image could not be built. */
export class ImageBuildError extends FleetdrillError {}

interface ImageRecipe {
  /** Bundled entry points: [source entry, bundle name, externals]. */
  bundles: Array<[entry: string, name: string, external?: string[]]>;
  /** Files from node_modules the image needs beside the bundles (native modules). */
  nodeModules?: string[];
}

const RECIPES: Record<ImageName, ImageRecipe> = {
  robot: {
    bundles: [
      ['reference/robot-host/main.ts', 'robot-host'],
      ['reference/edge-agent/main.ts', 'edge-agent'],
    ],
  },
  cloud: {
    bundles: [['reference/fleet-cloud/main.ts', 'fleet-cloud', ['better-sqlite3']]],
    // better-sqlite3 and what it requires at run time; the rest of the package is build input.
    nodeModules: [
      'better-sqlite3/package.json',
      'better-sqlite3/lib',
      'better-sqlite3/build/Release/better_sqlite3.node',
      'bindings/package.json',
      'bindings/bindings.js',
      'file-uri-to-path/package.json',
      'file-uri-to-path/index.js',
    ],
  },
  toxiproxy: { bundles: [['harness/cli/toxiproxy-main.ts', 'toxiproxy']] },
};

const STAGE_ROOT = join(REPO_ROOT, '.fleetdrill', 'docker');

/**
 * Lays out the build context of one image in a fresh folder under `.fleetdrill/docker` and
 * returns it; the caller removes it. Fresh every time: parallel workers may stage at once.
 */
export async function stageContext(name: ImageName | 'robot-gazebo'): Promise<string> {
  const recipe = name === 'robot-gazebo' ? RECIPES.robot : RECIPES[name];
  await mkdir(STAGE_ROOT, { recursive: true });
  const dir = await mkdtemp(join(STAGE_ROOT, `${name}-`));
  try {
    await mkdir(join(dir, 'bundles'));
    for (const [entry, bundle, external] of recipe.bundles) {
      const file = await ensureBundle(entry, bundle, external);
      await cp(file, join(dir, 'bundles', `${bundle}.mjs`));
      await cp(`${file}.map`, join(dir, 'bundles', `${bundle}.mjs.map`));
    }
    for (const path of recipe.nodeModules ?? []) {
      await cp(join(REPO_ROOT, 'node_modules', path), join(dir, 'node_modules', path), {
        recursive: true,
      });
    }
    // The Gazebo robot's context also holds its ROS 2 packages, beside its Dockerfile.
    await cp(join(REPO_ROOT, 'docker', name), dir, { recursive: true });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return dir;
}

/** Every file under `dir`, relative, sorted: the fingerprint must not depend on readdir order. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

/** A hash of the context's files and the base image: equal hashes build equal images. */
export async function fingerprint(context: string, baseImageId: string): Promise<string> {
  const hash = createHash('sha256').update(`base ${baseImageId}\n`);
  for (const file of await listFiles(context)) {
    hash.update(`${file}\n`).update(await readFile(join(context, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

/** The image id of `tag` on this engine, or undefined when there is none. */
async function imageId(docker: Dockerode, tag: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(tag).inspect()).Id;
  } catch {
    return undefined;
  }
}

/**
 * The base image to build on: $FLEETDRILL_BASE_IMAGE, else the public Node image when the engine
 * has it, else a local one made from this machine's node (docker/base/build-local-base.mjs), as
 * no registry may be reachable.
 */
export async function resolveBaseImage(
  docker: Dockerode,
  engineUrl = defaultEngineUrl(),
): Promise<{ tag: string; id: string }> {
  const wanted = process.env[BASE_IMAGE_ENV];
  if (wanted) {
    const id = await imageId(docker, wanted);
    if (!id) {
      throw new ImageBuildError(
        `${BASE_IMAGE_ENV}=${wanted}: no such image on this Docker engine (pull or build it first)`,
      );
    }
    return { tag: wanted, id };
  }
  const publicId = await imageId(docker, PUBLIC_BASE_IMAGE);
  if (publicId) return { tag: PUBLIC_BASE_IMAGE, id: publicId };
  const local = `fleetdrill/node-local:${process.versions.node}`;
  let localId = await imageId(docker, local);
  if (!localId) {
    log('no %s on the engine: building %s from this machine', PUBLIC_BASE_IMAGE, local);
    const script = join(REPO_ROOT, 'docker', 'base', 'build-local-base.mjs');
    try {
      // The same node as the harness's: the tag names its version.
      // The script builds with the docker CLI, pointed at this engine.
      await run(process.execPath, [script, local], { env: { ...process.env, DOCKER_HOST: engineUrl } });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new ImageBuildError(
        `cannot build the local base image ${local}: ${stderr.trim() || (error as Error).message}`,
      );
    }
    localId = await imageId(docker, local);
    if (!localId) throw new ImageBuildError(`${script} ran but left no image ${local}`);
  }
  return { tag: local, id: localId };
}

/** What `ensureImage` found or built. */
export interface BuiltImage {
  name: ImageName;
  tag: string;
  built: boolean;
  ms: number;
}

const pending = new Map<string, Promise<BuiltImage>>();

/**
 * The image `fleetdrill/<name>:<fingerprint>` on the engine at `engineUrl`, built when no image
 * of that name exists there. One build per image, engine and process at a time; older fleetdrill
 * builds of the same image are removed.
 */
export function ensureImage(
  docker: Dockerode,
  name: ImageName,
  engineUrl = defaultEngineUrl(),
): Promise<BuiltImage> {
  const key = `${engineUrl} ${name}`;
  let promise = pending.get(key);
  if (!promise) {
    promise = buildIfChanged(docker, name, engineUrl).finally(() => pending.delete(key));
    pending.set(key, promise);
  }
  return promise;
}

async function buildIfChanged(docker: Dockerode, name: ImageName, engineUrl: string): Promise<BuiltImage> {
  const startedAt = performance.now();
  const base = await resolveBaseImage(docker, engineUrl);
  const context = await stageContext(name);
  let tag: string;
  try {
    tag = `fleetdrill/${name}:${await fingerprint(context, base.id)}`;
    if (await imageId(docker, tag)) {
      return { name, tag, built: false, ms: Math.round(performance.now() - startedAt) };
    }
    log('building %s on %s', tag, base.tag);
    try {
      await buildImage(docker, context, tag, base.tag);
    } catch (error) {
      throw new ImageBuildError(`cannot build ${tag}: ${(error as Error).message}`);
    }
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  await removeOlderBuilds(docker, name, tag);
  return { name, tag, built: true, ms: Math.round(performance.now() - startedAt) };
}

/**
 * Builds `context` as `tag` on the engine `docker` talks to (testcontainers' builder knows only
 * its own engine). The base is local or the user's: nothing is pulled, as no registry may answer.
 */
async function buildImage(docker: Dockerode, context: string, tag: string, baseTag: string): Promise<void> {
  const stream = await docker.buildImage(
    { context, src: await listFiles(context) },
    { t: tag, buildargs: { BASE_IMAGE: baseTag }, rm: true, forcerm: true },
  );
  const output = await new Promise<Array<{ error?: string; errorDetail?: { message?: string } }>>(
    (resolve, reject) =>
      docker.modem.followProgress(stream, (error, result) => (error ? reject(error) : resolve(result))),
  );
  // The engine reports a failed step in the stream, with a 200 status.
  const failed = output.find((line) => line.error);
  if (failed) throw new Error(failed.errorDetail?.message ?? failed.error);
}

/** dockerode's `GET /images/get`, which its type definitions leave out. */
interface ImageExporter {
  getImages(options: { names: string[] }): Promise<NodeJS.ReadableStream>;
}

/**
 * Copies images from one engine to another (docker save | docker load): on a fresh engine this
 * takes ~3 s for the three fleet images, where building them there would first build the base.
 */
export async function copyImages(from: Dockerode, to: Dockerode, tags: readonly string[]): Promise<void> {
  const missing: string[] = [];
  for (const tag of tags) if (!(await imageId(to, tag))) missing.push(tag);
  if (!missing.length) return;
  const startedAt = performance.now();
  // One archive for all: the layers they share (the base, ~100 MB) cross once.
  const archive = await (from as unknown as ImageExporter).getImages({ names: missing });
  const stream = await to.loadImage(archive, { quiet: true });
  const output = await new Promise<Array<{ error?: string; errorDetail?: { message?: string } }>>(
    (resolve, reject) =>
      to.modem.followProgress(stream, (error, result) => (error ? reject(error) : resolve(result))),
  );
  const failed = output.find((line) => line.error);
  if (failed)
    throw new ImageBuildError(
      `cannot copy ${missing.join(', ')} to another engine: ${failed.errorDetail?.message ?? failed.error}`,
    );
  log('copied %s in %d ms', missing.join(', '), Math.round(performance.now() - startedAt));
  // An engine that serves run after run would otherwise keep every build it was ever given.
  for (const tag of missing) {
    const name = IMAGE_NAMES.find((image) => tag.startsWith(`fleetdrill/${image}:`));
    if (name) await removeOlderBuilds(to, name, tag);
  }
}

/** Removes other `fleetdrill/<name>` tags; one still in use by a running fleet stays. */
async function removeOlderBuilds(docker: Dockerode, name: ImageName, keep: string): Promise<void> {
  const images = await docker.listImages({ filters: { reference: [`fleetdrill/${name}`] } });
  for (const image of images) {
    for (const tag of image.RepoTags ?? []) {
      if (tag === keep) continue;
      await docker
        .getImage(tag)
        .remove()
        .catch((error: unknown) => log('kept %s: %s', tag, (error as Error).message));
    }
  }
}

/** Every image a docker fleet needs, found or built, in parallel. */
export async function ensureImages(
  docker: Dockerode,
  engineUrl = defaultEngineUrl(),
): Promise<Record<ImageName, BuiltImage>> {
  const built = await Promise.all(IMAGE_NAMES.map((name) => ensureImage(docker, name, engineUrl)));
  return Object.fromEntries(built.map((image) => [image.name, image])) as Record<ImageName, BuiltImage>;
}
