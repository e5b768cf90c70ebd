/* Build → verify round trips, and each way an artifact can be bad is caught by the right check, in order, without a byte written anywhere. */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { encodeArtifactHeader } from '../../protocol/artifact.ts';
import { ConfigError } from '../core/errors.ts';
import {
  ArtifactError,
  ArtifactFormatError,
  ArtifactIncompatibleError,
  ArtifactSignatureError,
  ArtifactTamperedError,
  ArtifactTooLargeError,
  buildArtifact,
  loadTestKeyPair,
  payloadRange,
  readArtifactHeader,
  verifyArtifact,
  type BuildArtifactOptions,
  type VerifyArtifactOptions,
} from './index.ts';

const trusted = loadTestKeyPair('test-ota');
const untrusted = loadTestKeyPair('untrusted-ota');
const PAYLOAD = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 251));
const PAYLOAD_SHA = createHash('sha256').update(PAYLOAD).digest('hex');
const VERIFY: VerifyArtifactOptions = { publicKeys: [trusted.publicKeyPem], model: 'fd-amr-1' };

let work: string;
test.beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'fd-ota-build-'));
});
test.afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

function options(overrides: Partial<BuildArtifactOptions> = {}): BuildArtifactOptions {
  return {
    name: 'robot-sim',
    version: '1.1.0',
    compatibleModels: ['fd-amr-1', 'fd-amr-2'],
    payload: PAYLOAD,
    privateKey: trusted.privateKey,
    out: join(work, 'out', 'robot-sim-1.1.0.fdart'),
    ...overrides,
  };
}

/** The error verifyArtifact rejects with; fails the test if it resolves. */
async function rejection(path: string, verify: VerifyArtifactOptions = VERIFY): Promise<ArtifactError> {
  const error = await verifyArtifact(path, verify).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'verifyArtifact should have rejected').toBeInstanceOf(ArtifactError);
  return error as ArtifactError;
}

/** Flips one byte of a file in place. */
async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset] = bytes[offset]! ^ 0xff;
  await writeFile(path, bytes);
}

test('an artifact built from bytes verifies, and its payload range holds exactly the payload', async () => {
  const built = await buildArtifact(options());
  expect(built.manifest).toEqual({
    format: 1,
    name: 'robot-sim',
    version: '1.1.0',
    compatibleModels: ['fd-amr-1', 'fd-amr-2'],
    payload: { size: PAYLOAD.length, sha256: PAYLOAD_SHA },
  });
  expect(built.keyId).toBe(trusted.keyId);
  const file = await readFile(built.path);
  expect(built.size).toBe(file.length);
  expect(built.sha256).toBe(createHash('sha256').update(file).digest('hex'));

  const verified = await verifyArtifact(built.path, { ...VERIFY, model: 'fd-amr-2', maxPayloadBytes: 3000 });
  expect(verified).toEqual({
    path: built.path,
    manifest: built.manifest,
    keyId: trusted.keyId,
    payloadOffset: built.payloadOffset,
    payloadSize: PAYLOAD.length,
  });
  const range = await payloadRange(built.path);
  expect(range).toEqual({ offset: built.payloadOffset, length: PAYLOAD.length });
  expect(file.subarray(range.offset, range.offset + range.length).equals(PAYLOAD)).toBe(true);
  // The temp file was renamed into place: nothing else is left beside it.
  expect(await readdir(join(work, 'out'))).toEqual(['robot-sim-1.1.0.fdart']);
});

test('a payload given as a path gives the same artifact as the same bytes; the same inputs give the same bytes', async () => {
  const source = join(work, 'payload.bin');
  await writeFile(source, PAYLOAD);
  const fromBytes = await buildArtifact(options({ out: join(work, 'a.fdart') }));
  const fromPath = await buildArtifact(options({ payload: source, out: join(work, 'b.fdart') }));
  const again = await buildArtifact(
    options({
      privateKey: trusted.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      out: join(work, 'c.fdart'),
    }),
  );
  expect(fromPath.sha256).toBe(fromBytes.sha256);
  expect(again.sha256).toBe(fromBytes.sha256);
  expect((await readFile(fromPath.path)).equals(await readFile(fromBytes.path))).toBe(true);
  // A multi-chunk payload from a file streams through intact.
  const big = Buffer.alloc(3 * 1024 * 1024 + 17, 0x5a);
  await writeFile(source, big);
  const streamed = await buildArtifact(options({ payload: source }));
  expect(streamed.manifest.payload.sha256).toBe(createHash('sha256').update(big).digest('hex'));
  await verifyArtifact(streamed.path, VERIFY);
});

