import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, delimiter, join } from 'node:path';
import createDebug from 'debug';
import { FleetdrillError } from '../../core/errors.ts';
import { REPO_ROOT } from '../../core/paths.ts';
import { isAlive } from '../../core/process-alive.ts';

const log = createDebug('fleetdrill:qos:dds');

const SOURCE_DIR = join(REPO_ROOT, 'tools', 'ddsprobe');
const SOURCES = ['QosProbe.idl', 'ddsprobe.c'] as const;

/** Where built probes live: one directory per source hash, so a changed source is a new build. */
export const DDS_PROBE_BUILD_DIR = join(REPO_ROOT, '.fleetdrill', 'build', 'ddsprobe');

const CFLAGS = ['-O2', '-std=gnu11', '-Wall', '-Wextra'];
const DDS_HEADER = '/usr/include/dds/dds.h';
const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib', '/usr/local/lib'];
const DEBIAN_HINT = '(Debian: apt-get install -y cyclonedds-dev)';

/** Where to look for the build tools; the defaults are this machine's. Tests point them elsewhere. */
export interface DdsToolchainPlaces {
  /** A PATH-style list searched for `idlc` and `cc`. */
  path?: string;
  /** Cyclone's main header. */
  ddsHeader?: string;
  /** Directories searched for libddsc.so. */
  libDirs?: readonly string[];
}

/**
 * Whether the probe can be built here, naming everything that is missing so a skipped test or
 * `fleetdrill doctor` tells the user what to install.
 */
export async function ddsProbeAvailability(
  places: DdsToolchainPlaces = {},
): Promise<{ ok: true } | { ok: false; missing: string }> {
  const path = places.path ?? process.env.PATH ?? '';
  const [idlc, cc, header, lib] = await Promise.all([
    findOnPath('idlc', path),
    findOnPath('cc', path),
    isReadable(places.ddsHeader ?? DDS_HEADER),
    findFirst((places.libDirs ?? LIB_DIRS).map((d) => join(d, 'libddsc.so'))),
  ]);
  const cyclone: string[] = [];
  if (!idlc) cyclone.push('idlc');
  if (!header) cyclone.push(places.ddsHeader ?? DDS_HEADER);
  if (!lib) cyclone.push('libddsc.so');
  const parts: string[] = [];
  if (cyclone.length) parts.push(`${cyclone.join(' and ')} ${DEBIAN_HINT}`);
  if (!cc) parts.push('a C compiler `cc` (Debian: apt-get install -y gcc)');
  return parts.length ? { ok: false, missing: parts.join('; ') } : { ok: true };
}

/** The hash that names a build: the sources and the recipe that compiles them. */
export async function ddsProbeSourceHash(): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`recipe: idlc; cc ${CFLAGS.join(' ')} -lddsc\n`);
  for (const name of SOURCES) {
    const body = await readFile(join(SOURCE_DIR, name));
    hash.update(`${name}\n${body.length}\n`).update(body);
  }
  return hash.digest('hex');
}

const building = new Map<string, Promise<string>>();

/**
 * The path of a ddsprobe binary built from the current sources in tools/ddsprobe, building it
 * first when missing. Two Playwright workers may call this at once: each builds in a private
 * directory and renames it into place; the loser of the rename uses the winner's build.
 * `buildDir` is for tests that need a build of their own.
 */
export function ensureDdsProbe(buildDir: string = DDS_PROBE_BUILD_DIR): Promise<string> {
  // Only the build in flight is shared: a finished one is checked again on every call (a hash of
  // two small files), since another process may have pruned it after the sources changed.
  let build = building.get(buildDir);
  if (!build) {
    build = buildIfNeeded(buildDir).finally(() => building.delete(buildDir));
    building.set(buildDir, build);
  }
  return build;
}

interface BuildManifest {
  sourceHash: string;
  sources: readonly string[];
  builtAt: string;
}

async function buildIfNeeded(buildDir: string): Promise<string> {
  const hash = await ddsProbeSourceHash();
  const finalDir = join(buildDir, hash.slice(0, 16));
  const binary = join(finalDir, 'ddsprobe');
  if (await isCompleteBuild(finalDir, hash)) return binary;

  const availability = await ddsProbeAvailability();
  if (!availability.ok) {
    throw new FleetdrillError(`cannot build tools/ddsprobe: missing ${availability.missing}`);
  }
  const started = performance.now();
  await mkdir(buildDir, { recursive: true });
  const work = join(buildDir, `.build-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(work);
  try {
    await run('idlc', ['-o', work, join(SOURCE_DIR, 'QosProbe.idl')]);
    await run('cc', [
      ...CFLAGS,
      '-I',
      work,
      '-o',
      join(work, 'ddsprobe'),
      join(SOURCE_DIR, 'ddsprobe.c'),
      join(work, 'QosProbe.c'),
      '-lddsc',
    ]);
    const manifest: BuildManifest = { sourceHash: hash, sources: SOURCES, builtAt: new Date().toISOString() };
    // Written last: a directory holding a manifest is a finished build.
    await writeFile(join(work, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    if (!(await renameIntoPlace(work, finalDir, hash))) {
      // What sits there is not a finished build of these sources (a crash mid-write, a hand
      // edit): replace it once.
      await rm(finalDir, { recursive: true, force: true });
      if (!(await renameIntoPlace(work, finalDir, hash))) {
        throw new FleetdrillError(
          `building tools/ddsprobe: ${finalDir} holds an unfinished build that could not be replaced`,
        );
      }
    }
    log('ddsprobe %s ready after %d ms', finalDir, Math.round(performance.now() - started));
    await pruneStale(buildDir, basename(finalDir));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return binary;
}

/**
 * Removes builds of older sources and scratch dirs of builders that died (SIGKILL mid-build). A
 * probe still running from an old build keeps its binary: Linux unlinks, it does not yank.
 */
async function pruneStale(buildDir: string, keep: string): Promise<void> {
  for (const name of await readdir(buildDir)) {
    const scratch = /^\.build-(\d+)-/.exec(name);
    const stale = /^[0-9a-f]{16}$/.test(name) && name !== keep;
    if (stale || (scratch && !isAlive(Number(scratch[1])))) {
      await rm(join(buildDir, name), { recursive: true, force: true });
    }
  }
}

/** True once `finalDir` holds a finished build, ours or another worker's that won the race. */
async function renameIntoPlace(work: string, finalDir: string, hash: string): Promise<boolean> {
  try {
    await rename(work, finalDir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    return isCompleteBuild(finalDir, hash);
  }
}

async function isCompleteBuild(dir: string, hash: string): Promise<boolean> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Partial<BuildManifest>;
    if (manifest.sourceHash !== hash) return false;
    await access(join(dir, 'ddsprobe'), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function run(file: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 120_000, maxBuffer: 4 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      const tail = String(stderr).trim().split('\n').slice(-20).join('\n');
      reject(
        new FleetdrillError(
          `building tools/ddsprobe: \`${file} ${args.join(' ')}\` failed (${error.message})\n${tail}`,
          {
            cause: error,
          },
        ),
      );
    });
  });
}

async function findOnPath(name: string, path: string): Promise<string | undefined> {
  return findFirst(
    path
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, name)),
    constants.X_OK,
  );
}

async function findFirst(candidates: readonly string[], mode = constants.R_OK): Promise<string | undefined> {
  for (const candidate of candidates) {
    try {
      await access(candidate, mode);
      return candidate;
    } catch {
      /* try the next one */
    }
  }
  return undefined;
}

async function isReadable(file: string): Promise<boolean> {
  return (await findFirst([file])) !== undefined;
}
