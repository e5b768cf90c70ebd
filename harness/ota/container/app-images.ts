/**
 * The robot software as container images: `fleetdrill/robot-app:<content hash>` per variant,
 * built once on the docker fleet's base image (the reference simulator, its variant compiled in,
 * with a HEALTHCHECK), and kept like the fleet's own images: older builds of a variant go.
 *
 * What a run pushes is one layer more: its version (an ENV the software reports) and a stamp of
 * seeded bytes, unique to the run, built on the cached image, pushed to the run's registry and
 * then untagged on the engine, so that the robot's pull really fetches a layer through the fault
 * layer rather than finding it local.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import createDebug from 'debug';
import { build } from 'esbuild';
import { ROBOT_APP_ENTRY } from '../../../reference/container-updater/index.ts';
import { REPO_ROOT } from '../../core/paths.ts';
import { dockerClient } from '../../fleet/docker/engine.ts';
import { resolveBaseImage } from '../../fleet/docker/images.ts';
import { NODE_MODULE_BUNDLE, REQUIRE_SHIM } from '../variants.ts';

const log = createDebug('fleetdrill:container-ota');
const run = promisify(execFile);

/** The software variants an image can hold (the A/B drills' names). */
export const APP_VARIANTS = ['good', 'crashes-on-boot', 'fails-self-test'] as const;
export type AppVariant = (typeof APP_VARIANTS)[number];

/** The repository every robot-app image is in. */
export const APP_REPOSITORY = 'fleetdrill/robot-app';

const STAGE_ROOT = join(REPO_ROOT, '.fleetdrill', 'docker');

async function dockerCli(args: readonly string[], timeoutMs = 300_000): Promise<string> {
  try {
    return (await run('docker', args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 })).stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`docker ${args.slice(0, 2).join(' ')}: ${stderr.trim() || (error as Error).message}`, {
      cause: error,
    });
  }
}

async function imageExists(tag: string): Promise<boolean> {
  return dockerCli(['image', 'inspect', '--format', '{{.Id}}', tag], 30_000).then(
    () => true,
    () => false,
  );
}

const DOCKERFILE = [
  'ARG BASE_IMAGE',
  'FROM ${BASE_IMAGE}',
  'LABEL fleetdrill.image=robot-app',
  'COPY robot-app.mjs /app/robot-app.mjs',
  // The updater reads the check's output as well as its verdict: "booting" with a step that keeps
  // changing is progress, "failed" is final. The start period only keeps early misses from counting.
  'HEALTHCHECK --interval=500ms --timeout=3s --start-period=60s --retries=3 CMD ["node", "/app/robot-app.mjs", "--health"]',
  'ENTRYPOINT ["node", "/app/robot-app.mjs"]',
  '',
].join('\n');

/** The label that names a cached image's variant, by which older builds are found. */
const VARIANT_LABEL = 'fleetdrill.app-variant';

/** `fleetdrill/robot-app:<hash>` for the variant, built when it is not on the engine yet. */
export async function ensureAppImage(variant: AppVariant): Promise<string> {
  const base = await resolveBaseImage(dockerClient());
  const bundle = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: [ROBOT_APP_ENTRY],
    write: false,
    ...NODE_MODULE_BUNDLE,
    define: {
      __FLEETDRILL_VARIANT__: JSON.stringify(variant),
    },
    banner: { js: REQUIRE_SHIM },
    logLevel: 'error',
  });
  const code = bundle.outputFiles[0]!.contents;
  const hash = createHash('sha256')
    .update(`base ${base.id}\n`)
    .update(DOCKERFILE)
    .update(code)
    .digest('hex')
    .slice(0, 16);
  const tag = `${APP_REPOSITORY}:${hash}`;
  if (await imageExists(tag)) return tag;
  await mkdir(STAGE_ROOT, { recursive: true });
  const context = await mkdtemp(join(STAGE_ROOT, 'robot-app-'));
  try {
    await writeFile(join(context, 'robot-app.mjs'), code);
    await writeFile(join(context, 'Dockerfile'), DOCKERFILE);
    log('building %s (%s)', tag, variant);
    await dockerCli([
      'build',
      '--quiet',
      '--build-arg',
      `BASE_IMAGE=${base.tag}`,
      '--label',
      `${VARIANT_LABEL}=${variant}`,
      '--tag',
      tag,
      context,
    ]);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  await removeOlderBuilds(variant, tag);
  return tag;
}

/** Removes the variant's other cached builds; one a container still uses stays (no --force). */
async function removeOlderBuilds(variant: AppVariant, keep: string): Promise<void> {
  const tags = await dockerCli([
    'image',
    'ls',
    '--filter',
    `reference=${APP_REPOSITORY}`,
    '--filter',
    `label=${VARIANT_LABEL}=${variant}`,
    '--format',
    '{{.Repository}}:{{.Tag}}',
  ]);
  for (const tag of tags.split('\n').filter((line) => line && line !== keep && !line.endsWith('<none>'))) {
    await dockerCli(['image', 'rm', tag], 60_000).catch((error: unknown) =>
      log('kept %s: %s', tag, (error as Error).message),
    );
  }
}

/** What {@link pushAppImage} pushed. */
export interface PushedImage {
  /** The reference as pushed (the registry's own address). */
  pushed: string;
  /** Bytes of the run's stamp layer, which a pull must fetch. */
  stampBytes: number;
}

/**
 * Pushes `<registry>/fleetdrill/robot-app:<tag>`: the cached image plus a stamp layer of
 * `stampBytes` bytes drawn from `seed`, labelled with `labels` (the run's owner labels, by which
 * a dead run's pulled images are found). The engine keeps only the cached image afterwards.
 */
export async function pushAppImage(options: {
  image: string;
  /** The version the software reports (FLEETDRILL_APP_VERSION). */
  version: string;
  registry: string;
  tag: string;
  seed: Buffer;
  stampBytes: number;
  labels: Readonly<Record<string, string>>;
}): Promise<PushedImage> {
  if (!/^[\w.+-]{1,64}$/.test(options.version)) {
    throw new Error(`robot-app version "${options.version}": letters, digits and . + - _ only`);
  }
  const pushed = `${options.registry}/${APP_REPOSITORY}:${options.tag}`;
  await mkdir(STAGE_ROOT, { recursive: true });
  const context = await mkdtemp(join(STAGE_ROOT, 'robot-app-stamp-'));
  try {
    // Seeded bytes: a run replays with the same stamp, and nothing compresses it away.
    const stamp = Buffer.alloc(options.stampBytes);
    let block = createHash('sha256').update(options.seed).update(options.tag).digest();
    for (let at = 0; at < stamp.length; at += block.length) {
      block.copy(stamp, at);
      block = createHash('sha256').update(block).digest();
    }
    await writeFile(join(context, 'stamp.bin'), options.stampBytes > 0 ? stamp : randomBytes(0));
    await writeFile(
      join(context, 'Dockerfile'),
      `FROM ${options.image}\nENV FLEETDRILL_APP_VERSION=${options.version}\nCOPY stamp.bin /app/stamp.bin\n`,
    );
    const labels = Object.entries(options.labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]);
    await dockerCli(['build', '--quiet', ...labels, '--tag', pushed, context]);
    await dockerCli(['push', '--quiet', pushed]);
  } finally {
    await rm(context, { recursive: true, force: true });
    await dockerCli(['image', 'rm', '--force', pushed], 60_000).catch(() => undefined);
  }
  return { pushed, stampBytes: options.stampBytes };
}
