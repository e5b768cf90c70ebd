import fc from 'fast-check';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ARTIFACT_MAGIC,
  ARTIFACT_PREAMBLE_BYTES,
  ArtifactError,
  ArtifactFormatError,
  verifyArtifact,
} from '../../../protocol/artifact.ts';
import { buildArtifact } from '../../ota/index.ts';
import { loadTestKeyPair } from '../../ota/index.ts';
import { almostValid } from '../almost.ts';
import { brokenDocuments } from '../hostile-json.ts';
import { judgeLoaderError } from '../oracles.ts';
import type { FuzzTarget } from '../runner.ts';
import { OracleViolation } from '../violation.ts';

/** An artifact file to verify, and the header fields it broke when it broke one. */
export interface ArtifactInput {
  how: string;
  bytes: Uint8Array;
  fields?: string[];
}

const FILE = 'hostile.fdart';
const MODEL = 'fd-amr-1';
/** ArtifactFormatError fields that are about the header as a whole, not one of its fields. */
const WHOLE_HEADER = new Set(['magic', 'headerLength', 'header']);

/** The file with its header JSON replaced: magic, big-endian length, JSON, then the payload. */
function withHeader(valid: Buffer, headerText: string): Uint8Array {
  const oldLength = valid.readUInt32BE(ARTIFACT_MAGIC.length);
  const json = Buffer.from(headerText, 'utf8');
  const preamble = Buffer.alloc(ARTIFACT_PREAMBLE_BYTES);
  preamble.write(ARTIFACT_MAGIC, 0, 'latin1');
  preamble.writeUInt32BE(json.length, ARTIFACT_MAGIC.length);
  return Buffer.concat([preamble, json, valid.subarray(ARTIFACT_PREAMBLE_BYTES + oldLength)]);
}

/**
 * The robot's artifact check (protocol/artifact.ts verifyArtifact: magic, header length, header
 * JSON, manifest schema, signature, model, sizes, payload hash) fed files one step from a valid
 * signed artifact: bytes truncated, flipped or with lengths broken, and headers with one manifest
 * field broken. It must accept only the valid file, and refuse the rest with an ArtifactError;
 * a format error must name the header field broken.
 */
export const artifactFileTarget: FuzzTarget<ArtifactInput> = {
  name: 'artifact-file',
  async start() {
    const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-fuzz-artifact-'));
    const key = loadTestKeyPair('test-ota');
    let valid: Buffer;
    try {
      const built = await buildArtifact({
        name: 'robot-sim',
        version: '1.0.1',
        compatibleModels: [MODEL],
        payload: new Uint8Array(2048).fill(3),
        privateKey: key.privateKey,
        out: join(dir, 'valid.fdart'),
      });
      valid = await readFile(built.path);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    const headerLength = valid.readUInt32BE(ARTIFACT_MAGIC.length);
    const header = JSON.parse(
      valid.subarray(ARTIFACT_PREAMBLE_BYTES, ARTIFACT_PREAMBLE_BYTES + headerLength).toString('utf8'),
    ) as unknown;
    const path = join(dir, FILE);
    const verify = async (bytes: Uint8Array) => {
      await writeFile(path, bytes);
      return verifyArtifact(path, {
        publicKeys: [key.publicKeyPem],
        model: MODEL,
        maxPayloadBytes: 1024 * 1024,
      });
    };
    const inputs = fc.oneof(
      { weight: 1, arbitrary: almostValid(valid, ARTIFACT_MAGIC.length) },
      {
        weight: 1,
        arbitrary: brokenDocuments(header).map((doc): ArtifactInput => ({
          how: `header: ${doc.how}`,
          bytes: withHeader(valid, doc.text),
          ...(doc.fields ? { fields: doc.fields } : {}),
        })),
      },
    );
    const stop = () => rm(dir, { recursive: true, force: true });
    return {
      inputs,
      async send(input) {
        try {
          await verify(input.bytes);
        } catch (error) {
          return judgeLoaderError(error, {
            source: FILE,
            // ArtifactError names the file until the header is read, then `name version`.
            names: [FILE, 'artifact '],
            expected: [ArtifactError],
            // A header too long to read, or not JSON, is refused before any field is looked at.
            ...(input.fields && error instanceof ArtifactFormatError && !WHOLE_HEADER.has(error.field)
              ? { fields: input.fields }
              : {}),
          });
        }
        // Every byte is signed or hashed: only the valid file itself may pass.
        if (!Buffer.from(input.bytes).equals(valid)) {
          throw new OracleViolation(
            `${FILE}: accepted an artifact that differs from the signed one (${input.how})`,
          );
        }
        return 'accepted';
      },
      async check() {
        await verify(valid).catch((error: Error) => {
          throw new OracleViolation(`${FILE}: the valid artifact no longer verifies: ${error.message}`);
        });
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  },
};
