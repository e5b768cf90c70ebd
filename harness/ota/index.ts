/**
 * Signed OTA artifacts for the update drills: build and sign them (buildArtifact), the test-only
 * keys (loadTestKeyPair), the reference robot software's variants as ready artifacts
 * (buildRobotVariant), and, re-exported from the edge agent where robots run it, the reader and
 * verifier with its error classes, so drills can check what a robot would accept.
 */
export { buildArtifact, type BuildArtifactOptions, type BuiltArtifact } from './build.ts';
export { inspectDisk, describeDisk, type DiskState } from './disk.ts';
export {
  provisionRobots,
  FACTORY_VERSION,
  DEFAULT_PARTITION_BYTES,
  type ProvisionOptions,
  type FleetSoftwareOptions,
} from './provision.ts';
export { runOtaDrill, nextPatch, type OtaDrill, type OtaDrillResult, type DrillArtifact } from './drills.ts';
export { askVersion, describeVersionAnswer, type VersionAnswer } from './ask.ts';
export { loadTestKeyPair, TEST_KEYS_DIR, TEST_KEY_NAMES, type OtaKeyPair, type TestKeyName } from './keys.ts';
export {
  buildRobotVariant,
  ROBOT_VARIANTS,
  DRILL_SLOT_CAPACITY,
  ROBOT_SOFTWARE_ENTRY,
  OTA_CACHE_DIR,
  type RobotVariant,
  type RobotVariantOptions,
  type BuiltRobotVariant,
} from './variants.ts';
export {
  verifyArtifact,
  readArtifactHeader,
  payloadRange,
  canonicalJson,
  keyIdOf,
  ARTIFACT_MAGIC,
  MAX_HEADER_BYTES,
  ArtifactError,
  ArtifactFormatError,
  ArtifactSignatureError,
  ArtifactIncompatibleError,
  ArtifactTooLargeError,
  ArtifactTamperedError,
  type ArtifactManifest,
  type ArtifactHeader,
  type VerifiedArtifact,
  type VerifyArtifactOptions,
} from '../../protocol/artifact.ts';
export {
  buildClientArtifact,
  buildRootfsImage,
  realClientsAvailability,
  sweepStaleLoopDevices,
  REFERENCE_DEVICE_TYPE,
  type BuiltClientArtifact,
  type ClientArtifactOptions,
} from './real/index.ts';
