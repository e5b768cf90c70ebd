import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { artifactManifestSchema } from '../../protocol/artifact.ts';
import { parseCount } from '../core/config.ts';
import { parseSeed, runSeed } from '../core/seed.ts';
import { POWER_LOSS_MODEL, runOtaFuzz, type OtaFuzzResult } from '../ota/fuzz.ts';
import { buildClientArtifact } from '../ota/real/artifacts.ts';
import { parseOtaClientFlag, resolveOtaClient } from './ota-client-flag.ts';
import { ConfigError } from '../core/errors.ts';
import { loadConfig } from '../core/config.ts';
import { buildRobotVariant, ROBOT_VARIANTS, type RobotVariant } from '../ota/variants.ts';
import { stopOnSignal } from './stop-signal.ts';

/** `fleetdrill ota build` options as commander hands them over (strings, unvalidated). */
export interface OtaBuildFlags {
  variant: string;
  version?: string;
  out?: string;
  slotCapacity?: string;
  otaClient?: string;
  json?: boolean;
}

/** Validates `ota build` flags, naming the flag and the value on error. */
export function parseOtaBuildFlags(flags: OtaBuildFlags) {
  if (!(ROBOT_VARIANTS as readonly string[]).includes(flags.variant)) {
    throw new ConfigError('--variant', `must be one of ${ROBOT_VARIANTS.join(', ')}, got '${flags.variant}'`);
  }
  const variant = flags.variant as RobotVariant;
  if (flags.version === undefined) throw new ConfigError('--version', 'is required, e.g. --version 1.1.0');
  // The manifest's own rule, so the CLI refuses exactly what an artifact could not carry.
  if (!artifactManifestSchema.shape.version.safeParse(flags.version).success) {
    throw new ConfigError('--version', `must be a semver version such as 1.1.0, got '${flags.version}'`);
  }
  const slotCapacityBytes =
    flags.slotCapacity === undefined
      ? undefined
      : parseCount(flags.slotCapacity, '--slot-capacity', 1, Number.MAX_SAFE_INTEGER);
  if (variant === 'too-large' && slotCapacityBytes === undefined) {
    throw new ConfigError('--slot-capacity', 'is required with --variant too-large');
  }
  if (flags.out !== undefined && flags.out.trim() === '')
    throw new ConfigError('--out', 'must be a file path');
  const otaClient = parseOtaClientFlag(flags.otaClient);
  if (otaClient !== 'fleetdrill' && variant === 'too-large') {
    throw new ConfigError(
      '--variant',
      `too-large is for fleetdrill's own client; a ${otaClient} image's limit is the robot's partition`,
    );
  }
  return {
    otaClient,
    variant,
    version: flags.version,
    slotCapacityBytes,
    out: flags.out === undefined ? undefined : resolve(flags.out),
    json: Boolean(flags.json),
  };
}

/**
 * Builds (or takes from the cache) an artifact of the reference robot software in one variant and
 * prints where it is and what is in it. With --out it is copied there, whole or not at all, since
 * the cached file is shared and must not be handed out for editing.
 */
export async function otaBuild(flags: OtaBuildFlags): Promise<number> {
  const options = parseOtaBuildFlags(flags);
  if (options.otaClient !== 'fleetdrill') {
    const built = await buildClientArtifact({
      client: options.otaClient,
      variant: options.variant,
      version: options.version,
    });
    const path = options.out === undefined ? built.clientPath : await copyOut(built.clientPath, options.out);
    if (options.json) {
      console.log(
        JSON.stringify({
          path,
          client: built.client,
          variant: built.variant,
          version: built.version,
          softwareSha256: built.softwareSha256,
          envelope: built.path,
          envelopeSize: built.artifactSize,
          envelopeSha256: built.artifactSha256,
        }),
      );
    } else {
      console.log(`path      ${path}`);
      console.log(
        `version   ${built.version} (${built.variant}), a ${built.client} artifact signed with the test-only key`,
      );
      console.log(`software  sha256 ${built.softwareSha256}`);
      console.log(`envelope  ${built.path} (what the fleet cloud stores: upload this one)`);
    }
    return 0;
  }
  let built;
  try {
    built = await buildRobotVariant({
      variant: options.variant,
      version: options.version,
      slotCapacityBytes: options.slotCapacityBytes,
    });
  } catch (error) {
    // The builder names its option; the user typed a flag.
    if (error instanceof ConfigError && error.path === 'slotCapacityBytes') {
      throw new ConfigError('--slot-capacity', error.message.slice(error.path.length + 1));
    }
    throw error;
  }
  const path = options.out === undefined ? built.path : await copyOut(built.path, options.out);
  const { manifest } = built;
  if (options.json) {
    console.log(
      JSON.stringify({
        path,
        name: manifest.name,
        variant: built.variant,
        version: manifest.version,
        compatibleModels: manifest.compatibleModels,
        payloadSize: manifest.payload.size,
        payloadSha256: built.sha256,
        artifactSize: built.artifactSize,
        artifactSha256: built.artifactSha256,
        keyId: built.keyId,
        cached: built.cached,
      }),
    );
  } else {
    console.log(`path      ${path}`);
    console.log(`version   ${manifest.name} ${manifest.version} (${built.variant})`);
    console.log(`payload   ${manifest.payload.size} bytes, sha256 ${built.sha256}`);
    console.log(`artifact  ${built.artifactSize} bytes, sha256 ${built.artifactSha256}`);
  }
  return 0;
}

