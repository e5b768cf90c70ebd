import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyIdOf } from '../../protocol/artifact.ts';
import { REPO_ROOT } from '../core/paths.ts';

/** Where the committed test-only key pairs live (see its README.md). */
export const TEST_KEYS_DIR = join(REPO_ROOT, 'reference', 'keys');

/**
 * The test-only key pairs: `test-ota` signs the drills' artifacts and is what robots trust;
 * `untrusted-ota` is trusted by nobody and signs the bad-signature drill's artifact.
 */
export const TEST_KEY_NAMES = ['test-ota', 'untrusted-ota'] as const;
export type TestKeyName = (typeof TEST_KEY_NAMES)[number];

/** An Ed25519 key pair loaded from `reference/keys/`. Test-only: never use these in production. */
export interface OtaKeyPair {
  name: TestKeyName;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public key as SPKI PEM, the form a robot's agent is configured with. */
  publicKeyPem: string;
  /** keyIdOf(publicKey), as written in artifact headers. */
  keyId: string;
}

const loaded = new Map<TestKeyName, OtaKeyPair>();

/** Loads one of the committed test-only key pairs (`test-ota` unless named), once per process. */
export function loadTestKeyPair(name: TestKeyName = 'test-ota'): OtaKeyPair {
  const cached = loaded.get(name);
  if (cached) return cached;
  const privateKey = createPrivateKey(readFileSync(join(TEST_KEYS_DIR, `${name}.key`), 'utf8'));
  const publicKeyPem = readFileSync(join(TEST_KEYS_DIR, `${name}.pub`), 'utf8');
  const publicKey = createPublicKey(publicKeyPem);
  const keyId = keyIdOf(publicKey);
  // A .pub that is not the .key's other half would make every drill fail with a baffling
  // signature error: say so at load time instead.
  if (keyIdOf(privateKey) !== keyId) {
    throw new Error(`${TEST_KEYS_DIR}/${name}.pub is not the public half of ${name}.key`);
  }
  const pair: OtaKeyPair = { name, privateKey, publicKey, publicKeyPem, keyId };
  loaded.set(name, pair);
  return pair;
}
