// The names alone, apart from the builder: the CLI lists them in its help without loading esbuild
// and the artifact builder (about 0.6 s of every command's start).

/**
 * The reference robot software's variants the drills install. The payload carries its variant as
 * the esbuild define `__FLEETDRILL_VARIANT__` (and its version as `__FLEETDRILL_VERSION__`); the
 * robot software decides what each one does. `too-large` is `good` padded past the slot's capacity.
 */
export const ROBOT_VARIANTS = [
  'good',
  'fails-self-test',
  'crashes-on-boot',
  'no-cloud',
  'slow-boot',
  'too-large',
] as const;
export type RobotVariant = (typeof ROBOT_VARIANTS)[number];