/** Copies a cached artifact to `out`, whole or not at all: the cached file is shared and must not be handed out for editing. */
async function copyOut(from: string, out: string): Promise<string> {
  await mkdir(dirname(out), { recursive: true });
  const temp = `${out}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await copyFile(from, temp);
    await rename(temp, out);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return out;
}

/** `fleetdrill ota fuzz` options as commander hands them over. */
export interface OtaFuzzFlags {
  cuts: string;
  seed?: string;
  robots: string;
  otaClient?: string;
  json?: boolean;
}

/**
 * Validates `ota fuzz` flags, naming the flag and the value on error. Without --ota-client the
 * client is the config's `ota.client` (read from `env`), as for `up` and `run`.
 */
export function parseOtaFuzzFlags(flags: OtaFuzzFlags, env: NodeJS.ProcessEnv = process.env) {
  return {
    cuts: parseCount(flags.cuts, '--cuts', 1, 1_000_000),
    robots: parseCount(flags.robots, '--robots', 1, 50),
    seed: flags.seed === undefined ? runSeed(env) : parseSeed(flags.seed, '--seed'),
    otaClient: resolveOtaClient(flags.otaClient, () => loadConfig(env)),
    json: Boolean(flags.json),
  };
}

/**
 * The human-readable last line of a fuzz run: the verdict, the counts, and what a cut here is
 * (SIGKILL keeps the page cache), so nobody reads "0 bricked" as surviving a real power loss.
 */
export function fuzzSummaryLine(result: OtaFuzzResult): string {
  return (
    `${result.verdict.toUpperCase()}: ${result.cuts} cuts of the ${result.ota_client} client (${result.cuts_by.time} by time, ${result.cuts_by.bytes} by bytes, ${result.cuts_by.state} at a state) ` +
    `in ${(result.ms / 1000).toFixed(0)} s (${result.cuts_per_min} per minute): ` +
    `${result.bricked} bricked, ${result.unverified_boots} unverified boots, ${result.invalid_envs} invalid environments; ` +
    `${result.converged} of ${result.updates} updates converged (${result.committed} committed, ${result.failures_reported} failures reported)` +
    `; ${result.inconclusive} checks could not tell` +
    `; a cut was SIGKILL, which keeps the page cache: unsynced writes survived it, a real power loss drops them`
  );
}

/**
 * Power-cut fuzzing of whole updates on a fleet of its own (harness/ota/fuzz.ts). Progress goes
 * to stderr; the summary to stdout, with --json as one JSON line, the last. Exit code 0 (pass)
 * only when nothing was bricked, no unverified slot booted, every environment was valid and every
 * update converged; 1 (fail) when any of that went wrong; 3 (inconclusive) when nothing was wrong
 * but some check could not tell, because a robot did not answer or moved on while asked (a busy
 * machine): not a pass, and not a product failure either. The first Ctrl-C stops cutting and
 * finishes the updates under way.
 */
export async function otaFuzz(flags: OtaFuzzFlags): Promise<number> {
  const { cuts, robots, seed, otaClient, json } = parseOtaFuzzFlags(flags);
  console.error(
    `fleetdrill ota fuzz: ${cuts} cuts on ${robots} robot(s) running the ${otaClient} client, seed ${seed} (replay with --seed ${seed} --ota-client ${otaClient})`,
  );
  console.error(`fleetdrill ota fuzz: a power cut here is ${POWER_LOSS_MODEL}`);
  const stopping = stopOnSignal('fleetdrill ota fuzz: stopping once the updates under way finish');
  try {
    const result = await runOtaFuzz({
      cuts,
      seed,
      robots,
      otaClient,
      signal: stopping.signal,
      onProgress: (line) => console.error(line),
    });
    if (json) {
      console.log(JSON.stringify(result));
    } else {
      for (const problem of result.problems) console.log(`problem: ${problem}`);
      for (const untold of result.could_not_tell) console.log(`could not tell: ${untold}`);
      console.log(fuzzSummaryLine(result));
    }
    return result.verdict === 'pass' ? 0 : result.verdict === 'fail' ? 1 : 3;
  } finally {
    stopping.release();
  }
}