test('a manifest a robot would reject is refused at build time, naming the field', async () => {
  await expect(buildArtifact(options({ version: 'v1' }))).rejects.toThrow(
    new ConfigError('version', 'must be a semver version such as 1.2.3'),
  );
  await expect(buildArtifact(options({ compatibleModels: [] }))).rejects.toThrow(
    'compatibleModels must name at least one robot model',
  );
  await expect(buildArtifact(options({ privateKey: trusted.publicKey }))).rejects.toThrow(
    'privateKey must be an Ed25519 private key',
  );
  expect(await readdir(work)).toEqual([]);
});

test('a flipped payload byte is caught by the SHA-256, with both hashes in the message', async () => {
  const built = await buildArtifact(options());
  await flipByte(built.path, built.payloadOffset + 1234);
  const tampered = Buffer.from(PAYLOAD);
  tampered[1234] = tampered[1234]! ^ 0xff;
  const actual = createHash('sha256').update(tampered).digest('hex');
  const error = await rejection(built.path);
  expect(error).toBeInstanceOf(ArtifactTamperedError);
  expect(error.message).toBe(
    `artifact robot-sim 1.1.0: payload SHA-256 is ${actual}, manifest says ${PAYLOAD_SHA}`,
  );
  expect((error as ArtifactTamperedError).check).toBe('sha256');
});

test('an altered manifest field breaks the signature', async () => {
  const built = await buildArtifact(options());
  const header = await readArtifactHeader(built.path);
  // Same signature, one more model: what someone widening an artifact's reach would try.
  const widened = encodeArtifactHeader({
    manifest: { ...header.manifest, compatibleModels: ['fd-amr-1', 'fd-amr-3'] },
    signature: header.signature,
    keyId: header.keyId,
  });
  await writeFile(built.path, Buffer.concat([widened, PAYLOAD]));
  const error = await rejection(built.path, { ...VERIFY, model: 'fd-amr-3' });
  expect(error).toBeInstanceOf(ArtifactSignatureError);
  expect(error.message).toBe(
    `artifact robot-sim 1.1.0: signature does not match the manifest for key ${trusted.keyId} (manifest or signature altered)`,
  );
});

test('a signature by the untrusted key is refused, whether or not it claims a trusted key id', async () => {
  const built = await buildArtifact(options({ privateKey: untrusted.privateKey }));
  let error = await rejection(built.path);
  expect(error).toBeInstanceOf(ArtifactSignatureError);
  expect(error.message).toBe(
    `artifact robot-sim 1.1.0: signed by key ${untrusted.keyId}, which is not trusted (trusted: ${trusted.keyId})`,
  );
  // It does verify once that key is trusted: the refusal above is about trust, not the bytes.
  await verifyArtifact(built.path, { ...VERIFY, publicKeys: [trusted.publicKey, untrusted.publicKey] });

  const header = await readArtifactHeader(built.path);
  const spoofed = encodeArtifactHeader({ ...header, keyId: trusted.keyId });
  await writeFile(built.path, Buffer.concat([spoofed, PAYLOAD]));
  error = await rejection(built.path);
  expect(error).toBeInstanceOf(ArtifactSignatureError);
  expect(error.message).toContain(`signature does not match the manifest for key ${trusted.keyId}`);
});

test('an artifact for other robot models is refused', async () => {
  const built = await buildArtifact(options());
  const error = await rejection(built.path, { ...VERIFY, model: 'fd-agv-9' });
  expect(error).toBeInstanceOf(ArtifactIncompatibleError);
  expect(error.message).toBe(
    'artifact robot-sim 1.1.0: built for robot models fd-amr-1, fd-amr-2, not for fd-agv-9',
  );
});

test('a payload larger than the slot is refused on its signed size', async () => {
  const built = await buildArtifact(options());
  const error = await rejection(built.path, { ...VERIFY, maxPayloadBytes: 2999 });
  expect(error).toBeInstanceOf(ArtifactTooLargeError);
  expect(error.message).toBe('artifact robot-sim 1.1.0: payload is 3000 bytes, the slot holds at most 2999');
});

