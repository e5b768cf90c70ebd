/* Variant payloads of the reference robot software: deterministic per variant and version, distinct from each other, cached by inputs, and too-large really past the slot. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import {
  ArtifactTooLargeError,
  ROBOT_VARIANTS,
  buildRobotVariant,
  loadTestKeyPair,
  payloadRange,
  verifyArtifact,
  type RobotVariantOptions,
} from './index.ts';

const run = promisify(execFile);
const VERIFY = { publicKeys: [loadTestKeyPair().publicKey], model: 'fd-amr-1' };
const SLOT = 2 * 1024 * 1024;

let work: string;
test.beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'fd-ota-variants-'));
});
test.afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function payloadOf(path: string): Promise<Buffer> {
  const { offset, length } = await payloadRange(path);
  return (await readFile(path)).subarray(offset, offset + length);
}

test('the same variant and version built twice from scratch gives the same bytes', async () => {
  const options: RobotVariantOptions = { variant: 'good', version: '1.1.0' };
  const first = await buildRobotVariant({ ...options, cacheDir: join(work, 'a') });
  const second = await buildRobotVariant({ ...options, cacheDir: join(work, 'b') });
  expect(first.cached).toBe(false);
  expect(second.cached).toBe(false);
  expect(second.sha256).toBe(first.sha256);
  expect(second.artifactSha256).toBe(first.artifactSha256);
  expect((await readFile(second.path)).equals(await readFile(first.path))).toBe(true);

  const verified = await verifyArtifact(first.path, VERIFY);
  expect(verified.manifest).toEqual(first.manifest);
  expect(first.manifest).toMatchObject({
    name: 'robot-sim',
    version: '1.1.0',
    compatibleModels: ['fd-amr-1'],
  });
  expect(first.sha256).toBe(first.manifest.payload.sha256);
  const payload = await payloadOf(first.path);
  expect(payload.toString('utf8', 0, 200)).toContain(
    '// fleetdrill robot software robot-sim 1.1.0, variant good',
  );
});

test('every variant and every version has its own payload', async () => {
  const cacheDir = join(work, 'cache');
  const builds = [];
  for (const variant of ROBOT_VARIANTS) {
    builds.push(await buildRobotVariant({ variant, version: '1.1.0', slotCapacityBytes: SLOT, cacheDir }));
  }
  builds.push(await buildRobotVariant({ variant: 'good', version: '1.2.0', cacheDir }));
  builds.push(
    await buildRobotVariant({ variant: 'good', version: '1.1.0', compatibleModels: ['fd-amr-2'], cacheDir }),
  );
  const payloads = new Set(builds.slice(0, -1).map((b) => b.sha256));
  expect(payloads.size).toBe(ROBOT_VARIANTS.length + 1);
  // Same payload for another model, but a different (signed) artifact.
  expect(builds.at(-1)!.sha256).toBe(builds[0]!.sha256);
  expect(new Set(builds.map((b) => b.artifactSha256)).size).toBe(builds.length);
  expect(new Set(builds.map((b) => b.path)).size).toBe(builds.length);
  for (const built of builds)
    await verifyArtifact(built.path, { ...VERIFY, model: built.manifest.compatibleModels[0]! });
});

test('a second build with the same inputs comes from the cache; a changed input rebuilds it', async () => {
  const options: RobotVariantOptions = {
    variant: 'no-cloud',
    version: '2.0.0',
    cacheDir: join(work, 'cache'),
  };
  const first = await buildRobotVariant(options);
  const again = await buildRobotVariant(options);
  expect(again).toEqual({ ...first, cached: true });
  const files = await readdir(join(work, 'cache'));
  expect(files.sort()).toEqual([
    expect.stringMatching(/^robot-sim-2\.0\.0-no-cloud-[0-9a-f]{16}\.fdart$/),
    expect.stringMatching(/^robot-sim-2\.0\.0-no-cloud-[0-9a-f]{16}\.json$/),
  ]);
  // Pretend a source file changed since the build: its recorded hash no longer matches.
  const sidecar = join(
    work,
    'cache',
    files.find((f) => f.endsWith('.json'))!,
  );
  const entry = JSON.parse(await readFile(sidecar, 'utf8')) as { inputs: Record<string, string> };
  expect(Object.keys(entry.inputs)).toContain('reference/robot-sim/slot-main.ts');
  entry.inputs['reference/robot-sim/slot-main.ts'] = '0'.repeat(64);
  await writeFile(sidecar, JSON.stringify(entry));
  const rebuilt = await buildRobotVariant(options);
  expect(rebuilt.cached).toBe(false);
  expect(rebuilt.artifactSha256).toBe(first.artifactSha256);
  expect((await buildRobotVariant(options)).cached).toBe(true);
});

test('too-large is one byte past the slot, deterministic, still a runnable module, and refused by the verifier', async () => {
  const first = await buildRobotVariant({
    variant: 'too-large',
    version: '1.1.0',
    slotCapacityBytes: SLOT,
    cacheDir: join(work, 'a'),
  });
  const second = await buildRobotVariant({
    variant: 'too-large',
    version: '1.1.0',
    slotCapacityBytes: SLOT,
    cacheDir: join(work, 'b'),
  });
  expect(first.manifest.payload.size).toBe(SLOT + 1);
  expect(second.sha256).toBe(first.sha256);
  const bigger = await buildRobotVariant({
    variant: 'too-large',
    version: '1.1.0',
    slotCapacityBytes: SLOT * 2,
    cacheDir: join(work, 'a'),
  });
  expect(bigger.manifest.payload.size).toBe(SLOT * 2 + 1);

  const error = await verifyArtifact(first.path, { ...VERIFY, maxPayloadBytes: SLOT }).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ArtifactTooLargeError);
  expect((error as Error).message).toBe(
    `artifact robot-sim 1.1.0: payload is ${SLOT + 1} bytes, the slot holds at most ${SLOT}`,
  );
  await verifyArtifact(first.path, { ...VERIFY, maxPayloadBytes: SLOT + 1 });

  // The filler sits in a comment: a robot that wrongly installed it would still parse it.
  const module = join(work, 'payload.mjs');
  const payload = await payloadOf(first.path);
  await writeFile(module, payload);
  await run(process.execPath, ['--check', module]);
  expect(payload.toString('latin1', payload.length - 4)).toBe(' */\n');
});

test('bad variant options are refused, naming the option', async () => {
  const cacheDir = join(work, 'cache');
  await expect(buildRobotVariant({ variant: 'too-large', version: '1.0.0', cacheDir })).rejects.toThrow(
    'slotCapacityBytes is required for the too-large variant',
  );
  await expect(buildRobotVariant({ variant: 'broken' as never, version: '1.0.0', cacheDir })).rejects.toThrow(
    /^variant must be one of good, fails-self-test, .*got "broken"$/,
  );
  await expect(buildRobotVariant({ variant: 'good', version: 'latest', cacheDir })).rejects.toThrow(
    'version must be a semver version such as 1.2.3',
  );
  // A good variant that would not fit its slot is a mistake in the drill, not a too-large drill.
  await expect(
    buildRobotVariant({ variant: 'good', version: '1.0.0', slotCapacityBytes: 1000, cacheDir }),
  ).rejects.toThrow(/^slotCapacityBytes is 1000, but the good variant of robot-sim 1.0.0 is \d+ bytes/);
});
