import { createHash, createPrivateKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import createDebug from 'debug';
import {
  artifactManifestSchema,
  encodeArtifactHeader,
  keyIdOf,
  manifestSigningBytes,
  type ArtifactManifest,
} from '../../protocol/artifact.ts';
import { ConfigError } from '../core/errors.ts';
import { fsyncDir } from '../../reference/edge-agent/index.ts';

const log = createDebug('fleetdrill:ota');
const CHUNK_BYTES = 1024 * 1024;

/** What goes into an artifact. */
export interface BuildArtifactOptions {
  /** The software's name, e.g. `robot-sim`: 1-64 characters of A-Z a-z 0-9 . _ -. */
  name: string;
  /** A semver version such as `1.2.0`. */
  version: string;
  /** Robot models that may install it; at least one. */
  compatibleModels: readonly string[];
  /** The slot content, as bytes or as the path of a file to copy (streamed, never held in memory). */
  payload: Uint8Array | string;
  /** The Ed25519 signing key, as a KeyObject or PKCS#8 PEM. */
  privateKey: KeyObject | string;
  /** Where to write the artifact. It appears there whole or not at all. */
  out: string;
}

/** An artifact written by buildArtifact. */
export interface BuiltArtifact {
  /** Absolute path of the artifact file. */
  path: string;
  manifest: ArtifactManifest;
  /** The id of the key that signed it. */
  keyId: string;
  /** Where the payload starts in the file. */
  payloadOffset: number;
  /** Size of the whole artifact file, bytes. */
  size: number;
  /** SHA-256 of the whole artifact file (what a download is checked against), hex. */
  sha256: string;
}

/**
 * Writes a signed v1 artifact (format in protocol/artifact.ts): hashes the
 * payload, signs the canonical manifest with Ed25519, then writes header and payload to a temp
 * file beside `out`, fsyncs it and renames it into place, so a reader never sees half an
 * artifact. Ed25519 signatures are deterministic: the same inputs give the same bytes.
 */
export async function buildArtifact(options: BuildArtifactOptions): Promise<BuiltArtifact> {
  const key = signingKey(options.privateKey);
  const payload = await describePayload(options.payload);
  const manifest = validManifest({
    format: 1,
    name: options.name,
    version: options.version,
    compatibleModels: [...options.compatibleModels],
    payload,
  });
  const keyId = keyIdOf(key);
  const signature = sign(null, manifestSigningBytes(manifest), key).toString('base64');
  const header = encodeArtifactHeader({ manifest, signature, keyId });

  const out = resolve(options.out);
  await mkdir(dirname(out), { recursive: true });
  const temp = `${out}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const whole = createHash('sha256');
  try {
    const handle = await open(temp, 'wx');
    try {
      await writeAll(handle, header, 0);
      whole.update(header);
      const copied = await copyPayload(options.payload, handle, header.length, whole);
      // The payload file was hashed before this copy: if it changed in between, the artifact
      // would carry a manifest that lies about it.
      if (copied.size !== payload.size || copied.sha256 !== payload.sha256) {
        throw new Error(
          `payload ${String(options.payload)} changed while building ${options.name} ${options.version}: ` +
            `hashed ${payload.size} bytes (${payload.sha256}), copied ${copied.size} (${copied.sha256})`,
        );
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, out);
    fsyncDir(dirname(out));
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  const size = header.length + payload.size;
  log('built %s (%s %s, %d bytes, key %s)', out, manifest.name, manifest.version, size, keyId);
  return { path: out, manifest, keyId, payloadOffset: header.length, size, sha256: whole.digest('hex') };
}

function signingKey(privateKey: KeyObject | string): KeyObject {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError(
      'privateKey',
      `must be an Ed25519 private key, got a ${key.type} ${key.asymmetricKeyType ?? ''} key`,
    );
  }
  return key;
}

/** The manifest as the reader will see it: a build that a robot would reject fails here instead. */
function validManifest(manifest: ArtifactManifest): ArtifactManifest {
  const parsed = artifactManifestSchema.safeParse(manifest);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i ? '.' : ''}${String(part)}`))
    .join('');
  throw new ConfigError(path, issue.message);
}

async function describePayload(payload: Uint8Array | string): Promise<{ size: number; sha256: string }> {
  if (typeof payload !== 'string') {
    return { size: payload.length, sha256: createHash('sha256').update(payload).digest('hex') };
  }
  const hash = createHash('sha256');
  const size = await streamFile(payload, (chunk) => void hash.update(chunk));
  return { size, sha256: hash.digest('hex') };
}

async function copyPayload(
  payload: Uint8Array | string,
  handle: FileHandle,
  offset: number,
  whole: ReturnType<typeof createHash>,
): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let position = offset;
  const write = async (chunk: Uint8Array): Promise<void> => {
    await writeAll(handle, chunk, position);
    position += chunk.length;
    hash.update(chunk);
    whole.update(chunk);
  };
  if (typeof payload === 'string') await streamFile(payload, write);
  else await write(payload);
  return { size: position - offset, sha256: hash.digest('hex') };
}

/** Calls `onChunk` with the file's bytes in order, one reused buffer at a time; returns the size. */
async function streamFile(path: string, onChunk: (chunk: Uint8Array) => unknown): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(CHUNK_BYTES);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, total);
      if (bytesRead === 0) return total;
      await onChunk(buffer.subarray(0, bytesRead));
      total += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}