test('a truncated file, or one with bytes after the payload, fails the size check', async () => {
  const built = await buildArtifact(options());
  await truncate(built.path, built.size - 100);
  let error = await rejection(built.path);
  expect(error).toBeInstanceOf(ArtifactTamperedError);
  expect(error.message).toBe(
    'artifact robot-sim 1.1.0: payload is 2900 bytes, manifest says 3000 bytes (file truncated)',
  );

  await writeFile(built.path, Buffer.concat([await readFile(built.path), Buffer.alloc(200)]));
  error = await rejection(built.path);
  expect(error.message).toBe(
    'artifact robot-sim 1.1.0: payload is 3100 bytes, manifest says 3000 bytes (bytes after the payload)',
  );
});

test('bad magic, a header length past the end and a header that is not JSON are format errors', async () => {
  const built = await buildArtifact(options());
  const good = await readFile(built.path);

  await writeFile(built.path, Buffer.concat([Buffer.from('PK\x03\x04\x14\x00\x00\x00'), good.subarray(8)]));
  let error = await rejection(built.path);
  expect(error).toBeInstanceOf(ArtifactFormatError);
  expect(error.message).toBe(`artifact ${built.path}: bad magic 0x504b030414000000, expected "FDART001"`);

  const pastEnd = Buffer.from(good);
  pastEnd.writeUInt32BE(good.length - 11, 8);
  await writeFile(built.path, pastEnd);
  error = await rejection(built.path);
  expect(error).toBeInstanceOf(ArtifactFormatError);
  expect((error as ArtifactFormatError).field).toBe('headerLength');
  expect(error.message).toBe(
    `artifact ${built.path}: header length ${good.length - 11} runs past the end of the file (${good.length - 12} bytes follow the preamble)`,
  );

  const notJson = Buffer.from(good);
  notJson[12] = '<'.charCodeAt(0);
  await writeFile(built.path, notJson);
  error = await rejection(built.path);
  expect(error).toBeInstanceOf(ArtifactFormatError);
  expect(error.message).toMatch(/: header is not UTF-8 JSON: .*JSON/);
});

test('the checks run in order: format, signature, model, size, then the payload bytes', async () => {
  // Every artifact here fails several checks; the first in the order must be the one reported.
  const signedByStranger = await buildArtifact(
    options({ privateKey: untrusted.privateKey, out: join(work, 's.fdart') }),
  );
  await flipByte(signedByStranger.path, signedByStranger.payloadOffset);
  const strangerError = await rejection(signedByStranger.path, {
    ...VERIFY,
    model: 'other',
    maxPayloadBytes: 1,
  });
  expect(strangerError).toBeInstanceOf(ArtifactSignatureError);

  const wrongModel = await buildArtifact(options({ out: join(work, 'm.fdart') }));
  await truncate(wrongModel.path, wrongModel.size - 1);
  const modelError = await rejection(wrongModel.path, { ...VERIFY, model: 'other', maxPayloadBytes: 1 });
  expect(modelError).toBeInstanceOf(ArtifactIncompatibleError);

  const big = await buildArtifact(options({ out: join(work, 'b.fdart') }));
  await flipByte(big.path, big.payloadOffset);
  expect(await rejection(big.path, { ...VERIFY, maxPayloadBytes: 1 })).toBeInstanceOf(ArtifactTooLargeError);
});

test('verification writes nothing: not beside the artifact, not in the temp dir, not to the artifact', async () => {
  const built = await buildArtifact(options({ out: join(work, 'store', 'a.fdart') }));
  const scratch = await mkdtemp(join(work, 'tmp-'));
  const savedTmp = process.env.TMPDIR;
  // Anything that reaches for a temp file during verification would land here.
  process.env.TMPDIR = scratch;
  try {
    const before = await stat(built.path);
    await verifyArtifact(built.path, { ...VERIFY, maxPayloadBytes: 1 << 20 });
    await rejection(built.path, { ...VERIFY, model: 'other' });
    await rejection(built.path, { ...VERIFY, publicKeys: [untrusted.publicKey] });
    await flipByte(built.path, built.payloadOffset + 10);
    const tampered = await readFile(built.path);
    const mtime = (await stat(built.path)).mtimeMs;
    await rejection(built.path);
    await payloadRange(built.path);
    expect(await readdir(scratch)).toEqual([]);
    expect(await readdir(join(work, 'store'))).toEqual(['a.fdart']);
    expect((await readFile(built.path)).equals(tampered)).toBe(true);
    expect((await stat(built.path)).mtimeMs).toBe(mtime);
    expect(before.size).toBe(built.size);
  } finally {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  }
});
